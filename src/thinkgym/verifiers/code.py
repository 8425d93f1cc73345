"""Code rewards that hostile code cannot fake: one judge, in the sandbox, out of the candidate's reach.

Two test formats, both with per-test results (partial credit):

- **function tests** (HumanEval / MBPP style): ``meta = {"prompt", "test", "entry_point"}`` where
  ``test`` defines ``check(candidate)``, or ``meta = {"tests": ["assert f(1) == 2", ...]}`` (each
  string is one test and runs whole, every statement of it). A HumanEval ``check`` is split by its
  AST into one test per top-level statement that asserts (with the statements before it).
- **stdin/stdout cases** (CodeContests / APPS style): ``meta = {"inputs": [...], "outputs": [...]}``;
  whole outputs are compared after trimming trailing whitespace, line counts must match, and
  ``float_tol`` allows numeric tokens to differ.

Why it is not fooled: each (completion, problem) is one job sent to any `Sandbox` through its public
interface. Inside it the judge (`_code_harness`, H) forks the candidate's worker (W) *before* it
reads the tests from its stdin, so W never shares memory with them; H runs the tests, calls the
candidate through W, accepts only plain values back, times each test with its own clock, and
writes verdict lines tagged with a per-run secret nonce that W never saw. This process only
parses those lines (linear time, bounded count) and, for stdin/stdout problems, compares outputs
(the expected outputs never enter the sandbox). A test counts as passed only when its own verdict
says so, never because a process exited 0; a test that never called the candidate counts for
nothing. When the worker is lost mid-test (it crashed or overran), the remaining tests run in a
fresh job. See ``tests/verifiers/test_code_attacks.py`` for the tricks it holds against.

>>> problem = Problem("add", "", None, {"tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]})
>>> CodeVerifier()("```python\\ndef add(a, b):\\n    return a + b\\n```", problem).score
1.0
"""

from __future__ import annotations

import ast
import atexit
import base64
import builtins
import functools
import json
import marshal
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from thinkgym.core import Problem, Reward
from thinkgym.sandbox import Job, Limits, Sandbox, SandboxResult
from thinkgym.verifiers import _code_harness as harness

__all__ = ["CodeVerifier", "verify_code", "extract_code", "assemble_program", "FunctionTests", "IOTests", "tests_of",
           "split_check", "style_score", "compare_output", "TestResult"]  # fmt: skip

compare_output = harness.compare_output

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.S | re.M)
_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "python2"})
FenceChoice = Literal["last", "first", "longest", "all"]


def extract_code(
    completion: str,
    *,
    fence: FenceChoice = "last",
    languages: Sequence[str] = tuple(_PYTHON_TAGS),
    require_fence: bool = False,
) -> str | None:
    """The code in a completion's markdown fences.

    Python-tagged fences are preferred, untagged ones are used when there is none; ``fence``
    picks the last (default), first or longest block, or joins ``all`` of them. An unclosed final
    fence (a generation cut off by its length limit) counts up to the end. With no fence at all
    the whole completion is the code, unless ``require_fence``; then the result is None.
    """
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    wanted = {lang.lower() for lang in languages}
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(completion)]
    chosen = [body for lang, body in blocks if lang in wanted] or [body for lang, body in blocks if not lang]
    if not chosen:
        if blocks or require_fence:
            return None
        return completion
    if fence == "first":
        return chosen[0]
    if fence == "longest":
        return max(chosen, key=len)
    if fence == "all":
        return "\n\n".join(chosen)
    return chosen[-1]


def _parses(source: str) -> bool:
    try:
        ast.parse(source)  # parse only: model text is never executed in this process
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False


_FUTURE = re.compile(r"^from __future__ import [^\n]*\n?", re.M)


def assemble_program(code: str, prompt: str = "") -> str:
    """The program a worker runs: the problem's code prompt, then the candidate's code.

    The prompt (imports, helper functions, the stub) comes first so a complete answer that forgot
    ``from typing import List`` still works and its own definitions replace the stub. When the code
    is only a function *body* (HumanEval completions are continuations) it is appended to the
    prompt directly.
    """
    if not prompt:
        return code
    if _parses(code):
        futures = "".join(_FUTURE.findall(code))
        return futures + prompt.rstrip("\n") + "\n\n\n" + _FUTURE.sub("", code)
    if _parses(prompt + code):
        return prompt + code
    return code


@dataclass(frozen=True)
class FunctionTests:
    """HumanEval (``test`` with ``check``) or MBPP (``asserts``) style tests of a function."""

    prompt: str = ""
    entry_point: str = ""
    test: str = ""
    asserts: tuple[str, ...] = ()
    setup: str = ""


@dataclass(frozen=True)
class IOTests:
    """Stdin/stdout cases: the program reads ``inputs[i]`` and must print ``outputs[i]``."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    float_tol: float | None = None

    def __post_init__(self) -> None:
        if len(self.inputs) != len(self.outputs):
            raise ValueError(f"{len(self.inputs)} inputs but {len(self.outputs)} outputs")


def tests_of(problem: Problem) -> FunctionTests | IOTests:
    """Read a problem's tests from ``problem.meta`` (see the module docstring for the keys)."""
    meta = problem.meta
    fmt = meta.get("format")
    if fmt == "io" or (fmt is None and "inputs" in meta):
        return IOTests(
            tuple(str(x) for x in meta.get("inputs", ())),
            tuple(str(x) for x in meta.get("outputs", ())),
            None if meta.get("float_tol") is None else float(meta["float_tol"]),
        )
    if fmt in (None, "function"):
        asserts = meta.get("tests", ())
        if isinstance(asserts, str):
            asserts = (asserts,)
        return FunctionTests(
            prompt=str(meta.get("prompt", "") or ""),
            entry_point=str(meta.get("entry_point", "") or ""),
            test=str(meta.get("test", "") or ""),
            asserts=tuple(str(a) for a in asserts),
            setup=str(meta.get("setup", "") or ""),
        )
    raise ValueError(f"unknown code test format {fmt!r}: use 'function' or 'io'")


def _label(source: str) -> str:
    first = source.strip().splitlines()[0] if source.strip() else ""
    return first if len(first) <= 120 else first[:117] + "..."


_NOT_AT_MODULE_LEVEL = (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal, ast.Await)


def split_check(test: str) -> tuple[str, list[tuple[str, str, str]]] | None:
    """Split a HumanEval ``check(candidate)`` into steps, one test per asserting statement.

    Returns ``(parameter name, [(kind, source, label)])`` with kind ``"unit"`` (the statement
    asserts something) or ``"setup"`` (imports, assignments: part of the next unit), or None when
    the body cannot be run statement by statement (then ``check`` runs as one test).
    """
    split = _split_check_nodes(test)
    return None if split is None else (split[0], [step for step, _node in split[1]])


def _split_check_nodes(test: str) -> tuple[str, list[tuple[tuple[str, str, str], ast.stmt]]] | None:
    """`split_check`, with each step's AST node (compiled without parsing it again)."""
    try:
        tree = ast.parse(test)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if not checks:
        return None
    check = checks[-1]
    if len(check.args.args) != 1 or check.args.vararg or check.args.kwarg or check.decorator_list:
        return None
    steps: list[tuple[tuple[str, str, str], ast.stmt]] = []
    for stmt in check.body:
        kinds = {type(n) for n in ast.walk(stmt)}
        if any(issubclass(k, _NOT_AT_MODULE_LEVEL) for k in kinds):
            return None
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        source = ast.unparse(stmt)
        steps.append((("unit" if ast.Assert in kinds else "setup", source, _label(source)), stmt))
    if not any(step[0] == "unit" for step, _node in steps):
        return None
    return check.args.args[0].arg, steps


@dataclass(frozen=True)
class _FunctionPlan:
    """How one function-test spec is judged: the setup, the steps, the candidate's proxies, the
    names its test strings may call on the candidate, and the setup and steps compiled (marshalled,
    for a judge whose interpreter has the same bytecode tag)."""

    setup: str
    steps: tuple[tuple[str, str, str], ...]
    proxies: tuple[tuple[str, str], ...]
    callable_names: frozenset[str]
    codes: bytes


@functools.lru_cache(maxsize=4096)
def _prepare_function(spec: FunctionTests) -> _FunctionPlan:
    """Split and compile one function-test spec (cached: an RL run sees each problem often).

    Raises SyntaxError / ValueError when the tests themselves do not compile (the caller's error).
    """
    callable_names: frozenset[str] = frozenset()
    proxies = [(spec.entry_point, spec.entry_point)] if spec.entry_point and not hasattr(builtins, spec.entry_point) else []
    if spec.asserts:
        setup = "\n".join(part for part in (spec.prompt, spec.setup) if part)
        steps = [("unit", a, _label(a)) for a in spec.asserts]
        codes = [compile(a, f"<test {i}>", "exec", dont_inherit=True) for i, a in enumerate(spec.asserts)]
        # The candidate's functions the tests call, never a builtin or a name the test setup binds:
        # a candidate that defines ``set`` must not replace the ``set`` the assert compares with.
        called = {n.func.id for a in spec.asserts for n in ast.walk(ast.parse(a)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        callable_names = frozenset(called - set(dir(builtins)) - _bound_names(spec.setup))
    else:
        setup = spec.prompt.rstrip("\n") + "\n\n" + spec.test + "\n"
        split = _split_check_nodes(spec.test)
        if split is None:
            steps, codes = [("unit", "check(__candidate__)", "check(candidate)")], [compile("check(__candidate__)", "<test 0>", "exec")]
            proxies.insert(0, ("__candidate__", spec.entry_point))
        else:
            param, pairs = split
            steps = [step for step, _node in pairs]
            codes = [compile(ast.Module(body=[node], type_ignores=[]), f"<test {i}>", "exec") for i, (_s, node) in enumerate(pairs)]
            proxies.insert(0, (param, spec.entry_point))
    codes.insert(0, compile(setup, "<test setup>", "exec", dont_inherit=True))
    return _FunctionPlan(setup, tuple(steps), tuple(proxies), callable_names, marshal.dumps(codes))


def _bound_names(source: str | ast.AST) -> set[str]:
    """Every name ``source`` binds anywhere (functions, classes, imports, assignment targets)."""
    try:
        tree = ast.parse(source) if isinstance(source, str) else source
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _is_stub(program: str, name: str) -> bool:
    """The last top-level statement of ``program`` that binds ``name`` is a def of only a docstring,
    ``pass`` or ``...``: the prompt's stub, left alone or echoed back, which implements nothing."""
    try:
        binding = [stmt for stmt in ast.parse(program).body if name in _bound_names(stmt)]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    last = binding[-1] if binding else None
    return isinstance(last, (ast.FunctionDef, ast.AsyncFunctionDef)) and all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in last.body
    )


def style_score(code: str, *, max_line_length: int = 100) -> tuple[float, list[str]]:
    """Lint-ish checks by AST (no execution): ``(fraction of checks passed, issues)``.

    Checks: parses; no bare ``except:``; no wildcard import; no unused top-level import; no
    ``eval``/``exec``; no mutable default argument; no ``global`` statement; lines within
    ``max_line_length``.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return 0.0, ["does not parse"]
    issues: list[str] = []
    nodes = list(ast.walk(tree))
    if any(isinstance(n, ast.ExceptHandler) and n.type is None for n in nodes):
        issues.append("bare except")
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in nodes):
        issues.append("wildcard import")
    imported = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    imported[(alias.asname or alias.name).split(".")[0]] = alias.name
    used = {n.id for n in nodes if isinstance(n, ast.Name)} | {
        n.value.id for n in nodes if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }
    unused = sorted(name for name in imported if name not in used and name != "annotations")
    if unused:
        issues.append("unused import: " + ", ".join(unused))
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("eval", "exec") for n in nodes):
        issues.append("eval/exec")
    mutable = (ast.List, ast.Dict, ast.Set)
    if any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        and any(isinstance(d, mutable) for d in [*n.args.defaults, *n.args.kw_defaults] if d is not None)
        for n in nodes
    ):
        issues.append("mutable default argument")
    if any(isinstance(n, ast.Global) for n in nodes):
        issues.append("global statement")
    if any(len(line) > max_line_length for line in code.splitlines()):
        issues.append(f"line longer than {max_line_length}")
    checks = 7
    return (checks - len(issues)) / checks, issues


@dataclass(frozen=True)
class TestResult:
    """One test's verdict as reported by the judge (or why there was none)."""

    name: str
    passed: bool
    reason: str | None = None
    time_s: float = 0.0

    def to_dict(self, with_time: bool = True) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason, **({"time_s": self.time_s} if with_time else {})}


_HARNESS_MODULE = "thinkgym_code_harness"


@functools.lru_cache(maxsize=1)
def _harness_modules() -> dict[str, bytes]:
    """The harness as a `Job.modules` module: the same in every job, so a backend may load it once
    per worker (the local one keeps its code in the zygote) instead of once per job."""
    with open(harness.__file__, "rb") as fh:
        return {_HARNESS_MODULE: fh.read()}


def _program_files(program: str) -> dict[str, bytes]:
    """The candidate's program, and its code compiled here (compiled, never run: a freshly forked
    worker compiles several times slower than this warm process)."""
    import warnings

    files = {harness.PROGRAM_FILE: program.encode("utf-8", "surrogatepass")}
    try:
        with warnings.catch_warnings():  # the candidate's SyntaxWarnings are not the trainer's
            warnings.simplefilter("ignore")
            code = compile(program, harness.PROGRAM_FILE, "exec", dont_inherit=True)
        files[harness.PROGRAM_CODE_FILE] = harness.bytecode_tag().encode() + b"\n" + marshal.dumps(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        pass  # the worker compiles it and reports the error as every test's failure
    return files


_BOOTSTRAP = f"from {_HARNESS_MODULE} import main\nmain(MODE)\n"


@dataclass
class _Task:
    """One completion under verification: what to run, and the verdicts gathered so far (a job
    that lost its worker is followed by one for the rest, from ``first``)."""

    mode: str  # "function" or "io"
    names: list[str]
    code: str
    program: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    spec: IOTests | None = None
    budget: float = 0.0
    error: str | None = None
    first: int = 0
    nonce: str = ""
    tests: dict[int, TestResult] = field(default_factory=dict)
    void: set[int] = field(default_factory=set)  # units that never called the candidate
    isolation: set[str] = field(default_factory=set)
    hardening: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    jobs: int = 0

    @property
    def pending(self) -> bool:
        return self.error is None and self.first < len(self.names)


def _records(stdout: str, nonce: str, limit: int) -> list[dict]:
    """The judge's records of one run: lines that carry its secret nonce, at most ``limit``.

    Linear in the size of ``stdout``: one split, a prefix test per line, `json` for the lines with
    the nonce (string keys, hashed with a per-process key; nesting past its limit is refused).
    """
    prefix = nonce + " "
    records: list[dict] = []
    for line in stdout.split("\n"):
        if not line.startswith(prefix):
            continue
        try:
            record = json.loads(line[len(prefix) :])
        except (ValueError, RecursionError):
            continue
        if type(record) is dict:
            records.append(record)
            if len(records) >= limit:
                break
    return records


def _io_verdict(record: dict, expected: str, float_tol: float | None) -> tuple[bool, str | None]:
    if "skip" in record:
        return False, str(record["skip"])
    if record.get("tle"):
        return False, "time limit exceeded"
    if record.get("trunc"):
        return False, "output limit exceeded"
    if record.get("rc") != 0:
        tail = str(record.get("err") or "").strip().splitlines()[-1:]
        return False, f"runtime error (exit status {record.get('rc')})" + (f": {tail[0][:300]}" if tail else "")
    try:
        output = base64.b64decode(str(record.get("out", ""))).decode("utf-8", "replace")
    except ValueError:
        return False, "malformed output record"
    return compare_output(output, expected, float_tol)


def _missing_reason(result: SandboxResult) -> str:
    if result.error:
        return f"sandbox error: {result.error}"
    if result.timed_out:
        return "the job hit its wall-clock limit before this test was judged"
    if result.out_of_memory:
        return "the job ran out of memory before this test was judged"
    tail = result.stderr.strip().splitlines()[-1:] if result.stderr else []
    return f"no verdict: the harness ended early (exit {result.exit_code})" + (f": {tail[0][:200]}" if tail else "")


class CodeVerifier:
    """Reward = fraction of tests passed (or all-or-nothing), plus optional style and efficiency.

    ``sandbox``: any `Sandbox`, a backend name (``"local"``, ``"docker"``) or None for the default
    backend, created on first use and closed by `close`. ``limits`` bounds one problem's whole
    job (``wall_s`` is the time budget of all its tests); ``test_timeout_s`` bounds each test.
    ``score="all"`` makes the score 1 only when every test passes. ``style_weight`` and
    ``efficiency_weight`` mix in `style_score` and the runtime ratio against a reference
    (``meta["reference_time_s"]``, else the problem's reference solution timed once), both timed
    by the judge, never by the candidate; both only count when every test passed.
    ``report_times`` adds per-test times to ``info`` (off by default so the same answer always gets
    the same info). A test that passes without calling the candidate (``assert True``) is left out
    of both the count of tests and the count passed; a problem with no other test earns 0. ``judge`` is kept
    for older callers: there is one judge, in the sandbox. Picklable: a live sandbox is not
    pickled, a copy makes its own.
    """

    def __init__(
        self,
        sandbox: Sandbox | str | None = None,
        *,
        limits: Limits | None = None,
        test_timeout_s: float = 3.0,
        fence: FenceChoice = "last",
        require_fence: bool = False,
        score: Literal["fraction", "all"] = "fraction",
        style_weight: float = 0.0,
        efficiency_weight: float = 0.0,
        max_code_chars: int = 100_000,
        report_times: bool = False,
        judge: Literal["sandbox", "auto"] = "sandbox",
    ):
        if score not in ("fraction", "all"):
            raise ValueError(f"score must be 'fraction' or 'all', got {score!r}")
        if fence not in ("last", "first", "longest", "all"):
            raise ValueError(f"fence must be 'last', 'first', 'longest' or 'all', got {fence!r}")
        if style_weight < 0 or efficiency_weight < 0 or style_weight + efficiency_weight > 1:
            raise ValueError("style_weight and efficiency_weight must be >= 0 and sum to at most 1")
        if test_timeout_s <= 0:
            raise ValueError("test_timeout_s must be > 0")
        if judge not in ("sandbox", "auto"):
            raise ValueError(f"judge must be 'sandbox' (the one judge), got {judge!r}")
        if sandbox is not None and not isinstance(sandbox, (Sandbox, str)):
            raise TypeError(f"sandbox must be a Sandbox, a backend name or None, got {type(sandbox).__name__}")
        self.backend = sandbox if isinstance(sandbox, str) else getattr(sandbox, "name", None)
        self._sandbox = sandbox if isinstance(sandbox, Sandbox) else None
        self._owns_sandbox = self._sandbox is None
        self.limits = limits or Limits(wall_s=10.0, memory_mb=1024, max_processes=64)
        self.test_timeout_s = float(test_timeout_s)
        self.fence: FenceChoice = fence
        self.require_fence = require_fence
        self.score = score
        self.style_weight = float(style_weight)
        self.efficiency_weight = float(efficiency_weight)
        self.max_code_chars = int(max_code_chars)
        self.report_times = bool(report_times)
        self._lock = threading.Lock()
        self._reference_times: dict[str, float] = {}

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox jobs run in (created on first use when none was given)."""
        if self._sandbox is None:
            with self._lock:
                if self._sandbox is None:
                    from thinkgym.sandbox import make_sandbox

                    self._sandbox = make_sandbox(self.backend) if self.backend else make_sandbox()
        return self._sandbox

    def close(self) -> None:
        """Close the sandbox this verifier created (a sandbox passed in is the caller's to close)."""
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None if self._owns_sandbox else self._sandbox
        if sandbox is not None and self._owns_sandbox:
            sandbox.close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_sandbox": None, "_owns_sandbox": True, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CodeVerifier(backend={self.backend or 'default'!r}, score={self.score!r}, limits={self.limits})"

    def __call__(self, completion: str, problem: Problem) -> Reward:
        return self.verify_batch([completion], [problem])[0]

    async def averify(self, completion: str, problem: Problem) -> Reward:
        """`__call__` for asyncio callers: the sandbox job runs off the event loop."""
        import asyncio

        return await asyncio.to_thread(self, completion, problem)

    def verify_batch(self, completions: Sequence[str], problems: Sequence[Problem]) -> list[Reward]:
        """Verify many completions at once: one job per completion, run concurrently by `Sandbox.map`
        (a lone job by `Sandbox.run_job`); a job that lost its worker is followed by one for the rest."""
        if len(completions) != len(problems):
            raise ValueError(f"{len(completions)} completions but {len(problems)} problems")
        tasks = [self._draft(c, p) for c, p in zip(completions, problems, strict=True)]
        for _round in range(1 + max((len(t.names) for t in tasks), default=0)):
            pending = [t for t in tasks if t.pending and t.budget > 0]
            if not pending:
                break
            jobs = [self._job(t) for t in pending]
            results = [self.sandbox.run_job(jobs[0])] if len(jobs) == 1 else self.sandbox.map(jobs)
            for task, result in zip(pending, results, strict=True):
                self._absorb(task, result)
        return [self._reward(t, p) for t, p in zip(tasks, problems, strict=True)]

    def _draft(self, completion: str, problem: Problem) -> _Task:
        """Read the tests, extract the code and plan the job (what decides whether there is one)."""
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a str, got {type(completion).__name__}")
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
        spec = tests_of(problem)
        code = extract_code(completion, fence=self.fence, require_fence=self.require_fence) or ""
        budget = float(self.limits.wall_s)
        if isinstance(spec, IOTests):
            task = _Task("io", [f"case {i}" for i in range(len(spec.inputs))], code, code, spec=spec, budget=budget)
            task.payload = {"inputs": list(spec.inputs), "max_output": int(self.limits.max_output_bytes)}
        else:
            task = _Task("function", [], code, assemble_program(code, spec.prompt) if code else "", budget=budget)
            try:
                plan = _prepare_function(spec)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                raise ValueError(f"problem {problem.id!r} has tests that do not compile: {exc}") from exc
            bound = _bound_names(code)
            proxies = [*plan.proxies, *((n, n) for n in sorted(plan.callable_names & bound) if n != spec.entry_point)]
            task.names = [label for kind, _source, label in plan.steps if kind == "unit"]
            task.payload = {"setup": plan.setup, "steps": [list(s) for s in plan.steps], "proxies": [list(p) for p in proxies],
                            "codes": plan.codes, "codes_tag": harness.bytecode_tag()}  # fmt: skip
            if code.strip() and spec.entry_point and _is_stub(task.program, spec.entry_point):
                task.error = f"the code does not implement {spec.entry_point!r} (a stub: only a docstring, pass or ...)"
        task.payload["test_timeout"] = self.test_timeout_s
        if not code.strip():
            task.error = "no code found in the completion (expected a ```python fence)"
        elif len(code) > self.max_code_chars:
            task.error = f"code of {len(code)} characters exceeds the limit of {self.max_code_chars}"
        elif not task.names:
            task.error = "the problem has no tests"
        return task

    def _limits(self, mode: str, remaining: int, budget: float) -> Limits:
        """One job's limits: the problem's, with room for its verdicts and a start-up margin."""
        if mode == "io":  # base64 of each case's output; past 64 MiB the last cases go unjudged
            output = min(remaining * (4 * self.limits.max_output_bytes // 3 + 1024) + 4096, 64 << 20)
        else:
            output = 2048 * remaining + 4096
        wall = budget + 2.0  # startup and verdict margin over the tests' own budget
        cpu = self.limits.cpu_s if self.limits.cpu_s is not None else wall  # (every other limit as given)
        return replace(self.limits, wall_s=wall, cpu_s=cpu, max_output_bytes=max(self.limits.max_output_bytes, output))

    def _job(self, task: _Task) -> Job:
        """The job for the task's remaining tests. The candidate goes in the files; the tests and a
        fresh nonce go on stdin, which the harness reads only after it forked the candidate's worker."""
        task.nonce = os.urandom(16).hex()
        payload = {**task.payload, "nonce": task.nonce, "budget": task.budget, "first": task.first}
        files = {"main.py": _BOOTSTRAP.replace("MODE", repr(task.mode)).encode(), **_program_files(task.program)}
        limits = self._limits(task.mode, len(task.names) - task.first, task.budget)
        return Job(files=files, entry="main.py", stdin=marshal.dumps(payload), limits=limits, modules=_harness_modules())

    def _absorb(self, task: _Task, result: SandboxResult) -> None:
        """Record the verdicts of one job; set up the next job if the worker was lost."""
        task.jobs += 1
        task.wall_s += result.wall_s
        task.budget -= max(result.wall_s, 0.0)
        task.isolation.update(result.isolation)
        next_first = None
        for record in _records(result.stdout, task.nonce, 2 * len(task.names) + 8):
            index = record.get("t")
            if type(index) is int and task.first <= index < len(task.names) and index not in task.tests and index not in task.void:
                if record.get("void") is True and task.mode == "function":
                    task.void.add(index)
                else:
                    task.tests[index] = self._verdict(task, index, record)
            elif record.get("ev") == "hello" and type(record.get("hardening")) is list:
                task.hardening = [str(h)[:64] for h in record["hardening"][:16]]
            elif record.get("ev") == "lost" and type(record.get("next")) is int:
                next_first = record["next"]
        if next_first is not None and next_first > task.first and task.budget > 0:
            task.first = next_first
            return
        reason = _missing_reason(result)
        for index in range(task.first, len(task.names)):
            if index not in task.tests and index not in task.void:
                task.tests[index] = TestResult(task.names[index], False, reason)
        task.first = len(task.names)

    @staticmethod
    def _verdict(task: _Task, index: int, record: dict) -> TestResult:
        seconds = record.get("s")
        name, seconds = task.names[index], float(seconds) if type(seconds) in (int, float) and 0 <= seconds < 1e6 else 0.0
        if task.mode == "io":
            assert task.spec is not None
            ok, why = _io_verdict(record, task.spec.outputs[index], task.spec.float_tol)
            return TestResult(name, ok, why, seconds)
        if record.get("ok") is True:
            return TestResult(name, True, None, seconds)
        why = record.get("why")
        return TestResult(name, False, why[:500] if type(why) is str else "failed", seconds)

    def _reward(self, task: _Task, problem: Problem) -> Reward:
        zero = {"tests_passed": 0.0, "all_passed": 0.0}
        counted = [i for i in range(len(task.names)) if i not in task.void]
        if task.error is None and not counted:
            task.error = "no test calls the candidate (tests that never exercise it earn nothing)"
        if task.error is not None:
            return Reward.zero(task.error, zero, tests=[], passed=0, total=len(counted))
        for index in counted:  # budget ran out before a job could judge these
            task.tests.setdefault(index, TestResult(task.names[index], False, "time budget for the problem exhausted"))
        tests = [task.tests[i] for i in counted]
        passed = sum(t.passed for t in tests)
        fraction = passed / len(tests)
        all_passed = 1.0 if passed == len(tests) else 0.0
        components = {"tests_passed": fraction, "all_passed": all_passed}
        score = (fraction if self.score == "fraction" else all_passed) * (1.0 - self.style_weight - self.efficiency_weight)
        info: dict[str, Any] = {
            "passed": passed,
            "total": len(tests),
            "tests": [t.to_dict(self.report_times) for t in tests],
            "isolation": sorted(task.isolation),
            "harness_hardening": task.hardening,
            "jobs": task.jobs,
        }
        if task.void:
            info["void_tests"] = [task.names[i] for i in sorted(task.void)]
        if self.report_times:
            info["wall_s"] = task.wall_s
        failing = next((t for t in tests if not t.passed), None)
        if failing is not None:
            info["failing_test"] = failing.name
            info["error"] = failing.reason
        if self.style_weight:
            style, issues = style_score(task.code)
            components["style"] = style
            info["style_issues"] = issues
            score += self.style_weight * style * all_passed
        if self.efficiency_weight:
            efficiency = self._efficiency(problem, sum(t.time_s for t in tests)) if all_passed else 0.0
            components["efficiency"] = efficiency
            score += self.efficiency_weight * efficiency
        return Reward(score, components, info)

    def _efficiency(self, problem: Problem, runtime_s: float, floor_s: float = 1e-3) -> float:
        """min(1, reference time / candidate time), both with a small floor against timer noise."""
        reference = problem.meta.get("reference_time_s")
        if reference is None:
            reference = self._reference_times.get(problem.id)
        if reference is None:
            solution = problem.meta.get("reference") or problem.answer
            if not isinstance(solution, str) or not solution.strip():
                return 0.0
            plain = CodeVerifier(self.sandbox, limits=self.limits, test_timeout_s=self.test_timeout_s, report_times=True)
            ref = plain(solution, problem)
            if ref.components.get("all_passed") != 1.0:
                return 0.0
            reference = sum(float(t.get("time_s", 0.0)) for t in ref.info["tests"])
            self._reference_times[problem.id] = reference
        return min(1.0, (float(reference) + floor_s) / (runtime_s + floor_s))


_shared: dict[str, CodeVerifier] = {}
_shared_lock = threading.Lock()


def _shared_verifier(backend: str | None) -> CodeVerifier:
    key = backend or ""
    with _shared_lock:
        if key not in _shared:
            if not _shared:
                atexit.register(_close_shared)
            _shared[key] = CodeVerifier(backend)
        return _shared[key]


def _close_shared() -> None:
    with _shared_lock:
        verifiers = list(_shared.values())
        _shared.clear()
    for verifier in verifiers:
        verifier.close()


def verify_code(completion: str, problem: Problem | Mapping[str, Any], *, sandbox: Sandbox | str | None = None, **options: Any) -> Reward:
    """Verify one completion against a problem (a `Problem`, or a dict of its ``meta`` keys).

    Without options it reuses one warm verifier per backend for the whole process; with options
    (see `CodeVerifier`) it builds one for this call on the given or shared sandbox.
    """
    if isinstance(problem, Mapping):
        problem = Problem(str(problem.get("task_id", problem.get("id", "problem"))), "", None, dict(problem))
    if not options and not isinstance(sandbox, Sandbox):
        return _shared_verifier(sandbox)(completion, problem)
    if sandbox is None or isinstance(sandbox, str):
        sandbox = _shared_verifier(sandbox).sandbox
    return CodeVerifier(sandbox, **options)(completion, problem)
