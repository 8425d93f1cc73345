"""ToolUse-v0 step throughput with the oracle, and what one tool call costs by where it runs.

    .venv/bin/python perf/tool_use_bench.py [--episodes 200] [--calls 300] [--json out.json]

1. **Env throughput**: the oracle plays ``--episodes`` seeded episodes of each family (difficulties
   1-3 mixed); episodes/s and steps/s (parsing, schema validation, execution, messages, rewards).
2. **Cost of one call** (median and p90 of ``--calls`` calls of a trivial tool; each result is
   checked): a local tool (``unit_convert``)
   run ``inline``, in a ``thread``, in a killable worker ``process``; an MCP tool over stdio and over
   streamable HTTP (the test server's ``add``) through `thinkgym.tools.mcp.MCPServer`; and, as the peer, the same MCP calls made
   directly with the ``mcp`` SDK's ``ClientSession.call_tool`` in its own event loop (no thread hop,
   no schema check) — the ratio is what our synchronous, bounded wrapper adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import thinkgym
from thinkgym.envs.tool_use import FAMILIES
from thinkgym.tools import Tool, ToolCall
from thinkgym.tools.builtin import convert_units
from thinkgym.tools.executor import Toolbox
from thinkgym.tools.mcp import MCPServer

SERVER = str(Path(__file__).resolve().parents[1] / "tests" / "tools" / "mcp_server.py")


def _checked(box: Toolbox, name: str, arguments: dict, expected: str) -> None:
    result = box.call(ToolCall(name, arguments, "c"))
    if result.content != expected:
        raise RuntimeError(f"{name}{arguments} gave {result.content!r}, expected {expected!r}")


def bench_env(episodes: int) -> dict[str, dict[str, float]]:
    out = {}
    for family in FAMILIES:
        env = thinkgym.make("thinkgym/ToolUse-v0", families=family)
        steps, total = 0, 0.0
        began = time.perf_counter()
        for seed in range(episodes):
            env.reset(seed=seed)
            done = False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.oracle_action())
                total += reward
                steps += 1
                done = terminated or truncated
        elapsed = time.perf_counter() - began
        out[family] = {"episodes_per_s": episodes / elapsed, "steps_per_s": steps / elapsed, "mean_return": total / episodes}
        env.close()
    return out


def _times(fn, n: int) -> dict[str, float]:
    fn()  # warm
    samples = []
    for i in range(n):
        began = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p90_ms": samples[int(0.9 * (len(samples) - 1))]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_http() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, SERVER, "http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the MCP HTTP server did not start")


async def _sdk_calls(transport, n: int) -> list[float]:
    from mcp import ClientSession

    async with transport as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            await session.call_tool("add", {"a": 1, "b": 2})
            samples = []
            for i in range(n):
                began = time.perf_counter()
                await session.call_tool("add", {"a": i, "b": 2})
                samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return samples


def _sdk(kind: str, target: str, n: int) -> dict[str, float]:
    if kind == "stdio":
        from mcp.client.stdio import StdioServerParameters, stdio_client

        with open(os.devnull, "w") as errlog:
            samples = asyncio.run(_sdk_calls(stdio_client(StdioServerParameters(command=sys.executable, args=[SERVER, "stdio"]), errlog=errlog), n))
    else:
        from mcp.client import streamable_http

        connect = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client
        samples = asyncio.run(_sdk_calls(connect(target), n))
    return {"median_ms": statistics.median(samples), "p90_ms": samples[int(0.9 * (len(samples) - 1))]}


def bench_calls(n: int) -> dict[str, dict[str, float]]:
    out = {}
    # convert_units: a trivial tool a worker process can import by name (a function of this script could not)
    for isolation in ("inline", "thread", "process"):
        box = Toolbox([Tool.from_function(convert_units, isolation=isolation)])
        out[f"local {isolation}"] = _times(lambda i=0, box=box: _checked(box, "convert_units", {"value": i, "from_unit": "km", "to_unit": "m"}, str(1000 * i)), n)
    process, url = _start_http()
    try:
        for kind, server in (("stdio", MCPServer.stdio([sys.executable, SERVER, "stdio"])), ("http", MCPServer.http(url))):
            with server:
                box = Toolbox(server.tools())
                out[f"mcp {kind} (thinkgym)"] = _times(lambda i=0, box=box: _checked(box, "add", {"a": i, "b": 2}, str(i + 2)), n)
            out[f"mcp {kind} (sdk direct)"] = _sdk(kind, url, n)
    finally:
        process.terminate()
        process.wait(10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    env = bench_env(args.episodes)
    calls = bench_calls(args.calls)
    load_after = os.getloadavg()[0]
    print(f"load average (1 min): {load_before:.1f} before, {load_after:.1f} after")
    print("\nToolUse-v0, oracle, difficulty 1-3 mixed")
    for family, row in env.items():
        print(f"  {family:<11} {row['episodes_per_s']:8.1f} episodes/s {row['steps_per_s']:8.1f} steps/s  mean return {row['mean_return']:.3f}")
    print("\nOne call (local: unit_convert; MCP: add)")
    for name, row in calls.items():
        print(f"  {name:<24} median {row['median_ms']:7.3f} ms   p90 {row['p90_ms']:7.3f} ms")
    for kind in ("stdio", "http"):
        ours, sdk = calls[f"mcp {kind} (thinkgym)"]["median_ms"], calls[f"mcp {kind} (sdk direct)"]["median_ms"]
        print(f"  mcp {kind}: thinkgym / sdk direct = {ours / sdk:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"env": env, "calls": calls, "load": [load_before, load_after]}, indent=1))


if __name__ == "__main__":
    main()
