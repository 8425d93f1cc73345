"""The call matcher: BFCL's AST rules for one call, the multiset (bipartite) match for several."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.core import Problem
from thinkgym.tools import CallError, ToolCall, parse_tool_calls
from thinkgym.tools.calls import TupleValue
from thinkgym.verifiers.tool_calls import (
    GoldCall,
    ToolCallVerifier,
    check_call,
    fc_names,
    match_calls,
    max_matching,
    standardize_string,
)


def fn(name, properties, required=()):
    return {"name": name, "description": "", "parameters": {"type": "dict", "properties": properties, "required": list(required)}}


AREA = fn(
    "geometry.area",
    {"base": {"type": "integer"}, "height": {"type": "float"}, "unit": {"type": "string"}},
    ["base", "height"],
)
AREA_GOLD = GoldCall.from_bfcl({"geometry.area": {"base": [10], "height": [5.0, 5.5], "unit": ["units", ""]}})


def call(name, **arguments):
    return ToolCall(name, arguments, "c")


def verdict(arguments, gold=AREA_GOLD, schema=AREA, name="geometry.area", **kw):
    return check_call(ToolCall(name, arguments, "c"), gold, schema, **kw)


# ---- one call ------------------------------------------------------------------------------


def test_the_gold_passes_and_optional_answers_may_be_omitted():
    assert verdict({"base": 10, "height": 5.0}).ok
    assert verdict({"base": 10, "height": 5.5, "unit": "units"}).ok


def test_function_name_must_match_in_the_spelling_of_its_mode():
    ok = {"base": 10, "height": 5.0}
    assert verdict(ok).ok and verdict(ok, name="geometry_area").ok  # "either" (check_call's default)
    assert verdict(ok, names="prompting").ok  # BFCL's prompting models: the name as listed
    assert verdict(ok, name="geometry_area", names="prompting").kind == "wrong_name"
    assert verdict(ok, name="geometry_area", names="fc").ok  # FC models: OpenAI names cannot hold dots
    dotted = verdict(ok, names="fc")  # the dotted spelling names no tool an FC model was given
    assert dotted.kind == "wrong_name" and "'geometry_area'" in dotted.reason
    wrong = verdict(ok, name="geometry.volume")
    assert wrong.kind == "wrong_name" and "geometry.volume" in wrong.reason
    with pytest.raises(ValueError):
        verdict(ok, names="dots")


def test_fc_names_rename_dots_unless_that_collides():
    assert fc_names(["math.factorial", "get_weather", "a.b.c"]) == {"math.factorial": "math_factorial", "get_weather": "get_weather", "a.b.c": "a_b_c"}
    assert fc_names(["a.b", "a_b"]) == {"a.b": "a.b", "a_b": "a_b"}  # two tools would become one: keep the dots
    both = [fn("a.b", {}), fn("a_b", {})]
    gold = [GoldCall("a.b", {})]
    assert match_calls([call("a.b")], gold, both, names="fc").exact  # the tool a.b is called a.b here
    assert not match_calls([call("a_b")], gold, both, names="fc").exact  # a_b is the other function


def test_match_calls_takes_a_name_style_per_call():
    gold = [AREA_GOLD, GoldCall.from_bfcl({"geometry.area": {"base": [2], "height": [1.0]}})]
    calls = [call("geometry_area", base=10, height=5.0), call("geometry.area", base=2, height=1.0)]
    assert match_calls(calls, gold, [AREA], names=["fc", "prompting"]).exact
    assert match_calls(calls, gold, [AREA], names=["prompting", "fc"]).recall == 0.0
    with pytest.raises(ValueError):
        match_calls(calls, gold, [AREA], names=["fc"])


def test_required_unknown_and_missing_parameters():
    assert verdict({"base": 10}).kind == "missing_required"
    assert verdict({"base": 10, "height": 5.0, "colour": "red"}).kind == "unexpected_param"
    gold = GoldCall.from_bfcl({"geometry.area": {"base": [10], "height": [5.0], "unit": ["units"]}})
    assert verdict({"base": 10, "height": 5.0}, gold=gold).kind == "missing_param"  # not optional in the gold
    undeclared = GoldCall.from_bfcl({"geometry.area": {"base": [10], "height": [5.0], "depth": [1]}})
    assert verdict({"base": 10, "height": 5.0, "depth": 1}, gold=undeclared).kind == "unexpected_param"


def test_int_is_accepted_for_float_but_not_float_for_int_nor_bool_for_int():
    assert verdict({"base": 10, "height": 5}).ok  # 5 -> 5.0
    assert verdict({"base": 10.0, "height": 5.0}).kind == "type"
    assert verdict({"base": True, "height": 5.0}).kind == "type"
    assert verdict({"base": "10", "height": 5.0}).kind == "type"
    assert verdict({"base": 11, "height": 5.0}).kind == "value"
    assert verdict({"base": 10, "height": 6}).kind == "value"


def test_strings_compare_after_bfcl_normalisation():
    assert standardize_string("New-York, N.Y.") == "newyorkny"
    assert standardize_string("it's") == 'it"s'
    gold = GoldCall.from_bfcl({"f": {"city": ["New York, NY"]}})
    schema = fn("f", {"city": {"type": "string"}})
    for ok in ("new york ny", "NEW_YORK/NY", "New-York, NY."):
        assert check_call(call("f", city=ok), gold, schema).ok, ok
    for bad in ("New York City", "NY", "Newark, NY"):
        assert check_call(call("f", city=bad), gold, schema).kind == "value", bad


def test_lists_compare_in_order_with_items_typed():
    schema = fn("s", {"xs": {"type": "array", "items": {"type": "float"}}, "tags": {"type": "array", "items": {"type": "string"}}})
    gold = GoldCall.from_bfcl({"s": {"xs": [[3.0, 1.5]], "tags": [["Red Wine", "b"], ""]}})
    assert check_call(call("s", xs=[3.0, 1.5]), gold, schema).ok
    assert check_call(call("s", xs=[3.0, 1.5], tags=["red-wine", "B"]), gold, schema).ok
    assert check_call(call("s", xs=[1.5, 3.0]), gold, schema).kind == "value"  # order matters
    assert check_call(call("s", xs=[3, 1.5]), gold, schema).kind == "type"  # no int->float inside lists (BFCL)
    assert check_call(call("s", xs=[3.0, 1.5], tags=[]), gold, schema).ok  # "" among the answers: [] is BFCL's empty


def test_tuples_are_lists_and_dicts_compare_key_by_key():
    schema = fn(
        "book",
        {"dates": {"type": "tuple", "items": {"type": "string"}}, "guests": {"type": "dict", "properties": {}}},
    )
    gold = GoldCall.from_bfcl({"book": {"dates": [["2025-06-01", "2025-06-04"]], "guests": [{"adults": [2], "kids": [0, ""]}]}})
    assert check_call(call("book", dates=["2025-06-01", "2025-06-04"], guests={"adults": 2}), gold, schema).ok
    assert check_call(call("book", dates=["2025-06-01", "2025-06-04"], guests={"adults": 2, "kids": 0}), gold, schema).ok
    assert check_call(call("book", dates=["2025-06-01", "2025-06-04"], guests={"adults": 3}), gold, schema).kind == "value"
    assert check_call(call("book", dates=["2025-06-01", "2025-06-04"], guests={"adults": 2, "pets": 1}), gold, schema).kind == "value"
    assert check_call(call("book", dates=["2025-06-01", "2025-06-04"], guests={"kids": 0}), gold, schema).kind == "value"


def test_python_tuples_pass_only_as_the_whole_value_of_a_tuple_parameter():
    """BFCL's rule: its decoder keeps tuples, its checker turns one into a list only for a "tuple"
    parameter; anywhere else a tuple is not the JSON array the gold holds."""
    schema = fn(
        "trip",
        {
            "stops": {"type": "array", "items": {"type": "string"}},
            "dates": {"type": "tuple", "items": {"type": "string"}},
            "legs": {"type": "array", "items": {"type": "array"}},
            "meta": {"type": "dict", "properties": {}},
            "note": {"type": "string"},
        },
    )
    gold = GoldCall.from_bfcl({"trip": {
        "stops": [["Santa Barbara", "Monterey"], ""], "dates": [["06-01", "06-04"], ""], "legs": [[["a", "b"]], ""],
        "meta": [{"tags": [["x", "y"]]}, ""], "note": ["", "hi"],
    }})

    def judge(arguments: str) -> str:
        parsed = parse_tool_calls(f"[trip({arguments})]")
        assert parsed.calls, parsed.errors
        return check_call(parsed.calls[0], gold, schema).kind or "ok"

    assert judge("stops=['Santa Barbara', 'Monterey'], dates=['06-01', '06-04']") == "ok"
    assert judge("dates=('06-01', '06-04')") == "ok"  # a tuple parameter takes a tuple
    assert judge("stops=('Santa Barbara', 'Monterey')") == "type"  # an array does not
    assert judge("legs=[['a', 'b']]") == "ok"
    assert judge("legs=[('a', 'b')]") == "value"  # nor do the items of an array of arrays (BFCL's type check of
    # items passes here, as the gold's "" is not a list; the comparison with the gold list fails)
    assert judge("meta={'tags': ['x', 'y']}") == "ok"
    assert judge("meta={'tags': ('x', 'y')}") == "value"  # nor a list inside a dict
    assert judge("note=('hi',)") == "type"
    assert judge("stops=()") == "type"
    # a JSON list (Hermes / OpenAI) is a list, whatever the declared type
    assert check_call(call("trip", stops=["Santa Barbara", "Monterey"], dates=["06-01", "06-04"]), gold, schema).ok


def test_list_of_dicts_compares_dict_by_dict_in_order():
    schema = fn("order", {"items": {"type": "array", "items": {"type": "dict"}}})
    gold = GoldCall.from_bfcl({"order": {"items": [[{"name": ["apple", "apples"], "n": [2]}, {"name": ["pear"], "n": [3]}]]}})
    assert check_call(call("order", items=[{"name": "Apples", "n": 2}, {"name": "pear", "n": 3}]), gold, schema).ok
    assert not check_call(call("order", items=[{"name": "pear", "n": 3}, {"name": "apple", "n": 2}]), gold, schema).ok
    assert not check_call(call("order", items=[{"name": "apple", "n": 2}]), gold, schema).ok


def test_variables_compare_exactly():
    """A gold answer of another type than the declared one (BFCL's "variable") must be met exactly."""
    schema = fn("f", {"x": {"type": "integer"}})
    gold = GoldCall.from_bfcl({"f": {"x": ["n_items"]}})
    assert check_call(call("f", x="n_items"), gold, schema).ok
    assert not check_call(call("f", x="N_ITEMS"), gold, schema).ok  # no string normalisation for variables
    assert not check_call(call("f", x=3), gold, schema).ok


def test_without_a_schema_the_gold_types_decide():
    gold = GoldCall.exact("lookup", {"entity": "Paris", "year": 2020, "ratio": 0.5})
    assert check_call(call("lookup", entity="paris", year=2020, ratio=0.5), gold).ok
    assert check_call(call("lookup", entity="Paris", year=2020, ratio=1 / 2), gold).ok
    assert check_call(call("lookup", entity="Paris", year="2020", ratio=0.5), gold).kind == "type"
    assert check_call(call("lookup", entity="Paris", year=2020), gold).kind == "missing_param"
    assert check_call(call("lookup", entity="Paris", year=2020, ratio=0.5, extra=1), gold).kind == "unexpected_param"


def test_example_arguments_pass_their_own_gold():
    schema = fn("order", {"items": {"type": "array", "items": {"type": "dict"}}, "note": {"type": "string"}}, ["items"])
    gold = GoldCall.from_bfcl({"order": {"items": [[{"name": ["apple"], "n": [2], "gift": ["", True]}]], "note": ["", "hi"]}})
    arguments = gold.example_arguments(schema)
    assert arguments == {"items": [{"name": "apple", "n": 2}]}
    assert check_call(call("order", **arguments), gold, schema).ok


def test_malformed_calls_and_gold_never_raise():
    weird = [None, 3, "f(x=1)", {"a": 1, "b": 2}, {"name": 5}, CallError("x", "bad")]
    gold = GoldCall.from_bfcl({"f": {"x": [1, {"k": [1]}, [1, 2], None, "", float("nan")]}})
    for item in weird:
        assert not check_call(item, gold).ok
    odd_values = [float("nan"), None, [], {}, [[1]], {"k": {"z": 1}}, "𝔘", 10**100, -0.0, True]
    for value in odd_values:
        check_call(call("f", x=value), gold, fn("f", {"x": {"type": "dict"}}))
        check_call(call("f", x=value), gold, fn("f", {"x": {"type": "array", "items": {"type": "dict"}}}))
        check_call(call("f", x=value), gold, {"name": "f", "parameters": "nonsense"})
    with pytest.raises(ValueError):
        GoldCall.from_bfcl({"a": {}, "b": {}})


# ---- several calls -------------------------------------------------------------------------


def test_max_matching_is_maximum_where_greedy_is_not():
    # left 0 fits both rights; left 1 fits only right 0: greedy (0->0) leaves 1 unmatched
    assert max_matching([[True, True], [True, False]]) == [(0, 1), (1, 0)]
    assert max_matching([]) == []
    assert max_matching([[False, False]]) == []


@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=0, max_size=4))
def test_max_matching_agrees_with_brute_force(adjacent):
    pairs = max_matching(adjacent)
    assert len({left for left, _ in pairs}) == len(pairs) == len({right for _, right in pairs})
    assert all(adjacent[left][right] for left, right in pairs)
    best = 0
    for perm in itertools.permutations(range(4), len(adjacent)):
        best = max(best, sum(adjacent[i][perm[i]] for i in range(len(adjacent))))
    assert len(pairs) == best


WEATHER = fn("get_weather", {"city": {"type": "string"}, "units": {"type": "string"}}, ["city"])
PARALLEL_GOLD = [
    GoldCall.from_bfcl({"get_weather": {"city": ["Paris", "Paris, France"], "units": [""]}}),
    GoldCall.from_bfcl({"get_weather": {"city": ["Rome"], "units": ["", "celsius"]}}),
]


def test_parallel_calls_match_in_any_order():
    for order in itertools.permutations([call("get_weather", city="Rome"), call("get_weather", city="paris")]):
        result = match_calls(list(order), PARALLEL_GOLD, [WEATHER])
        assert result.exact and result.f1 == 1.0


def test_duplicates_and_junk_earn_nothing():
    paris = call("get_weather", city="Paris")
    dup = match_calls([paris, paris], PARALLEL_GOLD, [WEATHER])
    assert not dup.exact and dup.precision == 0.5 and dup.recall == 0.5 and dup.f1 == 0.5
    assert "Rome" in dup.reasons[0]
    junk = match_calls([paris, call("get_weather", city="Rome"), call("nope"), CallError("<tool_call>{", "bad json")], PARALLEL_GOLD, [WEATHER])
    assert junk.recall == 1.0 and junk.precision == 0.5 and not junk.exact
    assert junk.unmatched_predicted == (2, 3)
    flood = match_calls([paris] * 500, PARALLEL_GOLD, [WEATHER])
    assert flood.precision == pytest.approx(1 / 500) and flood.recall == 0.5


def test_empty_sides():
    assert match_calls([], [], None).f1 == 1.0
    assert match_calls([], PARALLEL_GOLD, [WEATHER]).f1 == 0.0
    assert match_calls([call("get_weather", city="Paris")], [], [WEATHER]).f1 == 0.0


def test_exact_matching_beats_greedy_pairing():
    """Gold A accepts both calls, gold B only the first: a greedy pairing fails, the matching not."""
    gold = [
        GoldCall.from_bfcl({"get_weather": {"city": ["Paris", "Rome"], "units": [""]}}),
        GoldCall.from_bfcl({"get_weather": {"city": ["Paris"], "units": [""]}}),
    ]
    result = match_calls([call("get_weather", city="Paris"), call("get_weather", city="Rome")], gold, [WEATHER])
    assert result.exact and set(result.pairs) == {(0, 1), (1, 0)}


def test_f1_of_random_subsets():
    rng = random.Random(0)
    gold = [GoldCall.exact("f", {"i": i}) for i in range(6)]
    for _ in range(30):
        kept = rng.sample(range(6), rng.randint(0, 6))
        extra = rng.randint(0, 3)
        predicted = [call("f", i=i) for i in kept] + [call("f", i=100 + j) for j in range(extra)]
        rng.shuffle(predicted)
        result = match_calls(predicted, gold)
        p = len(kept) / len(predicted) if predicted else 0.0
        r = len(kept) / 6
        assert result.precision == pytest.approx(p) and result.recall == pytest.approx(r)
        assert result.f1 == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)


# ---- the verifier --------------------------------------------------------------------------


def problem(answer, functions, expects="calls"):
    return Problem("p", "q", answer, {"functions": functions, "expects": expects})


PARALLEL_PROBLEM = problem([g.to_bfcl() for g in PARALLEL_GOLD], [WEATHER])


@pytest.mark.parametrize(
    "completion",
    [
        "[get_weather(city='Rome'), get_weather(city='Paris, France')]",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n'
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome", "units": "celsius"}}</tool_call>',
        '{"role": "assistant", "content": null, "tool_calls": ['
        '{"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"rome\\"}"}},'
        '{"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"paris\\"}"}}]}',
    ],
)
def test_verifier_reads_every_format(completion):
    reward = ToolCallVerifier()(completion, PARALLEL_PROBLEM)
    assert reward.score == 1.0 and reward.components["f1"] == 1.0 and reward.components["format"] == 1.0


def test_verifier_components_and_partial_credit():
    half = "[get_weather(city='Rome')]"
    strict = ToolCallVerifier()(half, PARALLEL_PROBLEM)
    assert strict.score == 0.0 and strict.components["recall"] == 0.5 and strict.components["precision"] == 1.0
    assert "Paris" in strict.info["error"]
    partial = ToolCallVerifier(reward="f1")(half, PARALLEL_PROBLEM)
    assert partial.score == pytest.approx(2 / 3)
    broken = ToolCallVerifier()("[get_weather(city='Rome'), get_weather(city='Paris')]<tool_call>{oops", PARALLEL_PROBLEM)
    assert broken.score == 0.0
    with_error = ToolCallVerifier()('<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call><tool_call>{oops</tool_call>', PARALLEL_PROBLEM)
    assert with_error.components["format"] == 0.0 and with_error.components["precision"] == 0.5 and with_error.score == 0.0
    with pytest.raises(ValueError):
        ToolCallVerifier(reward="bonus")


def test_irrelevance_and_relevance():
    no_call = problem(None, [WEATHER], "no_call")
    assert ToolCallVerifier()("I cannot help with that using these functions.", no_call).score == 1.0
    assert ToolCallVerifier()("[get_weather(city='Paris')]", no_call).score == 0.0
    any_call = problem(None, [WEATHER], "any_call")
    assert ToolCallVerifier()("[get_weather(city='anything')]", any_call).score == 1.0
    assert ToolCallVerifier()("[unknown_function(city='x')]", any_call).score == 0.0
    assert ToolCallVerifier()("sorry", any_call).score == 0.0


def test_relevance_wants_a_listed_function_in_the_spelling_of_the_format():
    """BFCL passes any decodable call on live_relevance; here a call to a tool that does not exist
    earns nothing (a reward for it teaches a policy to invent tools)."""
    any_call = problem(None, [AREA, WEATHER], "any_call")
    verifier = ToolCallVerifier()
    assert verifier("[zz_not_a_listed_function(q='x')]", any_call).score == 0.0
    assert verifier("[geometry.area(base=1, height=1.0)]", any_call).score == 1.0
    assert verifier("[geometry_area(base=1, height=1.0)]", any_call).score == 0.0  # prompting: as listed
    assert verifier(hermes_call("geometry_area", {"base": 1}), any_call).score == 1.0  # FC: the tool's name
    assert verifier(hermes_call("geometry.area", {"base": 1}), any_call).score == 0.0
    assert verifier(hermes_call("get_weather", {"city": "x"}), any_call).score == 1.0
    assert ToolCallVerifier(names="either")(hermes_call("geometry.area", {"base": 1}), any_call).score == 1.0


def hermes_call(name, arguments):
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def openai_call(name, arguments):
    return json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c0", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]})


def test_verifier_judges_names_by_the_format_as_bfcl_judges_prompting_and_fc_models():
    area = problem([AREA_GOLD.to_bfcl()], [AREA])
    verifier = ToolCallVerifier()
    good = {"base": 10, "height": 5.0}
    assert verifier("[geometry.area(base=10, height=5.0)]", area).score == 1.0  # pythonic: prompting
    assert verifier("[geometry_area(base=10, height=5.0)]", area).score == 0.0
    for fc in (hermes_call, openai_call):  # JSON formats: function calling
        assert verifier(fc("geometry_area", good), area).score == 1.0
        wrong = verifier(fc("geometry.area", good), area)
        assert wrong.score == 0.0 and "geometry_area" in wrong.info["error"]
    lenient = ToolCallVerifier(names="either")
    assert lenient(hermes_call("geometry.area", good), area).score == lenient("[geometry_area(base=10, height=5.0)]", area).score == 1.0
    assert ToolCallVerifier(names="fc")("[geometry_area(base=10, height=5.0)]", area).score == 1.0
    parsed = verifier.parse(hermes_call("geometry.area", good))
    assert verifier.score(parsed, area, names="prompting").score == 1.0  # the caller may say how the calls were made
    with pytest.raises(ValueError):
        ToolCallVerifier(names="loose")


def test_verifier_survives_any_text():
    verifier = ToolCallVerifier()
    for text in ["", "[", "[f(", "<tool_call>", "{}", '{"tool_calls": 5}', "[get_weather(city=1+1)]", "x" * 100_000, "\x00\ud800"]:
        reward = verifier(text, PARALLEL_PROBLEM)
        assert reward.score == 0.0 and set(reward.components) == {"accuracy", "f1", "precision", "recall", "format"}
    assert verifier(None, PARALLEL_PROBLEM).score == 0.0  # type: ignore[arg-type]
    for bad_gold in ([{"a": {}, "b": {}}], 5, [{"f": 3}]):
        reward = verifier("[f(a=1)]", problem(bad_gold, []))
        assert reward.score == 0.0 and "malformed" in reward.info["error"]


def test_parsed_pythonic_values_survive_the_round_trip():
    parsed = parse_tool_calls("[geometry.area(base=10, height=5, unit='Units')]")
    assert check_call(parsed.calls[0], AREA_GOLD, AREA).ok


# ---- properties ----------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
_ARGS = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _JSON, max_size=4)


def _declared(value):
    """The JSON-schema type a value has (what part A's typed tools declare)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, dict):
        return {"type": "object"}
    if isinstance(value, list):
        kinds = {_declared(v).get("type") for v in value}
        return {"type": "array", "items": {"type": kinds.pop()}} if len(kinds) == 1 and None not in kinds else {"type": "array"}
    return {}


@given(_ARGS)
def test_an_exact_gold_passes_its_own_arguments(arguments):
    gold = GoldCall.exact("f", arguments)
    assert check_call(call("f", **arguments), gold).ok
    schema = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {k: _declared(v) for k, v in arguments.items()}, "required": sorted(arguments)}}}
    typed = GoldCall.exact("f", arguments, schema)
    assert check_call(call("f", **arguments), typed, schema).ok
    assert check_call(call("f", **arguments), typed, schema) == check_call(call("f", **arguments), typed, schema)  # deterministic
    if arguments:  # one argument short never passes
        first = sorted(arguments)[0]
        if arguments[first] != "":
            assert not check_call(call("f", **{k: v for k, v in arguments.items() if k != first}), typed, schema).ok


@given(_ARGS, _ARGS, st.sampled_from(["string", "integer", "float", "number", "boolean", "array", "tuple", "dict", "object", "any", "Weird", None]))
def test_check_call_never_raises(arguments, gold_arguments, kind):
    spec = {"type": kind, "items": {"type": "dict"}} if kind else {}
    schema = fn("f", {k: spec for k in [*arguments, *gold_arguments]}, sorted(gold_arguments)[:1])
    gold = GoldCall("f", {k: [v, ""] if isinstance(v, str) else [v] for k, v in gold_arguments.items()})
    for candidate in (arguments, gold_arguments):
        result = check_call(call("f", **candidate), gold, schema)
        assert isinstance(result.ok, bool) and (result.ok or result.reason)


def _tuples_in(value):
    """The value with every list written as a Python tuple, as the pythonic parser marks them."""
    if isinstance(value, list):
        return TupleValue(_tuples_in(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples_in(v) for k, v in value.items()}
    return value


@given(_ARGS, st.sampled_from(["array", "tuple", "dict", "string", None]))
def test_tuples_pass_exactly_where_they_are_the_whole_value_of_a_tuple_parameter(arguments, kind):
    """The same arguments with their lists written as tuples: a verdict, never an exception; a pass
    only if no tuple is left after a "tuple" parameter's own top-level one became a list."""
    spec = {"type": kind} if kind else {}
    schema = fn("f", {k: spec for k in arguments})
    gold = GoldCall.exact("f", arguments, schema)
    marked = {k: _tuples_in(v) for k, v in arguments.items()}
    result = check_call(call("f", **marked), gold, schema)
    assert isinstance(result.ok, bool) and (result.ok or result.reason)

    def has_tuple(value, top):
        if isinstance(value, TupleValue) and not (top and kind == "tuple"):
            return True
        inner = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        return any(has_tuple(v, False) for v in inner)

    if any(has_tuple(v, True) for v in marked.values()):
        assert not result.ok
