"""The generic layers (agents, benchmarks, the CLI) name no env: they use the envs' hooks.

Issue 14: references, returns, train, tiny and the CLI checked for the maze. A new env must get
references, success counting and whole action tokens from its own hooks, never by being named.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import thinkgym
from thinkgym.benchmarks.references import mean_references
from thinkgym.core import ListSource, Problem, Reward, SingleTurnEnv

SRC = Path(thinkgym.__file__).parent
GENERIC = sorted([*(SRC / "agents").glob("*.py"), *(SRC / "benchmarks").glob("*.py"), SRC / "cli.py"])
ENV_MODULES = ("thinkgym.envs.maze", "thinkgym.envs.math", "thinkgym.envs.code")


def _code_strings_and_imports(path: Path) -> tuple[list[str], list[str]]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    strings, imports = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            strings.append(node.value)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            imports += [alias.name for alias in node.names]
    return strings, imports


@pytest.mark.parametrize("path", GENERIC, ids=[p.name for p in GENERIC])
def test_generic_module_names_no_env(path):
    strings, imports = _code_strings_and_imports(path)
    assert not [m for m in imports if m.startswith(ENV_MODULES)], f"{path.name} imports an env module"
    # ids in code (not help text or docs): comparisons like startswith("thinkgym/Maze") or defaults
    named = [s for s in strings if re.match(r"^thinkgym/\w+(-v\d+)?$", s)]
    assert not named, f"{path.name} names env ids in code: {named}"


def test_references_come_from_the_env_hook():
    class Known(SingleTurnEnv):
        def exact_references(self, problem):
            return {"random_mean_reward": 0.25, "optimal_mean_reward": 1.0, "only_here": float(problem.id == "a")}

    problems = [Problem("a", "?", "1"), Problem("b", "?", "1"), Problem("a", "?", "1")]
    env = Known(ListSource(problems[:2]), lambda c, p: Reward(0.0))
    refs = mean_references(env, problems)
    assert refs == {"random_mean_reward": 0.25, "optimal_mean_reward": 1.0, "only_here": pytest.approx(2 / 3)}
    plain = SingleTurnEnv(ListSource(problems[:2]), lambda c, p: Reward(0.0))
    assert mean_references(plain, problems) is None  # no hook, no reference


def test_correctness_follows_the_env_success_component():
    from thinkgym.benchmarks.judging import is_correct

    components = {"accuracy": 1.0, "solved": 0.0}
    assert is_correct(1.0, components)  # without the hook: the default names
    assert not is_correct(1.0, components, "solved")  # the env says which part means solved
    assert is_correct(0.5, {"parts.solved": 1.0}, "solved")  # also inside a composed reward
    assert is_correct(2.0, {}, "solved") and not is_correct(0.0, {}, "solved")  # absent: reward > 0
    expected = {
        "thinkgym/Code-v0": "all_passed",
        "thinkgym/GSM8K-v0": "accuracy",
        "thinkgym/MATH-v0": "accuracy",
        "thinkgym/Math-v0": "accuracy",
        "thinkgym/Maze-v0": "goal",
        "thinkgym/MazePath-v0": "goal",
    }
    assert {env_id: thinkgym.make(env_id).success_component for env_id in expected} == expected
