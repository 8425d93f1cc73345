"""Math rewards on a loaded machine: a right answer is never scored 0 because the machine is busy.

Measured before the fix: at load 10, 200 of 800 correct answers scored 0 ("the worker process was
still starting after 1 s", "timed out after 1 s"): the cold start of the worker and the wall time
a loaded machine adds were charged to the answer. Now start-up is waited for and not charged,
the budget is the worker's CPU time, and a failure of the machinery (no worker, a stalled one)
is reported as ``info["verification_failed"]``, never as a plain wrong answer.

Each test gets its own worker pool (``math_worker_pool`` monkeypatched), so it starts cold and
the process's shared pool is untouched; ``cache=False`` keeps earlier verdicts out of the way.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from math import comb

import pytest

import thinkgym.verifiers.math as math_module
from thinkgym.verifiers.bounded import BoundedPool
from thinkgym.verifiers.math import verify_math

#: Symbolic work that runs for minutes (sympy cannot sum k^k in closed form quickly).
HANGS = "\\boxed{\\sum_{k=1}^{n} k^{k}}"


def _math_pool(*extra_preload: str, **kwargs) -> BoundedPool:
    """A pool like `math_worker_pool`'s, with extra modules for its template to import first."""
    return BoundedPool(
        1,
        preload=(*extra_preload, math_module._SYMBOLIC_MODULE),
        initializer=f"{math_module._SYMBOLIC_MODULE}:warm_up",
        memory_limit_mb=4096,
        **kwargs,
    )


@pytest.fixture
def use_pool(monkeypatch):
    """``use_pool(pool)``: verify_math uses ``pool`` for its symbolic comparisons in this test
    (closed at the end unless ``keep=True``)."""
    pools: list[BoundedPool] = []

    def install(pool: BoundedPool, keep: bool = False) -> BoundedPool:
        if not keep:
            pools.append(pool)
        monkeypatch.setattr(math_module, "math_worker_pool", lambda size=1: pool)
        return pool

    yield install
    for pool in pools:
        pool.close()


@pytest.fixture(scope="module")
def warm_pool():
    """One warm pool for the tests that do not need a cold or pinned one."""
    with _math_pool() as pool:
        pool.warm()
        yield pool


@pytest.fixture
def slow_start(tmp_path, monkeypatch) -> str:
    """A module whose import takes 1.5 s, so a template that preloads it starts slowly."""
    (tmp_path / "_thinkgym_slow_math_start.py").write_text("import time\ntime.sleep(1.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "_thinkgym_slow_math_start"


def _expanded(a: str, b: str, n: int) -> str:
    return "+".join(f"{comb(n, k)}{a}^{{{n - k}}}{b}^{{{k}}}" for k in range(n + 1))


def test_first_symbolic_answer_of_a_cold_pool_under_load_is_right(use_pool, slow_start, cpu_hogs) -> None:
    """Busy loops on the machine, a worker template that takes seconds to start: the very first
    symbolic comparison still gets its verdict (before the fix: 0, "still starting after 1 s")."""
    cpu_hogs(2)
    use_pool(_math_pool(slow_start))
    began = time.perf_counter()
    reward = verify_math("\\boxed{(x+1)^2}", "x^2+2x+1", timeout=1.0, cache=False)
    assert time.perf_counter() - began >= 1.5  # the slow start-up happened inside this call
    assert reward.score == 1.0, reward.info
    assert reward.info["path"] == "symbolic"
    wrong = verify_math("\\boxed{(x+1)^2}", "x^2+2x+2", timeout=1.0, cache=False)
    assert wrong.score == 0.0 and wrong.info["reason"] == "not equal"
    assert "verification_failed" not in wrong.info  # a wrong answer is a verdict, not a failure


def test_a_starved_worker_still_gives_right_verdicts(use_pool, cpu_hogs, one_cpu) -> None:
    """The worker shares one CPU with 4 busy loops (a fifth of it): a binomial expansion that
    costs ~0.2 s of CPU takes about a second of wall time. The 0.5 s budget is CPU time, so
    every right answer scores 1 (a 0.5 s wall-clock budget would have failed them)."""
    pool = use_pool(_math_pool())
    pool.start()
    assert pool._template is not None
    os.sched_setaffinity(pool._template.process.pid, {one_cpu})  # its workers inherit the pin
    pool.warm()
    cpu_hogs(4, cpu=one_cpu)
    walls = []
    for a, b, n in [("x", "y", 8), ("p", "q", 8), ("u", "v", 9)]:
        began = time.perf_counter()
        reward = verify_math(f"\\boxed{{({a}+{b})^{{{n}}}}}", _expanded(a, b, n), timeout=0.5, cache=False)
        walls.append(time.perf_counter() - began)
        assert reward.score == 1.0, (a, b, n, reward.info)
    assert max(walls) > 0.5, walls  # the load ran: at least one took longer than its budget in wall time


def test_adversarial_symbolic_input_is_still_cut_at_its_cpu_budget(use_pool, warm_pool) -> None:
    pool = use_pool(warm_pool, keep=True)
    replaced = pool.replaced
    began = time.perf_counter()
    reward = verify_math(HANGS, "1", timeout=1.0, cache=False)
    elapsed = time.perf_counter() - began
    assert reward.score == 0.0
    assert "timed out after" in reward.info["reason"] and "CPU time" in reward.info["reason"], reward.info
    assert "verification_failed" not in reward.info  # the answer's own cost: an ordinary 0
    assert elapsed < 5.0
    assert pool.replaced == replaced + 1


def test_a_pool_that_cannot_start_is_a_verification_failure_not_a_wrong_answer(use_pool) -> None:
    use_pool(_math_pool("_thinkgym_no_such_module", startup_timeout=30))
    reward = verify_math("\\boxed{(x+1)^2}", "x^2+2x+1", cache=False)
    assert reward.score == 0.0
    assert reward.info["verification_failed"] is True, reward.info
    assert reward.info["error"].startswith("verification failed:") and "could not start" in reward.info["error"]
    # answers the fast path decides need no worker: unaffected
    assert verify_math("\\boxed{\\frac{1}{2}}", "0.5").score == 1.0


def test_a_stalled_worker_is_a_verification_failure(use_pool, warm_pool) -> None:
    """A worker frozen by the system (SIGSTOP: no CPU used) is stopped by the wall-clock cap
    (``max(10 * 0.2, 0.2 + 5)`` = 5.2 s) and reported as a failure of the machinery."""
    pool = use_pool(warm_pool, keep=True)
    pool.warm()  # a worker in the slot (the one an earlier test killed is replaced)
    (pid,) = pool.pids()
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(reward=verify_math(HANGS, "1", timeout=0.2, cache=False)))
    began = time.perf_counter()
    thread.start()
    time.sleep(0.05)
    os.kill(pid, signal.SIGSTOP)
    thread.join(timeout=60)
    reward = box["reward"]
    assert 5.0 < time.perf_counter() - began < 20.0
    assert reward.score == 0.0 and reward.info.get("verification_failed") is True, reward.info
    assert "wall-clock cap" in reward.info["error"]
    assert verify_math("\\boxed{(z+1)^2}", "z^2+2z+1", cache=False).score == 1.0  # a fresh worker answers
