"""A small MCP server for the tests: ``python mcp_server.py stdio`` or ``... http PORT``.

Tools: ``add`` (two integers), ``echo``, ``slow`` (sleeps), ``die`` (the process exits at once,
as a crashing server would), ``fail`` (raises: an MCP tool error).
"""

from __future__ import annotations

import os
import sys
import time

try:  # mcp >= 2
    from mcp.server import MCPServer as _Server
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as _Server

server = _Server("thinkgym-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def slow(seconds: float) -> str:
    """Sleep, then answer."""
    time.sleep(seconds)
    return "done"


@server.tool()
def die() -> str:
    """Exit the server process at once."""
    os._exit(3)


@server.tool()
def fail(message: str) -> str:
    """Raise an error."""
    raise ValueError(message)


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
