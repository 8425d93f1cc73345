"""`verify_math` end to end: extraction, rewards and reasons, refusals, bounds, batch, pickling."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import threading
import time

import pytest

from thinkgym.core import Problem, Reward
from thinkgym.verifiers.math import (
    MathVerifier,
    averify_math,
    extract_answer,
    math_worker_pool,
    verify_math,
    verify_math_batch,
)

#: Needs sympy for ever (a symbolic sum evaluated at non-integer points): only the bound stops it.
HANGS = "\\boxed{\\sum_{k=1}^{n} k^{k}}"
#: Generous wall-clock ceiling for anything bounded by the default 1 s (the machine is shared).
GENEROUS = 5.0


@pytest.fixture(scope="module", autouse=True)
def _warm_worker():
    math_worker_pool().warm()


# ---- extraction -------------------------------------------------------------------------------

EXTRACTION = [
    ("so we get \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
    ("nested \\boxed{\\frac{\\sqrt{3}}{2}} done", "\\frac{\\sqrt{3}}{2}"),
    ("set \\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
    ("boxed \\fbox{42}", "42"),
    ("first \\boxed{3} then finally \\boxed{3}", "3"),
    ("<answer>17</answer>", "17"),
    ("<think>maybe 3</think><answer>\\boxed{4}</answer>", "4"),
    ("<answer>The answer is 12.</answer>", "12"),
    ("Answer: 12", "12"),
    ("**Answer:** $\\frac{3}{4}$", "\\frac{3}{4}"),
    ("Thus, the answer is $42$.", "42"),
    ("The final answer is \\(x = 3\\)", "x = 3"),
    ("The final answer is \\[ 2\\pi \\]", "2\\pi"),
    ("Final Answer: **73**", "73"),
    ("The final answer is 5. I hope it is correct.", "5"),
    ("answer is \\(\\frac{1}{2}\\)", "\\frac{1}{2}"),
    ("So the answer is 5 cm.", "5"),
    ("The answer is 3.5.", "3.5"),
    ("The answer is 5 because 2+3=5", "5"),
    ("blah blah\n#### 1,234", "1,234"),
    ("I think it is 5, no wait, it is 7", "7"),  # last-number fallback (not strict)
    ("\\boxed{1} and \\boxed{2}", "1, 2"),  # adjacent boxes form one list answer
]


@pytest.mark.parametrize("completion,expected", EXTRACTION)
def test_extraction(completion: str, expected: str) -> None:
    assert extract_answer(completion) == expected


def test_strict_mode_has_no_last_number_fallback() -> None:
    assert extract_answer("it is 7", strict=True) is None
    reward = verify_math("it is 7", "7", strict=True)
    assert reward.score == 0.0 and "no final answer" in reward.info["reason"]
    assert verify_math("it is 7", "7").score == 1.0
    assert verify_math("it is 7", "7", strict=True, last_number_fallback=True).score == 1.0


def test_think_tag_ignores_answers_inside_reasoning() -> None:
    completion = "<think>is it \\boxed{5}?</think> The answer is 6."
    assert verify_math(completion, "6", think_tag="think").score == 1.0
    assert verify_math("<think>\\boxed{5} and still thinking", "5", think_tag="think").score == 0.0


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{2} ... on second thought the answer is \\boxed{3}",
        "The answer is 2 or 3.",
        "\\boxed{2 \\text{ or } 3}",
    ],
)
def test_several_different_final_answers_earn_zero(completion: str) -> None:
    reward = verify_math(completion, "3")
    assert reward.score == 0.0
    assert "several" in reward.info["reason"]


def test_same_answer_written_twice_is_fine() -> None:
    assert verify_math("\\boxed{0.5} so the answer is \\boxed{\\frac{1}{2}}", "1/2").score == 1.0
    assert verify_math("\\boxed{2} ... \\boxed{3}", "3", allow_multiple_answers=True).score == 1.0


def test_or_is_a_separator_when_the_gold_is_a_list() -> None:
    assert verify_math("\\boxed{x = 2 \\text{ or } x = 3}", "2, 3").score == 1.0
    assert verify_math("so x = \\boxed{2} or x = \\boxed{3}", "3, 2").score == 1.0
    assert verify_math("so x = \\boxed{2} or x = \\boxed{3}", "3").score == 0.0  # hedging
    assert verify_math("so x = \\boxed{2} or x = \\boxed{4}", "2, 3").score == 0.0


# ---- rewards, reasons, types -----------------------------------------------------------------


def test_reward_shape_and_info() -> None:
    reward = verify_math("so \\boxed{\\dfrac{1}{2}}", "0.5")
    assert isinstance(reward, Reward)
    assert reward.score == 1.0 and reward.components["accuracy"] == 1.0
    assert reward.info["extracted"] == "\\dfrac{1}{2}"
    assert reward.info["source"] == "boxed"
    wrong = verify_math("\\boxed{3}", "4")
    assert wrong.score == 0.0 and wrong.components == {"accuracy": 0.0}
    assert wrong.info["reason"] == "not equal"


def test_numeric_gold_answers_are_accepted() -> None:
    assert verify_math("\\boxed{12}", 12).score == 1.0
    assert verify_math("\\boxed{0.25}", 0.25).score == 1.0


def test_wrong_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        verify_math(None, "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_math("1", ["1"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_math("1", "1", no_such_option=True)
    with pytest.raises(ValueError):
        verify_math("1", "1", timeout=0)


def test_empty_and_garbage_completions_earn_zero() -> None:
    for completion in ["", "   ", "\\boxed{}", "\\boxed{", "<answer></answer>", "}}}{{{", "\x00\x01"]:
        reward = verify_math(completion, "1")
        assert reward.score == 0.0
        assert reward.info.get("reason")


# ---- refusals and bounds ---------------------------------------------------------------------

ADVERSARIAL = [
    ("power tower", "\\boxed{9^{9^{9^9}}}"),
    ("factorial", "\\boxed{1000000!}"),
    ("nested parentheses", "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}"),
    ("1 MB string", "The answer is " + "1" * 1_000_000),
    ("1 MB boxed", "\\boxed{" + "x+" * 500_000 + "1}"),
    ("huge power", "\\boxed{2^{10^{8}}}"),
    ("huge sum", "\\boxed{\\sum_{k=1}^{10^9} k}"),
]


@pytest.mark.parametrize("name,completion", ADVERSARIAL, ids=[n for n, _ in ADVERSARIAL])
def test_oversized_work_is_refused_before_it_starts(name: str, completion: str) -> None:
    start = time.perf_counter()
    reward = verify_math(completion, "1")
    assert time.perf_counter() - start < GENEROUS
    assert reward.score == 0.0
    reason = reward.info["reason"]
    assert "refused" in reason or "exceeds" in reason, reason


def test_symbolic_work_is_killed_at_the_bound() -> None:
    start = time.perf_counter()
    reward = verify_math(HANGS, "1", timeout=0.5)
    assert time.perf_counter() - start < GENEROUS
    assert reward.score == 0.0
    assert "timed out" in reward.info["reason"]
    assert verify_math("\\boxed{\\sqrt{4}}", "2").score == 1.0  # the replacement worker answers


def test_bound_holds_from_threads() -> None:
    results: dict[int, tuple[Reward, float]] = {}

    def work(i: int) -> None:
        start = time.perf_counter()
        completion = HANGS if i % 2 == 0 else "\\boxed{2\\sqrt{2}}"
        results[i] = (verify_math(completion, "\\sqrt{8}", timeout=1.5), time.perf_counter() - start)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) == [0, 1, 2, 3]
    for i, (reward, elapsed) in results.items():
        assert reward.score == (0.0 if i % 2 == 0 else 1.0)
        assert elapsed < 4 * GENEROUS  # calls queue for the one shared worker; none runs unbounded


def test_bound_holds_inside_asyncio() -> None:
    async def main() -> tuple[list[Reward], float]:
        start = time.perf_counter()
        direct = verify_math(HANGS, "1", timeout=0.5)  # a blocking call inside a coroutine
        hung, ok = await asyncio.gather(
            averify_math(HANGS, "1", timeout=0.5),
            averify_math("\\boxed{\\frac{\\pi}{2}}", "\\frac{1}{2}\\pi"),
        )
        return [direct, hung, ok], time.perf_counter() - start

    (direct, hung, ok), elapsed = asyncio.run(main())
    assert direct.score == 0.0 and "timed out" in direct.info["reason"]
    assert hung.score == 0.0 and "timed out" in hung.info["reason"]
    assert ok.score == 1.0
    assert elapsed < 3 * GENEROUS


# ---- batch ------------------------------------------------------------------------------------


def test_batch_results_in_order_with_a_hanging_item() -> None:
    completions = ["\\boxed{3}", HANGS, "\\boxed{\\frac{\\sqrt{2}}{2}}", "\\boxed{4}", "\\boxed{(1, 2]}"]
    golds = ["3", "1", "\\frac{1}{\\sqrt{2}}", "5", "(1, 2]"]
    rewards = verify_math_batch(completions, golds, workers=2, timeout=2)
    assert [r.score for r in rewards] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert "timed out" in rewards[1].info["reason"]


def test_batch_item_whose_worker_dies_gets_zero_and_the_rest_survive() -> None:
    pool = math_worker_pool(2)
    pool.warm()
    killer_stop = threading.Event()

    def kill_busy_workers() -> None:  # plays the OOM killer: SIGKILL whatever is grinding
        time.sleep(0.3)
        for pid in _busy_workers_of_this_process():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        killer_stop.set()

    threading.Thread(target=kill_busy_workers, daemon=True).start()
    rewards = verify_math_batch(["\\boxed{2}", HANGS, "\\boxed{\\sqrt{9}}"], ["2", "1", "3"], workers=2, timeout=3)
    killer_stop.wait(10)
    assert rewards[0].score == 1.0
    assert rewards[1].score == 0.0
    assert "died" in rewards[1].info["reason"], rewards[1].info
    # the pool recovers: later symbolic work is answered
    assert verify_math_batch(["\\boxed{\\sqrt{16}}"], ["4"], workers=2)[0].score == 1.0


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _busy_workers_of_this_process() -> list[int]:
    """Our forked math workers (grandchildren of this process) that are not idle in a pool."""
    idle = set(math_worker_pool(1).pids()) | set(math_worker_pool(2).pids())
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in idle:
            parent = _parent_of(int(entry))
            if parent is not None and parent != me and _parent_of(parent) == me:
                found.append(int(entry))
    return found


def test_batch_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError):
        verify_math_batch(["1"], ["1", "2"])


# ---- the Verifier protocol ---------------------------------------------------------------------


def test_math_verifier_is_a_picklable_verifier() -> None:
    verifier = MathVerifier(strict=True)
    problem = Problem("p0", "What is 1/2 + 1/4?", "\\frac{3}{4}")
    assert verifier("... \\boxed{0.75}", problem).score == 1.0
    assert verifier("it is 0.75", problem).score == 0.0  # strict: no fallback
    clone = pickle.loads(pickle.dumps(verifier))
    assert clone == verifier
    assert clone("\\boxed{3/4}", problem).score == 1.0
    with pytest.raises(TypeError):
        verifier("1", "not a problem")  # type: ignore[arg-type]


def test_sympy_never_loads_in_the_callers_process() -> None:
    """Model text is only ever parsed by sympy/latex2sympy inside the worker process."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from thinkgym.verifiers.math import verify_math, math_equal, math_worker_pool\n"
        "math_worker_pool().warm()  # the 1 s bound counts a cold worker's start-up\n"
        "assert verify_math('so \\\\boxed{\\\\frac{\\\\sqrt{2}}{2}}', '0.7071').score == 1.0\n"
        "assert math_equal('(x+1)^2', 'x^2+2x+1')\n"
        "loaded = [m for m in ('sympy', 'latex2sympy2_extended', 'math_verify') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
