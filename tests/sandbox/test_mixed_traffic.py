"""A sandbox must keep working whatever mix of calls reaches it: `map` then `run`, threads, asyncio.

The bug this guards against: a zygote started from `map`'s worker thread was tied to that thread
(PR_SET_PDEATHSIG follows the parent *thread*), so it died when the pool's thread ended, and the
sandbox never restarted it (97 of 100 `run` calls after one `map` failed).
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import threading
import time

import pytest

from thinkgym.sandbox import Job, Limits, make_sandbox
from thinkgym.sandbox.local import LocalSandbox

pytestmark = pytest.mark.timeout(240)

# Jobs here take milliseconds: a job that waits seconds for a warm process or for its result to be
# read (a submitted one) must still report what it did, never a timeout.

QUICK = Limits(wall_s=5.0, memory_mb=256)


def _failures(results, expected) -> list[str]:
    return [f"{want!r} -> {r}" for r, want in zip(results, expected, strict=True) if not r.ok or r.stdout != want]


def test_run_after_map_from_a_fresh_sandbox():
    """The issue's reproduction: every job of the `map` and every `run` after it succeeds."""
    with make_sandbox("local") as sandbox:
        results = sandbox.map([Job(files={"main.py": "print(1)"})] * 300, concurrency=1)
        assert _failures(results, ["1\n"] * 300) == []
        runs = [sandbox.run("print(1)") for _ in range(100)]
        assert _failures(runs, ["1\n"] * 100) == []


def test_a_zygote_started_by_a_thread_outlives_the_thread():
    with LocalSandbox() as sandbox:
        box: list = []
        thread = threading.Thread(target=lambda: box.append(sandbox.run("print('from a thread')")))
        thread.start()
        thread.join()
        assert box[0].stdout == "from a thread\n"
        zygote = sandbox._zygote
        time.sleep(0.5)  # (the old zygote got SIGTERM as the thread ended and left its loop)
        again = sandbox.run("print('main')")
        assert again.ok and again.stdout == "main\n", again
        assert sandbox._zygote is zygote, "the zygote was restarted: it had died with the thread"


def test_a_zygote_that_stops_serving_is_restarted():
    """A zygote still alive but no longer serving (it left its loop) is replaced, not used again."""
    with LocalSandbox() as sandbox:
        assert sandbox.run("print(1)").ok
        zygote = sandbox._zygote
        os.kill(zygote.proc.pid, signal.SIGTERM)  # it leaves its loop, then cleans up for a while
        results = [sandbox.run(f"print({i})") for i in range(20)]
        assert _failures(results, [f"{i}\n" for i in range(20)]) == []
        assert sandbox._zygote is not zygote


def test_mixed_run_map_arun_from_threads_and_asyncio():
    """Hundreds of jobs: `run`, `map`, `arun` and `submit` interleaved, from several threads and an
    event loop at once; every job gives its own answer, in time, and nothing stays running after."""
    failures: list[str] = []
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def record(kind: str, results, expected) -> None:
        with lock:
            counts[kind] += len(results)
            failures.extend(_failures(results, expected))

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for step in range(6):
            tag = f"{seed}-{step}"
            choice = rng.choice(("run", "map", "map1", "arun", "submit"))
            if choice == "run":
                record("run", [sandbox.run(f"print('{tag}')", limits=QUICK)], [f"{tag}\n"])
            elif choice == "submit":  # all started, then their results (in reverse: asked late)
                started = [sandbox.submit(Job.of(f"print('{tag}-{i}')", limits=QUICK)) for i in range(12)]
                results = [job.result() for job in reversed(started)][::-1]
                record("submit", results, [f"{tag}-{i}\n" for i in range(12)])
            elif choice.startswith("map"):
                n = rng.randint(5, 25)
                jobs = [Job.of(f"print('{tag}-{i}')", limits=QUICK) for i in range(n)]
                results = sandbox.map(jobs, concurrency=1 if choice == "map1" else rng.randint(2, 4))
                record("map", results, [f"{tag}-{i}\n" for i in range(n)])
            else:

                async def some(tag: str = tag) -> list:
                    return await asyncio.gather(*(sandbox.arun(f"print('{tag}-{i}')", limits=QUICK) for i in range(4)))

                record("arun", asyncio.run(some()), [f"{tag}-{i}\n" for i in range(4)])
            # A job that reads stdin and one that fails, so not every job is the same.
            r = sandbox.run("import sys; print(sys.stdin.read()[::-1])", stdin=tag, limits=QUICK)
            record("stdin", [r], [f"{tag[::-1]}\n"])
            bad = sandbox.run("raise SystemExit(3)", limits=QUICK)
            with lock:
                counts["exit3"] += 1
                if bad.exit_code != 3 or bad.error is not None:
                    failures.append(f"exit 3 -> {bad}")

    with make_sandbox("local") as sandbox:
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # And singly again after all that batching, as a trainer or an eval would.
        runs = [sandbox.run(f"print({i})", limits=QUICK) for i in range(30)]
        record("run", runs, [f"{i}\n" for i in range(30)])
        assert failures == [], f"{len(failures)} of {sum(counts.values())} jobs went wrong: {failures[:5]}"
        assert sum(counts.values()) >= 200, counts
        deadline = time.monotonic() + 10
        while sandbox.census() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox.census() == set(), "processes outlived their jobs"
