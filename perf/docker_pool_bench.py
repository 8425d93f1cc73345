"""Per-job cost of the docker sandbox: warm pool vs one exec per job vs one ``docker run`` per job.

The peer approach people reach for is ``docker run --rm`` per program (same hardening: no
network, read-only root, caps dropped, limits). Our backend keeps a warm pool of containers with a
supervisor that forks per job (``mode="serve"``, the default); ``mode="exec"`` starts a fresh
supervisor with one ``docker exec`` per job. Same small program in all three, measured one job at
a time (latency), then the pool with 2 jobs in flight (throughput).

    .venv/bin/python perf/docker_pool_bench.py [--jobs 200] [--run-jobs 20]
    .venv/bin/python perf/docker_pool_bench.py --soak 10000   # leak check, see soak()
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time

PROGRAM = """\
def add(a, b):
    return a + b

assert add(2, 3) == 5
assert add(-1, 1) == 0
print("ok")
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def row(name: str, latencies: list[float], per_s: float | None = None) -> dict:
    return {"name": name, "median_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * percentile(latencies, 99), "jobs_per_s": per_s, "n": len(latencies)}


def bench_docker_run(client, image: str, n: int) -> dict:
    """The peer: a fresh hardened container per job."""
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        out = client.containers.run(
            image, ["python3", "-I", "-c", PROGRAM], remove=True, network_mode="none", read_only=True,
            user="65534:65534", cap_drop=["ALL"], security_opt=["no-new-privileges"], mem_limit="512m",
            pids_limit=64, tmpfs={"/tmp": "size=16m"},
        )
        latencies.append(time.perf_counter() - start)
        assert out.strip() == b"ok", out
    return row("docker run per job", latencies)


def bench_sandbox(client, mode: str, n: int, throughput: bool) -> dict:
    from thinkgym.sandbox.base import Job
    from thinkgym.sandbox.docker import DockerSandbox

    with DockerSandbox(client=client, pool_size=2, mode=mode) as sandbox:
        sandbox.start()
        latencies = []
        for _ in range(n):
            start = time.perf_counter()
            result = sandbox.run(PROGRAM)
            latencies.append(time.perf_counter() - start)
            assert result.stdout == "ok\n", result
        per_s = None
        if throughput:
            start = time.perf_counter()
            results = sandbox.map([Job.of(PROGRAM) for _ in range(n)], concurrency=2)
            per_s = n / (time.perf_counter() - start)
            assert all(r.stdout == "ok\n" for r in results)
    name = "DockerSandbox warm pool (fork per job)" if mode == "serve" else "DockerSandbox exec per job"
    return row(name, latencies, per_s)


HOSTILE = {
    "fork_bomb": "import os\nwhile True:\n    os.fork()\n",
    "daemon": "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)\nprint('bye')\n",
    "memory_bomb": "x = []\nwhile True:\n    x.append(bytearray(10**7))\n",
    "flood": "while True:\n    print('x' * 4096)\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
    "leave_files": "import os\nfor p in ('/tmp/x', '/dev/shm/x', 'x'):\n    open(p, 'w').write('x' * 1000)\n",
    "kill_supervisor": "import os\nos.kill(os.getppid(), 9)\n",
}


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def _dockerd_pids() -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/comm") as fh:
                    if fh.read().strip() in ("dockerd", "containerd"):
                        found.append(int(name))
            except OSError:
                pass
    return found


def soak(client, n: int, hostile_every: int = 50) -> dict:
    """Run ``n`` jobs (one in ``hostile_every`` hostile), then prove nothing leaked: containers of
    the pool, processes in them, this process's fds, memory (ours and the engine's), bytes written
    to the containers' (read-only) root filesystems."""
    from thinkgym.sandbox.base import Job, Limits
    from thinkgym.sandbox.docker import DockerSandbox

    limits = Limits(wall_s=2.0, memory_mb=128, max_processes=16, max_output_bytes=64_000, max_file_mb=8)
    names = sorted(HOSTILE)
    jobs, expected = [], []
    for i in range(n):
        if hostile_every and i % hostile_every == hostile_every - 1:
            jobs.append(Job.of(HOSTILE[names[(i // hostile_every) % len(names)]], limits=limits))
            expected.append(None)
        else:
            files = {"main.py": "import sys, helper\nprint(helper.f(int(sys.stdin.read())))\n",
                     "helper.py": f"def f(n):\n    return n * n + {i % 7}\n"}
            jobs.append(Job.of(files, stdin=str(i), limits=limits))
            expected.append(f"{i * i + i % 7}\n")

    def snapshot(sandbox) -> dict:
        label = f"org.thinkgym.sandbox.owner={socket.gethostname()}:{os.getpid()}"
        return {
            "containers": len(client.containers.list(all=True, filters={"label": label})),
            "container_processes": len(sandbox.census()),
            "host_fds": len(os.listdir("/proc/self/fd")),
            "host_rss_kb": _rss_kb(os.getpid()),
            "engine_rss_kb": sum(_rss_kb(pid) for pid in _dockerd_pids()),
            # bytes written outside the tmpfs mounts (read-only root: must stay 0)
            "container_rw_bytes": sum(c.get("SizeRw") or 0 for c in client.api.containers(all=True, size=True, filters={"label": label})),
        }

    with DockerSandbox(client=client, pool_size=2) as sandbox:
        sandbox.start()
        sandbox.map(jobs[:200])  # warm-up: first connections, first recycles
        before = snapshot(sandbox)
        start = time.perf_counter()
        wrong = 0
        memory = []
        for chunk in range(0, n, 1000):
            results = sandbox.map(jobs[chunk : chunk + 1000], concurrency=2)
            for result, want in zip(results, expected[chunk : chunk + 1000], strict=True):
                if want is not None and (result.stdout != want or not result.ok):
                    wrong += 1
                if want is None and result.ok and result.stdout.strip() not in ("bye", ""):
                    wrong += 1
            now = snapshot(sandbox)
            memory.append((now["host_rss_kb"], now["engine_rss_kb"]))
        elapsed = time.perf_counter() - start
        time.sleep(1.0)
        after = snapshot(sandbox)
    left = len(client.containers.list(all=True, filters={"label": f"org.thinkgym.sandbox.owner={socket.gethostname()}:{os.getpid()}"}))
    return {"jobs": n, "seconds": elapsed, "jobs_per_s": n / elapsed, "wrong": wrong, "before": before,
            "after": after, "host_and_engine_rss_kb_per_1000": memory, "containers_left_after_close": left}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200, help="jobs per sandbox mode")
    parser.add_argument("--run-jobs", type=int, default=20, help="jobs for the docker-run-per-job peer")
    parser.add_argument("--soak", type=int, default=0, help="run the leak soak with this many jobs instead")
    args = parser.parse_args(argv)

    from thinkgym.sandbox import docker_engine

    client = docker_engine.setup()
    if args.soak:
        report = soak(client, args.soak)
        print(json.dumps(report, indent=2))
        b, a = report["before"], report["after"]
        leaks = {k: (b[k], a[k]) for k in ("containers", "container_processes", "host_fds", "container_rw_bytes") if a[k] > b[k]}
        ok = not leaks and report["wrong"] == 0 and report["containers_left_after_close"] == 0
        print("soak:", "no leaks" if ok else f"LEAKS or wrong results: {leaks}, wrong={report['wrong']}")
        return 0 if ok else 1
    rows = [
        bench_docker_run(client, docker_engine.DEFAULT_IMAGE, args.run_jobs),
        bench_sandbox(client, "exec", max(20, args.jobs // 4), throughput=False),
        bench_sandbox(client, "serve", args.jobs, throughput=True),
    ]
    reference = rows[0]["median_ms"]
    print(f"{'per job':40s} {'median ms':>10s} {'p99 ms':>8s} {'jobs/s (2 in flight)':>21s} {'vs docker run':>14s}")
    for r in rows:
        per_s = f"{r['jobs_per_s']:.1f}" if r["jobs_per_s"] else "-"
        print(f"{r['name']:40s} {r['median_ms']:10.1f} {r['p99_ms']:8.1f} {per_s:>21s} {reference / r['median_ms']:13.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
