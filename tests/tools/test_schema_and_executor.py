"""Tool declaration (typed functions, JSON-schema dicts), argument validation, and the executor's limits."""

from __future__ import annotations

import enum
import math
import subprocess
import sys
import textwrap
import time
from typing import Literal

import pytest

from thinkgym.errors import ConfigError
from thinkgym.tools import (
    Tool,
    ToolCall,
    function_schema,
    schema_from_dict,
    tool,
    validate_arguments,
)
from thinkgym.tools.executor import Toolbox, _importable


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def fancy(
    x: int,
    ys: list[float],
    mode: Literal["fast", "slow"],
    table: dict[str, int],
    pair: tuple[int, str],
    color: Color,
    name: str = "n",
    flag: bool | None = None,
    either: int | str = 1,
) -> float:
    """Do something fancy.

    A longer explanation
    on two lines.

    Args:
        x: the first value
        ys: more values,
            described on two lines
        mode: how to go
        table: a mapping
        pair: a pair
        color: a colour
        name: a name (choices: ["n", "m"])
        flag: a flag
        either: one or the other

    Returns:
        the result
    """
    return 0.0


def plain(a: int, b: int = 2) -> int:
    """Add.

    Args:
        a: first
        b: second
    """
    return a + b


def test_function_schema_matches_transformers_get_json_schema():
    """Our rules are transformers' (TRL's) rules: the same dict for the same functions."""
    transformers_utils = pytest.importorskip("transformers.utils")
    for fn in (fancy, plain):
        assert function_schema(fn) == transformers_utils.get_json_schema(fn)


def test_import_thinkgym_and_tools_does_not_import_transformers():
    code = "import sys, thinkgym, thinkgym.tools, thinkgym.envs.tool_use; print('transformers' in sys.modules, 'mcp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.split() == ["False", "False"]


def test_function_schema_shape_and_errors():
    schema = function_schema(plain)
    assert schema["type"] == "function"
    assert schema["function"]["parameters"] == {
        "type": "object",
        "properties": {"a": {"type": "integer", "description": "first"}, "b": {"type": "integer", "description": "second"}},
        "required": ["a"],
    }

    def undocumented(a: int):
        return a

    def untyped(a):
        """Doc."""

    class Custom:
        pass

    def custom(a: Custom):
        """Doc."""

    for bad in (undocumented, untyped, custom):
        with pytest.raises(ConfigError):
            function_schema(bad)


def test_schema_dicts_in_both_forms_and_broken_ones():
    inner = {"name": "f", "description": "F.", "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    assert schema_from_dict(inner) == schema_from_dict({"type": "function", "function": inner})
    with pytest.raises(ConfigError):
        schema_from_dict({"name": "f", "parameters": {"type": "object", "properties": {"n": {"type": "nonsense"}}}})
    with pytest.raises(ConfigError):
        schema_from_dict({"name": "bad name!", "parameters": {}})
    with pytest.raises(ConfigError):
        schema_from_dict({"description": "no name"})


def test_validation_messages_and_nullable():
    parameters = function_schema(fancy)["function"]["parameters"]
    good = {"x": 1, "ys": [1.5, 2], "mode": "fast", "table": {"a": 1}, "pair": [1, "s"], "color": "red", "flag": None}
    assert validate_arguments(parameters, good) is None
    assert validate_arguments(parameters, {**good, "x": 2.0}) is None  # 2.0 is an integer in JSON schema
    assert "'x' is a required property" in validate_arguments(parameters, {k: v for k, v in good.items() if k != "x"})
    assert "'x'" in validate_arguments(parameters, {**good, "x": "1"})
    assert "'mode'" in validate_arguments(parameters, {**good, "mode": "medium"})
    assert "'table/a'" in validate_arguments(parameters, {**good, "table": {"a": "one"}})
    assert "'color'" in validate_arguments(parameters, {**good, "color": "green"})
    assert validate_arguments(parameters, [1, 2]).startswith("arguments must be a JSON object")


def inline_add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first
        b: the second
    """
    return a + b


def test_toolbox_outcomes_unknown_tool_bad_arguments_exception_and_truncation():
    def explode(text: str) -> str:
        """Raise.

        Args:
            text: the message
        """
        raise ValueError(text)

    def huge(n: int) -> str:
        """A long result.

        Args:
            n: length
        """
        return "z" * n

    box = Toolbox([Tool.from_function(inline_add, isolation="inline"), explode, huge], max_result_chars=100)
    ok = box.call(ToolCall("inline_add", {"a": 2, "b": 3}, "c0"))
    assert (ok.ok, ok.content, ok.value, ok.error) == (True, "5", 5, None)
    unknown = box.call(ToolCall("subtract", {}, "c1"))
    assert unknown.error == "unknown_tool" and "inline_add" in unknown.content and not unknown.valid
    wrong = box.call(ToolCall("inline_add", {"a": "two", "b": 3}, "c2"))
    assert wrong.error == "invalid_arguments" and "'two' is not of type 'integer'" in wrong.content
    raised = box.call(ToolCall("explode", {"text": "boom"}, "c3"))
    assert raised.error == "exception" and raised.content == "Error: ValueError: boom" and raised.valid
    long = box.call(ToolCall("huge", {"n": 10_000}, "c4"))
    assert long.ok and long.truncated_from == 10_000 and len(long.content) < 250 and "10000 characters" in long.content
    assert [s["function"]["name"] for s in box.schemas] == ["inline_add", "explode", "huge"]
    assert ok.to_message() == {"role": "tool", "tool_call_id": "c0", "name": "inline_add", "content": "5"}


def test_megabyte_arguments_are_refused_before_the_tool_runs():
    calls = []

    def echo(text: str) -> str:
        """Echo.

        Args:
            text: the text
        """
        calls.append(1)
        return text

    box = Toolbox([Tool.from_function(echo, isolation="inline")], max_argument_chars=100_000)
    result = box.call(ToolCall("echo", {"text": "x" * 1_000_000}, "c"))
    assert result.error == "arguments_too_large" and calls == []


def test_a_thread_tool_that_loops_forever_times_out():
    def spin(n: int) -> int:
        """Spin forever.

        Args:
            n: ignored
        """
        while True:
            time.sleep(0.01)

    box = Toolbox([Tool.from_function(spin, timeout=0.3)])
    assert not _importable(spin)  # a closure: runs in a thread
    began = time.monotonic()
    result = box.call(ToolCall("spin", {"n": 1}, "c"))
    assert result.error == "timeout" and "0.3 s" in result.content
    assert time.monotonic() - began < 3


def test_a_process_tool_that_loops_forever_is_killed(tmp_path, monkeypatch):
    """A CPU-bound loop in C (math.factorial) cannot be stopped in a thread; a worker process can be killed."""
    from thinkgym.verifiers.bounded import BoundedPool

    (tmp_path / "looping_tools.py").write_text(
        textwrap.dedent(
            '''
            import math, os

            def crunch(n: int) -> int:
                """Digits of n!.

                Args:
                    n: the number
                """
                return len(str(math.factorial(n)))

            def pid(timeout: int) -> int:
                """The worker's pid (the parameter's name is one of the pool's own keywords).

                Args:
                    timeout: ignored
                """
                return os.getpid()
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import looping_tools

    assert _importable(looping_tools.crunch)
    with BoundedPool(1) as pool:
        box = Toolbox([Tool.from_function(looping_tools.crunch, timeout=3.0), looping_tools.pid], pool=pool)
        assert box.call(ToolCall("crunch", {"n": 100}, "c0")).content == "158"
        first = box.call(ToolCall("pid", {"timeout": 0}, "c1")).value
        assert first != __import__("os").getpid()
        began = time.monotonic()
        result = box.call(ToolCall("crunch", {"n": 10**9}, "c2"))
        assert result.error == "timeout" and time.monotonic() - began < 15
        assert pool.replaced >= 1  # the looping worker was killed and replaced
        assert box.call(ToolCall("crunch", {"n": 10}, "c3")).content == "7"


def test_tool_decorator_and_bad_declarations():
    @tool(timeout=2.0, isolation="inline")
    def double(n: int) -> int:
        """Double it.

        Args:
            n: the number
        """
        return 2 * n

    assert isinstance(double, Tool) and double.timeout == 2.0 and double.name == "double"
    with pytest.raises(ValueError):
        Tool.from_function(plain, isolation="nowhere")
    with pytest.raises(ValueError):
        Tool.from_function(plain, timeout=0)
    box = Toolbox([double])
    with pytest.raises(ValueError):
        box.add(double)
    assert math.isclose(box.timeout, 10.0)


def test_a_process_tool_that_blocks_is_stopped_at_its_wall_time_limit(tmp_path, monkeypatch):
    """A tool that waits without using CPU (a network call that never answers, a sleep) is stopped
    at its own time limit: a tool's limit is wall time, not the CPU budget of the math verifier."""
    from thinkgym.verifiers.bounded import BoundedPool

    (tmp_path / "blocking_tools.py").write_text(
        textwrap.dedent(
            '''
            import time

            def wait(seconds: float) -> str:
                """Wait, then answer.

                Args:
                    seconds: how long
                """
                time.sleep(seconds)
                return "done"
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import blocking_tools

    with BoundedPool(1) as pool:
        box = Toolbox([Tool.from_function(blocking_tools.wait, timeout=1.0)], pool=pool)
        assert box.call(ToolCall("wait", {"seconds": 0.01}, "w0")).content == "done"
        began = time.perf_counter()
        result = box.call(ToolCall("wait", {"seconds": 60}, "w1"))
        took = time.perf_counter() - began
    assert result.error == "timeout" and "did not finish within 1 s" in result.content, result
    assert took < 4.0, f"a blocked tool ran {took:.1f} s past its 1 s limit"
