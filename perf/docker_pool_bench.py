"""Per-job cost of the docker sandbox: warm pool vs one exec per job vs one ``docker run`` per job.

The peer approach people reach for is ``docker run --rm`` per program (same hardening: no
network, read-only root, caps dropped, limits). Our backend keeps a warm pool of containers with a
supervisor that forks per job (``mode="serve"``, the default); ``mode="exec"`` starts a fresh
supervisor with one ``docker exec`` per job. Same small program in all three, measured one job at
a time (latency), then the pool with 2 jobs in flight (throughput).

    .venv/bin/python perf/docker_pool_bench.py [--jobs 200] [--run-jobs 20]
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200, help="jobs per sandbox mode")
    parser.add_argument("--run-jobs", type=int, default=20, help="jobs for the docker-run-per-job peer")
    args = parser.parse_args(argv)

    from thinkgym.sandbox import docker_engine

    client = docker_engine.setup()
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
