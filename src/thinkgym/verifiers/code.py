"""Code rewards that hostile code cannot fake: run the candidate in a sandbox, judge it outside its reach.

Two test formats, both with per-test results (partial credit):

- **function tests** (HumanEval / MBPP style): ``meta = {"prompt", "test", "entry_point"}`` where
  ``test`` defines ``check(candidate)``, or ``meta = {"tests": ["assert f(1) == 2", ...]}``. A
  HumanEval ``check`` is split by its AST into one test per top-level statement that asserts.
- **stdin/stdout cases** (CodeContests / APPS style): ``meta = {"inputs": [...], "outputs": [...]}``;
  whole outputs are compared after trimming trailing whitespace, line counts must match, and
  ``float_tol`` allows numeric tokens to differ.

Why it is not fooled: the candidate's values are compared by a judge it cannot reach, and only
plain values (ints, strings, lists …) ever get there. Where the tests allow it (every call of the
candidate predictable from the test's source, and nothing in the test the trainer could not
evaluate safely: `_host_setup`), the judge is this process: the sandbox job only defines the
candidate, makes the predicted calls and writes back each value as tagged JSON, which is decoded
here without executing anything; the expected values never enter the sandbox. Other function
tests run in a judge process inside the sandbox job that receives them encrypted (the key comes
on stdin, read only after the candidate's worker process was forked) and calls the candidate
through a proxy; the two judges share their test-running code (`_code_harness.run_function_tests`). Expected stdout never enters the sandbox: the job reports each case's output
and this process compares. Verdict lines carry a per-run secret nonce, and a test counts as passed
only when its own verdict says so — never because a process exited 0. When the worker is lost
mid-test (it crashed or overran), the remaining tests run in a fresh job. See
`thinkgym.verifiers._code_harness` for the protocol and ``tests/verifiers/test_code_attacks.py``
for the tricks it holds against.

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
import hashlib
import json
import marshal
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from thinkgym.core import Problem, Reward
from thinkgym.sandbox.base import Job, Limits, Sandbox, SandboxResult, StartedJob
from thinkgym.sandbox.local import preload_module_file
from thinkgym.verifiers import _code_harness as harness

__all__ = [
    "CodeVerifier",
    "verify_code",
    "extract_code",
    "assemble_program",
    "FunctionTests",
    "IOTests",
    "tests_of",
    "split_check",
    "style_score",
    "compare_output",
    "TestResult",
]

compare_output = harness.compare_output

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.S | re.M)
_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "python2"})
FenceChoice = Literal["last", "first", "longest", "all"]


# ---------------------------------------------------------------------------------------------
# Extracting and assembling the candidate program
# ---------------------------------------------------------------------------------------------


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
    return _assemble(code, prompt)[0]


def _assemble(code: str, prompt: str) -> tuple[str, Any]:
    """`assemble_program`, and the program compiled (None when it does not compile).

    Compiling here replaces the parse that picks the assembly, and a calls job then only loads
    the code object: a freshly forked job process compiles several times slower than this warm one.
    """
    if not prompt:
        return code, _compiled(code)
    if _parses(code):
        futures = "".join(_FUTURE.findall(code))
        program = futures + prompt.rstrip("\n") + "\n\n\n" + _FUTURE.sub("", code)
        return program, _compiled(program)
    compiled = _compiled(prompt + code)
    if compiled is not None:
        return prompt + code, compiled
    return code, None


def _compiled(source: str) -> Any:
    import warnings

    try:
        with warnings.catch_warnings():  # the candidate's SyntaxWarnings are not the trainer's
            warnings.simplefilter("ignore")
            return compile(source, harness.PROGRAM_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


# ---------------------------------------------------------------------------------------------
# Test specifications
# ---------------------------------------------------------------------------------------------


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


def _statement_source(lines: Sequence[bytes], node: ast.stmt) -> str:
    """The statement's own text, dedented (`ast.get_source_segment` re-splits the whole source
    on every call, which made splitting a long ``check`` quadratic)."""
    import textwrap

    end_lineno, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if end_lineno is None or end_col is None or end_lineno > len(lines):
        return ast.unparse(node)
    first, last = node.lineno - 1, end_lineno - 1
    if first == last:  # offsets are in UTF-8 bytes
        chunk = [b" " * node.col_offset + lines[first][node.col_offset : end_col]]
    else:
        chunk = [b" " * node.col_offset + lines[first][node.col_offset :], *lines[first + 1 : last], lines[last][:end_col]]
    try:
        segment = b"".join(chunk).decode("utf-8")
    except UnicodeDecodeError:
        return ast.unparse(node)
    dedented = textwrap.dedent(segment)
    if first == last:  # one line, dedented: parses as it did in place
        return dedented
    return dedented if _parses(dedented) else ast.unparse(node)


def _walk(stmt: ast.stmt) -> list[ast.AST]:
    """`_nodes_under` a test statement, kept on the node: the split and both analyses read it."""
    walked = stmt.__dict__.get("_thinkgym_walk")
    if walked is None:
        walked = stmt.__dict__["_thinkgym_walk"] = _nodes_under(stmt)
    return walked


def _nodes_under(node: ast.AST) -> list[ast.AST]:
    """The nodes ``ast.walk`` yields, in a list (three times faster: this runs for every test
    statement of a problem the first time it is seen)."""
    found, index = [node], 0
    while index < len(found):
        found.extend(_children(found[index]))
        index += 1
    return found


def _children(node: ast.AST, _node_type: type = ast.AST) -> list[ast.AST]:
    children = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, _node_type):
            children.append(value)
        elif type(value) is list and value:
            children += [v for v in value if isinstance(v, _node_type)]
    return children


_NOT_AT_MODULE_LEVEL = (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal, ast.Await)


def split_check(test: str) -> tuple[str, list[tuple[str, str, str]]] | None:
    """Split a HumanEval ``check(candidate)`` into steps, one test per asserting statement.

    Returns ``(parameter name, [(kind, source, label)])`` with kind ``"unit"`` (the statement
    asserts something) or ``"setup"`` (imports, assignments, run in order between the tests), or
    None when the body cannot be run statement by statement (then ``check`` runs as one test).
    """
    split = _split_check_nodes(test)
    return None if split is None else (split[0], [step for step, _node in split[1]])


def _split_check_nodes(test: str) -> tuple[str, list[tuple[tuple[str, str, str], ast.stmt]], str, ast.Module] | None:
    """`split_check`, with each step's AST node (compiled and analysed without parsing it again)
    and the test module without ``check`` (its setup: ``check`` itself never runs once split), as
    source and as the tree of that source."""
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
    lines = test.encode("utf-8", "surrogatepass").splitlines(keepends=True)
    for stmt in check.body:
        kinds = {type(n) for n in _walk(stmt)}
        if any(issubclass(k, _NOT_AT_MODULE_LEVEL) for k in kinds):
            return None
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        source = _statement_source(lines, stmt)
        kind = "unit" if ast.Assert in kinds else "setup"
        steps.append(((kind, source, _label(source)), stmt))
    if not any(step[0] == "unit" for step, _node in steps):
        return None
    rest, module = test, tree
    others = [n for n in tree.body if n is not check]
    if not any(isinstance(n, ast.Name) and n.id == "check" for node in others for n in ast.walk(node)):
        text = test.splitlines(keepends=True)  # (ast line numbers count these line breaks too)
        if len(text) >= (check.end_lineno or 0) and len(lines) == len(text):
            rest = "".join(text[: check.lineno - 1] + text[check.end_lineno :])
            module = ast.Module(body=others, type_ignores=[])
    return check.args.args[0].arg, steps, rest, module


@dataclass
class _FunctionPlan:
    """How one function-test spec is judged (built once per spec, see `_prepare_function`).

    ``host_setup`` is set when the trainer may judge these tests itself (`_host_setup`): the job
    then only makes the predicted calls and sends back plain values, and the steps are compiled
    while it runs (`host_codes`). Otherwise the judge runs in the sandbox (`sandbox_codes`).
    """

    setup: str
    steps: tuple
    proxies: tuple
    nodes: tuple | None  # the steps' statements, when the analysis parsed them
    prefetch: tuple
    host_setup: ast.Module | None = None

    @functools.cached_property
    def step_codes(self) -> list:
        if self.nodes is not None:
            return [compile(ast.Module(body=[node], type_ignores=[]), f"<test {i}>", "exec") for i, node in enumerate(self.nodes)]
        return [compile(source, f"<test {i}>", "exec") for i, (_k, source, _l) in enumerate(self.steps)]

    @functools.cached_property
    def host_codes(self) -> list:
        assert self.host_setup is not None
        return [compile(self.host_setup, "<test setup>", "exec"), *self.step_codes]

    @functools.cached_property
    def sandbox_codes(self) -> bytes:
        return marshal.dumps([compile(self.setup, "<test setup>", "exec"), *self.step_codes])


@functools.lru_cache(maxsize=4096)
def _prepare_function(spec: FunctionTests, candidate_names: tuple[str, ...]) -> _FunctionPlan:
    """Split, compile and analyse one function-test spec (cached: an RL run sees each problem often)."""
    proxies: list[tuple[str, str]] = []
    module: ast.Module | None = None  # the test module's own statements, outside the steps
    if spec.asserts:
        setup = "\n".join(part for part in (spec.prompt, spec.setup) if part)
        steps = [("unit", a, _label(a)) for a in spec.asserts]
        nodes = [stmt for a in spec.asserts for stmt in ast.parse(a).body[:1]]
        if len(nodes) != len(steps):
            nodes = None
        # Only functions the asserts call, and never a builtin or a name the test itself defines:
        # a candidate that defines ``set`` must not replace the ``set`` the assert compares with.
        called = _called_names(spec.asserts)
        reserved = set(dir(builtins)) | _defined_names(setup)
        names = [spec.entry_point] if spec.entry_point else []
        names += [n for n in candidate_names if n in called and n not in reserved and n not in names]
        proxies = [(name, name) for name in names]
        module = _parsed(spec.setup)
    else:
        setup = spec.prompt.rstrip("\n") + "\n\n" + spec.test + "\n"
        split = _split_check_nodes(spec.test)
        nodes = None
        if split is None:
            steps = [("unit", "check(__candidate__)", "check(candidate)")]
            proxies = [("__candidate__", spec.entry_point)]
        else:
            param, pairs, rest, module = split
            setup = spec.prompt.rstrip("\n") + "\n\n" + rest + "\n"
            steps = [step for step, _node in pairs]
            nodes = [node for _step, node in pairs]
            proxies = [(param, spec.entry_point)]
        if spec.entry_point and not hasattr(builtins, spec.entry_point):
            proxies.append((spec.entry_point, spec.entry_point))
    prefetch = _prefetchable_calls(steps, dict(proxies), nodes)
    host_setup = None
    if nodes is not None and module is not None:
        host_setup = _host_setup(nodes, module, spec.prompt, dict(proxies), len(prefetch))
    plan = _FunctionPlan(setup, tuple(steps), tuple(proxies), None if nodes is None else tuple(nodes), tuple(prefetch), host_setup)
    if host_setup is None:
        plan.sandbox_codes  # noqa: B018 - compiled now: a syntax error in the tests is the caller's error
    return plan


def _parsed(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


#: Nodes whose parts may run zero or many times: calls under them end the predictable prefix.
_CONDITIONAL = (
    ast.For, ast.AsyncFor, ast.While, ast.If, ast.IfExp, ast.BoolOp, ast.Try, ast.With, ast.AsyncWith,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda, ast.FunctionDef,
    ast.AsyncFunctionDef, ast.ClassDef, ast.Match,
)  # fmt: skip


class _Barrier(Exception):
    """The rest of the test's calls cannot be predicted from its source."""


def _prefetchable_calls(
    steps: Sequence[tuple[str, str, str]], proxies: Mapping[str, str], nodes: Sequence[ast.stmt] | None = None
) -> list[tuple]:
    """The candidate calls the tests will make first, in order, when their arguments are literals.

    The judge sends them to the worker in one message so the worker computes while the judge
    checks (one round trip instead of one per call). The list stops at the first call it cannot
    predict (a loop, a branch, computed arguments); the judge falls back to live calls whenever
    the test's real call differs from the next predicted one.
    """
    calls: list[tuple] = []

    def visit(node: ast.AST, step: int) -> None:
        if isinstance(node, _CONDITIONAL) or (isinstance(node, ast.Compare) and len(node.ops) > 1):
            if any(isinstance(n, ast.Call) for n in _nodes_under(node)):
                raise _Barrier
            return
        if isinstance(node, ast.Assert):
            visit(node.test, step)  # the message only runs on failure
            return
        if isinstance(node, ast.Constant):
            return
        for child in _children(node):
            visit(child, step)
        if isinstance(node, ast.Call):
            target = proxies.get(node.func.id) if isinstance(node.func, ast.Name) else None
            if target is None:
                if not isinstance(node.func, ast.Name) or node.func.id not in _PURE_BUILTINS:
                    raise _Barrier  # it might call the candidate itself
                under = _nodes_under(node)
                called = {id(n.func) for n in under if isinstance(n, ast.Call)}
                if any(isinstance(n, ast.Name) and n.id in proxies and id(n) not in called for n in under):
                    raise _Barrier  # the candidate passed as a value, e.g. sorted(xs, key=candidate)
                return
            try:
                args = tuple(ast.literal_eval(a) for a in node.args if not isinstance(a, ast.Starred))
                kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise _Barrier from None
            if len(args) != len(node.args) or len(kwargs) != len(node.keywords):
                raise _Barrier
            calls.append((step, target, args, kwargs))

    try:
        for index, (_kind, source, _label) in enumerate(steps):
            for stmt in [nodes[index]] if nodes is not None else ast.parse(source).body:
                visit(stmt, index)
    except (_Barrier, SyntaxError, ValueError):
        pass
    try:
        marshal.dumps(calls)
    except ValueError:  # an argument marshal cannot carry: no prefetch
        return []
    return calls


_PURE_BUILTINS = frozenset(
    {"abs", "all", "any", "bool", "dict", "float", "frozenset", "int", "isinstance", "len", "list",
     "max", "min", "repr", "round", "set", "sorted", "str", "sum", "tuple", "type"}  # fmt: skip
)


#: What the trainer may evaluate itself when it judges a candidate's plain values: no loops, no
#: comprehensions, no lambdas, no imports but ``math``, and only operators whose cost stays linear
#: in the size of a value (``*``, ``**``, ``%``, ``//`` and ``<<`` only between constants), so a
#: hostile value cannot make the trainer hang or balloon.
_HOST_NODES = (
    ast.Assert, ast.Assign, ast.Expr, ast.Import, ast.alias, ast.Pass, ast.Constant, ast.Name, ast.Load,
    ast.Store, ast.Call, ast.keyword, ast.Compare, ast.cmpop, ast.UnaryOp, ast.unaryop, ast.BinOp,
    ast.operator, ast.BoolOp, ast.boolop, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript,
    ast.Slice, ast.Attribute,
)  # fmt: skip
_HOST_BINOPS = (ast.Add, ast.Sub, ast.Div, ast.BitAnd, ast.BitOr, ast.BitXor)
_HOST_MATH = frozenset(
    {"isclose", "fabs", "sqrt", "floor", "ceil", "isnan", "isinf", "isfinite", "trunc", "inf", "nan", "pi", "e", "tau"}
)


def _host_setup(
    nodes: Sequence[ast.stmt], module: ast.Module, prompt: str, proxies: Mapping[str, str], predicted: int
) -> ast.Module | None:
    """The setup the trainer runs before judging these test steps itself, or None.

    Only when every call of the candidate is predicted (``predicted`` calls, one per call site:
    no branches or loops decide them), and the steps use nothing but the candidate, safe builtins,
    ``math``, literal constants of the test module and names the steps bind themselves (and the
    ``prompt``, which runs before the tests in the sandbox judge, redefines none of them).
    """
    if sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in proxies
           for node in nodes for n in _walk(node)) != predicted:  # fmt: skip
        return None
    names: dict[str, str] = {}  # name -> "math" or "value"
    kept: list[ast.stmt] = []
    for stmt in module.body:  # the test module runs before the steps: literals and math only
        if isinstance(stmt, ast.Import) and all(a.name == "math" for a in stmt.names):
            names.update({a.asname or a.name: "math" for a in stmt.names})
            kept.append(stmt)
        elif isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets) and _is_literal(stmt.value):
            names.update({t.id: "value" for t in stmt.targets})  # type: ignore[attr-defined]
            kept.append(stmt)
        else:
            for name in _bound_names([stmt]):
                names[name] = "opaque"
    used: set[str] = set()  # builtins and modules the steps use
    for stmt in nodes:
        if not isinstance(stmt, (ast.Assert, ast.Assign, ast.Expr, ast.Import, ast.Pass)):
            return None
        if isinstance(stmt, ast.Expr) and not isinstance(stmt.value, ast.Call):
            return None
        if isinstance(stmt, ast.Assign) and not all(isinstance(t, ast.Name) for t in stmt.targets):
            return None
        if isinstance(stmt, ast.Import):
            if not all(a.name == "math" for a in stmt.names):
                return None
            names.update({a.asname or a.name: "math" for a in stmt.names})
            continue
        if not _host_evaluable(stmt, names, proxies, used):
            return None
        if isinstance(stmt, ast.Assign):
            names.update({t.id: "value" for t in stmt.targets})  # type: ignore[attr-defined]
    if any(name in prompt for name in used) and used & _defined_names(prompt):  # (parsed only when it may)
        return None
    return ast.Module(body=kept, type_ignores=[])


def _host_evaluable(stmt: ast.stmt, names: Mapping[str, str], proxies: Mapping[str, str], used: set[str]) -> bool:
    walked = _walk(stmt)
    called = {id(n.func) for n in walked if isinstance(n, ast.Call)}
    attribute_of = {id(n.value) for n in walked if isinstance(n, ast.Attribute)}
    for node in walked:
        if not isinstance(node, _HOST_NODES):
            return False
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            kind = names.get(node.id)
            if kind == "value":
                continue
            if kind == "math":
                if id(node) not in attribute_of:
                    return False
                used.add(node.id)
                continue
            if kind is None and node.id in proxies:
                if id(node) not in called:  # the candidate passed around as a value
                    return False
                continue
            if kind is not None or node.id not in _PURE_BUILTINS:
                return False
            used.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
            if len(node.args) != 1 or node.keywords:  # sum(lists, []) is quadratic in the value's size
                return False
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and names.get(node.value.id) == "math" and node.attr in _HOST_MATH):
                return False
        elif isinstance(node, ast.BinOp) and not isinstance(node.op, _HOST_BINOPS):
            small = isinstance(node.right, ast.Constant) and type(node.right.value) is int and node.right.value <= 128
            if not (_is_constant(node.left) and _is_constant(node.right)):
                return False
            if isinstance(node.op, (ast.Pow, ast.LShift)) and not small:
                return False
    return True


def _is_constant(node: ast.AST) -> bool:
    """A small number of the test's own (``2 ** 10``, ``-1 * 3``), not ``10 ** 10 ** 8``."""
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float) and abs(node.value) <= 1 << 64
    return False


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _called_names(sources: Sequence[str]) -> set[str]:
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        names.update(n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name))
    return names


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return _bound_names(tree.body)


def _bound_names(statements: Sequence[ast.stmt]) -> set[str]:
    """Names these module-level statements define (functions, classes, imports, assignments)."""
    names: set[str] = set()
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _top_level_functions(code: str) -> tuple[str, ...]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return ()
    return tuple(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


# ---------------------------------------------------------------------------------------------
# Style (optional reward component)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Jobs and verdicts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """One test's verdict as reported by the judge (or why there was none)."""

    name: str
    passed: bool
    reason: str | None = None
    time_s: float = 0.0

    def to_dict(self, with_time: bool = True) -> dict[str, Any]:
        data = {"name": self.name, "passed": self.passed, "reason": self.reason}
        if with_time:
            data["time_s"] = self.time_s
        return data


with open(harness.__file__, "rb") as _fh:
    _HARNESS_SOURCE = _fh.read()
del _fh
#: The local sandbox's zygote pre-imports the harness under this name (the digest pins the version),
#: so a job skips unmarshalling and executing its own copy; the files below remain the fallback.
_HARNESS_MODULE = "thinkgym_code_harness_" + hashlib.sha256(_HARNESS_SOURCE).hexdigest()[:24]
preload_module_file(_HARNESS_MODULE, harness.__file__, hashlib.sha256(_HARNESS_SOURCE).hexdigest())


@functools.lru_cache(maxsize=1)
def _harness_files() -> dict[str, bytes]:
    tag = harness.bytecode_tag().encode()
    code = compile(_HARNESS_SOURCE, "_harness.py", "exec")
    return {"_harness.py": _HARNESS_SOURCE, "_harness.bin": tag + b"\n" + marshal.dumps(code)}


_BOOTSTRAP = """\
import marshal as _m, sys as _s
_h = _s.modules.get(HARNESS_MODULE)
if _h is not None:
    _h.main(MODE)
    _s.exit(0)
_fie = _s.modules.get("_frozen_importlib_external")
_magic = _fie.MAGIC_NUMBER.hex() if _fie is not None else str(_s.hexversion)
_tag = ("%s:%s" % (_s.implementation.cache_tag, _magic)).encode() + b"\\n"
with open("_harness.bin", "rb") as _f:
    _blob = _f.read()
if _blob.startswith(_tag):
    _code = _m.loads(_blob[len(_tag):])
else:
    with open("_harness.py", encoding="utf-8") as _f:
        _code = compile(_f.read(), "_harness.py", "exec")
_ns = {"__name__": "thinkgym_code_harness", "__builtins__": __builtins__}
exec(_code, _ns)
_ns["main"](MODE)
""".replace("HARNESS_MODULE", repr(_HARNESS_MODULE))


@dataclass
class _Task:
    """One completion under verification: what to run, and the verdicts gathered so far.

    Function tests may need more than one job: when the worker is lost (it died or overran a
    test) the judge says where to go on, and the next job starts from there.
    """

    mode: str  # "function" (judged in the sandbox), "calls" (judged here), "io"
    names: list[str]
    code: str
    program: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    plan: _FunctionPlan | None = None
    careful: bool = False  # calls mode: one write per reply (after a job died with replies unsent)
    program_code: bytes = b""  # calls mode: the program compiled here (bytecode tag, newline, marshal)
    spec: IOTests | None = None
    function_spec: FunctionTests | None = None
    problem_id: str = ""
    budget: float = 0.0
    error: str | None = None
    first: int = 0
    nonce: str = ""
    tests: dict[int, TestResult] = field(default_factory=dict)
    isolation: set[str] = field(default_factory=set)
    hardening: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    jobs: int = 0

    @property
    def pending(self) -> bool:
        return self.error is None and self.first < len(self.names)


def _encrypt(payload: dict) -> tuple[bytes, bytes]:
    key = os.urandom(32)
    return harness.decrypt(marshal.dumps(payload), key), key


def _records(result: SandboxResult, nonce: str) -> list[dict]:
    """The judge's records of this run: only lines that carry its secret nonce."""
    prefix = nonce + " "
    records = []
    for line in result.stdout.splitlines():
        if line.startswith(prefix):
            try:
                record = json.loads(line[len(prefix) :])
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
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


_RETRY_CAREFULLY = "the job ended with replies it had not written yet"


def _replay(task: _Task, result: SandboxResult) -> harness.RecordedJudge | None:
    """Judge a calls job here: its reply lines, replayed to the test steps (None: nothing ran)."""
    if result.error or task.plan is None:
        return None
    replies: list[tuple] = []
    end = None
    for line in result.stdout.splitlines():
        item = harness.decode_reply_line(line)
        if item is None or item[0] != len(replies):  # not a reply, or not the next one
            continue
        if item[1] in ("end", "timeout"):
            end = item[1]
            break
        replies.append(tuple(item[1:]))
    if end == "timeout":
        missing = ("lost", "time limit exceeded")
    elif end == "end":
        missing = ("lost", "the candidate's replies ended early")
    elif result.stdout_truncated:
        missing = ("retry", "the candidate's return values exceeded the output limit")
    elif task.careful:  # each reply was written before the next call: the next call ended the job
        missing = ("lost", _lost_reason(result))
    else:
        missing = ("retry", _RETRY_CAREFULLY)
    judge = harness.RecordedJudge(replies, missing)
    harness.run_function_tests(judge, {**task.payload, "first": task.first}, task.plan.host_codes)
    return judge


def _lost_reason(result: SandboxResult) -> str:
    if result.timed_out:
        return "time limit exceeded"
    if result.out_of_memory:
        return "the candidate ran out of memory"
    how = f"signal {result.signal}" if result.signal else f"exit status {result.exit_code}"
    return f"the candidate process ended ({how})"


# ---------------------------------------------------------------------------------------------
# The verifier
# ---------------------------------------------------------------------------------------------


class CodeVerifier:
    """Reward = fraction of tests passed (or all-or-nothing), plus optional style and efficiency.

    ``sandbox``: a `Sandbox`, a backend name (``"local"``, ``"docker"``) or None for the default
    backend, created on first use and closed by `close`. ``limits`` bounds one problem's whole
    job (``wall_s`` is the time budget of all its tests); ``test_timeout_s`` bounds each test.
    ``score="all"`` makes the score 1 only when every test passes. ``style_weight`` and
    ``efficiency_weight`` mix in `style_score` and the runtime ratio against a reference
    (``meta["reference_time_s"]``, else the problem's reference solution timed once); both only
    count when every test passed. ``report_times`` adds per-test times to ``info`` (off by default
    so the same answer always gets the same info). ``judge="auto"`` judges function tests in this
    process when their calls of the candidate can all be predicted and the tests use only what is
    safe to evaluate here (see `_host_setup`): the job then only makes the calls and sends back
    plain values, which is about twice as fast; ``"sandbox"`` always runs the judge in the sandbox.
    Picklable: a live sandbox is not pickled, a copy makes its own.
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
        judge: Literal["auto", "sandbox"] = "auto",
    ):
        if score not in ("fraction", "all"):
            raise ValueError(f"score must be 'fraction' or 'all', got {score!r}")
        if fence not in ("last", "first", "longest", "all"):
            raise ValueError(f"fence must be 'last', 'first', 'longest' or 'all', got {fence!r}")
        if style_weight < 0 or efficiency_weight < 0 or style_weight + efficiency_weight > 1:
            raise ValueError("style_weight and efficiency_weight must be >= 0 and sum to at most 1")
        if test_timeout_s <= 0:
            raise ValueError("test_timeout_s must be > 0")
        if judge not in ("auto", "sandbox"):
            raise ValueError(f"judge must be 'auto' or 'sandbox', got {judge!r}")
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
        self.judge = judge
        self._lock = threading.Lock()
        self._reference_times: dict[str, float] = {}
        self._judged_in_sandbox: set[FunctionTests] = set()  # specs `_start_early` leaves alone

    # ---- lifecycle / pickling ----

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
        state = self.__dict__.copy()
        state["_sandbox"] = None
        state["_owns_sandbox"] = True
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CodeVerifier(backend={self.backend or 'default'!r}, score={self.score!r}, limits={self.limits})"

    # ---- verification ----

    def __call__(self, completion: str, problem: Problem) -> Reward:
        return self.verify_batch([completion], [problem])[0]

    async def averify(self, completion: str, problem: Problem) -> Reward:
        """`__call__` for asyncio callers: the sandbox job runs off the event loop."""
        import asyncio

        return await asyncio.to_thread(self, completion, problem)

    def verify_batch(self, completions: Sequence[str], problems: Sequence[Problem]) -> list[Reward]:
        """Verify many completions at once; the jobs run concurrently through `Sandbox.map`.

        A single completion of function tests starts its job before the tests are analysed (see
        `_start_early`): the sandbox starts up and defines the candidate meanwhile.
        """
        if len(completions) != len(problems):
            raise ValueError(f"{len(completions)} completions but {len(problems)} problems")
        tasks = [self._draft(c, p) for c, p in zip(completions, problems, strict=True)]
        early = self._start_early(tasks[0]) if len(tasks) == 1 else None
        try:
            for task in tasks:
                self._compile_program(task)
            if early is not None:
                early.send_stdin(self._calls_head(tasks[0]))
            for task in tasks:
                self._plan(task)
            if early is not None and not (tasks[0].mode == "calls" and tasks[0].pending):
                early.cancel()  # the sandbox judges these tests (or there is nothing to run)
                early.result()
                early = None
            for _round in range(3 + max((len(t.names) for t in tasks), default=0)):  # (+2: a retry of each kind)
                pending = [t for t in tasks if t.pending and t.budget > 0]
                if not pending:
                    break
                if len(pending) == 1:  # no thread pool for a single job
                    results = [self._run_one(pending[0], early)]
                    early = None
                else:
                    results = self.sandbox.map([self._job(t) for t in pending])
                for task, result in zip(pending, results, strict=True):
                    self._absorb(task, result)
        finally:
            if early is not None:  # started, not used: collected so nothing of it stays around
                early.cancel()
                early.result()
        return [self._reward(t, p) for t, p in zip(tasks, problems, strict=True)]

    def _run_one(self, task: _Task, early: StartedJob | None) -> SandboxResult:
        """One job, with the trainer's share of the work done while it runs: the calls sent to a
        job started early, the steps to judge compiled."""
        sandbox = self.sandbox
        if early is not None:  # (kept by `verify_batch` only for the first job of a calls task)
            started = early
            started.finish_stdin(self._calls_rest(task))
        else:
            sandbox.check_strict()
            if task.mode != "calls" or task.plan is None or "host_codes" in vars(task.plan):
                return sandbox.run_job(self._job(task))  # (nothing to do meanwhile)
            started = sandbox.submit(self._job(task))
        try:
            if task.plan is not None:
                task.plan.host_codes  # noqa: B018 - compiled while the job runs
        finally:
            result = started.result()
        return result

    def _start_early(self, task: _Task) -> StartedJob | None:
        """Start the calls job of one completion's function tests first, when they are likely to
        be judged here (not known to need the judge in the sandbox): while the sandbox starts it
        up, this compiles the candidate (sent next), then analyses the tests (the calls are sent
        last). None: nothing to start."""
        spec = task.function_spec
        if spec is None or self.judge != "auto" or task.error is not None or spec in self._judged_in_sandbox:
            return None
        sandbox = self.sandbox
        sandbox.check_strict()
        steps_at_most = len(spec.asserts) + spec.test.count("\n") + 1
        limits = self._limits("calls", steps_at_most, task.budget)
        job = Job(self._files("calls"), "main.py", b"", (), limits, (), f"{_HARNESS_MODULE}:calls")
        return sandbox.submit(job, stdin_open=True)

    @staticmethod
    def _calls_rest(task: _Task) -> bytes:
        """The calls the task's remaining tests will make, in order (a calls job's stdin after its head)."""
        assert task.plan is not None
        return harness.calls_request_rest(harness.pending_calls(task.payload["steps"], task.plan.prefetch, task.first))

    def _calls_head(self, task: _Task) -> bytes:
        program = task.program.encode("utf-8", "surrogatepass")
        return harness.calls_request_head(self.test_timeout_s, task.careful, program, task.program_code)

    def _draft(self, completion: str, problem: Problem) -> _Task:
        """Read the tests and extract the code (what decides whether there is a job to run)."""
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a str, got {type(completion).__name__}")
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
        spec = tests_of(problem)
        code = extract_code(completion, fence=self.fence, require_fence=self.require_fence)
        budget = float(self.limits.wall_s)
        if isinstance(spec, IOTests):
            task = _Task("io", [f"case {i}" for i in range(len(spec.inputs))], code or "", code or "", spec=spec, budget=budget)
            task.payload = {
                "test_timeout": self.test_timeout_s,
                "inputs": list(spec.inputs),
                "max_output": int(self.limits.max_output_bytes),
            }
        else:
            task = _Task("function", [], code or "", budget=budget, function_spec=spec, problem_id=problem.id)
        if code is None or not code.strip():
            task.error = "no code found in the completion (expected a ```python fence)"
        elif len(code) > self.max_code_chars:
            task.error = f"code of {len(code)} characters exceeds the limit of {self.max_code_chars}"
        elif isinstance(spec, IOTests) and not task.names:
            task.error = "the problem has no tests"
        return task

    @staticmethod
    def _compile_program(task: _Task) -> None:
        """The program of a task's function tests, and its code compiled here."""
        if task.function_spec is not None and task.code:
            task.program, compiled = _assemble(task.code, task.function_spec.prompt)
            if compiled is not None:
                task.program_code = harness.bytecode_tag().encode() + b"\n" + marshal.dumps(compiled)

    def _plan(self, task: _Task) -> None:
        """Analyse a task's function tests (cached per spec): the steps, and who judges them."""
        spec = task.function_spec
        if spec is None:
            return
        code = task.code
        names_in_code = _top_level_functions(code) if code and spec.asserts else ()
        try:
            plan = _prepare_function(spec, names_in_code)
        except (SyntaxError, ValueError) as exc:
            raise ValueError(f"problem {task.problem_id!r} has tests that do not compile: {exc}") from exc
        task.plan = plan
        task.names = [label for kind, _source, label in plan.steps if kind == "unit"]
        task.mode = "calls" if plan.host_setup is not None and self.judge == "auto" else "function"
        if plan.host_setup is None:
            if len(self._judged_in_sandbox) >= 4096:
                self._judged_in_sandbox.clear()
            self._judged_in_sandbox.add(spec)
        task.payload = {
            "test_timeout": self.test_timeout_s,
            "setup": plan.setup,
            "steps": [list(step) for step in plan.steps],
            "proxies": [list(proxy) for proxy in plan.proxies],
            "prefetch": list(plan.prefetch),
            "codes_tag": harness.bytecode_tag(),
        }
        if task.error is None and not task.names:
            task.error = "the problem has no tests"

    def _files(self, mode: str, program: str | None = None) -> dict[str, bytes]:
        """The job's files: its entry (the harness, when the sandbox has not preloaded it) and the
        program (a calls job gets it through stdin)."""
        if _HARNESS_MODULE in self.sandbox.preloaded_modules():  # loaded and warm already
            files = {"main.py": f"import sys\nsys.modules[{_HARNESS_MODULE!r}].main({mode!r})\n".encode()}
        else:
            files = {"main.py": _BOOTSTRAP.replace("MODE", repr(mode)).encode(), **_harness_files()}
        if program is not None:
            files[harness.PROGRAM_FILE] = program.encode("utf-8", "surrogatepass")
        return files

    def _limits(self, mode: str, remaining: int, budget: float) -> Limits:
        """One job's limits: the problem's, with room for its verdicts and a start-up margin."""
        if mode == "io":  # base64 of each case's output; past 64 MiB the last cases go unjudged
            output = min(remaining * (4 * self.limits.max_output_bytes // 3 + 1024) + 4096, 64 << 20)
        else:
            output = 300 * remaining + 4096
        wall = budget + 2.0  # startup and verdict margin over the tests' own budget
        return Limits(
            wall_s=wall,
            cpu_s=self.limits.cpu_s if self.limits.cpu_s is not None else wall,
            memory_mb=self.limits.memory_mb,
            max_processes=self.limits.max_processes,
            max_output_bytes=max(self.limits.max_output_bytes, output),
            max_file_mb=self.limits.max_file_mb,
            max_open_files=self.limits.max_open_files,
        )

    def _job(self, task: _Task) -> Job:
        """A sandbox job for the task's remaining tests (with a fresh key and nonce when judged there)."""
        limits = self._limits(task.mode, len(task.names) - task.first, task.budget)
        if task.mode == "calls":  # nothing secret: the candidate, then the calls the tests will make
            request = self._calls_head(task) + self._calls_rest(task)
            return Job(self._files("calls"), "main.py", request, (), limits, (), f"{_HARNESS_MODULE}:calls")
        files = self._files(task.mode, task.program)
        task.nonce = os.urandom(16).hex()
        payload = {**task.payload, "nonce": task.nonce, "budget": task.budget, "first": task.first}
        if task.plan is not None:
            try:
                payload["codes"] = task.plan.sandbox_codes
            except (SyntaxError, ValueError):  # (a judged-outside plan that fell back) the judge
                pass  # compiles the setup itself and reports the error as each test's failure
        secret, key = _encrypt(payload)
        files[harness.SECRET_FILE] = secret
        prepare = _HARNESS_MODULE if task.mode == "function" else None
        return Job(files, "main.py", key.hex(), (), limits, (), prepare)

    def _absorb(self, task: _Task, result: SandboxResult) -> None:
        """Record the verdicts of one job; set up the next job if the worker was lost."""
        task.jobs += 1
        task.wall_s += result.wall_s
        task.budget -= max(result.wall_s, 0.0)
        task.isolation.update(result.isolation)
        judge = None
        if task.mode == "calls":
            judge = _replay(task, result)
            records = judge.records if judge is not None else []
            task.hardening = task.hardening or ["judged-outside-the-sandbox"]
        else:
            records = _records(result, task.nonce)
        next_first = retry_at = None
        for record in records:
            index = record.get("t")
            if type(index) is int and task.first <= index < len(task.names) and index not in task.tests:
                name = task.names[index]
                if task.mode == "io":
                    assert task.spec is not None
                    ok, why = _io_verdict(record, task.spec.outputs[index], task.spec.float_tol)
                else:
                    ok, why = record.get("ok") is True, None if record.get("ok") is True else str(record.get("why") or "failed")
                task.tests[index] = TestResult(name, ok, why, float(record.get("s") or 0.0))
            elif record.get("ev") == "hello":
                task.hardening = [str(h) for h in record.get("hardening", ())]
            elif record.get("ev") == "lost" and type(record.get("next")) is int:
                next_first = record["next"]
            elif record.get("ev") == "retry" and type(record.get("next")) is int:
                retry_at = record["next"]
        if judge is not None and retry_at is not None and task.budget > 0:
            task.first = retry_at  # the same unit again: with a reply per write, or judged in the sandbox
            if judge.retry_reason == _RETRY_CAREFULLY:
                task.careful = True
            else:
                task.mode = "function"
            return
        if next_first is not None and next_first > task.first and task.budget > 0:
            task.first = next_first
            return
        reason = _missing_reason(result)
        for index in range(task.first, len(task.names)):
            if index not in task.tests:
                task.tests[index] = TestResult(task.names[index], False, reason)
        task.first = len(task.names)

    def _reward(self, task: _Task, problem: Problem) -> Reward:
        zero = {"tests_passed": 0.0, "all_passed": 0.0}
        if task.error is not None:
            return Reward.zero(task.error, zero, tests=[], passed=0, total=len(task.names))
        for index in range(len(task.names)):  # budget ran out before a job could judge these
            task.tests.setdefault(index, TestResult(task.names[index], False, "time budget for the problem exhausted"))
        tests = [task.tests[i] for i in range(len(task.names))]
        total = len(tests)
        passed = sum(t.passed for t in tests)
        fraction = passed / total
        all_passed = 1.0 if passed == total else 0.0
        components = {"tests_passed": fraction, "all_passed": all_passed}
        base = fraction if self.score == "fraction" else all_passed
        score = base * (1.0 - self.style_weight - self.efficiency_weight)
        info: dict[str, Any] = {
            "passed": passed,
            "total": total,
            "tests": [t.to_dict(self.report_times) for t in tests],
            "isolation": sorted(task.isolation),
            "harness_hardening": task.hardening,
            "jobs": task.jobs,
        }
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


# ---------------------------------------------------------------------------------------------
# One-off calls
# ---------------------------------------------------------------------------------------------

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


def verify_code(
    completion: str,
    problem: Problem | Mapping[str, Any],
    *,
    sandbox: Sandbox | str | None = None,
    **options: Any,
) -> Reward:
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
