"""Call parsers: Hermes, OpenAI message, pythonic; the registry; bad input; hypothesis fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.tools import (
    CallError,
    ParsedTurn,
    ToolCall,
    parse_tool_calls,
    parsers,
    register_call_parser,
)
from thinkgym.tools.calls import TupleValue


def _hermes(name, arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


# ---- Hermes ------------------------------------------------------------------------------------


def test_hermes_several_calls_in_order_with_content_outside():
    text = f"Let me look. {_hermes('search', {'query': 'Quessa'})}\n{_hermes('lookup', {'entity': 'Quessa', 'attribute': 'population'})} done"
    parsed = parse_tool_calls(text)
    assert parsed.format == "hermes"
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("search", {"query": "Quessa"}),
        ("lookup", {"entity": "Quessa", "attribute": "population"}),
    ]
    assert [c.id for c in parsed.calls] == ["call_0", "call_1"]
    assert parsed.errors == []
    assert "Let me look." in parsed.content and "done" in parsed.content and "tool_call" not in parsed.content


def test_hermes_arguments_as_json_string_and_parameters_key():
    text = '<tool_call>{"name": "add", "arguments": "{\\"a\\": 1}"}</tool_call><tool_call>{"name": "b", "parameters": {"x": 2}}</tool_call>'
    calls = parse_tool_calls(text).calls
    assert [(c.name, c.arguments) for c in calls] == [("add", {"a": 1}), ("b", {"x": 2})]


def test_hermes_missing_close_tag_reads_to_the_end_or_the_next_call():
    parsed = parse_tool_calls('<tool_call>{"name": "a", "arguments": {"x": 1}}\n<tool_call>{"name": "b", "arguments": {}}')
    assert [c.name for c in parsed.calls] == ["a", "b"]
    parsed = parse_tool_calls('<tool_call>{"name": "a", "arguments": {"x": 1}} and then some words')
    assert [c.arguments for c in parsed.calls] == [{"x": 1}]


def test_hermes_json_cut_before_its_closing_brackets_is_closed_again():
    parsed = parse_tool_calls('<tool_call>{"name": "a", "arguments": {"x": [1, {"y": "}"}')
    assert [(c.name, c.arguments) for c in parsed.calls] == [("a", {"x": [1, {"y": "}"}]})]


@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"name": "a", "arguments": {"x": }}', "not valid JSON"),
        ('{"name": "a", "arguments": {"x": "unterminated}', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"arguments": {}}', "string 'name'"),
        ('{"name": "a", "arguments": [1]}', "JSON object"),
        ('{"name": "a", "arguments": "{broken"}', "not valid JSON"),
        ("", "empty"),
    ],
)
def test_hermes_broken_blocks_are_errors_not_silence(body, reason):
    parsed = parse_tool_calls(f"<tool_call>{body}</tool_call>")
    assert parsed.format == "hermes" and parsed.calls == []
    assert len(parsed.errors) == 1 and reason in parsed.errors[0].reason


def test_hermes_good_and_broken_calls_in_one_turn():
    parsed = parse_tool_calls(_hermes("a", {}) + "<tool_call>{oops</tool_call>" + _hermes("b", {"k": [1, 2]}))
    assert [c.name for c in parsed.calls] == ["a", "b"]
    assert len(parsed.errors) == 1


# ---- OpenAI message ------------------------------------------------------------------------------


def test_openai_message_keeps_ids_and_decodes_arguments():
    message = {
        "role": "assistant",
        "content": "calling",
        "tool_calls": [
            {"id": "abc", "type": "function", "function": {"name": "f", "arguments": '{"q": 1}'}},
            {"id": "def", "type": "function", "function": {"name": "g", "arguments": {"r": "s"}}},
            {"id": "bad", "type": "function", "function": {"name": "h", "arguments": "{nope"}},
            {"id": "worse", "type": "function"},
        ],
    }
    parsed = parse_tool_calls(json.dumps(message))
    assert parsed.format == "openai" and parsed.content == "calling"
    assert [(c.id, c.name, c.arguments) for c in parsed.calls] == [("abc", "f", {"q": 1}), ("def", "g", {"r": "s"})]
    assert len(parsed.errors) == 2


def test_openai_message_round_trips_through_to_openai():
    call = ToolCall("lookup", {"entity": "Quessa", "attribute": "population"}, "call_7")
    text = json.dumps({"role": "assistant", "content": None, "tool_calls": [call.to_openai()]})
    assert parse_tool_calls(text).calls == [ToolCall(call.name, call.arguments, "call_7", json.dumps(call.to_openai()))]


def test_json_that_is_not_a_message_is_not_openai():
    assert parse_tool_calls('{"answer": 4}').format is None
    assert parse_tool_calls('{"tool_calls": "x"').format is None  # broken JSON: not recognised


# ---- pythonic ------------------------------------------------------------------------------------


def test_pythonic_list_of_calls_with_literals_and_dotted_names():
    parsed = parse_tool_calls('[get_weather(city="Paris", days=3), math.hypot(x=3.0, y=-4, opts={"a": [1, (2, 3)]}, flag=True, none=None)]')
    assert parsed.format == "pythonic"
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("get_weather", {"city": "Paris", "days": 3}),
        ("math.hypot", {"x": 3.0, "y": -4, "opts": {"a": [1, [2, 3]]}, "flag": True, "none": None}),
    ]


def test_pythonic_tuples_are_marked_lists():
    """A tuple literal is a `TupleValue`: a list to every consumer (JSON, jsonschema, ==, pickle),
    marked so that BFCL's checker can tell it from a list; lists, sets and JSON formats are not."""
    import pickle

    import jsonschema

    parsed = parse_tool_calls("[f(a=('x', 'y'), b=['x', 'y'], c={'k': (1, [2, (3,)])}, d=(), e={1, 2})]")
    args = parsed.calls[0].arguments
    assert type(args["a"]) is TupleValue and args["a"] == ["x", "y"] and isinstance(args["a"], list)
    assert type(args["b"]) is list and type(args["e"]) is list  # a list, and a set, are not tuples
    inner = args["c"]["k"]
    assert type(inner) is TupleValue and type(inner[1]) is list and type(inner[1][1]) is TupleValue
    assert type(args["d"]) is TupleValue and args["d"] == []
    assert json.loads(json.dumps(args)) == {"a": ["x", "y"], "b": ["x", "y"], "c": {"k": [1, [2, [3]]]}, "d": [], "e": [1, 2]}
    jsonschema.validate(args["a"], {"type": "array", "items": {"type": "string"}})
    assert repr(args["a"]) == "('x', 'y')" and json.loads(parsed.calls[0].to_openai()["function"]["arguments"])["a"] == ["x", "y"]
    copy = pickle.loads(pickle.dumps(parsed.calls[0]))
    assert copy == parsed.calls[0] and type(copy.arguments["a"]) is TupleValue
    for text in (_hermes("f", {"a": ["x", "y"]}), '[f(a=["x", "y"])]'):
        assert type(parse_tool_calls(text).calls[0].arguments["a"]) is list


def test_pythonic_lone_call_fenced_block_and_list_inside_prose():
    assert parse_tool_calls("f(a=1)").calls[0].arguments == {"a": 1}
    assert parse_tool_calls("```python\n[f(a='x')]\n```").calls[0].arguments == {"a": "x"}
    parsed = parse_tool_calls("I will now call [f(a=1), g(b=2)] to find out.")
    assert [c.name for c in parsed.calls] == ["f", "g"] and parsed.content == "I will now call  to find out."


@pytest.mark.parametrize("text", ["The answer is f(x).", "print('hi') prints hi", "x = [1, 2]", "[1, 2, 3]", "4 + 4 = 8"])
def test_prose_and_code_that_are_not_calls(text):
    parsed = parse_tool_calls(text)
    assert parsed.calls == [] and parsed.errors == []


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[f(1)]", "by name"),
        ("print('hi')", "by name"),  # a whole turn that is one call is an attempt, a malformed one
        ("[f(a=x)]", "not a literal"),
        ("[f(a=__import__('os').system('true'))]", "not a literal"),
        ("[f(**kw)]", "**kwargs"),
        ("[f(a=1), (lambda: 1)()]", "(dotted) name"),
    ],
)
def test_pythonic_rejects_what_is_not_a_plain_call(text, reason):
    parsed = parse_tool_calls(text)
    assert any(reason in e.reason for e in parsed.errors), parsed


def test_pythonic_never_evaluates():
    marker = []
    parsed = parse_tool_calls("[f(a=marker.append(1))]")
    assert marker == [] and parsed.calls == [] and parsed.errors


# ---- registry and bad input ------------------------------------------------------------------------


def test_registry_has_the_three_formats_and_takes_new_ones():
    assert {"hermes", "openai", "pythonic"} <= set(parsers)

    def shouty(text):
        if not text.startswith("CALL "):
            return None
        name, _, args = text[5:].partition(" ")
        return ParsedTurn([ToolCall(name, json.loads(args or "{}"), "call_0", text)], [], "")

    register_call_parser("shouty", shouty, replace=True)
    try:
        assert parse_tool_calls('CALL add {"a": 1}', formats=("shouty",)).calls[0].arguments == {"a": 1}
        assert parse_tool_calls('CALL add {"a": 1}').calls == []  # not among the default formats
        with pytest.raises(ValueError):
            register_call_parser("shouty", shouty)
        # a parser that raises becomes a CallError, never an exception
        assert parse_tool_calls("CALL add {broken", formats=("shouty",)).errors
    finally:
        parsers.pop("shouty", None)


def test_formats_restrict_the_parsers():
    text = _hermes("a", {})
    assert parse_tool_calls(text, formats=("pythonic",)).calls == []
    assert parse_tool_calls(text, formats="hermes").calls[0].name == "a"
    with pytest.raises(ValueError):
        parse_tool_calls(text, formats=("nope",))
    with pytest.raises(TypeError):
        parse_tool_calls(b"bytes")  # type: ignore[arg-type]


def test_megabyte_arguments_and_deep_nesting_do_not_break_the_parsers():
    big = _hermes("echo", {"text": "x" * 1_000_000})
    parsed = parse_tool_calls(big)
    assert len(parsed.calls[0].arguments["text"]) == 1_000_000
    for deep in ("<tool_call>" + "[" * 100_000 + "</tool_call>", "[f(a=" + "[" * 100_000 + ")]", "{" * 50_000):
        result = parse_tool_calls(deep)
        assert isinstance(result, ParsedTurn) and result.calls == []
    error = parse_tool_calls("<tool_call>" + "y" * 100_000 + "</tool_call>").errors[0]
    assert isinstance(error, CallError) and len(error.raw) < 3_000


# ---- fuzzing -----------------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_arguments = st.dictionaries(_names, _json_values, max_size=5)


@given(st.text(max_size=400))
def test_fuzz_any_text_never_raises(text):
    parsed = parse_tool_calls(text)
    assert isinstance(parsed, ParsedTurn)
    for call in parsed.calls:
        assert isinstance(call.name, str) and isinstance(call.arguments, dict)


@given(st.lists(st.tuples(_names, _arguments), min_size=1, max_size=4), st.text(alphabet="abc .,\n", max_size=30))
def test_fuzz_hermes_round_trip(calls, prose):
    text = prose + "".join(_hermes(n, a) for n, a in calls)
    parsed = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in parsed.calls] == calls


@given(st.lists(st.tuples(_names, _arguments), min_size=1, max_size=4))
def test_fuzz_pythonic_round_trip(calls):
    def literal(v):
        return repr(v)

    text = "[" + ", ".join(f"{n}({', '.join(f'{k}={literal(v)}' for k, v in a.items())})" for n, a in calls) + "]"
    parsed = parse_tool_calls(text, formats=("pythonic",))
    assert [(c.name, c.arguments) for c in parsed.calls] == calls


@given(st.lists(st.tuples(_names, _arguments), min_size=1, max_size=4))
def test_fuzz_openai_round_trip(calls):
    message = {"role": "assistant", "content": "", "tool_calls": [ToolCall(n, a, f"id{i}").to_openai() for i, (n, a) in enumerate(calls)]}
    parsed = parse_tool_calls(json.dumps(message))
    assert [(c.name, c.arguments) for c in parsed.calls] == calls


@given(st.text(max_size=200), st.integers(0, 199))
def test_fuzz_truncated_hermes_never_raises(tail, cut):
    text = _hermes("f", {"t": tail})
    parsed = parse_tool_calls(text[: cut + 11])
    assert isinstance(parsed, ParsedTurn) and len(parsed.calls) + len(parsed.errors) <= 1


@pytest.mark.parametrize(
    "text",
    [
        "<tool_call>" * 150_000,
        "<tool_call>{}</tool_call>" * 80_000,
        "<tool_call>x" * 100_000 + "</tool_call>",
        "see [f(a=1" * 100_000,
        "[" + ",".join(["f(a=1)"] * 100_000) + "]",
        '[f(a="' + "x" * 1_000_000 + '")]',
        '[f(a="""' + "x\n" * 500_000 + '""")]',
        json.dumps({"tool_calls": [{"function": {"name": "f", "arguments": "{}"}}] * 20_000}),
    ],
    ids=["opens", "empty-blocks", "unclosed", "prose-lists", "100k-calls", "1MB-string", "1MB-lines", "20k-openai"],
)
def test_adversarial_turns_cost_linear_time_and_at_most_the_call_cap(text):
    """Each of these took seconds to a minute before the parsers were made linear and capped (a
    quadratic search, ast.get_source_segment); the bound here only catches such a blow-up."""
    import time

    from thinkgym.tools.calls import MAX_CALLS_PER_TURN

    began = time.monotonic()
    parsed = parse_tool_calls(text)
    assert time.monotonic() - began < 20
    assert len(parsed.calls) + len(parsed.errors) <= MAX_CALLS_PER_TURN + 1


def test_hermes_block_with_a_list_of_calls_and_the_json_format():
    parsed = parse_tool_calls('<tool_call>[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}, 3]</tool_call>')
    assert [c.name for c in parsed.calls] == ["a", "b"] and len(parsed.errors) == 1  # the 3 is no call
    llama = '{"name": "get_weather", "parameters": {"city": "Paris"}}'
    assert parse_tool_calls(llama).calls == []  # not a default format
    calls = parse_tool_calls(llama, formats=("json",)).calls
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]
    both = parse_tool_calls("```json\n[" + llama + ', {"name": "f"}]\n```', formats=("hermes", "json"))
    assert [c.name for c in both.calls] == ["get_weather", "f"] and both.format == "json"
    assert parse_tool_calls('{"answer": 42}', formats=("json",)).format is None
