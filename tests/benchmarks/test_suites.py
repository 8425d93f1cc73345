"""Suites are frozen: golden hashes of the generated problems; user suites from TOML and YAML."""

from __future__ import annotations

import pytest

from thinkgym.benchmarks.suites import (
    builtin_suites,
    load_suite,
    suite_from_envs,
    suite_from_mapping,
)
from thinkgym.errors import ConfigError

# The SHA-256 of every problem (id, prompt, gold answer) each built-in suite generates. If this
# test fails, a change altered the problems of a frozen suite: restore the old behaviour (or bump
# the env's version), and publish changed problems only under a new suite id.
GOLDEN = {
    "quick-v0": "c426725247d0f07c9f53852056c27d4d28264ae2c7daf6fc00a4012c8484322b",
}


@pytest.mark.parametrize("suite_id", sorted(GOLDEN))
def test_builtin_suites_are_frozen(suite_id):
    suite = load_suite(suite_id)
    assert suite.id == suite_id
    assert suite.fingerprint() == GOLDEN[suite_id]


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
