"""The eval runner end to end: oracle maximum, random vs the exact DP value, faults, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest

from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.benchmarks.runner import EvalSettings, evaluate
from thinkgym.benchmarks.store import RunDir, best_records
from thinkgym.benchmarks.suites import load_suite, suite_from_envs, suite_from_mapping
from thinkgym.envs import maze as maze_module
from thinkgym.errors import ConfigError, ThinkgymError

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import toy  # noqa: E402  (toy envs are registered per test by conftest.py)

QUIET = {"progress": False}
TOY = {"progress": False, "verify_workers": 0}  # toybench envs exist only in this process


def test_oracle_scores_the_maximum_on_quick(tmp_path):
    summary = evaluate(
        load_suite("quick-v0"), "oracle", tmp_path, EvalSettings(step_timeout_s=60, **QUIET)
    )
    assert summary["run"]["complete"]
    for name, env in summary["envs"].items():
        assert env["failed"] == 0, name
        assert env["accuracy"]["value"] == 1.0, name
        if name.startswith("maze"):
            assert env["mean_reward"]["value"] == maze_module.GOAL_REWARD, name
        if env.get("reference"):
            assert env["reference"]["optimal_mean_reward"] == env["mean_reward"]["value"]
    for name in (
        "samples.jsonl",
        "summary.json",
        "report.md",
        "config.json",
        "accuracy.png",
        "pass_at_k.png",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["identity"]["suite_hash"] == load_suite("quick-v0").fingerprint()
    assert config["sessions"][0]["versions"]["thinkgym"]
    assert config["sessions"][0]["samples"] == 220 and config["sessions"][0]["samples_per_s"] > 0


def test_random_lands_on_the_exact_dp_value(tmp_path):
    suite = suite_from_mapping(
        {
            "id": "random-check",
            "envs": [
                {"env": "thinkgym/Maze-v0", "name": "classic", "n": 300},
                {
                    "env": "thinkgym/Maze-v0",
                    "name": "4x4",
                    "n": 100,
                    "kwargs": {"layout": "random", "rows": 4, "cols": 4},
                },
            ],
        }
    )
    summary = evaluate(suite, "random", tmp_path, EvalSettings(samples=2, **QUIET))
    classic = summary["envs"]["classic"]
    exact = maze_module.expected_return(maze_module.classic_maze())
    assert isinstance(exact, Fraction)
    assert classic["reference"]["random_mean_reward"] == pytest.approx(float(exact))
    for env in summary["envs"].values():
        est, ref = env["mean_reward"], env["reference"]["random_mean_reward"]
        se = max((est["hi"] - est["lo"]) / (2 * 1.96), 0.05)
        assert abs(est["value"] - ref) < 4 * se, (est, ref)


class FlakyPolicy(Policy):
    """Fails (like a server down after retries) on the first attempt at every other problem."""

    name = "flaky"
    wants_oracle = True

    def __init__(self, fail: bool = True):
        self.fail = fail

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        out = []
        for q in queries:
            if self.fail and int(q.problem.id.rsplit("/", 1)[-1]) % 2:
                out.append(
                    Generation(
                        "",
                        finish_reason="error",
                        error="ConnectionError: server unreachable after 3 retries",
                    )
                )
            else:
                out.append(Generation(q.oracle_action or "", finish_reason="stop"))
        return out


def test_failed_samples_are_recorded_then_retried_without_double_counting(tmp_path):
    suite = suite_from_envs(["toybench/Add-v0"], n=10)
    first = evaluate(
        suite, FlakyPolicy(), tmp_path, EvalSettings(samples=2, **TOY), policy_label="flaky"
    )
    env = first["envs"]["toybench/Add-v0"]
    assert env["failed"] == 10 and env["samples_scored"] == 10
    assert "server unreachable" in next(iter(env["failure_reasons"]))
    assert env["accuracy"]["value"] == 1.0  # failed samples are not scored as zeros
    assert not first["run"]["complete"]
    second = evaluate(
        suite,
        FlakyPolicy(fail=False),
        tmp_path,
        EvalSettings(samples=2, **TOY),
        policy_label="flaky",
    )
    env = second["envs"]["toybench/Add-v0"]
    assert env["failed"] == 0 and env["samples_scored"] == 20 and second["run"]["complete"]
    lines = RunDir(tmp_path).read_samples()
    assert len(lines) == 30 and len(best_records(lines)) == 20


class RaisingPolicy(Policy):
    name = "raising"

    def generate(self, queries):
        raise TimeoutError("request timed out after 60 s")


class GarbagePolicy(Policy):
    name = "garbage"

    def generate(self, queries):
        return [
            Generation(t, finish_reason="length")
            for t in ["", "\x00\x01 garbage", "🙂" * 5000][: len(queries)]
        ]


def test_a_raising_policy_fails_samples_not_the_run(tmp_path):
    summary = evaluate(
        suite_from_envs(["toybench/Add-v0"], n=3), RaisingPolicy(), tmp_path, EvalSettings(**TOY)
    )
    env = summary["envs"]["toybench/Add-v0"]
    assert env["failed"] == 3
    assert "TimeoutError: request timed out" in next(iter(env["failure_reasons"]))


def test_garbage_text_scores_zero_with_a_reason(tmp_path):
    summary = evaluate(
        suite_from_envs(["toybench/Add-v0", "thinkgym/MazePath-v0"], n=3),
        GarbagePolicy(),
        tmp_path,
        EvalSettings(batch_size=1, **QUIET),
    )
    for env in summary["envs"].values():
        assert env["failed"] == 0 and env["accuracy"]["value"] == 0.0
        assert sum(env["miss_reasons"].values()) == 3
        assert env["truncation_rate"]["value"] == 1.0
    records = RunDir(tmp_path).read_samples()
    assert all(r["reason"] and r["reward"] == 0.0 for r in records)


def test_a_different_config_is_refused(tmp_path):
    suite = suite_from_envs(["toybench/Add-v0"], n=2)
    evaluate(suite, "oracle", tmp_path, EvalSettings(**TOY))
    with pytest.raises(
        ConfigError, match="different configuration(.|\n)*samples: existing 1 vs now 2"
    ):
        evaluate(suite, "oracle", tmp_path, EvalSettings(samples=2, **TOY))
    with pytest.raises(ConfigError, match="policy"):
        evaluate(suite, "random", tmp_path, EvalSettings(**TOY))
    # the same command resumes (nothing to do) and keeps the samples
    again = evaluate(suite, "oracle", tmp_path, EvalSettings(concurrency=1, **TOY))
    assert again["run"]["complete"] and len(RunDir(tmp_path).read_samples()) == 2


def test_unwritable_out_fails_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="output directory"):
        evaluate(
            suite_from_envs(["toybench/Add-v0"], n=2),
            RaisingPolicy(),
            blocker / "out",
            EvalSettings(**TOY),
        )


def test_full_disk_fails_fast(tmp_path, monkeypatch):
    import shutil

    from thinkgym.benchmarks import store

    monkeypatch.setattr(
        store.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000)
    )
    with pytest.raises(ConfigError, match="free"):
        evaluate(
            suite_from_envs(["toybench/Add-v0"], n=2),
            "oracle",
            tmp_path / "o",
            EvalSettings(**QUIET),
        )
    assert not (tmp_path / "o" / "samples.jsonl").exists()


def test_multi_turn_records_and_env_workers_off(tmp_path):
    summary = evaluate(
        suite_from_envs(["toybench/Walk-v0", "thinkgym/MazePath-v0"], n=4),
        toy.OracleLike(),
        tmp_path,
        EvalSettings(verify_workers=0, **QUIET),
    )
    assert all(env["accuracy"]["value"] == 1.0 for env in summary["envs"].values())
    walk = [r for r in RunDir(tmp_path).read_samples() if r["env"] == "toybench/Walk-v0"]
    assert all(r["actions"] == ["+", "+", "+"] and r["step_rewards"] == [0, 0, 10] for r in walk)
    assert summary["envs"]["toybench/Walk-v0"]["maj_at_k"] == {}  # no vote over whole episodes


def test_a_hung_verifier_fails_its_sample_and_its_worker_is_replaced(tmp_path):
    settings = EvalSettings(
        verify_workers=1,
        step_timeout_s=2.0,
        imports=("toy_registered",),
        concurrency=4,
        progress=False,
    )
    start = time.monotonic()
    summary = evaluate(
        suite_from_envs(["toybench/Sleepy-v0"], n=6), toy.SleepOnFirstPolicy(), tmp_path, settings
    )
    assert time.monotonic() - start < 45  # not the verifier's 60 s
    env = summary["envs"]["toybench/Sleepy-v0"]
    assert env["failed"] == 1 and "env step exceeded 2 s" in next(iter(env["failure_reasons"]))
    assert env["samples_scored"] == 5 and env["accuracy"]["value"] == 1.0
    records = {r["problem_id"]: r for r in RunDir(tmp_path).read_samples()}
    assert records["toy-add/test/0"]["error"] and records["toy-add/test/0"]["completion"] == "sleep"


# --------------------------------------------------------------------------------------------
# kill -9 and resume
# --------------------------------------------------------------------------------------------

KILL_ARGS = ["--env", "thinkgym/Maze-v0", "--env", "thinkgym/MazePath-v0", "--n", "8", "--samples", "3",
             "--policy", "py:toy:slow_hash_policy", "--concurrency", "4", "--no-progress"]  # fmt: skip


def _eval(out: Path, *, wait: bool = True) -> subprocess.Popen | subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "thinkgym", "eval", *KILL_ARGS, "--out", str(out)]
    if wait:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _comparable(out: Path) -> dict[str, tuple]:
    return {
        k: (r["reward"], r["correct"], r["completion"], r["extracted_answer"])
        for k, r in best_records(RunDir(out).read_samples()).items()
    }


def test_kill_nine_mid_run_then_resume_matches_an_uninterrupted_run(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = _eval(killed, wait=False)
    samples = killed / "samples.jsonl"
    deadline = time.monotonic() + 120
    while _lines(samples) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = _lines(samples)
    assert 10 <= written < 48, f"the kill should land mid-run ({written} of 48 samples written)"
    with open(samples, "ab") as fh:  # what a kill in the middle of a write leaves behind
        fh.write(b'{"key": "thinkgym/Maze-v0|9|1", "env": "thinkg')
    before = _comparable(killed)
    resumed = _eval(killed)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = _comparable(killed)
    assert all(after[k] == v for k, v in before.items())  # nothing written was lost or redone
    lines = RunDir(killed).read_samples()
    assert len(lines) == 48 and len({r["key"] for r in lines}) == 48  # no double counting
    done = _eval(clean)
    assert done.returncode == 0, done.stdout + done.stderr
    assert after == _comparable(clean)
    s_killed = json.loads((killed / "summary.json").read_text())
    s_clean = json.loads((clean / "summary.json").read_text())
    for name in s_clean["envs"]:
        for metric in ("accuracy", "mean_reward"):
            assert s_killed["envs"][name][metric] == s_clean["envs"][name][metric]
        assert s_killed["envs"][name]["pass_at_k"] == s_clean["envs"][name]["pass_at_k"]


def test_a_disk_that_fills_mid_run_stops_with_a_clear_error(tmp_path, monkeypatch):
    import errno

    real_append = RunDir.append
    calls = {"n": 0}

    def append(self, record):
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(self, record)

    monkeypatch.setattr(RunDir, "append", append)
    with pytest.raises(ThinkgymError, match="No space left on device(.|\n)*resume"):
        evaluate(
            suite_from_envs(["toybench/Add-v0"], n=8),
            "oracle",
            tmp_path,
            EvalSettings(concurrency=1, **TOY),
        )
    assert len(RunDir(tmp_path).read_samples()) == 3


def test_an_env_bug_fails_its_sample_not_the_run(tmp_path):
    summary = evaluate(
        suite_from_envs(["toybench/BrokenReset-v0"], n=3), "oracle", tmp_path, EvalSettings(**TOY)
    )
    env = summary["envs"]["toybench/BrokenReset-v0"]
    assert env["failed"] == 1 and "env.reset raised KeyError" in next(iter(env["failure_reasons"]))
    assert env["samples_scored"] == 2 and env["accuracy"]["value"] == 1.0


def test_a_second_run_on_the_same_out_is_refused_while_the_first_holds_it(tmp_path):
    holder = RunDir(tmp_path)
    holder.check_writable()
    holder.lock()
    try:
        with pytest.raises(
            ConfigError, match=f"in use by another `thinkgym eval` \\(pid {os.getpid()}\\)"
        ):
            evaluate(
                suite_from_envs(["toybench/Add-v0"], n=2), "oracle", tmp_path, EvalSettings(**TOY)
            )
    finally:
        holder.unlock()
    assert evaluate(
        suite_from_envs(["toybench/Add-v0"], n=2), "oracle", tmp_path, EvalSettings(**TOY)
    )["run"]["complete"]


# ---- a verifier that could not judge ------------------------------------------------------------

_JUDGE_DOWN = {"down": True}


def _flaky_judge(completion, problem):
    """Right answers score 1 — unless the judging machinery is down (as when a math worker pool
    cannot start): then 0 with ``verification_failed``, like `MathVerifier` reports it."""
    from thinkgym.core import Reward

    if _JUDGE_DOWN["down"]:
        return Reward.zero("verification failed: the worker pool could not start", verification_failed=True)
    return toy.add_verifier(completion, problem)


class JudgeDownEnv(toy.AddEnv):
    def __init__(self, **kwargs):
        from thinkgym.core import GeneratorSource, SingleTurnEnv
        from thinkgym.verifiers.compose import WeightedSum

        SingleTurnEnv.__init__(  # the flag sits inside a composite's parts, as in the real envs
            self, GeneratorSource("toy-add", toy._make_add, split="test"), WeightedSum({"accuracy": _flaky_judge}), **kwargs
        )


def test_a_reward_the_verifier_could_not_judge_is_a_failed_sample_not_a_zero(tmp_path):
    import thinkgym
    from thinkgym import registry

    thinkgym.register("toybench/JudgeDown-v0", JudgeDownEnv, description="toy", override=True)
    try:
        suite = suite_from_envs(["toybench/JudgeDown-v0"], n=4)
        oracle = toy.HashPolicy()  # answers from the oracle on some queries, wrongly on others
        _JUDGE_DOWN["down"] = True
        first = evaluate(suite, oracle, tmp_path, EvalSettings(samples=1, **TOY), policy_label="hash")
        env = first["envs"]["toybench/JudgeDown-v0"]
        assert env["failed"] == 4 and not first["run"]["complete"], env
        assert "verification failed" in next(iter(env["failure_reasons"]))
        records = RunDir(tmp_path).read_samples()
        assert all(r["error"] and r["correct"] is False and r["reason"] is None for r in records)
        _JUDGE_DOWN["down"] = False
        second = evaluate(suite, oracle, tmp_path, EvalSettings(samples=1, **TOY), policy_label="hash")
        env = second["envs"]["toybench/JudgeDown-v0"]
        assert env["failed"] == 0 and env["samples_scored"] == 4 and second["run"]["complete"], env
    finally:
        _JUDGE_DOWN["down"] = True
        registry._REGISTRY.pop("toybench/JudgeDown-v0", None)
        import gymnasium

        gymnasium.registry.pop("toybench/JudgeDown-v0", None)
