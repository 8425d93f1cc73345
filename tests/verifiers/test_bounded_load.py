"""`BoundedPool` on a loaded machine: start-up is never charged, the budget is CPU time, a
wall-clock cap stops a worker that blocks, a pool that cannot start says so.

The load is real: busy-loop processes (``cpu_hogs``, tests/verifiers/conftest.py), pinned to
the worker's CPU where a test needs the worker to be starved for sure.
"""

from __future__ import annotations

import os
import time

import pytest

from thinkgym.verifiers import bounded
from thinkgym.verifiers.bounded import BoundedPool, default_wall_timeout

#: Burns CPU for minutes without allocating (an adversarial input's behaviour).
SPIN = (sum, range(10**12))


@pytest.fixture
def slow_start(tmp_path, monkeypatch) -> str:
    """A module whose import takes 1.5 s: a template that preloads it starts slowly."""
    (tmp_path / "_thinkgym_slow_start.py").write_text("import time\ntime.sleep(1.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # the template gets the caller's sys.path
    return "_thinkgym_slow_start"


def _spin_size(cpu_seconds: float) -> int:
    """``n`` such that ``sum(range(n))`` takes about ``cpu_seconds`` of CPU here."""
    n = 2_000_000
    start = time.process_time()
    sum(range(n))
    per_item = max(time.process_time() - start, 1e-3) / n
    return int(cpu_seconds / per_item)


def _pin(pool: BoundedPool, cpu: int) -> None:
    """Pin the pool's template (and so every worker it forks from now on) to ``cpu``."""
    pool.start()
    template = pool._template
    assert template is not None
    os.sched_setaffinity(template.process.pid, {cpu})


def test_default_wall_cap() -> None:
    assert default_wall_timeout(1.0) == 10.0
    assert default_wall_timeout(0.1) == pytest.approx(5.1)
    assert default_wall_timeout(30.0) == 300.0


def test_a_cold_pool_under_load_answers_its_first_call(cpu_hogs, slow_start) -> None:
    """A template that takes seconds to start on a loaded machine: the first call waits for it and
    is not charged for it; a 0.2 s budget is plenty for the call itself."""
    cpu_hogs(3)
    with BoundedPool(1, preload=(slow_start,)) as pool:
        began = time.perf_counter()
        result = pool.call(pow, 2, 10, timeout=0.2)
        waited = time.perf_counter() - began
        assert result.ok and result.value == 1024, result
        assert waited >= 1.5  # the slow start-up did happen before the answer
        assert result.elapsed < waited - 1.0  # ... and is not in the call's own time
        assert result.cpu is not None and result.cpu < 0.2


def test_the_budget_is_cpu_time_not_wall_time(cpu_hogs, one_cpu) -> None:
    """A worker sharing its CPU with 4 busy loops gets a fifth of it: 0.25 s of work takes over
    a second of wall time. Its 0.6 s budget is CPU time, so the call completes."""
    n = _spin_size(0.25)
    with BoundedPool(1) as pool:
        _pin(pool, one_cpu)
        pool.warm()
        cpu_hogs(4, cpu=one_cpu)
        result = pool.call(sum, range(n), timeout=0.6)
    assert result.ok and result.value == n * (n - 1) // 2, result
    assert result.cpu is not None and result.cpu < 0.6
    assert result.elapsed > 0.6, result  # the load ran: a wall-clock budget would have killed it


def test_an_adversarial_call_is_cut_at_its_cpu_budget() -> None:
    with BoundedPool(1) as pool:
        pool.warm()
        began = time.perf_counter()
        result = pool.call(*SPIN, timeout=0.5)
        elapsed = time.perf_counter() - began
        assert result.status == "timeout" and not result.stalled and not result.inconclusive, result
        assert "0.5 s of CPU time" in (result.error or "")
        assert result.cpu is not None and 0.5 <= result.cpu < 1.0
        assert elapsed < 5.0
        assert pool.replaced == 1
        assert pool.call(pow, 2, 4, timeout=5).value == 16  # the replacement answers


def test_an_adversarial_call_under_load_still_ends_at_its_cpu_budget(cpu_hogs, one_cpu) -> None:
    """Starved of CPU, the spinning worker takes longer in wall time to use its budget, but it
    still ends by the budget (not by the wall-clock cap) and well within the cap."""
    with BoundedPool(1) as pool:
        _pin(pool, one_cpu)
        pool.warm()
        cpu_hogs(3, cpu=one_cpu)
        result = pool.call(*SPIN, timeout=0.3)
    assert result.status == "timeout" and not result.stalled, result
    assert result.cpu is not None and 0.3 <= result.cpu < 0.6
    assert result.elapsed > 0.3 and result.elapsed < default_wall_timeout(0.3)


def test_a_sleeping_worker_is_killed_by_the_wall_cap() -> None:
    """No CPU used, so only the wall-clock cap (``max(10 * 0.1, 0.1 + 5)`` = 5.1 s) stops it."""
    with BoundedPool(1) as pool:
        pool.warm()
        began = time.perf_counter()
        result = pool.call(time.sleep, 60, timeout=0.1)
        elapsed = time.perf_counter() - began
        assert result.status == "timeout" and result.stalled and result.inconclusive, result
        assert "wall-clock cap of 5.1 s" in (result.error or "")
        assert 5.1 <= elapsed < 15.0
        began = time.perf_counter()
        result = pool.call(time.sleep, 60, timeout=0.1, wall_timeout=0.4)  # an explicit cap
        assert result.stalled and time.perf_counter() - began < 3.0
        assert pool.replaced == 2
        assert pool.call(pow, 3, 3, timeout=5).value == 27


def test_without_cpu_readings_the_budget_falls_back_to_wall_time(monkeypatch) -> None:
    """Where /proc cannot be read (not Linux), ``timeout`` is wall-clock seconds, as before."""
    monkeypatch.setattr(bounded, "_cpu_seconds", lambda pid: None)
    with BoundedPool(1) as pool:
        pool.warm()
        began = time.perf_counter()
        result = pool.call(time.sleep, 60, timeout=0.3)
        assert result.status == "timeout" and not result.stalled and result.cpu is None, result
        assert time.perf_counter() - began < 3.0
        assert pool.call(pow, 2, 2, timeout=5).value == 4


def test_a_pool_that_cannot_start_is_unavailable_not_a_timeout() -> None:
    """A template that dies on start-up (an import fails) is restarted once, then the call gets
    ``"unavailable"`` with the reason at once; it never raises and never waits out the bound."""
    with BoundedPool(1, preload=("_thinkgym_no_such_module",), startup_timeout=30) as pool:
        began = time.perf_counter()
        result = pool.call(pow, 2, 3, timeout=1)
        assert time.perf_counter() - began < 15.0
    assert result.status == "unavailable" and result.inconclusive, result
    assert "could not start" in (result.error or "")


def test_start_up_past_startup_timeout_is_unavailable_and_keeps_starting(slow_start) -> None:
    with BoundedPool(1, preload=(slow_start,), startup_timeout=0.3) as pool:
        result = pool.call(pow, 2, 3, timeout=1)
        assert result.status == "unavailable" and "still starting after 0.3 s" in (result.error or ""), result
        deadline = time.monotonic() + 30
        while not result.ok and time.monotonic() < deadline:  # the same template finishes starting
            result = pool.call(pow, 2, 3, timeout=1)
        assert result.ok and result.value == 8, result
