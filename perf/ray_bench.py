"""The ray backend against the local one: overhead per job, throughput, scaling from 1 to 2 workers.

One run measures, on this machine:

- **overhead per job**: the same trivial job (``pass``) run one after another ``--jobs`` times
  through the local sandbox and through a one-worker ray sandbox -> median and p99 ms of each,
  and the difference (what a trip through Ray adds to a job);
- **throughput** with 1 and 2 workers (local: ``map`` with concurrency 1 and 2; ray: 1 and 2
  actors on a single-node Ray): jobs/s (a small CPU-bound job), HumanEval verifications/s (the
  164 canonical solutions through `CodeVerifier`, whose jobs go through the sandbox) and math
  verifications/s (`verify_batch(MathVerifier(), ..., backend="ray")`, chunks to actors);
- the same throughput on a **simulated two-node cluster** (`ray.cluster_utils.Cluster`, one CPU
  per node, one worker per node);
- the same again with each worker's processes pinned to a CPU of its own (`pin_workers`: a node
  of one CPU, as separate machines would be), on one node and on the simulated cluster; and
  HumanEval through ``verify_batch(CodeVerifier(), ..., backend="ray")`` (actors build the jobs);
- **scaling efficiency** 1 -> 2 workers = throughput(2) / (2 x throughput(1)), free and pinned;
- the **driver's ceiling**: no-op calls per second through the actor pool (what one driver can
  dispatch at all, whatever the cluster's size).

    .venv/bin/python perf/ray_bench.py                      # everything, printed as markdown
    .venv/bin/python perf/ray_bench.py --json ray.json --jobs 300

The load of the machine (``uptime``) is recorded before and after: on a shared machine the
figures say as much about the neighbours as about Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

CPU_JOB = "s = 0\nfor i in range(200_000):\n    s += i * i\nprint(s)"


def say(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"median_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * p99}


def sequential_latency(box, jobs: int) -> dict[str, float]:
    from thinkgym.sandbox import Job

    job = Job.of("pass")
    for _ in range(10):  # warm
        box.run_job(job)
    times = []
    for _ in range(jobs):
        start = time.perf_counter()
        result = box.run_job(job)
        times.append(time.perf_counter() - start)
        assert result.ok, result
    return percentiles(times)


def jobs_per_s(box, count: int, concurrency: int | None = None) -> float:
    from thinkgym.sandbox import Job

    jobs = [Job.of(CPU_JOB) for _ in range(count)]
    box.map(jobs[: max(2, count // 10)], concurrency=concurrency)  # warm
    start = time.perf_counter()
    results = box.map(jobs, concurrency=concurrency)
    elapsed = time.perf_counter() - start
    assert all(r.ok for r in results), [r for r in results if not r.ok][:1]
    return count / elapsed


def humaneval() -> tuple[list[str], list]:
    from thinkgym.envs.code import load_humaneval

    problems = load_humaneval()
    return [f"```python\n{p.answer}\n```" for p in problems], problems


def humaneval_per_s(box, cap: int | None = None) -> float:
    from thinkgym.sandbox.base import Sandbox
    from thinkgym.verifiers.code import CodeVerifier

    completions, problems = humaneval()

    class Capped(Sandbox):  # the local sandbox's map at a fixed concurrency
        def __init__(self, inner):
            super().__init__()
            self.inner, self.name = inner, getattr(inner, "name", None)

        def run_job(self, job):
            return self.inner.run_job(job)

        def available_layers(self):
            return self.inner.available_layers()

        def map(self, jobs, *, concurrency=None):
            return self.inner.map(jobs, concurrency=cap)

    verifier = CodeVerifier(Capped(box) if cap else box)
    verifier.verify_batch(completions[:32], problems[:32])  # warm (every worker's zygote holds the harness after this)
    start = time.perf_counter()
    rewards = verifier.verify_batch(completions, problems)
    elapsed = time.perf_counter() - start
    passed = sum(r.score == 1.0 for r in rewards)
    assert passed >= len(problems) - 2, f"only {passed} of {len(problems)} canonical solutions passed"
    return len(problems) / elapsed


def math_pairs(count: int, offset: int = 0) -> tuple[list[str], list]:
    """``count`` distinct pairs (the math verifier caches answers it has seen, so no pair repeats):
    fractions and polynomials, the right ones written differently from the gold, every other one
    wrong."""
    from thinkgym.core import Problem

    completions, problems = [], []
    for i in range(offset, offset + count):
        a, b = i + 2, i + 3
        if i % 4 < 2:
            gold, right, wrong = f"\\frac{{{a}}}{{{b}}}", f"\\frac{{{2 * a}}}{{{2 * b}}}", f"\\frac{{{a + 1}}}{{{b}}}"
        else:
            gold, right, wrong = f"{a}x^2 + {b}", f"{b} + {a}x^2", f"{a}x^2 + {b + 1}"
        problems.append(Problem(f"bench/{i}", "Simplify.", gold))
        completions.append(f"The answer is $\\boxed{{{right if i % 2 == 0 else wrong}}}$.")
    return completions, problems


def math_per_s(count: int, pool=None) -> float:
    from thinkgym.verifiers import MathVerifier, verify_batch

    completions, problems = math_pairs(count)
    verifier = MathVerifier()
    backend = "ray" if pool is not None else "local"
    # Steady state, as in a long run: half a batch of other pairs first (nothing measured is
    # cached), enough for every worker's sympy to have warmed up (64 pairs were not: the first
    # measured batch then ran 10-25 % slower than the next one).
    warm_c, warm_p = math_pairs(max(64, count // 2), offset=10**6)
    verify_batch(verifier, warm_c, warm_p, backend=backend, pool=pool)
    start = time.perf_counter()
    rewards = verify_batch(verifier, completions, problems, backend=backend, pool=pool)
    elapsed = time.perf_counter() - start
    expected = sum((r.score > 0) == (i % 2 == 0) for i, r in enumerate(rewards))
    if expected < count:  # e.g. symbolic comparisons that ran out of time on a loaded machine
        say(f"math: {count - expected} of {count} verdicts not the expected ones")
    UNEXPECTED.append(count - expected)
    return count / elapsed


#: math verdicts that were not the expected ones, per measurement (in order)
UNEXPECTED: list[int] = []


def dispatch_per_s(count: int) -> float:
    """No-op calls per second through an `ActorPool` of 2 actors: the driver's own ceiling."""
    import functools

    from thinkgym.sandbox.ray_pool import ActorPool

    with ActorPool(functools.partial(dict), workers=2, prefetch=8) as pool:
        pool.wait_ready()
        [f.result() for f in [pool.submit("get", "x", on_failure=str) for _ in range(200)]]  # warm
        start = time.perf_counter()
        futures = [pool.submit("get", "x", on_failure=str) for _ in range(count)]
        [f.result() for f in futures]
        return count / (time.perf_counter() - start)


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    children.setdefault(int(fh.read().rsplit(b")", 1)[1].split()[1]), []).append(int(name))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], ()))
    return found


def pin_workers(actor_pool) -> None:
    """Confine each worker's processes (every thread of the actor, its sandbox's zygote and jobs,
    its math worker pool) to a CPU of its own, as if each worker were a node of one CPU: workers on
    distinct nodes (or, on one node, distinct workers) get distinct CPUs. What they start later
    inherits the CPU. The driver and Ray's own processes stay free to run anywhere."""
    cpus = sorted(os.sched_getaffinity(0))
    workers = sorted(actor_pool.workers(), key=lambda w: w["number"])
    by_node = len({w["node"] for w in workers}) > 1
    places: dict[str, int] = {}
    for index, worker in enumerate(workers):
        key = worker["node"] if by_node else str(index)
        cpu = cpus[places.setdefault(key, len(places)) % len(cpus)]
        for pid in _descendants(worker["pid"]):
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                try:
                    os.sched_setaffinity(int(tid), {cpu})
                except OSError:
                    pass


def ray_throughput(workers: int, count: int, math_count: int, address: str | None = None, pin: bool = False) -> dict[str, float]:
    from thinkgym.sandbox import make_sandbox
    from thinkgym.verifiers import RayVerifierPool

    out = {}
    with make_sandbox("ray", address=address, workers=workers) as box:
        box.pool.wait_ready()
        if pin:
            box.run("pass")
            pin_workers(box.pool)
        out["jobs_per_s"] = jobs_per_s(box, count)
        out["humaneval_per_s"] = humaneval_per_s(box)
    with RayVerifierPool(address=address, workers=workers, chunk_size=16) as pool:
        pool.pool.wait_ready()
        if pin:
            pin_workers(pool.pool)
        out["math_per_s"] = math_per_s(math_count, pool)
        out["humaneval_batch_per_s"] = humaneval_batch_per_s(pool)
    return out


def humaneval_batch_per_s(pool) -> float:
    """HumanEval through `verify_batch(CodeVerifier(), ..., backend="ray")`: each actor verifies
    whole chunks with a verifier and a sandbox of its own (the driver only ships the chunks)."""
    from thinkgym.verifiers import verify_batch
    from thinkgym.verifiers.code import CodeVerifier

    completions, problems = humaneval()
    verifier = CodeVerifier()
    verify_batch(verifier, completions[:32], problems[:32], backend="ray", pool=pool)  # warm
    start = time.perf_counter()
    rewards = verify_batch(verifier, completions, problems, backend="ray", pool=pool)
    elapsed = time.perf_counter() - start
    passed = sum(r.score == 1.0 for r in rewards)
    assert passed >= len(problems) - 2, f"only {passed} of {len(problems)} canonical solutions passed"
    return len(problems) / elapsed


def local_throughput(concurrency: int, count: int) -> dict[str, float]:
    from thinkgym.sandbox import make_sandbox

    with make_sandbox("local") as box:
        return {"jobs_per_s": jobs_per_s(box, count, concurrency), "humaneval_per_s": humaneval_per_s(box, concurrency)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200, help="sequential jobs for the overhead")
    parser.add_argument("--batch", type=int, default=200, help="jobs per throughput batch")
    parser.add_argument("--math", type=int, default=800, help="math verifications per throughput batch")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    import ray

    from thinkgym.sandbox import make_sandbox

    report: dict = {"load_before": load(), "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    report["math_count"] = args.math
    report["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    temp_dir = tempfile.mkdtemp(prefix="tgrb", dir="/tmp")
    os.makedirs(os.path.join(temp_dir, "ray"))
    os.environ["RAY_TMPDIR"] = temp_dir

    say("local: overhead, throughput")
    with make_sandbox("local") as local:
        report["overhead_local"] = sequential_latency(local, args.jobs)
    report["local"] = {str(c): local_throughput(c, args.batch) for c in (1, 2)}
    report["local"]["1"]["math_per_s"] = math_per_s(args.math)

    say("ray, one node: overhead, 1 and 2 workers")
    ray.init(num_cpus=2, _temp_dir=temp_dir, include_dashboard=False, log_to_driver=False, logging_level="warning")
    try:
        with make_sandbox("ray", workers=1) as box:
            box.pool.wait_ready()
            report["overhead_ray"] = sequential_latency(box, args.jobs)
        report["dispatch_per_s"] = dispatch_per_s(2000)
        report["ray"] = {str(w): ray_throughput(w, args.batch, args.math) for w in (1, 2)}
        report["ray_pinned"] = {str(w): ray_throughput(w, args.batch, args.math, pin=True) for w in (1, 2)}
    finally:
        ray.shutdown()

    from ray.cluster_utils import Cluster

    say("ray, simulated two nodes")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "temp_dir": temp_dir, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False, logging_level="warning")
    try:
        report["two_nodes"] = ray_throughput(2, args.batch, args.math)
        report["two_nodes_pinned"] = ray_throughput(2, args.batch, args.math, pin=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
    report["load_after"] = load()
    report["math_unexpected_verdicts"] = list(UNEXPECTED)  # local, ray 1, ray 2, two nodes
    for kind in ("jobs_per_s", "humaneval_per_s", "math_per_s", "humaneval_batch_per_s"):
        report.setdefault("scaling", {})[kind] = report["ray"]["2"][kind] / (2 * report["ray"]["1"][kind])
        report.setdefault("scaling_pinned", {})[kind] = report["ray_pinned"]["2"][kind] / (2 * report["ray_pinned"]["1"][kind])
        report.setdefault("scaling_two_nodes_pinned", {})[kind] = report["two_nodes_pinned"][kind] / (2 * report["ray_pinned"]["1"][kind])
    print(render(report))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)


def render(r: dict) -> str:
    o_l, o_r = r["overhead_local"], r["overhead_ray"]
    lines = [
        f"{r['date']}, commit {r['commit']}, {r['cpus']} CPUs; load before: `{r['load_before']}`; after: `{r['load_after']}`",
        "",
        "| overhead per job (`pass`, one after another) | median ms | p99 ms |",
        "|---|---|---|",
        f"| local sandbox | {o_l['median_ms']:.2f} | {o_l['p99_ms']:.2f} |",
        f"| ray sandbox (1 actor) | {o_r['median_ms']:.2f} | {o_r['p99_ms']:.2f} |",
        f"| ray adds | {o_r['median_ms'] - o_l['median_ms']:.2f} | {o_r['p99_ms'] - o_l['p99_ms']:.2f} |",
        "",
        f"Driver ceiling: {r['dispatch_per_s']:.0f} no-op calls/s through the actor pool (2 actors).",
        "",
        "| throughput | jobs/s | HumanEval verifications/s (sandbox jobs) | math verifications/s | HumanEval verifications/s (`verify_batch`) |",
        "|---|---|---|---|---|",
    ]
    rows = [("local, 1 at a time", r["local"]["1"]), ("local, 2 at a time", r["local"]["2"]),
            ("ray, 1 worker", r["ray"]["1"]), ("ray, 2 workers", r["ray"]["2"]),
            ("ray, simulated 2 nodes x 1 worker", r["two_nodes"]),
            ("ray, 1 worker on 1 CPU", r["ray_pinned"]["1"]), ("ray, 2 workers on 1 CPU each", r["ray_pinned"]["2"]),
            ("ray, simulated 2 nodes x 1 worker on 1 CPU each", r["two_nodes_pinned"])]  # fmt: skip
    for name, row in rows:
        math = f"{row['math_per_s']:.0f}" if "math_per_s" in row else "–"
        batch = f"{row['humaneval_batch_per_s']:.1f}" if "humaneval_batch_per_s" in row else "–"
        lines.append(f"| {name} | {row['jobs_per_s']:.1f} | {row['humaneval_per_s']:.1f} | {math} | {batch} |")
    if any(r.get("math_unexpected_verdicts") or []):
        lines += ["", f"Math verdicts not the expected ones (local, ray 1, ray 2, two nodes; of {r.get('math_count')} each): "
                      f"{r['math_unexpected_verdicts']} — symbolic comparisons that ran out of time on the loaded machine."]
    for key, what in (("scaling", "ray 1 -> 2 workers, every process free to use both CPUs"),
                      ("scaling_pinned", "ray 1 -> 2 workers, each worker's processes on a CPU of its own"),
                      ("scaling_two_nodes_pinned", "ray 1 worker -> simulated 2 nodes, each worker's processes on a CPU of its own")):  # fmt: skip
        s = r[key]
        lines += ["", f"Scaling efficiency, {what}: jobs {s['jobs_per_s']:.2f}, HumanEval (sandbox jobs) {s['humaneval_per_s']:.2f}, "
                      f"math {s['math_per_s']:.2f}, HumanEval (`verify_batch`) {s['humaneval_batch_per_s']:.2f} (target >= 0.8)."]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
