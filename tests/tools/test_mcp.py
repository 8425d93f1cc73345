"""MCP tools against a real MCP server the test starts (tests/tools/mcp_server.py): stdio and
streamable HTTP on 127.0.0.1, a server that dies mid-episode, tool errors and slow tools."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mcp")

import thinkgym  # noqa: E402
from thinkgym.errors import ConfigError  # noqa: E402
from thinkgym.tools import ToolCall  # noqa: E402
from thinkgym.tools.executor import Toolbox  # noqa: E402
from thinkgym.tools.mcp import MCPServer  # noqa: E402

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def _stdio(**kwargs):
    return MCPServer.stdio([sys.executable, SERVER, "stdio"], **kwargs)


@pytest.fixture(scope="module")
def stdio_server():
    server = _stdio(timeout=5.0).start()
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_http_server() -> tuple[subprocess.Popen, int]:
    """The demo MCP server over HTTP on a free port, once it accepts connections."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, SERVER, "http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("the MCP HTTP server exited at start")
            time.sleep(0.2)
    return process, port


@pytest.fixture(scope="module")
def http_url():
    process, port = _start_http_server()
    yield f"http://127.0.0.1:{port}/mcp", process
    process.terminate()
    process.wait(10)


def test_stdio_lists_and_calls_tools(stdio_server):
    tools = {t.name: t for t in stdio_server.tools()}
    assert {"add", "echo", "slow", "die", "fail"} <= set(tools)
    assert tools["add"].parameters["properties"]["a"]["type"] == "integer"
    box = Toolbox(stdio_server.tools())
    assert box.call(ToolCall("add", {"a": 2, "b": 40}, "c")).content == "42"
    # our schema check runs before the server is asked
    assert box.call(ToolCall("add", {"a": "two", "b": 1}, "c")).error == "invalid_arguments"
    failed = box.call(ToolCall("fail", {"message": "boom"}, "c"))
    assert failed.error == "exception" and "MCPToolError" in failed.content


def test_stdio_slow_tool_times_out_and_the_session_goes_on():
    with _stdio(timeout=0.5) as server:
        box = Toolbox(server.tools())
        began = time.monotonic()
        result = box.call(ToolCall("slow", {"seconds": 30}, "c"))
        assert not result.ok and "did not answer within 0.5 s" in result.content
        assert time.monotonic() - began < 5
        assert box.call(ToolCall("echo", {"text": "still here"}, "c")).content == "still here"


def test_http_lists_and_calls_tools(http_url):
    url, _ = http_url
    with MCPServer.http(url, timeout=5.0) as server:
        box = Toolbox(server.tools())
        assert box.call(ToolCall("add", {"a": 1, "b": 2}, "c")).content == "3"
        assert box.call(ToolCall("echo", {"text": "é∑😀"}, "c")).content == "é∑😀"


def test_unreachable_http_server_is_a_clear_error():
    with pytest.raises(ConfigError):
        MCPServer.http(f"http://127.0.0.1:{_free_port()}/mcp", startup_timeout=10).start()


def test_server_that_dies_mid_episode_gives_error_observations():
    """In ToolUse-v0 with the server's tools added: the death is an observation, the episode goes on."""
    server = _stdio(timeout=5.0)
    env = thinkgym.make("thinkgym/ToolUse-v0", difficulty=1, tools=server.tools())
    try:
        env.reset(seed=0)
        assert "add" in [t["function"]["name"] for t in env.tools]
        obs, _, terminated, truncated, info = env.step('<tool_call>{"name": "add", "arguments": {"a": 1, "b": 1}}</tool_call>')
        assert "<tool_response>\n2\n</tool_response>" == obs
        obs, _, terminated, truncated, info = env.step('<tool_call>{"name": "die", "arguments": {}}</tool_call>')
        assert obs.startswith("<tool_response>\nError:") and not (terminated or truncated)
        began = time.monotonic()
        obs, _, terminated, truncated, info = env.step('<tool_call>{"name": "add", "arguments": {"a": 1, "b": 1}}</tool_call>')
        assert "Error: MCPToolError" in obs and time.monotonic() - began < 6
        assert not server.alive
        assert env.call_tool("echo", {"text": "x"}).startswith("Error:")
        # the built-in tools still work, and the episode ends normally
        obs, _, terminated, truncated, info = env.step('<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>')
        assert obs == "<tool_response>\n4\n</tool_response>"
        tool_messages = [m for m in info["messages"] if m["role"] == "tool"]
        assert len(tool_messages) == 4 and tool_messages[1]["content"].startswith("Error:")
    finally:
        server.close()


def test_http_server_that_dies_mid_session_gives_error_text():
    process, port = _start_http_server()
    try:
        with MCPServer.http(f"http://127.0.0.1:{port}/mcp", timeout=3.0) as server:
            box = Toolbox(server.tools())
            assert box.call(ToolCall("add", {"a": 1, "b": 1}, "c")).content == "2"
            died = box.call(ToolCall("die", {}, "c"))
            assert not died.ok
            process.wait(10)
            began = time.monotonic()
            after = box.call(ToolCall("add", {"a": 1, "b": 1}, "c"))
            assert not after.ok and after.content.startswith("Error:") and time.monotonic() - began < 8
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_env_connects_to_mcp_servers_by_url_and_command_and_pickles(http_url):
    import pickle
    import shlex

    url, _ = http_url
    env = thinkgym.make("thinkgym/ToolUse-v0", difficulty=1, mcp_servers=[url, shlex.join([sys.executable, SERVER, "stdio"])], builtin_tools=False)
    try:
        names = [t["function"]["name"] for t in env.tools]
        assert names.count("add") == 1 and "echo" in names  # the stdio server's tools replace the HTTP ones of the same name
        env.reset(seed=0)
        obs, *_ = env.step('<tool_call>{"name": "add", "arguments": {"a": 20, "b": 22}}</tool_call>')
        assert obs == "<tool_response>\n42\n</tool_response>"
        copy = pickle.loads(pickle.dumps(env))  # only the configuration travels; the copy reconnects
        try:
            copy.reset(seed=0)
            obs, *_ = copy.step('<tool_call>{"name": "echo", "arguments": {"text": "again"}}</tool_call>')
            assert obs == "<tool_response>\nagain\n</tool_response>"
        finally:
            copy.close()
    finally:
        env.close()
