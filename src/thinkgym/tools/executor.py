"""`Toolbox`: runs tool calls with a time limit each and turns every outcome into text.

A call never raises and never hangs its caller. Each outcome is a `ToolResult` whose ``content``
is what the model sees:

- unknown tool, arguments that fail the schema, arguments over ``max_argument_chars``: an
  error text naming what to fix, and the tool does not run;
- the tool raised: ``Error: <Type>: <message>``;
- the tool ran past its time limit, or its worker process died: an error text that says so;
- a result longer than ``max_result_chars``: cut, with a note giving the full length.

**Where a call runs** (`Tool.isolation`). Python cannot stop a thread, so a hard bound on a tool
that may loop needs a process: ``"process"`` runs the call in a killable worker of a
`thinkgym.verifiers.bounded.BoundedPool` (the function must be importable by module path there, as
for any pickled function). ``"thread"`` runs it in a daemon thread and stops *waiting* at the time
limit: the episode goes on with an error, but a thread that never returns keeps its CPU until the
process exits, so use it only for tools you trust to finish. ``"auto"`` (the default) picks
``"process"`` for module-level functions a worker can import and ``"thread"`` for the rest
(lambdas, closures, bound methods, functions defined in ``__main__``). ``"inline"`` calls the tool
directly: for tools bounded by construction (the built-ins, whose parsers cap their work, the
``python`` tool, bounded by the sandbox, and MCP clients, bounded by their own request timeout).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from thinkgym.tools.calls import ToolCall
from thinkgym.tools.schema import Tool, function_schema

__all__ = ["Toolbox", "ToolResult", "render_value"]

#: Error kinds a `ToolResult` may carry.
ERROR_KINDS = ("unknown_tool", "invalid_arguments", "arguments_too_large", "timeout", "exception", "crashed")


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call. ``ok``: the tool ran and returned ``value``; otherwise ``error``
    is one of `ERROR_KINDS`. ``content`` is the text the model sees (already truncated)."""

    call: ToolCall
    content: str
    ok: bool
    error: str | None = None
    value: Any = None
    elapsed: float = 0.0
    truncated_from: int | None = None

    @property
    def valid(self) -> bool:
        """The call named a known tool with arguments that fit its schema (whatever happened next)."""
        return self.error not in ("unknown_tool", "invalid_arguments", "arguments_too_large")

    def to_message(self) -> dict[str, Any]:
        """The OpenAI ``tool`` message answering this call."""
        return {"role": "tool", "tool_call_id": self.call.id, "name": self.call.name, "content": self.content}


def render_value(value: Any) -> str:
    """A tool's return value as text: a str as is, anything else as JSON (``str`` for the rest)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def _importable(fn: Callable[..., Any]) -> bool:
    """Whether a worker process can import ``fn`` by name (module-level, from a file on sys.path)."""
    if not (inspect.isfunction(fn) or inspect.isbuiltin(fn)):
        return False
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname or "." in qualname:
        return False
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    loaded = sys.modules.get(module)
    if spec is None or loaded is None:
        return False
    if spec.origin in ("built-in", "frozen") or getattr(loaded, "__file__", None) is None:
        return True
    return spec.origin == loaded.__file__


_POOL_LOCK = threading.Lock()
_POOL: Any = None


def _process_pool() -> Any:
    """One shared pool of killable workers for ``"process"`` tools (started on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from thinkgym.verifiers.bounded import BoundedPool

            _POOL = BoundedPool(size=2, memory_limit_mb=2048)
        return _POOL


def _in_thread(fn: Callable[..., Any], arguments: Mapping[str, Any], timeout: float) -> tuple[str, Any]:
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn(**arguments)
            box["status"] = "ok"
        except BaseException as exc:  # noqa: BLE001 - everything a tool raises becomes text
            box["status"], box["value"] = "error", f"{type(exc).__name__}: {exc}"
        finally:
            done.set()

    threading.Thread(target=target, name="thinkgym-tool", daemon=True).start()
    if not done.wait(timeout):
        return "timeout", None
    return box["status"], box["value"]


class Toolbox:
    """A set of tools by name, and the one place calls to them are executed.

    ``tools`` may hold `Tool` objects or typed, documented functions (declared with
    `Tool.from_function`). ``timeout`` is the default per-call limit in seconds;
    ``max_result_chars`` caps the text a result shows; ``max_argument_chars`` caps the JSON size
    of a call's arguments (larger ones are refused unread by the tool); ``pool`` is the
    `BoundedPool` that runs ``"process"`` tools (default: one shared pool of two workers).

    >>> def add(a: int, b: int) -> int:
    ...     '''Add two integers.
    ...
    ...     Args:
    ...         a: the first
    ...         b: the second
    ...     '''
    ...     return a + b
    >>> box = Toolbox([Tool.from_function(add, isolation="inline")])
    >>> box.call(ToolCall("add", {"a": 2, "b": 3}, "call_0")).content
    '5'
    >>> box.call(ToolCall("add", {"a": "2"}, "call_1")).content
    "Error: invalid arguments for add: 'b' is a required property. Call it again with arguments that fit its schema."
    """

    def __init__(
        self,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        *,
        timeout: float = 10.0,
        max_result_chars: int = 8_000,
        max_argument_chars: int = 100_000,
        pool: Any = None,
    ):
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        if max_result_chars < 1 or max_argument_chars < 1:
            raise ValueError("max_result_chars and max_argument_chars must be >= 1")
        self.timeout = float(timeout)
        self.max_result_chars = int(max_result_chars)
        self.max_argument_chars = int(max_argument_chars)
        self.pool = pool  # a BoundedPool for "process" tools (None: one shared pool, made on first use)
        self._tools: dict[str, Tool] = {}
        self._closers: list[Callable[[], None]] = []
        for item in tools:
            self.add(item)

    # ---- declaring --------------------------------------------------------------------------

    def add(self, item: Tool | Callable[..., Any], *, replace: bool = False) -> Tool:
        """Add a `Tool` (or a typed function, declared on the spot); names must be unique."""
        new = item if isinstance(item, Tool) else Tool(function_schema(item), item)
        if new.name in self._tools and not replace:
            raise ValueError(f"a tool named {new.name!r} is already in this toolbox")
        self._tools[new.name] = new
        return new

    def add_closer(self, close: Callable[[], None]) -> None:
        """Something to close with the toolbox (an MCP connection)."""
        self._closers.append(close)

    @property
    def schemas(self) -> list[dict[str, Any]]:
        """The tools' OpenAI function-calling schemas, in the order they were added."""
        return [json.loads(json.dumps(t.schema)) for t in self._tools.values()]

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __len__(self) -> int:
        return len(self._tools)

    # ---- calling ----------------------------------------------------------------------------

    def _refuse(self, call: ToolCall) -> ToolResult | None:
        tool = self._tools.get(call.name)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            return ToolResult(call, f"Error: unknown tool {call.name!r}. Available tools: {known}.", False, "unknown_tool")
        size = len(json.dumps(call.arguments, ensure_ascii=False, default=str))
        if size > self.max_argument_chars:
            return ToolResult(
                call,
                f"Error: the arguments of {call.name} are {size} characters long; the limit is {self.max_argument_chars}.",
                False,
                "arguments_too_large",
            )
        problem = tool.validate(call.arguments)
        if problem is not None:
            return ToolResult(
                call,
                f"Error: invalid arguments for {call.name}: {problem}. Call it again with arguments that fit its schema.",
                False,
                "invalid_arguments",
            )
        return None

    def _run(self, tool: Tool, arguments: dict[str, Any], timeout: float) -> tuple[str, Any]:
        isolation = tool.isolation
        if isolation == "auto":
            isolation = "process" if _importable(tool.fn) else "thread"
        if isolation == "inline":
            try:
                return "ok", tool.fn(**arguments)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - a tool's exception is the model's observation
                return "error", f"{type(exc).__name__}: {exc}"
        if isolation == "thread":
            return _in_thread(tool.fn, arguments, timeout)
        # a partial carries the arguments as one object, so a tool's parameter may be called
        # ``timeout`` without meeting the pool's own keywords
        # a tool's limit is wall time (the episode waits for it, blocked or busy): both bounds are ``timeout``
        result = (self.pool or _process_pool()).call(
            functools.partial(tool.fn, **arguments), timeout=timeout, wall_timeout=timeout
        )
        if result.status == "ok":
            return "ok", result.value
        return result.status, result.error

    def call(self, call: ToolCall) -> ToolResult:
        """Execute one call (see the module docstring for every outcome). Never raises."""
        if not isinstance(call, ToolCall):
            raise TypeError(f"Toolbox.call expects a ToolCall, got {type(call).__name__}")
        refused = self._refuse(call)
        if refused is not None:
            return refused
        tool = self._tools[call.name]
        timeout = tool.timeout or self.timeout
        began = time.perf_counter()
        try:
            status, value = self._run(tool, dict(call.arguments), timeout)
        except Exception as exc:  # noqa: BLE001 - e.g. the worker pool could not start
            status, value = "died", f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - began
        if status == "ok":
            return self._finish(call, render_value(value), True, None, value, elapsed)
        if status == "timeout":
            text = f"Error: {call.name} did not finish within {timeout:g} s and was stopped."
            return self._finish(call, text, False, "timeout", None, elapsed)
        if status == "error":
            return self._finish(call, f"Error: {value}", False, "exception", None, elapsed)
        return self._finish(call, f"Error: {call.name} crashed ({value}).", False, "crashed", None, elapsed)

    def _finish(self, call: ToolCall, text: str, ok: bool, error: str | None, value: Any, elapsed: float) -> ToolResult:
        cut = None
        if len(text) > self.max_result_chars:
            cut = len(text)
            text = text[: self.max_result_chars] + f"\n[truncated: the result has {cut} characters; the first {self.max_result_chars} are shown]"
        return ToolResult(call, text, ok, error, value if ok else None, elapsed, cut)

    def close(self) -> None:
        """Close what the tools hold open (MCP connections); the toolbox is unusable after."""
        closers, self._closers = self._closers, []
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                pass

    def __enter__(self) -> Toolbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

