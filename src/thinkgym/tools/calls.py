"""Tool calls in model text: `ToolCall`, `CallError`, `ParsedTurn` and one registry of parsers.

Three formats are built in, each a named entry of `parsers`:

- ``"hermes"`` (Hermes, Qwen, most open chat templates): ``<tool_call>{"name": ..., "arguments":
  {...}}</tool_call>``, several per turn. A missing close tag ends the call at the next
  ``<tool_call>`` or at the end of the text; JSON followed by stray text is read up to the end of
  the object; anything else that is not a JSON object with a string ``name`` is a `CallError`.
- ``"openai"``: the text is a JSON-serialised assistant message, ``{"role": "assistant",
  "content": ..., "tool_calls": [{"id", "type": "function", "function": {"name", "arguments":
  "<json string>"}}]}``: what a policy that got structured ``tool_calls`` from an OpenAI-compatible
  server passes on as its text action.
- ``"pythonic"`` (BFCL's prompting format): ``[f(a=1), g(b="x")]`` or a lone ``f(a=1)`` as the whole
  answer (a fenced code block is unwrapped), parsed with `ast` and `ast.literal_eval` only: model
  text is never evaluated. A bracketed list of calls inside prose is found too; a lone call inside
  prose is not (``the answer is f(x)`` is not a call). Values are JSON values, with one mark: a
  tuple literal is read as a `TupleValue`, a list everywhere (JSON, ``jsonschema``, ``==``) that
  still says it was written as a tuple, so BFCL's checker can apply BFCL's rule (a tuple only for
  a ``tuple`` parameter) while tools get a JSON array.

A fourth, ``"json"`` (a bare ``{"name", "parameters"}`` object or a list of them as the whole turn:
Llama 3.x), is registered but not among the defaults, since a JSON answer would read as a call.
A Hermes block may hold a JSON list of calls.

`parse_tool_calls` tries the formats in the order given and keeps the first one that recognises
its own syntax in the text (so ``<tool_call>`` with broken JSON is a Hermes `CallError`, not
silently no call). Parsers never raise on any string; a parser of your own registers with
`register_call_parser` and gets the same guarantee (an exception becomes a `CallError`).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ToolCall",
    "CallError",
    "ParsedTurn",
    "TupleValue",
    "CallParser",
    "parsers",
    "register_call_parser",
    "parse_tool_calls",
    "parse_hermes",
    "parse_openai",
    "parse_pythonic",
    "parse_json",
    "DEFAULT_FORMATS",
    "MAX_CALLS_PER_TURN",
]

DEFAULT_FORMATS: tuple[str, ...] = ("hermes", "openai", "pythonic")
#: Calls read from one turn at most; more are one `CallError` (bounds the work a turn can cause).
MAX_CALLS_PER_TURN = 256
#: Longest raw text kept in a `CallError` (the reason says the rest was cut).
_RAW_KEEP = 2000


@dataclass(frozen=True)
class ToolCall:
    """One parsed call: the tool's ``name``, its ``arguments`` (a JSON object), an ``id`` that tool
    results refer to, and the ``raw`` text it was read from."""

    name: str
    arguments: dict[str, Any]
    id: str
    raw: str = ""

    def key(self) -> str:
        """A canonical form (name + sorted JSON arguments): equal keys are repeated calls."""
        return self.name + json.dumps(self.arguments, sort_keys=True, ensure_ascii=False, default=str)

    def to_openai(self) -> dict[str, Any]:
        """The call as an OpenAI ``tool_calls`` entry (arguments as a JSON string)."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False, default=str)},
        }


@dataclass(frozen=True)
class CallError:
    """Text that meant to be a call but could not be read as one, and why."""

    raw: str
    reason: str


@dataclass
class ParsedTurn:
    """What a turn of model text holds: its calls, the failed attempts, and the text outside them.

    ``format`` names the parser that recognised the text (None: no call syntax at all)."""

    calls: list[ToolCall] = field(default_factory=list)
    errors: list[CallError] = field(default_factory=list)
    content: str = ""
    format: str | None = None


#: A parser returns None when the text holds no sign of its format, else a `ParsedTurn`.
CallParser = Callable[[str], "ParsedTurn | None"]
#: The registry: format name -> parser.
parsers: dict[str, CallParser] = {}


def register_call_parser(name: str, fn: CallParser, *, replace: bool = False) -> None:
    """Add a call format. ``fn(text) -> ParsedTurn | None`` (None: not this format)."""
    if not isinstance(name, str) or not name:
        raise ValueError("a call parser needs a non-empty name")
    if not callable(fn):
        raise TypeError(f"call parser {name!r} must be callable, got {type(fn).__name__}")
    if name in parsers and not replace:
        raise ValueError(f"call parser {name!r} is already registered (pass replace=True to override it)")
    parsers[name] = fn


def parse_tool_calls(text: str, formats: Sequence[str] = DEFAULT_FORMATS) -> ParsedTurn:
    """The calls in ``text``: the first of ``formats`` that recognises its syntax decides.

    Never raises on model text (a non-str is a `TypeError`; an unknown format name a `ValueError`).
    Call ids are ``call_0``, ``call_1`` … in order, unless the format carries its own (openai).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_tool_calls expects a str, got {type(text).__name__}")
    if isinstance(formats, str):
        formats = (formats,)
    unknown = [f for f in formats if f not in parsers]
    if unknown:
        raise ValueError(f"unknown call formats {unknown}; registered: {sorted(parsers)}")
    for name in formats:
        try:
            parsed = parsers[name](text)
        except (RecursionError, MemoryError) as exc:
            parsed = ParsedTurn([], [CallError(_cut(text), f"{name}: the text is too deeply nested ({type(exc).__name__})")], "")
        except Exception as exc:  # a parser's bug must not take the env down
            parsed = ParsedTurn([], [CallError(_cut(text), f"{name} parser failed: {type(exc).__name__}: {exc}")], "")
        if parsed is not None:
            parsed.format = name
            return parsed
    return ParsedTurn([], [], text, None)


def _cut(raw: str) -> str:
    return raw if len(raw) <= _RAW_KEEP else raw[:_RAW_KEEP] + f"... [{len(raw) - _RAW_KEEP} more characters]"


def _coerce_arguments(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Arguments as a dict: a JSON object, a JSON string holding one, or absent (no arguments)."""
    if value is None:
        return {}, None
    if isinstance(value, str):
        if not value.strip():
            return {}, None
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            return None, f"arguments are not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def _call_from_object(obj: Any, raw: str, call_id: str) -> ToolCall | CallError:
    if not isinstance(obj, dict):
        return CallError(_cut(raw), f"a tool call must be a JSON object, got {type(obj).__name__}")
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        return CallError(_cut(raw), "a tool call needs a string 'name'")
    args_value = obj["arguments"] if "arguments" in obj else obj.get("parameters")
    arguments, problem = _coerce_arguments(args_value)
    if arguments is None:
        return CallError(_cut(raw), f"call to {name!r}: {problem}")
    return ToolCall(name.strip(), arguments, call_id, raw)


# --------------------------------------------------------------------------------------------
# Hermes / Qwen
# --------------------------------------------------------------------------------------------

_OPEN, _CLOSE = "<tool_call>", "</tool_call>"
_DECODER = json.JSONDecoder()
_MAX_REPAIR = 200_000


def _hermes_body(body: str, raw: str, call_id: str) -> tuple[ToolCall | CallError | list[ToolCall | CallError], str]:
    """The call in one block, and any text after its JSON (when the close tag was missing)."""
    stripped = body.strip()
    if stripped.startswith("```"):  # a fenced block inside the tags
        stripped = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", stripped)
    if not stripped:
        return CallError(_cut(raw), "empty <tool_call> block"), ""
    rest = ""
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        start = stripped.find("{")
        try:  # a complete object followed by stray text (e.g. the close tag was missing)
            obj, stop = _DECODER.raw_decode(stripped, start) if start >= 0 else (None, 0)
            rest = stripped[stop:] if obj is not None else ""
        except (ValueError, RecursionError):
            obj = None
        if obj is None:
            obj = _closed(stripped)
        if obj is None:
            return CallError(_cut(raw), f"the <tool_call> block is not valid JSON: {exc}"), ""
    if isinstance(obj, list) and any(isinstance(o, dict) for o in obj):  # several calls in one block
        return [_call_from_object(o, raw, f"{call_id}_{i}") for i, o in enumerate(obj[:MAX_CALLS_PER_TURN])], rest
    return _call_from_object(obj, raw, call_id), rest


def _closed(text: str) -> Any:
    """JSON cut off before its closing brackets (a stop sequence, a length limit), closed again;
    None when that is not the only problem."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:_MAX_REPAIR]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
    if in_string or not stack or len(text) > _MAX_REPAIR:
        return None
    try:
        return json.loads(text + "".join(reversed(stack)))
    except (ValueError, RecursionError):
        return None


def parse_hermes(text: str) -> ParsedTurn | None:
    """``<tool_call>{json}</tool_call>`` blocks (see the module docstring); None without the tag.

    Linear in the text: each tag position is searched for once, however many blocks there are."""
    next_open = text.find(_OPEN)
    if next_open < 0:
        return None
    calls: list[ToolCall] = []
    errors: list[CallError] = []
    outside: list[str] = []
    pos, next_close = 0, text.find(_CLOSE)
    while next_open >= 0:
        if len(calls) + len(errors) >= MAX_CALLS_PER_TURN:
            errors.append(CallError("", f"more than {MAX_CALLS_PER_TURN} <tool_call> blocks in one turn: the rest were not read"))
            pos = next_open
            break
        start = next_open
        outside.append(text[pos:start])
        body_start = start + len(_OPEN)
        next_open = text.find(_OPEN, body_start)
        if 0 <= next_close < body_start:
            next_close = text.find(_CLOSE, body_start)
        if next_close < 0 or (0 <= next_open < next_close):  # missing close tag
            pos = next_open if next_open >= 0 else len(text)
            body = raw = text[body_start:pos]
            raw = text[start:pos]
        else:
            body, pos = text[body_start:next_close], next_close + len(_CLOSE)
            raw = text[start:pos]
        result, rest = _hermes_body(body, raw, f"call_{len(calls)}")
        for item in result if isinstance(result, list) else [result]:
            (calls if isinstance(item, ToolCall) else errors).append(item)  # type: ignore[arg-type]
        outside.append(rest)
    outside.append(text[pos:])
    content = " ".join(part.strip() for part in outside if part.strip()).replace(_CLOSE, "").strip()
    return ParsedTurn(calls, errors, content)


# --------------------------------------------------------------------------------------------
# OpenAI structured message
# --------------------------------------------------------------------------------------------


def parse_openai(text: str) -> ParsedTurn | None:
    """A JSON assistant message with a ``tool_calls`` list; None when the text is not one."""
    stripped = text.strip()
    if not (stripped.startswith("{") and '"tool_calls"' in stripped):
        return None
    try:
        message = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or "tool_calls" not in message:
        return None
    content = message.get("content")
    content = content if isinstance(content, str) else ""
    entries = message.get("tool_calls")
    if entries is None:
        return ParsedTurn([], [], content)
    if not isinstance(entries, list):
        return ParsedTurn([], [CallError(_cut(stripped), "'tool_calls' must be a list")], content)
    calls: list[ToolCall] = []
    errors: list[CallError] = []
    if len(entries) > MAX_CALLS_PER_TURN:
        errors_over = [CallError("", f"more than {MAX_CALLS_PER_TURN} tool_calls in one message: the rest were not read")]
        entries = entries[:MAX_CALLS_PER_TURN]
    else:
        errors_over = []
    for i, entry in enumerate(entries):
        raw = json.dumps(entry, ensure_ascii=False, default=str)
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(function, dict):
            errors.append(CallError(_cut(raw), "a tool_calls entry needs a 'function' object"))
            continue
        call_id = entry.get("id")
        result = _call_from_object(function, raw, call_id if isinstance(call_id, str) and call_id else f"call_{i}")
        (calls if isinstance(result, ToolCall) else errors).append(result)  # type: ignore[arg-type]
    return ParsedTurn(calls, errors + errors_over, content)


# --------------------------------------------------------------------------------------------
# Pythonic (BFCL)
# --------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```[a-zA-Z0-9_]*\s*\n?(.*?)\n?\s*```$", re.S)
_LIST_START = re.compile(r"\[\s*[A-Za-z_][\w.]*\s*\(")
_LONE_CALL = re.compile(r"^[A-Za-z_][\w.]*\s*\(.*\)$", re.S)
#: Longest text the pythonic parser hands to `ast` (deeper checks bound the rest).
_MAX_PYTHONIC = 1_100_000
#: Most brackets a pythonic turn may hold (bounds the AST `ast.parse` builds).
_MAX_BRACKETS = 4 * MAX_CALLS_PER_TURN + 4_000
#: Longest bracketed list looked for inside prose (each try parses it once).
_MAX_EMBEDDED = 20_000


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in ("true", "false", "null"):  # JSON spellings
        return {"true": True, "false": False, "null": None}[node.id]
    value = ast.literal_eval(node)
    return _plain(value)


class TupleValue(list):
    """A list read from a Python *tuple* literal in a pythonic call (``stops=('a', 'b')``).

    It is a ``list`` to every consumer (``json.dumps`` writes an array, ``jsonschema`` sees an
    ``array``, it equals the list with the same items), so tools and JSON-based formats never see
    a difference; only a checker that cares asks ``isinstance(value, TupleValue)``. BFCL does:
    its decoder keeps Python tuples and its checker accepts one only for a ``tuple`` parameter
    (`thinkgym.verifiers.tool_calls`). JSON formats (Hermes, OpenAI) cannot write a tuple at all.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(tuple(self))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return TupleValue(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_plain(v) for v in sorted(value, key=repr)]
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, complex):
        raise ValueError("complex numbers are not JSON values")
    if isinstance(value, bytes):
        raise ValueError("bytes are not JSON values")
    return value


class _Source:
    """Source segments of nodes, in linear time (``ast.get_source_segment`` re-splits the whole
    source per call, character by character: seconds on a 1 MB call)."""

    def __init__(self, source: str):
        self.data = source.encode("utf-8", "surrogatepass")
        self.starts = [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", self.data)]

    def segment(self, node: ast.AST) -> str:
        try:
            begin = self.starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
            end = self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        except (AttributeError, IndexError, TypeError):
            return ""
        return self.data[begin:end].decode("utf-8", "replace")


def _pythonic_call(node: ast.expr, source: _Source, call_id: str) -> ToolCall | CallError:
    raw = source.segment(node)
    if not isinstance(node, ast.Call):
        return CallError(_cut(raw), "expected a call like name(arg=value)")
    name = _dotted(node.func)
    if name is None:
        return CallError(_cut(raw), "the called thing must be a (dotted) name")
    if node.args:
        return CallError(_cut(raw), f"call to {name!r}: pass arguments by name (arg=value), not by position")
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            return CallError(_cut(raw), f"call to {name!r}: **kwargs is not allowed")
        try:
            arguments[keyword.arg] = _literal(keyword.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError) as exc:
            shown = source.segment(keyword.value)[:80]
            why = "" if isinstance(exc, ValueError) and "malformed node" in str(exc) else f" ({exc})"
            return CallError(_cut(raw), f"call to {name!r}: argument {keyword.arg!r} = {shown} is not a literal value{why}")
    return ToolCall(name, arguments, call_id, raw)


def _parse_expression(source: str) -> ast.expr | None:
    if sum(source.count(c) for c in "([{") > _MAX_BRACKETS:  # an AST that large is not a turn of calls
        return None
    try:
        return ast.parse(source.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def _calls_of(expr: ast.expr, source: str) -> ParsedTurn | None:
    if isinstance(expr, ast.Call):
        nodes: list[ast.expr] = [expr]
    elif isinstance(expr, (ast.List, ast.Tuple)) and expr.elts and all(isinstance(e, ast.Call) for e in expr.elts):
        nodes = list(expr.elts)
    else:
        return None
    calls: list[ToolCall] = []
    errors: list[CallError] = []
    segments = _Source(source)
    for node in nodes[:MAX_CALLS_PER_TURN]:
        result = _pythonic_call(node, segments, f"call_{len(calls)}")
        (calls if isinstance(result, ToolCall) else errors).append(result)  # type: ignore[arg-type]
    if len(nodes) > MAX_CALLS_PER_TURN:
        errors.append(CallError("", f"more than {MAX_CALLS_PER_TURN} calls in one turn: the rest were not read"))
    return ParsedTurn(calls, errors, "")


def _embedded_list(text: str) -> ParsedTurn | None:
    """The first bracketed list of calls inside prose: ``... [f(a=1), g(b=2)] ...``."""
    for match in list(_LIST_START.finditer(text[:_MAX_PYTHONIC]))[:20]:
        start = match.start()
        end = text.find("]", start)
        tries = 0
        while 0 <= end < start + _MAX_EMBEDDED and tries < 50:
            tries += 1
            expr = _parse_expression(text[start : end + 1])
            if expr is not None:
                found = _calls_of(expr, text[start : end + 1].strip())
                if found is not None:
                    found.content = (text[:start] + text[end + 1 :]).strip()
                    return found
            end = text.find("]", end + 1)
    return None


def parse_pythonic(text: str) -> ParsedTurn | None:
    """``[f(a=1), g(b=2)]`` or a lone ``f(a=1)`` (see the module docstring); None otherwise."""
    if len(text) > _MAX_PYTHONIC:
        return None
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if body.startswith("[") or _LONE_CALL.match(body):
        expr = _parse_expression(body)
        if expr is not None:
            found = _calls_of(expr, body)
            if found is not None:
                return found
        elif body.startswith("[") and _LIST_START.match(body):
            return ParsedTurn([], [CallError(_cut(body), "the call list is not valid Python call syntax (or too large)")], "")
    if "[" in text and "(" in text:
        return _embedded_list(text)
    return None


def parse_json(text: str) -> ParsedTurn | None:
    """A bare JSON call or list of calls as the whole turn, ``{"name": ..., "parameters": {...}}``
    (Llama 3.x's JSON tool calling) or with ``"arguments"``; None for any other text. Registered
    as ``"json"``, not among the default formats (a JSON answer would read as a call)."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    if not stripped or stripped[0] not in "{[" or '"name"' not in stripped:
        return None
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    objects = obj if isinstance(obj, list) else [obj]
    if not objects or not all(isinstance(o, dict) and "name" in o for o in objects):
        return None
    calls: list[ToolCall] = []
    errors: list[CallError] = []
    for i, o in enumerate(objects[:MAX_CALLS_PER_TURN]):
        result = _call_from_object(o, json.dumps(o, ensure_ascii=False, default=str), f"call_{i}")
        (calls if isinstance(result, ToolCall) else errors).append(result)  # type: ignore[arg-type]
    return ParsedTurn(calls, errors, "")


register_call_parser("hermes", parse_hermes)
register_call_parser("openai", parse_openai)
register_call_parser("pythonic", parse_pythonic)
register_call_parser("json", parse_json)
