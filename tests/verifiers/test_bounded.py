"""`BoundedPool`: results, errors, hard timeouts, dead workers, threads and asyncio.

Functions sent to workers must be importable by module path, so these tests use stdlib ones:
``sum(range(10**12))`` burns CPU for minutes (what an adversarial input does), ``time.sleep``
blocks without CPU (the wall-clock cap's case), ``os._exit`` dies, ``operator.truediv(1, 0)``
raises. The CPU-time budget and the start-up rules have their own file, test_bounded_load.py.
"""

from __future__ import annotations

import asyncio
import operator
import os
import threading
import time

import pytest

from thinkgym.verifiers.bounded import BoundedPool, run_bounded

#: A call that burns CPU for minutes without allocating: killed at its CPU budget.
SPIN = (sum, range(10**12))


@pytest.fixture(scope="module")
def pool():
    with BoundedPool(2) as p:
        p.warm()
        yield p


def test_returns_values_in_order(pool: BoundedPool) -> None:
    assert pool.call(pow, 2, 10, timeout=5).value == 1024
    results = pool.map(operator.add, [(i, i) for i in range(10)], timeout=5)
    assert [r.value for r in results] == [2 * i for i in range(10)]
    assert all(r.ok for r in results)


def test_exception_is_reported_not_raised(pool: BoundedPool) -> None:
    result = pool.call(operator.truediv, 1, 0, timeout=5)
    assert result.status == "error"
    assert "ZeroDivisionError" in (result.error or "")
    assert pool.call(pow, 3, 2, timeout=5).value == 9  # the worker survived


def test_timeout_kills_and_replaces_the_worker(pool: BoundedPool) -> None:
    before = pool.replaced
    start = time.perf_counter()
    result = pool.call(*SPIN, timeout=0.3)
    elapsed = time.perf_counter() - start
    assert result.status == "timeout" and not result.stalled
    assert elapsed < 5  # generous: the point is that minutes of work did not run to the end
    assert pool.replaced == before + 1
    assert pool.call(pow, 2, 5, timeout=30).value == 32


def test_dead_worker_is_replaced(pool: BoundedPool) -> None:
    before = pool.replaced
    result = pool.call(os._exit, 3, timeout=10)
    assert result.status == "died"
    assert pool.replaced >= before + 1
    assert pool.call(pow, 2, 3, timeout=30).value == 8


def test_map_with_hanging_and_dying_items_keeps_the_others() -> None:
    with BoundedPool(2) as p:
        p.warm()
        items = [(pow, (2, 2)), (SPIN[0], SPIN[1:]), (pow, (2, 3)), (os._exit, (1,)), (pow, (2, 4))]
        results = [p.call(fn, *args, timeout=0.5) for fn, args in items]
        assert [r.status for r in results] == ["ok", "timeout", "ok", "died", "ok"]
        assert [r.value for r in results if r.ok] == [4, 8, 16]


def test_bound_holds_from_threads(pool: BoundedPool) -> None:
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()

    def work() -> None:
        start = time.perf_counter()
        result = pool.call(*SPIN, timeout=0.3)
        with lock:
            outcomes.append((result.status, time.perf_counter() - start))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [s for s, _ in outcomes] == ["timeout"] * 3
    assert all(elapsed < 20 for _, elapsed in outcomes)  # queued behind 2 workers, never 30 s


def test_bound_holds_from_asyncio(pool: BoundedPool) -> None:
    async def main() -> list:
        start = time.perf_counter()
        results = await asyncio.gather(
            pool.acall(*SPIN, timeout=0.3), pool.acall(pow, 2, 6, timeout=30)
        )
        return [results, time.perf_counter() - start]

    (hung, ok), elapsed = asyncio.run(main())
    assert hung.status == "timeout"
    assert ok.value == 64
    assert elapsed < 10


def test_argument_errors() -> None:
    with pytest.raises(ValueError):
        BoundedPool(0)
    with BoundedPool(1) as p, pytest.raises(ValueError):
        p.call(pow, 1, 1, timeout=0)


def test_unpicklable_argument_is_an_error_not_a_crash(pool: BoundedPool) -> None:
    result = pool.call(len, [threading.Lock()], timeout=5)
    assert result.status == "error"
    assert pool.call(pow, 2, 2, timeout=30).value == 4


def test_run_bounded_one_off() -> None:
    assert run_bounded(operator.mul, 6, 7, timeout=30).value == 42


def test_a_forked_copy_of_the_caller_gets_its_own_workers(pool: BoundedPool) -> None:
    """After os.fork (DataLoader-style) the child must not talk to the parent's workers."""
    pid = os.fork()
    if pid == 0:  # the child: exit code says whether the pool still works here
        ok = False
        try:
            ok = pool.call(pow, 2, 7, timeout=60).value == 128
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert pool.call(pow, 2, 8, timeout=30).value == 256  # the parent's workers are untouched


def test_a_caller_that_dies_leaves_no_worker_behind() -> None:
    import subprocess
    import sys

    code = (
        "import os, threading, time\n"
        "from thinkgym.verifiers.bounded import BoundedPool\n"
        "pool = BoundedPool(1)\n"
        "print(pool.call(os.getpid, timeout=60).value, flush=True)\n"
        "threading.Thread(target=pool.call, args=(time.sleep, 300), kwargs={'timeout': 300}, daemon=True).start()\n"
        "time.sleep(1)\n"
        "os._exit(0)\n"  # no cleanup at all, as if killed
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _exists(worker):
        time.sleep(0.1)
    assert not _exists(worker), "the sleeping worker outlived its caller"


def _exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_function_the_worker_cannot_import_is_an_error(pool: BoundedPool) -> None:
    import sys
    import types

    module = types.ModuleType("_thinkgym_only_in_the_caller")
    exec("def answer():\n    return 42\n", module.__dict__)
    sys.modules[module.__name__] = module  # picklable here, unknown in the worker
    try:
        result = pool.call(module.answer, timeout=30)
    finally:
        del sys.modules[module.__name__]
    assert result.status == "error"
    assert "could not be loaded" in (result.error or "")
    assert pool.call(pow, 2, 9, timeout=30).value == 512


def test_includes_start_bounds_a_cold_pool_by_the_wall_cap() -> None:
    """``includes_start=True``: the wall-clock cap covers the start-up too. A cold pool whose
    template imports sympy is not ready within 50 ms: the call says so, as "unavailable" (the
    machinery, not the call, ran out of time), and the template keeps starting."""
    with BoundedPool(1, preload=("sympy",)) as cold:
        start = time.perf_counter()
        result = cold.call(pow, 2, 3, timeout=1, wall_timeout=0.05, includes_start=True)
        assert time.perf_counter() - start < 2.0
        assert result.status == "unavailable" and "still starting" in (result.error or ""), result
        assert result.inconclusive
        cold.warm()
        assert cold.call(pow, 2, 3, timeout=5, includes_start=True).value == 8  # warm now: counted, and fast


def test_a_generator_initializer_warms_up_between_forks() -> None:
    """The template reports ready before a stepwise warm-up ends; warm() waits for all of it."""
    with BoundedPool(1, initializer="thinkgym.verifiers._math_sympy:warm_up", preload=("thinkgym.verifiers._math_sympy",)) as pool:
        pool.warm()
        assert pool.call(pow, 3, 3, timeout=5).value == 27


def test_the_first_worker_of_a_cold_pool_is_forked_fully_warm(tmp_path, monkeypatch) -> None:
    """A stepwise warm-up still running when the first call arrives is finished before the worker
    is forked: the first call never inherits (and pays, in its CPU budget, for) a half-done warm-up."""
    (tmp_path / "slow_warm_module.py").write_text(
        "import time\n"
        "DONE = False\n"
        "def warm():\n"
        "    global DONE\n"
        "    for _ in range(4):\n"
        "        time.sleep(0.25)\n"
        "        yield\n"
        "    DONE = True\n"
        "def done():\n"
        "    return DONE\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with BoundedPool(1, preload=("slow_warm_module",), initializer="slow_warm_module:warm") as pool:
        first = pool.call(__import__("slow_warm_module").done, timeout=5)
    assert first.status == "ok" and first.value is True, first
