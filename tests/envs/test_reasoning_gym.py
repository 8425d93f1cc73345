"""The reasoning-gym bridge: every rg/<name>-v0 id, the contract, rewards, containment, attacks.

Fast by design: every family gets one cheap reset/step (its oracle must earn accuracy 1, a wrong
answer 0); the full contract checker runs on a sample across domains; `test_all_envs.py` runs
every vector mode on one rg id. The attack tests first show each exploit working on
reasoning-gym itself, then failing through thinkgym.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import gymnasium
import pytest

import thinkgym
from thinkgym.envs import reasoning_gym as bridge
from thinkgym.errors import ConfigError
from thinkgym.utils import RULES, check_env

needs_rg = pytest.mark.skipif(not bridge.available(), reason="needs the reasoning-gym extra")
RG_IDS = [f"rg/{name}-v0" for name in bridge.DATASETS]
THINK = "<think>\nworking\n</think>\n"
ROOT = Path(__file__).resolve().parents[2]


def answer(text: str) -> str:
    return f"{THINK}<answer>{text}</answer>"


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (the installed thinkgym: its entry points are what we test)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, **env},
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Registration: lazy, complete, and clear when the extra is missing
# --------------------------------------------------------------------------------------------


def test_import_thinkgym_lists_every_family_without_importing_reasoning_gym():
    out = _python(
        "import sys, thinkgym; ids = [s.id for s in thinkgym.list_envs() if s.id.startswith('rg/')];"
        "print(len(ids), 'reasoning_gym' in sys.modules)"
    )
    assert out.returncode == 0, out.stderr
    count, imported = out.stdout.split()
    assert int(count) == len(bridge.DATASETS) and imported == "False"


def test_without_reasoning_gym_nothing_breaks_and_the_error_names_the_extra():
    code = (
        "import sys; sys.modules['reasoning_gym'] = None\n"
        "import thinkgym\n"
        "assert not [s for s in thinkgym.list_envs() if s.id.startswith('rg/')]\n"
        "env = thinkgym.make('thinkgym/Maze-v0'); env.reset(seed=0)\n"
        "for attempt in (lambda: thinkgym.make('rg/countdown-v0'),\n"
        "                lambda: __import__('thinkgym.envs.reasoning_gym', fromlist=['x']).ReasoningGymEnv('countdown')):\n"
        "    try:\n"
        "        attempt()\n"
        "    except thinkgym.ThinkgymError as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    )
    out = _python(code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("UnknownEnvError") and 'pip install "thinkgym[reasoning-gym]"' in lines[0]
    assert lines[1].startswith("ConfigError") and 'pip install "thinkgym[reasoning-gym]"' in lines[1]


@needs_rg
def test_the_listed_families_are_the_installed_ones():
    from reasoning_gym.factory import DATASETS

    installed = set(DATASETS) - bridge.NOT_FAMILIES
    assert set(bridge.DATASETS) <= installed
    if bridge._version() == bridge.LISTED_VERSION:
        assert set(bridge.DATASETS) == installed
    assert bridge.register_all() == sorted(f"rg/{n}-v0" for n in installed - set(bridge.DATASETS))


@needs_rg
def test_cli_list_shows_the_rg_ids_and_gymnasium_makes_them():
    from typer.testing import CliRunner

    from thinkgym.cli import app

    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "rg/countdown-v0" in result.output and "rg/zebra_puzzles-v0" in result.output
    env = gymnasium.make("rg/basic_arithmetic-v0", min_terms=2, max_terms=2)
    assert isinstance(env.unwrapped, bridge.ReasoningGymEnv)
    observation, info = env.reset(seed=3)
    assert info["problem_id"].startswith("rg/basic_arithmetic/s0-") and "<answer>" in observation


# --------------------------------------------------------------------------------------------
# Every family: a cheap reset and step (oracle right, wrong answer wrong)
# --------------------------------------------------------------------------------------------


@needs_rg
@pytest.mark.parametrize("env_id", RG_IDS)
def test_every_family_resets_and_scores(env_id):
    env = thinkgym.make(env_id)
    observation, info = env.reset(seed=0)
    assert isinstance(observation, str) and observation and info["problem_id"].startswith(env_id[:-3] + "/s0/")
    problem = env.unwrapped.problem
    assert "rg_error" not in problem.meta, problem.meta.get("rg_error")
    oracle = env.unwrapped.oracle_action()
    if oracle is not None:
        _, reward, terminated, _, info = env.step(oracle)
        assert terminated and info["reward_components"] == {"accuracy": 1.0, "format": 1.0}, info["reward_info"]
        assert reward == pytest.approx(1.0)
        env.reset(seed=0)
    _, reward, _, _, info = env.step(answer("I am not sure, maybe 0.123456789"))
    assert info["reward_components"]["accuracy"] == 0.0 and reward == pytest.approx(0.1)


# --------------------------------------------------------------------------------------------
# The contract on a sample across domains (and the TRL adapters, eval, vector envs)
# --------------------------------------------------------------------------------------------

SAMPLE = [
    "rg/basic_arithmetic-v0",  # arithmetic, reasoning-gym's default scorer
    "rg/word_ladder-v0",  # algorithmic, generated in the worker (hash-seed dependent)
    "rg/graph_color-v0",  # no single gold: the oracle plays reasoning-gym's example answer
    "rg/boxnet-v0",  # checked by simulation: no oracle at all
    "rg/knights_knaves-v0",  # logic
    "rg/simple_integration-v0",  # algebra, answers screened before sympy sees them
]


@needs_rg
@pytest.mark.parametrize("env_id", SAMPLE)
def test_check_env_on_a_sample_of_families(env_id):
    skip = set() if env_id == "rg/word_ladder-v0" else {"vector"}
    assert check_env(thinkgym.make(env_id), skip=skip) == [r for r in RULES if r not in skip]


@needs_rg
def test_problem_ids_are_stable_across_processes():
    """Same id, same problem, whatever the process (hash seeds included)."""
    code = (
        "import hashlib, thinkgym\n"
        "for env_id in ('rg/ransom_note-v0', 'rg/gcd-v0'):\n"
        "    env = thinkgym.make(env_id); obs, info = env.reset(seed=11)\n"
        "    print(info['problem_id'], hashlib.sha256(obs.encode()).hexdigest())\n"
    )
    runs = [_python(code, PYTHONHASHSEED=seed) for seed in ("1", "2")]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout.splitlines()) == 2


@needs_rg
def test_config_passes_through_make_and_shapes_ids():
    env = thinkgym.make("rg/countdown-v0", min_numbers=3, max_numbers=3, seed=7, size=50)
    env.reset(seed=0)
    problem = env.unwrapped.problem
    assert len(problem.meta["metadata"]["numbers"]) == 3
    assert problem.id.startswith("rg/countdown/s7-") and env.unwrapped.source.size == 50
    default = thinkgym.make("rg/countdown-v0")
    assert default.unwrapped.source.tag == "s0" and default.unwrapped.source.size == 500
    with pytest.raises(ConfigError, match="min_numbers"):
        thinkgym.make("rg/countdown-v0", min_numbrs=3)
    with pytest.raises(ConfigError, match="invalid config"):
        thinkgym.make("rg/countdown-v0", min_numbers=5, max_numbers=2)
    with pytest.raises(ConfigError, match="seed must be an int"):
        thinkgym.make("rg/countdown-v0", seed=None)


@needs_rg
def test_curriculum_level_sets_the_difficulty_fields():
    easy = thinkgym.make("rg/countdown-v0", level=0).unwrapped
    hard = thinkgym.make("rg/countdown-v0", level=3).unwrapped
    assert easy.source.config["max_numbers"] < hard.source.config["max_numbers"]
    assert easy.source.tag != hard.source.tag
    pinned = thinkgym.make("rg/countdown-v0", level=3, max_numbers=12).unwrapped
    assert pinned.source.config["max_numbers"] == 12  # explicit arguments win over the level
    info = bridge.describe("countdown")
    assert "min_numbers" in info["config"] and "numbers" in info["curriculum"]
    with pytest.raises(ConfigError, match="no reasoning-gym curriculum"):
        thinkgym.make(next(f"rg/{n}-v0" for n in bridge.DATASETS if bridge.describe(n)["curriculum"] is None), level=1)


@needs_rg
def test_format_options_like_the_math_envs():
    env = thinkgym.make("rg/basic_arithmetic-v0", think=False, answer_tag=None)
    env.reset(seed=1)
    gold = env.unwrapped.problem.answer
    assert env.step(gold)[1] == 1.0
    gated = thinkgym.make("rg/basic_arithmetic-v0", gate=True)
    gated.reset(seed=1)
    assert gated.step(f"<answer>{gold}</answer>")[1] == 0.0  # right, but no think block: gated
    weighted = thinkgym.make("rg/basic_arithmetic-v0", accuracy_weight=1.0, format_weight=0.0)
    weighted.reset(seed=1)
    assert weighted.step(answer("wrong"))[1] == 0.0


@needs_rg
def test_pickled_env_and_json_problem_score_the_same():
    env = thinkgym.make("rg/word_sorting-v0")
    env.reset(seed=2)
    copy = pickle.loads(pickle.dumps(env))
    oracle = env.oracle_action()
    assert copy.step(oracle)[1] == env.step(oracle)[1] == 1.0
    problem = env.unwrapped.problem
    travelled = thinkgym.Problem(**json.loads(json.dumps(problem.to_dict())))
    assert env.unwrapped.verifier(oracle, travelled).score == 1.0
    forged = dataclasses.replace(travelled, prompt=travelled.prompt + " (edited)")
    reward = env.unwrapped.verifier(oracle, forged)
    assert reward.components["accuracy"] == 0.0 and "does not match" in reward.info["error"]


@needs_rg
def test_trl_adapters_score_rg_completions():
    pytest.importorskip("datasets")
    from thinkgym.agents.trl import reward_funcs, to_dataset

    dataset = to_dataset("rg/basic_arithmetic-v0", 3, seed=0)
    problems = [json.loads(p) for p in dataset["problem"]]
    completions = [answer(p["answer"]) for p in problems[:2]] + [answer("-1e99")]
    (score,) = reward_funcs("rg/basic_arithmetic-v0")
    columns = {k: list(dataset[k]) for k in dataset.column_names if k != "prompt"}
    assert score(prompts=list(dataset["prompt"]), completions=completions, **columns) == [1.0, 1.0, 0.1]


@needs_rg
def test_sync_vector_env_runs_several_families():
    vector = gymnasium.vector.SyncVectorEnv(
        [lambda: gymnasium.make("rg/gcd-v0"), lambda: gymnasium.make("rg/gcd-v0")]
    )
    observations, infos = vector.reset(seed=4)
    assert len(set(infos["problem_id"])) == 2
    _, rewards, terminated, _, infos = vector.step((answer("1"), "no tags"))
    assert list(terminated) == [True, True] and rewards[1] == 0.0
    vector.close()


# --------------------------------------------------------------------------------------------
# Containment: generator and scorer failures earn 0 with the reason; a hang is bounded
# --------------------------------------------------------------------------------------------


@needs_rg
def test_a_generator_that_raises_gives_a_zero_reward_problem_not_a_crash():
    from dataclasses import dataclass as dc

    from reasoning_gym.dataset import ProceduralDataset
    from reasoning_gym.factory import DATASETS, register_dataset

    @dc
    class FlakyConfig:
        seed: int | None = None
        size: int = 10

    class Flaky(ProceduralDataset):
        def __init__(self, config):
            super().__init__(config=config, seed=config.seed, size=config.size)

        def __getitem__(self, idx):
            if idx % 2:
                raise RuntimeError(f"generator bug at {idx}")
            return {"question": f"Say {idx}.", "answer": str(idx), "metadata": {}}

    if "tg_flaky" not in DATASETS:
        register_dataset("tg_flaky", Flaky, FlakyConfig)
    env = bridge.ReasoningGymEnv("tg_flaky")
    observation, info = env.reset(options={"index": 3})
    assert "generator bug at 3" in observation
    _, reward, terminated, _, info = env.step(answer("3"))
    assert reward == pytest.approx(0.1) and info["reward_components"]["accuracy"] == 0.0  # format only
    assert "generator bug at 3" in info["error"]
    env.reset(options={"index": 2})
    # the worker process never saw this dataset: reasoning-gym's scorer fails there, contained
    _, reward, _, _, info = env.step(answer("2"))
    assert info["reward_components"]["accuracy"] == 0.0 and "scorer error" in info["error"]


@needs_rg
def test_a_scorer_that_hangs_is_bounded():
    import time

    env = thinkgym.make("rg/polynomial_multiplication-v0", strict=False, score_timeout=2.0)
    env.reset(seed=0)
    env.step(env.unwrapped.oracle_action())  # the worker is warm
    env.reset(seed=0)
    started = time.monotonic()
    _, reward, _, _, info = env.step(answer("9**9**9**9"))  # sympy evaluates it: hours
    assert time.monotonic() - started < 30
    assert info["reward_components"]["accuracy"] == 0.0 and "timeout" in info["error"]
    env.reset(seed=0)
    assert env.step(env.unwrapped.oracle_action())[1] == 1.0  # a fresh worker took over


@needs_rg
def test_hedges_and_answers_inside_think_earn_nothing():
    env = thinkgym.make("rg/gcd-v0")
    env.reset(seed=0)
    gold = env.unwrapped.problem.answer
    assert env.step(f"{THINK}<answer>{gold}</answer><answer>7</answer>")[4]["reward_components"]["accuracy"] == 0.0
    env.reset(seed=0)
    assert env.step(f"<think><answer>{gold}</answer></think>")[4]["reward_components"]["accuracy"] == 0.0


# --------------------------------------------------------------------------------------------
# Attacks: reasoning-gym's own scoring is farmable; through thinkgym it is not
# --------------------------------------------------------------------------------------------


def _direct(name: str, index: int = 0, **config):
    import reasoning_gym

    dataset = reasoning_gym.create_dataset(name, seed=0, size=500, **config)
    return dataset, dataset[index]


def _through(name: str, text: str, index: int = 0, **kwargs):
    env = thinkgym.make(f"rg/{name}-v0", **kwargs)
    env.reset(options={"index": index})
    return env.step(answer(text))[4]


@needs_rg
def test_attack_puzzle24_constant_answer():
    """reasoning-gym never compares the numbers used with the puzzle's: one answer fits all."""
    dataset, _ = _direct("puzzle24")
    wins = [dataset.score_answer("1*2*3*4", dataset[i]) for i in range(5)]
    assert wins == [1.0] * 5  # the exploit works on reasoning-gym
    for i in range(5):
        info = _through("puzzle24", "1*2*3*4", index=i)
        assert info["reward_components"]["accuracy"] == 0.0 and "not exactly" in info["error"]


@needs_rg
def test_attack_countdown_free_constants():
    """sympy names are not numbers: E/E is 1 and sin(pi) is 0, so any target is reachable."""
    dataset, entry = _direct("countdown")
    numbers, target = entry["metadata"]["numbers"], entry["metadata"]["target"]
    exploit = "*".join(map(str, numbers)) + "*sin(pi) + " + "+".join(["E/E"] * target)
    assert dataset.score_answer(exploit, entry) == 1.0
    info = _through("countdown", exploit)
    assert info["reward_components"]["accuracy"] == 0.0 and "not allowed" in info["error"]


@needs_rg
def test_attack_game_of_life_halting_any_answer_wins():
    """reasoning-gym compares bool(answer) with bool("False"): every non-empty answer is right."""
    dataset, _ = _direct("game_of_life_halting")
    assert all(dataset.score_answer("no idea", dataset[i]) == 1.0 for i in range(6))
    for i in range(6):
        assert _through("game_of_life_halting", "no idea", index=i)["reward_components"]["accuracy"] == 0.0
        gold = dataset[i]["answer"]
        assert _through("game_of_life_halting", gold.lower(), index=i)["reward_components"]["accuracy"] == 1.0


@needs_rg
def test_attack_coin_flip_zero_for_small_probabilities():
    """An absolute tolerance of 1e-4: "0" is right whenever the probability is small."""
    dataset, _ = _direct("coin_flip")
    small = next(i for i in range(200) if 0 < float(dataset[i]["answer"]) < 1e-4)
    assert dataset.score_answer("0", dataset[small]) == 1.0
    assert _through("coin_flip", "0", index=small)["reward_components"]["accuracy"] == 0.0
    assert _through("coin_flip", dataset[small]["answer"], index=small)["reward_components"]["accuracy"] == 1.0


@needs_rg
def test_attack_number_sorting_tolerance():
    """reasoning-gym accepts every number within 1.0 of the right one."""
    dataset, entry = _direct("number_sorting")
    shifted = str([f"{float(x) + 0.9:.2f}" for x in json.loads(entry["answer"].replace("'", '"'))])
    assert dataset.score_answer(shifted, entry) == 1.0
    info = _through("number_sorting", shifted)
    assert info["reward_components"]["accuracy"] == 0.0
    assert _through("number_sorting", entry["answer"])["reward_components"]["accuracy"] == 1.0


@needs_rg
@pytest.mark.parametrize("name", ["n_queens", "countdown"])
def test_attack_answers_that_reasoning_gym_executes(name, tmp_path):
    """n_queens ``eval``s a non-exact answer; countdown hands it to ``parse_expr`` (``eval``)."""
    dataset, entry = _direct(name)
    marker = tmp_path / "direct"
    dataset.score_answer(f"__import__('pathlib').Path({str(marker)!r}).touch()", entry)
    assert marker.exists()  # reasoning-gym ran the model's code
    ours = tmp_path / "through-thinkgym"
    for strict in (True, False):
        info = _through(name, f"__import__('pathlib').Path({str(ours)!r}).touch()", strict=strict)
        assert info["reward_components"]["accuracy"] == 0.0
    assert not ours.exists()


@needs_rg
def test_attack_partial_credit_cascade():
    """The default scorer pays len(gold)/len(answer) to any answer that contains the gold, and
    many families pay 0.01-0.05 to any answer: a list of every candidate earns reward."""
    dataset, entry = _direct("gcd")
    hedge = " ".join(str(i) for i in range(1, 200))
    assert 0.0 < dataset.score_answer(hedge, entry) < 1.0
    info = _through("gcd", hedge)
    assert info["reward_components"]["accuracy"] == 0.0
    assert 0.0 < info["reward_info"]["parts"]["accuracy"]["rg_score"] < 1.0
    assert "not counted" in info["error"]
    opted_in = _through("gcd", hedge, partial_credit=True)  # the documented, farmable opt-in
    assert 0.0 < opted_in["reward_components"]["accuracy"] < 1.0


# --------------------------------------------------------------------------------------------
# The suite against an OpenAI-compatible server
# --------------------------------------------------------------------------------------------


class _OracleServer(BaseHTTPRequestHandler):
    """Answers each rg prompt with its gold answer (a right model), or with "42" for model "wrong"."""

    answers: dict[str, str] = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        content = answer("42") if body["model"] == "wrong" else self.answers.get(prompt, answer("?"))
        reply = {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }  # fmt: skip
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@needs_rg
def test_rg_core_suite_runs_against_an_openai_compatible_server(local_http_server, tmp_path):
    pytest.importorskip("openai")
    from thinkgym.benchmarks.runner import EvalSettings, evaluate
    from thinkgym.benchmarks.suites import Suite, load_suite

    suite = load_suite("rg-core-v0")
    assert len(suite.entries) == 12 and suite.total_problems == 300
    small = Suite(suite.id, tuple(dataclasses.replace(e, n=2) for e in suite.entries), suite.description)
    for entry in small.entries:
        env = entry.make_env()
        for problem in small.problems[entry.label]:
            observation, _ = env.reset(options={"problem": problem})
            _OracleServer.answers[observation] = env.unwrapped.oracle_action()
    settings = EvalSettings(progress=False, verify_workers=0, concurrency=4)
    with local_http_server(_OracleServer) as url:
        right = evaluate(small, f"openai:{url}#right", tmp_path / "right", settings)
        wrong = evaluate(small, f"openai:{url}#wrong", tmp_path / "wrong", settings)
    assert set(right["envs"]) == {e.label for e in suite.entries}
    assert right["overall"]["accuracy"]["value"] == 1.0 and right["overall"]["samples"] == 24
    assert wrong["overall"]["accuracy"]["value"] == 0.0 and wrong["overall"]["failed"] == 0
