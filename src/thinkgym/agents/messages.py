"""An env's chat messages in the shape a model's API or chat template takes them.

Tool envs record each turn as an ``assistant`` message with structured ``tool_calls`` (and one
``tool`` message per call). Two consumers want it slightly differently:

- an OpenAI-compatible server wants ``tool_calls[].function.arguments`` as a JSON *string* and
  ``content`` None when the turn only called tools;
- chat templates (``apply_chat_template``) want the arguments as a *dict* (they ``tojson`` them).

Either way the assistant's ``content`` must not repeat the calls: a template renders ``tool_calls``
after the content, and a server reads them from ``tool_calls``, so call markup left in the content
(``<tool_call>…</tool_call>``, the JSON message of the ``"openai"`` action format, pythonic calls)
would show every call twice. `chat_messages` keeps only the text outside the calls
(`thinkgym.tools.parse_tool_calls`), and changes nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["chat_messages"]


def chat_messages(messages: Iterable[Mapping[str, Any]], *, arguments: str = "dict") -> list[dict[str, Any]]:
    """Copies of ``messages`` ready for a chat template (``arguments="dict"``) or OpenAI's API
    (``arguments="json"``; see the module docstring).

    >>> turn = {"role": "assistant", "content": 'Let me add. <tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>',
    ...         "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}]}
    >>> out = chat_messages([turn])[0]
    >>> out["content"], out["tool_calls"][0]["function"]["arguments"]
    ('Let me add.', {'a': 1})
    """
    if arguments not in ("dict", "json"):
        raise ValueError(f"arguments must be 'dict' or 'json', got {arguments!r}")
    return [_message(m, arguments) for m in messages]


def _message(message: Mapping[str, Any], arguments: str) -> dict[str, Any]:
    out = dict(message)
    calls = out.get("tool_calls")
    if out.get("role") != "assistant" or not calls:
        if out.get("content") is None:
            out["content"] = ""
        return out
    out["tool_calls"] = [_call(c, arguments) for c in calls if isinstance(c, Mapping)]
    content = out.get("content")
    if isinstance(content, str) and content:
        from thinkgym.tools import parse_tool_calls

        parsed = parse_tool_calls(content)
        if parsed.calls or parsed.errors:
            content = parsed.content.strip()
    else:
        content = ""
    out["content"] = None if (arguments == "json" and not content) else content
    return out


def _call(call: Mapping[str, Any], arguments: str) -> dict[str, Any]:
    out = dict(call)
    function = dict(out.get("function") or {})
    value = function.get("arguments")
    if arguments == "json" and not isinstance(value, str):
        function["arguments"] = json.dumps(value if value is not None else {}, ensure_ascii=False, default=str)
    elif arguments == "dict" and isinstance(value, str):
        try:
            function["arguments"] = json.loads(value)
        except ValueError:
            pass  # not JSON: the template shows the string as it is
    out["function"] = function
    out.setdefault("type", "function")
    return out
