"""Tools served by an MCP server, through the official ``mcp`` SDK (the ``mcp`` extra).

`MCPServer` connects over **stdio** (it starts the server's command as a child process) or
**streamable HTTP** (a URL), lists the server's tools and turns each into a `Tool` whose calls go to
the server. The SDK is asyncio; envs are synchronous and may be stepped from any thread, so each
connection runs its own event loop in a daemon thread, and a call is a coroutine handed to that
loop with a deadline (``timeout``): the caller waits at most that long, whatever the server does.

A server that dies (its process exits, the HTTP endpoint goes away) makes the pending and later
calls return an error text that says so (``MCPServer.alive`` turns False); nothing raises into
the env and nothing hangs. Results: text content is joined; other content kinds are named
(``[image]``); a result marked ``isError`` becomes ``Error: ...``; ``structured_content`` is the
call's value when the server gives one.

Use::

    server = MCPServer.stdio(["python", "my_server.py"])     # or MCPServer.http("http://127.0.0.1:8000/mcp")
    env = thinkgym.make("thinkgym/ToolUse-v0", tools=server.tools())   # or Toolbox(server.tools())
    ...
    server.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shlex
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from thinkgym.errors import ConfigError
from thinkgym.tools.schema import Tool

__all__ = ["MCPServer", "MCPToolError"]


class MCPToolError(RuntimeError):
    """A call the MCP server could not answer (dead server, protocol error, tool error)."""


def _content_text(result: Any) -> str:
    parts = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            parts.append(str(getattr(block, "text", "")))
        else:
            parts.append(f"[{kind or type(block).__name__}]")
    return "\n".join(parts)


class _ServerTool:
    """The callable behind one MCP tool (picklable by reference to its server is not possible:
    a connection lives in this process, so these tools run ``inline``)."""

    def __init__(self, server: MCPServer, name: str):
        self.server = server
        self.name = name

    def __call__(self, **arguments: Any) -> Any:
        return self.server.call(self.name, arguments)


class MCPServer:
    """One connection to an MCP server (see the module docstring).

    Build with `MCPServer.stdio(command, ...)` or `MCPServer.http(url)`; `start` connects (the
    first `tools` call does it too); `close` ends the session (and a stdio server's process).
    ``timeout`` bounds each call, ``startup_timeout`` the connection and the listing of tools.
    """

    def __init__(
        self,
        *,
        command: Sequence[str] | None = None,
        url: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 30.0,
        startup_timeout: float = 60.0,
        name: str | None = None,
    ):
        if (command is None) == (url is None):
            raise ConfigError("an MCPServer needs exactly one of command= (stdio) or url= (streamable HTTP)")
        if command is not None:
            command = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
            if not command:
                raise ConfigError("the MCP server command is empty")
        self.command = command
        self.url = url
        self.env = dict(env) if env else None
        self.cwd = cwd
        self.timeout = float(timeout)
        self.startup_timeout = float(startup_timeout)
        self.name = name or (url if url else " ".join(command)[-80:])  # type: ignore[arg-type]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: Any = None
        self._listed: list[Any] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: str | None = None
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def stdio(cls, command: str | Sequence[str], **kwargs: Any) -> MCPServer:
        """A server started as a child process speaking MCP on its stdin/stdout."""
        return cls(command=command, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def http(cls, url: str, **kwargs: Any) -> MCPServer:
        """A server reachable over streamable HTTP at ``url`` (e.g. ``http://127.0.0.1:8000/mcp``)."""
        return cls(url=url, **kwargs)

    # ---- the connection's own thread ---------------------------------------------------------

    def _transport(self) -> Any:
        if self.url is not None:
            from mcp.client import streamable_http

            connect = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client
            return connect(self.url)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        assert self.command is not None
        params = StdioServerParameters(command=self.command[0], args=self.command[1:], env=self.env, cwd=self.cwd)
        self._errlog = open(os.devnull, "w")  # noqa: SIM115 - closed with the connection
        return stdio_client(params, errlog=self._errlog)

    async def _main(self) -> None:
        from mcp import ClientSession

        self._stop = asyncio.Event()
        try:
            async with self._transport() as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await session.initialize()
                    listed = await session.list_tools()
                    self._listed = list(listed.tools)
                    self._session = session
                    self._ready.set()
                    await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - any end of the connection is recorded, not raised
            if self._failure is None and not self._closed:
                self._failure = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        finally:
            self._session = None
            if self._failure is None and not self._closed:
                self._failure = "the connection ended"
            self._ready.set()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # ---- public API ------------------------------------------------------------------------

    def start(self) -> MCPServer:
        """Connect, initialise and list the tools; raises `ConfigError` if that fails in time."""
        with self._lock:
            if self._closed:
                raise ConfigError("this MCPServer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"mcp:{self.name}", daemon=True)
                self._thread.start()
        if not self._ready.wait(self.startup_timeout):
            self.close()
            raise ConfigError(f"MCP server {self.name!r} did not answer within {self.startup_timeout:g} s")
        if self._session is None:
            raise ConfigError(f"could not connect to MCP server {self.name!r}: {self._failure}")
        return self

    @property
    def alive(self) -> bool:
        """Whether the session is up (False before `start`, after `close` or a server's death)."""
        return self._session is not None and self._failure is None

    def tools(self, *, timeout: float | None = None) -> list[Tool]:
        """The server's tools as `Tool` objects (connecting first if needed)."""
        if self._session is None:
            self.start()
        out = []
        for listed in self._listed:
            schema = getattr(listed, "input_schema", None) or getattr(listed, "inputSchema", None) or {}
            declared = {"name": listed.name, "description": listed.description or "", "parameters": dict(schema)}
            out.append(Tool(declared, _ServerTool(self, listed.name), timeout or self.timeout, "inline", {"mcp": self.name}))
        return out

    async def _call(self, name: str, arguments: Mapping[str, Any], timeout: float) -> Any:
        session = self._session
        if session is None:
            raise MCPToolError(f"the MCP server {self.name!r} is not connected ({self._failure})")
        return await asyncio.wait_for(session.call_tool(name, dict(arguments)), timeout)

    def call(self, name: str, arguments: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        """Call one tool; returns its structured content or text, raises `MCPToolError` otherwise
        (the `Toolbox` turns that into the model's error text). A connection never started (an
        unpickled copy) connects first."""
        timeout = float(timeout or self.timeout)
        if self._thread is None and not self._closed:
            try:
                self.start()
            except ConfigError as exc:
                raise MCPToolError(str(exc)) from None
        loop = self._loop
        if self._session is None or self._failure is not None or loop is None or loop.is_closed():
            raise MCPToolError(f"the MCP server {self.name!r} is not available: {self._failure or 'not started'}")
        try:
            future = asyncio.run_coroutine_threadsafe(self._call(name, arguments, timeout), loop)
        except RuntimeError as exc:  # the loop stopped between the check and the call
            raise MCPToolError(f"the MCP server {self.name!r} is not available: {exc}") from None
        try:
            result = future.result(timeout + 1.0)
        except (TimeoutError, asyncio.TimeoutError, concurrent.futures.TimeoutError):
            future.cancel()
            raise MCPToolError(f"the MCP server {self.name!r} did not answer within {timeout:g} s") from None
        except MCPToolError:
            raise
        except Exception as exc:  # noqa: BLE001 - protocol errors, a dead transport
            reason = self._failure or f"{type(exc).__name__}: {exc}"
            if "closed" in str(exc).lower():  # the transport is gone: later calls fail at once
                self._failure = reason
            raise MCPToolError(f"the MCP server {self.name!r} failed: {reason}"[:600]) from None
        if getattr(result, "is_error", None) or getattr(result, "isError", None):
            raise MCPToolError(_content_text(result) or "the tool reported an error")
        structured = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
        text = _content_text(result)
        if structured is not None and not text:
            return structured
        return text

    def close(self) -> None:
        """End the session (a stdio server's process is stopped by the SDK)."""
        with self._lock:
            self._closed = True
            loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if thread is not None:
            thread.join(10.0)
        self._session = None
        errlog = getattr(self, "_errlog", None)
        if errlog is not None:
            errlog.close()

    def __getstate__(self) -> dict[str, Any]:
        """Only the configuration travels (to a worker process, a vector env's copy): the copy
        opens its own connection on first use."""
        return {
            "command": self.command, "url": self.url, "env": self.env, "cwd": self.cwd,
            "timeout": self.timeout, "startup_timeout": self.startup_timeout, "name": self.name,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __enter__(self) -> MCPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if not self._closed and self._thread is not None:
                self.close()
