"""Soak the local sandbox: many jobs (10,000 by default), then prove nothing leaked.

Measures, before and after (and memory every 1,000 jobs): processes below this process (zygote,
warm job processes, jobs), open file descriptors of this process and of the zygote, entries in the
host's /tmp and /dev/shm, host mounts, this process's and the zygote's resident memory, and the
sandbox's cgroups (removed on close). The mix is mostly ordinary jobs (stdin, files, output checked
byte for byte) with a share of hostile ones (fork bombs, daemons, memory bombs, floods, crashes).

The traffic is mixed, as a trainer or an eval makes it: each batch is cut into chunks, and
``--callers`` threads take chunks and run each through one of ``run`` (one job after another),
``map`` (``--concurrency`` at a time, or one at a time), ``arun`` (asyncio, gathered) or
``submit`` (all started, then their results) — so batching and single runs alternate, from
several threads at once (``--mix run`` runs every job through ``run_job`` from a thread pool).

    .venv/bin/python perf/sandbox_soak.py --jobs 10000 --concurrency 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from thinkgym.sandbox import Job, Limits
from thinkgym.sandbox.local import LocalSandbox

LIMITS = Limits(wall_s=2.0, memory_mb=128, max_processes=16, max_output_bytes=64_000, max_file_mb=8)

HOSTILE = {
    "fork_bomb": "import os\nwhile True:\n    os.fork()\n",
    "daemon": "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)\nprint('bye')\n",
    "memory_bomb": "x = []\nwhile True:\n    x.append(bytearray(10**7))\n",
    "flood": "while True:\n    print('x' * 4096)\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
    "leave_files": "import os\nfor p in ('/tmp/x', '/dev/shm/x', 'x'):\n    open(p, 'w').write('x' * 1000)\n",
}


def ordinary_job(i: int) -> tuple[Job, str]:
    code = "import sys, helper\nprint(helper.f(int(sys.stdin.read())))\n"
    files = {"main.py": code, "helper.py": f"def f(n):\n    return n * n + {i % 7}\n"}
    return Job.of(files, stdin=str(i), limits=LIMITS), f"{i * i + i % 7}\n"


def make_jobs(n: int, hostile_every: int) -> list[tuple[Job, str | None]]:
    jobs: list[tuple[Job, str | None]] = []
    names = sorted(HOSTILE)
    for i in range(n):
        if hostile_every and i % hostile_every == hostile_every - 1:
            jobs.append((Job.of(HOSTILE[names[(i // hostile_every) % len(names)]], limits=LIMITS), None))
        else:
            jobs.append(ordinary_job(i))
    return jobs


def descendants(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    children.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    count, todo = 0, [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            count += 1
            todo.append(child)
    return count


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _entries(directory: str) -> dict[str, int]:
    """name -> owner uid of each entry (other programs on the machine make temp files too)."""
    found = {}
    for name in os.listdir(directory):
        try:
            found[name] = os.lstat(os.path.join(directory, name)).st_uid
        except OSError:
            pass
    return found


def _host_mounts() -> int:
    """Mounts in this process's namespace, leaving out Docker's (other programs use the engine)."""
    with open("/proc/self/mountinfo") as fh:
        points = [line.split()[4] for line in fh]
    return sum(1 for p in points if not p.startswith(("/var/lib/docker", "/run/docker")))


def snapshot(sandbox: LocalSandbox) -> dict:
    zygote = sandbox._zygote.proc.pid if sandbox._zygote else None
    # let the warm pool settle (two equal readings), then take in every warm job process it made
    last, now = -1, len(sandbox.census())
    for _ in range(100):
        if now == last:
            break
        time.sleep(0.2)
        last, now = now, len(sandbox.census())
    with sandbox._zygote.lock:
        while sandbox._zygote._receive(block=False):
            pass
        warm_sockets = len(sandbox._zygote.ready)
    return {
        "job_processes": now,
        "all_processes": descendants(os.getpid()),
        "warm_sockets": warm_sockets,
        "host_fds": fds(os.getpid()) - 4 * warm_sockets,  # socket, 2 pipes, pidfd per warm job
        "zygote_fds": fds(zygote) if zygote else None,
        "tmp_entries": _entries("/tmp"),
        "shm_entries": _entries("/dev/shm"),
        "mounts": _host_mounts(),
        "host_rss_kb": rss_kb(os.getpid()),
        "zygote_rss_kb": rss_kb(zygote) if zygote else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--hostile-every", type=int, default=50, help="one hostile job in N (0: none)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--json", help="write the summary here too")
    parser.add_argument("--mix", choices=("mixed", "run"), default="mixed")
    parser.add_argument("--callers", type=int, default=3, help="threads calling the sandbox at once (mixed)")
    parser.add_argument("--chunk", type=int, default=40, help="jobs per chunk of one kind of call (mixed)")
    args = parser.parse_args()
    modes: dict[str, int] = {}

    sandbox = LocalSandbox()
    sandbox.run("pass")  # start the zygote and its warm pool
    before = snapshot(sandbox)
    jobs = make_jobs(args.jobs, args.hostile_every)
    wrong: list[str] = []
    latencies: list[float] = []
    memory_trace: list[tuple[int, int, int]] = []
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    for lo in range(0, len(jobs), args.batch):
        batch = jobs[lo : lo + args.batch]

        done = run_batch(sandbox, [job for job, _ in batch], args, modes)
        for (_job, expected), (result, seconds) in zip(batch, done, strict=True):
            if seconds is not None:
                latencies.append(seconds)
            if result.error is not None:
                wrong.append(f"sandbox error: {result.error}")
            elif expected is not None and (result.stdout != expected or not result.ok):
                wrong.append(f"wrong result: {result}")
            kind = "ok" if result.ok else "timeout" if result.timed_out else "oom" if result.out_of_memory else "failed"
            outcomes[kind] = outcomes.get(kind, 0) + 1
        zygote = sandbox._zygote.proc.pid
        memory_trace.append((lo + len(batch), rss_kb(os.getpid()), rss_kb(zygote)))
        print(f"{lo + len(batch):>6} jobs  {time.monotonic() - started:7.1f} s  host rss {memory_trace[-1][1]} kB"
              f"  zygote rss {memory_trace[-1][2]} kB  errors {len(wrong)}", flush=True)
    elapsed = time.monotonic() - started
    after = snapshot(sandbox)
    zygote_pid = sandbox._zygote.proc.pid
    cgroup_dirs_before_close = _our_cgroups(zygote_pid)
    hierarchies = max(1, _our_cgroup_tops(zygote_pid))  # memory, pids (and cpu) hierarchies
    slots_used = max(0, cgroup_dirs_before_close // hierarchies - 1)
    sandbox.close()
    cgroup_dirs_after_close = _our_cgroups(zygote_pid)
    leftover_after_close = descendants(os.getpid())

    uid_base = sandbox._config["uid_base"]
    sandbox_owned = sorted(
        name
        for key in ("tmp_entries", "shm_entries")
        for name, uid in after[key].items()
        if name not in before[key] and uid_base <= uid < uid_base + 100_000
    )
    latencies.sort()
    summary = {
        "jobs": args.jobs,
        "concurrency": args.concurrency,
        "hostile_share": (1 / args.hostile_every) if args.hostile_every else 0,
        "seconds": round(elapsed, 1),
        "jobs_per_s": round(args.jobs / elapsed, 1),
        "latency_ms_median": round(statistics.median(latencies) * 1e3, 2),
        "latency_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1e3, 2),
        "traffic": args.mix,
        "jobs_per_call_kind": modes,
        "outcomes": outcomes,
        "wrong_results": len(wrong),
        "job_processes_before_after": (before["job_processes"], after["job_processes"]),
        "warm_jobs_before_after": (before["warm_sockets"], after["warm_sockets"]),
        "all_processes_before_after": (before["all_processes"], after["all_processes"]),
        "processes_after_close": leftover_after_close,
        "host_fds_before_after": (before["host_fds"], after["host_fds"]),
        "zygote_fds_before_after": (before["zygote_fds"], after["zygote_fds"]),
        "slots_used": slots_used,
        "new_tmp_entries_any_owner": len(set(after["tmp_entries"]) - set(before["tmp_entries"])),
        "new_shm_entries_any_owner": len(set(after["shm_entries"]) - set(before["shm_entries"])),
        "new_temp_entries_owned_by_sandbox_uids": sandbox_owned,
        "mounts_before_after": (before["mounts"], after["mounts"]),
        "host_rss_kb_first_last": (memory_trace[0][1], memory_trace[-1][1]),
        "zygote_rss_kb_first_last": (memory_trace[0][2], memory_trace[-1][2]),
        "cgroup_dirs_open_then_after_close": (cgroup_dirs_before_close, cgroup_dirs_after_close),
    }
    print(json.dumps(summary, indent=1))
    for line in wrong[:5]:
        print(line[:500])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(summary, fh, indent=1)
    leaked = (
        wrong
        or after["job_processes"] > before["job_processes"]
        or leftover_after_close
        or after["host_fds"] > before["host_fds"]
        # per slot the zygote keeps a dir fd per cgroup hierarchy and a pidfd of its netns holder
        or (after["zygote_fds"] or 0) > (before["zygote_fds"] or 0) + (hierarchies + 1) * slots_used
        or sandbox_owned
        or after["mounts"] != before["mounts"]
        or cgroup_dirs_after_close
    )
    return 1 if leaked else 0


def run_batch(sandbox: LocalSandbox, jobs: list[Job], args: argparse.Namespace, modes: dict[str, int]) -> list:
    """(result, latency or None) per job, in order, through the kind of traffic ``args`` names."""
    from concurrent.futures import ThreadPoolExecutor

    out: list = [None] * len(jobs)
    if args.mix == "run":

        def timed(i: int) -> None:
            t0 = time.perf_counter()
            out[i] = (sandbox.run_job(jobs[i]), time.perf_counter() - t0)

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(timed, range(len(jobs))))
        modes["run"] = modes.get("run", 0) + len(jobs)
        return out
    kinds = ("run", "map", "arun", "submit", "map1")
    chunks = [(kinds[n % len(kinds)], list(range(lo, min(lo + args.chunk, len(jobs)))))
              for n, lo in enumerate(range(0, len(jobs), args.chunk))]  # fmt: skip

    def one_chunk(chunk: tuple[str, list[int]]) -> None:
        kind, idx = chunk
        modes[kind] = modes.get(kind, 0) + len(idx)
        if kind == "run":
            for i in idx:
                t0 = time.perf_counter()
                out[i] = (sandbox.run_job(jobs[i]), time.perf_counter() - t0)
        elif kind in ("map", "map1"):
            results = sandbox.map([jobs[i] for i in idx], concurrency=1 if kind == "map1" else args.concurrency)
            for i, result in zip(idx, results, strict=True):
                out[i] = (result, None)
        elif kind == "arun":
            import asyncio

            async def gather() -> list:
                return await asyncio.gather(*(sandbox.arun(jobs[i].files, stdin=jobs[i].stdin, limits=jobs[i].limits,
                                                           entry=jobs[i].entry) for i in idx))  # fmt: skip

            for i, result in zip(idx, asyncio.run(gather()), strict=True):
                out[i] = (result, None)
        else:
            started = [sandbox.submit(jobs[i]) for i in idx]
            for i, job in zip(idx, started, strict=True):
                out[i] = (job.result(), None)

    with ThreadPoolExecutor(args.callers) as pool:
        list(pool.map(one_chunk, chunks))
    return out


def _our_cgroup_tops(zygote_pid: int) -> int:
    """How many cgroup hierarchies hold the zygote's ``thinkgym-<pid>`` directory."""
    count = 0
    with open("/proc/self/cgroup") as fh:
        for line in fh.read().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else ["unified"]:
                count += os.path.isdir(f"/sys/fs/cgroup/{controller}{path}/thinkgym-{zygote_pid}")
    return count


def _our_cgroups(zygote_pid: int) -> int:
    """Cgroup directories the sandbox's zygote made under this process's cgroups (slots included)."""
    count = 0
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return 0
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else ["unified"]:
            base = f"/sys/fs/cgroup/{controller}{path}"
            if not os.path.isdir(base):
                continue
            for name in os.listdir(base):
                if name == f"thinkgym-{zygote_pid}":
                    count += 1 + sum(1 for s in os.listdir(os.path.join(base, name)) if s.startswith("slot-"))
    return count


if __name__ == "__main__":
    sys.exit(main())
