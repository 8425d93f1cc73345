"""thinkgym.tools: tools a model calls during an episode, and the calls it writes.

- `calls`: `ToolCall`, `CallError`, `ParsedTurn`, `parse_tool_calls` and the registry of call
  formats (``hermes``, ``openai``, ``pythonic``; `register_call_parser` adds one).
- `schema`: `Tool` (a schema, the function behind it, its limits), `function_schema` (typed
  function → OpenAI function-calling schema), `validate_arguments` (`jsonschema`).
- `executor`: `Toolbox`, which runs calls with a time limit each, truncates oversized results and
  turns every failure into text the model sees (`ToolResult`).
- `builtin`: ``calculator``, ``python`` (in the sandbox), ``search``, ``lookup``, ``unit_convert``.
- `mcp`: tools served by an MCP server (stdio or streamable HTTP), through the official SDK.

Layering: this package sits beside the verifiers, under the envs: it imports `thinkgym.sandbox`
(for ``python``) and nothing of envs, agents or benchmarks. Heavy or optional imports (the
``mcp`` SDK, sympy) happen inside the functions that need them.
"""

from __future__ import annotations

from typing import Any

from thinkgym.tools.calls import (
    DEFAULT_FORMATS,
    CallError,
    ParsedTurn,
    ToolCall,
    parse_tool_calls,
    parsers,
    register_call_parser,
)
from thinkgym.tools.schema import Tool, function_schema, schema_from_dict, tool, validate_arguments

__all__ = [
    "DEFAULT_FORMATS",
    "CallError",
    "ParsedTurn",
    "ToolCall",
    "parse_tool_calls",
    "parsers",
    "register_call_parser",
    "Tool",
    "function_schema",
    "schema_from_dict",
    "tool",
    "validate_arguments",
    "Toolbox",
    "ToolResult",
    "MCPServer",
]

_LAZY = {
    "Toolbox": "thinkgym.tools.executor",
    "ToolResult": "thinkgym.tools.executor",
    "MCPServer": "thinkgym.tools.mcp",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thinkgym.tools' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
