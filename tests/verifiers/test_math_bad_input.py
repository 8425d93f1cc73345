"""Bad input to `verify_math`: a reward of 0 with a reason, never a raise or a hang; threads and asyncio.

Bounds here are generous (the machine is shared); the real bound is the 1 s ``timeout`` of CPU
time, and the speed figures live in ``perf/``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from thinkgym.verifiers.math import math_worker_pool, verify_math

GENEROUS = 5.0


@pytest.fixture(scope="module", autouse=True)
def _warm_worker():
    math_worker_pool().warm()


BAD = [
    ("1 MB completion", "The answer is " + "7" * 1_000_000),
    ("1 MB of prose", "word " * 200_000 + "\\boxed{7}"),
    ("deep braces", "\\boxed{" + "{" * 5_000 + "7" + "}" * 5_000 + "}"),
    ("deep parentheses", "\\boxed{" + "(" * 3_000 + "7" + ")" * 3_000 + "}"),
    ("unbalanced left", "\\boxed{\\left( \\frac{1}{2}}"),
    ("many lefts", "$" + "\\left(" * 2_000 + "7$"),
    ("box never closed", "so the answer is \\boxed{7"),
    ("box never closed, nested", "\\boxed{\\frac{7}{"),
    ("power tower", "\\boxed{9^{9^{9^{9}}}}"),
    ("power tower of letters", "\\boxed{x^{x^{x^{x^{x^{x^{x}}}}}}}"),
    ("huge factorial", "\\boxed{100000!}"),
    ("NUL bytes", "\\boxed{7\x00}\x00\x00"),
    ("lone surrogate", "\\boxed{\ud800}"),
    ("surrogates around a number", "\udcff\\boxed{\ud83d 7}"),
    ("only control characters", "\x01\x02\x03"),
    ("many boxes", "\\boxed{1}" * 20_000),
    ("many dollars", "$" * 100_000),
]


@pytest.mark.parametrize("name,completion", BAD, ids=[n for n, _ in BAD])
def test_bad_input_earns_zero_with_a_reason_and_stays_bounded(name: str, completion: str) -> None:
    start = time.perf_counter()
    reward = verify_math(completion, "7")
    assert time.perf_counter() - start < GENEROUS, name
    assert reward.score in (0.0, 1.0)
    if reward.score == 0.0:
        assert reward.info.get("reason"), name


@pytest.mark.parametrize("name,completion", BAD[4:12], ids=[n for n, _ in BAD[4:12]])
def test_bad_input_never_scores_one_against_a_wrong_gold(name: str, completion: str) -> None:
    assert verify_math(completion, "8").score == 0.0


@pytest.mark.parametrize("completion", ["\\boxed{7}\x00", "\\boxed{7\x00}", "\\boxed{\ud800}7", "\udcff\\boxed{7}"])
def test_nul_bytes_and_lone_surrogates_are_refused(completion: str) -> None:
    reward = verify_math(completion, "7")
    assert reward.score == 0.0 and "refused" in reward.info["reason"]


def test_bad_gold_is_refused_too() -> None:
    for gold in ["9^{9^{9^{9}}}", "\x00", "\ud800", "{" * 5000, ""]:
        reward = verify_math("\\boxed{7}", gold)
        assert reward.score == 0.0 and reward.info.get("reason")


def test_cold_process_first_call_is_bounded() -> None:
    """Adversarial input on the very first call of a fresh interpreter: 0 with the reason, cut at
    its CPU budget. The worker's start-up is waited for (not charged), so the whole call takes
    the start-up plus about the budget."""
    code = (
        "import time\n"
        "from thinkgym.verifiers.math import verify_math\n"
        "start = time.perf_counter()\n"
        "reward = verify_math('\\\\boxed{\\\\sum_{k=1}^{n} k^{k}}', '1', timeout=1.0)\n"
        "elapsed = time.perf_counter() - start\n"
        "assert reward.score == 0.0 and 'timed out' in reward.info['reason'], reward.info\n"
        "assert 'CPU time' in reward.info['reason'] and 'verification_failed' not in reward.info, reward.info\n"
        "print(elapsed)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 30.0  # start-up (seconds under load) + ~1 s


def test_threads_get_their_own_verdicts() -> None:
    pairs = [("\\boxed{\\sqrt{8}}", "2\\sqrt{2}", 1.0), ("\\boxed{3}", "4", 0.0), ("\\boxed{(x+1)^2}", "x^2+2x+1", 1.0),
             ("\\boxed{59\\%}", "0.59", 0.0), ("\\boxed{x \\in [2,5)}", "[2,5)", 1.0), ("\\boxed{B/C}", "B", 0.0)]
    results: dict[int, float] = {}

    def work(i: int) -> None:
        completion, gold, _ = pairs[i % len(pairs)]
        results[i] = verify_math(completion, gold, timeout=3.0).score

    threads = [threading.Thread(target=work, args=(i,)) for i in range(18)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == {i: pairs[i % len(pairs)][2] for i in range(18)}


def test_asyncio_callers_get_the_same_verdicts() -> None:
    from thinkgym.verifiers.math import averify_math

    async def main() -> list[float]:
        rewards = await asyncio.gather(
            averify_math("\\boxed{\\frac{1}{\\sqrt{3}}}", "$\\frac{AD}{DC}=\\frac{1}{\\sqrt{3}}$", timeout=3.0),
            averify_math("\\boxed{3 = 2}", "2", timeout=3.0),
            averify_math("\\boxed{60^\\circ}", "\\frac{\\pi}{3}", problem="Find the angle.", timeout=3.0),
        )
        return [r.score for r in rewards]

    assert asyncio.run(main()) == [1.0, 0.0, 1.0]
