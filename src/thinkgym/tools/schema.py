"""Tool declarations: a typed Python function, or a JSON-schema dict, becomes a `Tool`.

A tool's schema is the OpenAI function-calling dict ``{"type": "function", "function": {"name",
"description", "parameters": <JSON schema>}}``, what chat templates (``apply_chat_template(...,
tools=...)``), OpenAI-compatible servers (``tools=``) and TRL all take.

**Why our own `function_schema` rather than ``transformers.utils.get_json_schema``.** TRL builds
tool schemas with transformers' function, and ours follows exactly its rules (Google-style
docstring: the text before ``Args:`` is the description, each ``name: text`` line under ``Args:``
describes a parameter, ``(choices: [...])`` at the end of one makes an ``enum``; ``int`` → integer,
``float`` → number, ``list[X]`` → array of X, ``dict[str, X]`` → object with
``additionalProperties``, ``tuple[...]`` → ``prefixItems``, ``Literal``/``Enum`` → ``enum``,
``X | None`` → ``"nullable": true``; parameters without a default are required) so both give the
same dict — ``tests/tools/test_schema.py`` checks them against each other on the same functions.
But transformers lives in the ``train`` extra, takes seconds and hundreds of MB to import, and
``import thinkgym`` (or an env in a worker process) must not pull it in; the rules are fifty lines.
Where transformers raises on a parameter with no docstring line, we accept it (the parameter gets
no ``description``): a tool is still callable without one.

Arguments are checked with `jsonschema` (Draft 2020-12) before a tool runs; ``"nullable": true``
(the OpenAPI spelling transformers emits) is honoured by adding ``"null"`` to the allowed types.
"""

from __future__ import annotations

import copy
import enum
import functools
import inspect
import json
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from thinkgym.errors import ConfigError

__all__ = [
    "Tool",
    "function_schema",
    "schema_from_dict",
    "validate_arguments",
    "tool",
]

_DESCRIPTION_RE = re.compile(r"^(.*?)[\n\s]*(Args:|Returns:|Raises:|\Z)", re.DOTALL)
_ARGS_RE = re.compile(r"\n\s*Args:\n(.*?)[\n\s]*(Returns:|Raises:|\Z)", re.DOTALL)
_ARG_SPLIT_RE = re.compile(
    r"(?:^|\n)([ \t]*)(\w+)(?:[ \t]*\([^()\n]*\))?:\s*(.*?)\s*(?=\n(?!\1[ \t])[ \t]*\w+(?:[ \t]*\([^()\n]*\))?:|\Z)",
    re.DOTALL,
)
_RETURNS_RE = re.compile(r"\n\s*Returns:\n\s*(.*?)[\n\s]*(Raises:|\Z)", re.DOTALL)
_CHOICES_RE = re.compile(r"\(choices:\s*(.*?)\)\s*$", re.IGNORECASE)
_JSON_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
_BASIC = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    list: {"type": "array"},
    tuple: {"type": "array"},
    dict: {"type": "object"},
    Any: {},
}
_NAME_RE = re.compile(r"^[A-Za-z_][\w.-]{0,127}$")


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    kinds = list(dict.fromkeys(_JSON_SCALARS[type(v)] for v in values))
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}


def _union_schema(args: tuple[Any, ...]) -> dict[str, Any]:
    subtypes = [_type_schema(t) for t in args if t is not type(None)]
    if len(subtypes) == 1:
        out = subtypes[0]
    elif all(s.keys() == {"type"} and isinstance(s["type"], str) for s in subtypes):
        names = sorted({s["type"] for s in subtypes})
        out = {"type": names[0] if len(names) == 1 else names}
    else:
        out = {"anyOf": subtypes}
    if type(None) in args:
        out["nullable"] = True
    return out


def _type_schema(hint: Any) -> dict[str, Any]:  # noqa: C901 - one branch per kind of type hint
    origin, args = get_origin(hint), get_args(hint)
    if origin is None and isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        if not values or any(type(v) not in _JSON_SCALARS for v in values):
            raise ConfigError(f"Enum {hint.__name__} needs members whose values are JSON scalars")
        return _enum_schema(values)
    if origin is None:
        if hint in _BASIC:
            return dict(_BASIC[hint])
        raise ConfigError(
            f"cannot turn the type hint {hint!r} into a JSON schema: use int, float, str, bool, list, dict, "
            "tuple, Literal, Enum or unions of them, or declare the tool with a JSON schema (Tool.from_schema)"
        )
    if origin is Union or origin is types.UnionType:
        return _union_schema(args)
    if origin is Literal and args:
        if any(type(a) not in _JSON_SCALARS for a in args):
            raise ConfigError("typing.Literal may list only JSON scalar values")
        return _enum_schema(list(args))
    if origin is list:
        return {"type": "array", "items": _type_schema(args[0])} if args else {"type": "array"}
    if origin is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 1 or ... in args:
            raise ConfigError(f"use list[...] rather than {hint!r} for a variable-length argument")
        return {"type": "array", "prefixItems": [_type_schema(t) for t in args]}
    if origin is dict:
        out: dict[str, Any] = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _type_schema(args[1])
        return out
    raise ConfigError(f"cannot turn the type hint {hint!r} into a JSON schema")


def _parse_docstring(doc: str) -> tuple[str | None, dict[str, str], str | None]:
    described = _DESCRIPTION_RE.search(doc)
    args_block = _ARGS_RE.search(doc)
    returns = _RETURNS_RE.search(doc)
    descriptions: dict[str, str] = {}
    if args_block is not None:
        block = "\n".join(line for line in args_block.group(1).split("\n") if line.strip())
        for match in _ARG_SPLIT_RE.findall(block):
            descriptions[match[1]] = re.sub(r"\s*\n+\s*", " ", match[2].strip())
    return (
        described.group(1).strip() if described else None,
        descriptions,
        returns.group(1).strip() if returns else None,
    )


def _describe(schema: dict[str, Any], name: str, text: str | None) -> dict[str, Any]:
    if text is None:
        return schema
    choices = _CHOICES_RE.search(text)
    if choices:
        try:
            schema["enum"] = [c.strip() if isinstance(c, str) else c for c in json.loads(choices.group(1))]
        except ValueError as exc:
            raise ConfigError(f"the (choices: ...) of {name!r} must be a JSON list: {exc}") from exc
        text = text[: choices.start()].strip()
    schema["description"] = text
    return schema


def function_schema(fn: Callable[..., Any], *, name: str | None = None) -> dict[str, Any]:
    """The OpenAI function-calling schema of a typed, documented function (rules: module docstring).

    >>> def add(a: int, b: int = 0) -> int:
    ...     '''Add two integers.
    ...
    ...     Args:
    ...         a: the first
    ...         b: the second
    ...     '''
    ...     return a + b
    >>> function_schema(add)["function"]["parameters"]["required"]
    ['a']
    """
    if not callable(fn):
        raise TypeError(f"function_schema expects a callable, got {type(fn).__name__}")
    doc = inspect.getdoc(fn)
    fn_name = name or getattr(fn, "__name__", None) or "tool"
    if not doc:
        raise ConfigError(f"tool {fn_name!r} needs a docstring: its first part is what the model reads")
    description, arg_docs, return_doc = _parse_docstring(doc.strip())
    try:
        hints = get_type_hints(fn)
    except Exception as exc:  # unresolvable forward references
        raise ConfigError(f"cannot read the type hints of {fn_name!r}: {exc}") from exc
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if params and params[0].name in ("self", "cls") and params[0].annotation is inspect.Parameter.empty:
        params = params[1:]
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in params:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if param.name not in hints:
            raise ConfigError(f"argument {param.name!r} of tool {fn_name!r} needs a type hint")
        properties[param.name] = _describe(_type_schema(hints[param.name]), param.name, arg_docs.get(param.name))
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    function: dict[str, Any] = {"name": fn_name, "description": description, "parameters": parameters}
    if "return" in hints:
        try:
            returned = _type_schema(hints["return"])
        except ConfigError:
            returned = None
        if returned is not None:
            if return_doc is not None:
                returned["description"] = return_doc
            function["return"] = returned
    return {"type": "function", "function": function}


def schema_from_dict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a schema given as a dict: the full ``{"type": "function", "function": {...}}``
    form or just the inner ``{"name", "description", "parameters"}``; the parameters must be a
    valid JSON schema of an object (checked now, so a broken declaration fails at start-up)."""
    if not isinstance(schema, Mapping):
        raise TypeError(f"a tool schema must be a dict, got {type(schema).__name__}")
    function = schema.get("function", schema) if schema.get("type") == "function" else schema
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise ConfigError("a tool schema needs a string 'name' (or {'type': 'function', 'function': {'name': ...}})")
    if not _NAME_RE.match(function["name"]):
        raise ConfigError(f"tool name {function['name']!r} must match {_NAME_RE.pattern}")
    parameters = copy.deepcopy(dict(function.get("parameters") or {"type": "object", "properties": {}}))
    parameters.setdefault("type", "object")
    if parameters.get("type") != "object":
        raise ConfigError(f"tool {function['name']!r}: parameters must be a JSON schema of type 'object'")
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(_json_schema(parameters))
    except jsonschema.SchemaError as exc:
        raise ConfigError(f"tool {function['name']!r}: its parameters are not a valid JSON schema: {exc.message}") from exc
    out = {"name": function["name"], "description": str(function.get("description") or ""), "parameters": parameters}
    for key, value in function.items():
        if key not in out:
            out[key] = copy.deepcopy(value)
    return {"type": "function", "function": out}


def _json_schema(node: Any) -> Any:
    """``"nullable": true`` (OpenAPI) as JSON schema: ``"null"`` joins the allowed types."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        elif kind is None and "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@functools.lru_cache(maxsize=512)
def _validator(parameters_json: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(_json_schema(json.loads(parameters_json)))


def validate_arguments(parameters: Mapping[str, Any], arguments: Any) -> str | None:
    """None when ``arguments`` satisfy the JSON schema ``parameters``, else the first problem,
    said so a model can fix it (``'x' is a required property``; ``at 'n': 'a' is not of type
    'integer'``). Integers given as floats with no fractional part (``3.0``) are integers in JSON
    schema, as in JSON itself."""
    if not isinstance(arguments, dict):
        return f"arguments must be a JSON object, got {type(arguments).__name__}"
    validator = _validator(json.dumps(parameters, sort_keys=True, default=str))
    try:
        error = next(iter(sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))), None)
    except RecursionError:
        return "the arguments are too deeply nested"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.path)
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return f"at {where!r}: {message}" if where else message


@dataclass(frozen=True)
class Tool:
    """A callable the model may use: its schema, the Python function behind it, and its limits.

    ``fn`` takes the call's arguments as keywords and returns anything; the executor turns the
    result into text (a str as is, anything else as JSON). ``timeout`` (seconds) bounds each call
    (None: the executor's default). ``isolation`` says where the call runs (see
    `thinkgym.tools.executor`): ``"auto"`` (a killable worker process when ``fn`` can be imported
    by name there, else a thread), ``"process"``, ``"thread"``, or ``"inline"`` (in the caller: only
    for tools bounded by construction, like the built-ins and MCP clients, which have their own
    limits).
    """

    schema: Mapping[str, Any]
    fn: Callable[..., Any]
    timeout: float | None = None
    isolation: str = "auto"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"Tool.fn must be callable, got {type(self.fn).__name__}")
        if self.isolation not in ("auto", "process", "thread", "inline"):
            raise ValueError(f"isolation must be auto, process, thread or inline, got {self.isolation!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        object.__setattr__(self, "schema", schema_from_dict(self.schema))

    @property
    def name(self) -> str:
        return self.schema["function"]["name"]

    @property
    def description(self) -> str:
        return self.schema["function"]["description"]

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self.schema["function"]["parameters"]

    def validate(self, arguments: Any) -> str | None:
        """None when ``arguments`` fit this tool's parameters, else what is wrong."""
        return validate_arguments(self.parameters, arguments)

    @classmethod
    def from_function(
        cls, fn: Callable[..., Any], *, name: str | None = None, timeout: float | None = None, isolation: str = "auto"
    ) -> Tool:
        """A tool from a typed function with a Google-style docstring (see `function_schema`)."""
        return cls(function_schema(fn, name=name), fn, timeout, isolation)

    @classmethod
    def from_schema(
        cls, schema: Mapping[str, Any], fn: Callable[..., Any], *, timeout: float | None = None, isolation: str = "auto"
    ) -> Tool:
        """A tool from a JSON-schema dict (full or inner form) and the function that serves it."""
        return cls(schema, fn, timeout, isolation)


def tool(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, timeout: float | None = None, isolation: str = "auto"
) -> Any:
    """Decorator form of `Tool.from_function`: ``@tool`` or ``@tool(timeout=2.0)``."""
    if fn is None:
        return lambda f: Tool.from_function(f, name=name, timeout=timeout, isolation=isolation)
    return Tool.from_function(fn, name=name, timeout=timeout, isolation=isolation)

