"""The built-in tools: calculator (exact, safe), unit_convert, search (BM25), lookup, python (sandbox)."""

from __future__ import annotations

import time

import pytest

from thinkgym.sandbox import Limits
from thinkgym.tools import ToolCall
from thinkgym.tools.builtin import (
    KeyValueTable,
    PythonTool,
    SearchIndex,
    calculate,
    calculator_tool,
    convert_units,
)
from thinkgym.tools.executor import Toolbox


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("48213 * 90721 - 3341", "4373928232"),
        ("2^100", str(2**100)),
        ("1/3 + 1/6", "0.5"),
        ("0.1 + 0.2", "0.3"),  # exact, not 0.30000000000000004
        ("(7 // 2) + 7 % 3 - -1", "5"),
        ("sqrt(144) + abs(-2) + factorial(5)", "134"),
        ("gcd(12, 18) * lcm(4, 6)", "72"),
        ("round(2.567, 2) + floor(1.9) + ceil(1.1) + max(1, 5, 3) + min(4, 2)", "12.57"),
        ("1/3", "1/3 (≈ 0.333333333333)"),
        ("3 × 4 ÷ 2", "6"),
        ("1_000 * 2", "2000"),
    ],
)
def test_calculator_is_exact(expression, expected):
    assert calculate(expression) == expected


@pytest.mark.parametrize(
    "expression, message",
    [
        ("9**9**9", "exponents"),
        ("(10**4000) * (10**4000)", "digits"),
        ("factorial(100000)", "0..1000"),
        ("1/0", "division by zero"),
        ("__import__('os').system('true')", "not arithmetic"),
        ("__import__('os')", "unknown function"),
        ("x + 1", "not arithmetic"),
        ("'a' * 3", "not arithmetic"),
        ("[1, 2]", "not arithmetic"),
        ("1 +", "cannot parse"),
        ("(" * 300 + "1" + ")" * 300, ""),
        ("1" * 3000, "longer than"),
    ],
)
def test_calculator_refuses_bad_or_huge_work_quickly(expression, message):
    began = time.monotonic()
    with pytest.raises((ValueError, ZeroDivisionError, RecursionError, MemoryError)) as raised:
        calculate(expression)
    assert message in str(raised.value)
    assert time.monotonic() - began < 1.0


def test_calculator_tool_turns_errors_into_text():
    box = Toolbox([calculator_tool()])
    assert box.call(ToolCall("calculator", {"expression": "6*7"}, "c")).content == "42"
    bad = box.call(ToolCall("calculator", {"expression": "open('/etc/passwd')"}, "c"))
    assert not bad.ok and bad.content.startswith("Error: ValueError")


@pytest.mark.parametrize(
    "value, source, target, expected",
    [
        (1, "mi", "km", 1.6093),
        (412, "m", "ft", 1351.706),
        (100, "C", "F", 212),
        (32, "fahrenheit", "celsius", 0),
        (0, "K", "C", -273.15),
        (2, "gallons", "l", 7.5708),
        (10, "acre", "ha", 4.0469),
        (60, "mph", "km/h", 96.5606),
        (1, "week", "h", 168),
    ],
)
def test_unit_convert(value, source, target, expected):
    assert convert_units(value, source, target) == expected


@pytest.mark.parametrize("args", [(1, "m", "kg"), (1, "C", "m"), (1, "parsec", "m"), (float("nan"), "m", "ft"), (1e300, "m", "ft")])
def test_unit_convert_refuses_nonsense(args):
    with pytest.raises(ValueError):
        convert_units(*args)


def test_search_ranks_by_bm25_and_says_when_nothing_matches():
    index = SearchIndex(
        [
            {"title": "Quessa", "text": "Quessa is a city by the sea. Its mayor is Orla Venn."},
            {"title": "Orla Venn", "text": "Orla Venn was born in Tarrow."},
            {"title": "Tarrow", "text": "Tarrow is a small town in the hills."},
        ]
    )
    first = index.search("Who is the mayor of Quessa?").splitlines()[0]
    assert first.startswith("1. Quessa:")
    assert index.search("born Orla Venn").splitlines()[0].startswith("1. Orla Venn:")
    assert len(index.search("Quessa Tarrow Orla", k=2).splitlines()) == 2
    assert index.search("zebra").startswith("No article matches")
    with pytest.raises(ValueError):
        index.search("   ")


def test_lookup_is_case_insensitive_and_explains_misses():
    table = KeyValueTable({"New Quessa": {"population": 1234, "elevation_m": 5}})
    assert table.lookup("new  quessa", "Population") == 1234
    with pytest.raises(LookupError, match="no entity"):
        table.lookup("Atlantis", "population")
    with pytest.raises(LookupError, match="population, elevation_m"):
        table.lookup("New Quessa", "mayor")


@pytest.fixture(scope="module")
def python_tool():
    tool = PythonTool("local", Limits(wall_s=2.0, memory_mb=256, max_output_bytes=65_536))
    yield tool
    tool.close()


def test_python_tool_runs_in_the_sandbox(python_tool):
    box = Toolbox([python_tool.tool()])
    assert box.call(ToolCall("python", {"code": "print(sum(i * i for i in range(10)))"}, "c")).content.strip() == "285"
    failed = box.call(ToolCall("python", {"code": "raise SystemExit('nope')"}, "c"))
    assert failed.ok and "[exit code 1]" in failed.content
    # no network in the sandbox
    net = box.call(ToolCall("python", {"code": "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)"}, "c"))
    assert "exit code" in net.content or net.error


def test_python_tool_that_loops_forever_is_stopped_by_the_sandbox(python_tool):
    box = Toolbox([python_tool.tool()])
    began = time.monotonic()
    result = box.call(ToolCall("python", {"code": "while True:\n    pass"}, "c"))
    assert result.error == "exception" and "TimeoutError" in result.content
    assert time.monotonic() - began < 15


def test_python_tool_pickles_without_its_sandbox(python_tool):
    import pickle

    copy = pickle.loads(pickle.dumps(python_tool))
    assert copy.backend == "local" and copy._sandbox is None
