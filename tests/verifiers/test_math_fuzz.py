"""Hypothesis fuzzing: LaTeX soup and Unicode never make math verification raise or run unbounded."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from thinkgym.core import Reward
from thinkgym.verifiers._math_extract import find_boxed
from thinkgym.verifiers._math_rules import gold_answer
from thinkgym.verifiers.math import extract_answer, math_equal, math_worker_pool, verify_math

BOUND = 5.0  # seconds; generous on a shared machine, the real bound is 1 s

TOKENS = [
    "\\frac", "\\dfrac", "{", "}", "\\sqrt", "^", "_", "x", "y", "n", "0", "1", "2", "9", "10", ".5",
    "(", ")", "[", "]", "\\{", "\\}", ",", ";", "=", "<", ">", "\\le", "\\ge", "\\neq", "\\pi", "e",
    "i", "\\pm", "\\cup", "\\infty", "\\boxed{", "\\fbox{", "\\text{", "\\mathrm{", "%", "\\%", "\\$",
    "$", "!", ".", "-", "+", "*", "/", "\\cdot", "\\times", "\\begin{pmatrix}", "\\end{pmatrix}",
    "&", "\\\\", " ", " or ", " and ", "\\sum_{k=1}^{", "\\prod_{k=1}^{", "\\int", "\\log", "\\ln",
    "\\sin", "\\tan", "<answer>", "</answer>", "<think>", "</think>", "####", "Answer:",
    "the answer is ", "**", "\\left(", "\\right)", "\\circ", "°", "∞", "√", "π", "−", "\\in",
    "\\approx", "\\mathbb{R}", "\\binom", "\\lim", "\\to", "\\emptyset", "\\langle", "\\rangle",
]

latex_soup = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
unicode_soup = st.text(max_size=200)
answers = st.one_of(latex_soup, unicode_soup, st.sampled_from(["3", "\\frac{1}{2}", "(1, 2]", "\\{1, 2\\}", "x+1", "C"]))


@pytest.fixture(scope="module", autouse=True)
def _warm_worker():
    math_worker_pool().warm()


def _check(reward: Reward, elapsed: float) -> None:
    assert isinstance(reward, Reward)
    assert reward.score in (0.0, 1.0)
    assert reward.components["accuracy"] == reward.score
    if reward.score == 0.0:
        assert reward.info.get("reason") or reward.info.get("error")
    assert elapsed < BOUND


@settings(max_examples=60, deadline=None)
@given(completion=st.one_of(latex_soup, unicode_soup, st.builds(lambda a: f"\\boxed{{{a}}}", latex_soup)), gold=answers)
def test_verify_math_never_raises_and_stays_bounded(completion: str, gold: str) -> None:
    start = time.perf_counter()
    reward = verify_math(completion, gold)
    _check(reward, time.perf_counter() - start)


@settings(max_examples=40, deadline=None)
@given(pred=latex_soup, gold=latex_soup)
def test_math_equal_on_soup_is_bounded_and_boolean(pred: str, gold: str) -> None:
    start = time.perf_counter()
    assert math_equal(pred, gold) in (True, False)
    assert time.perf_counter() - start < BOUND


@settings(max_examples=60, deadline=None)
@given(completion=unicode_soup)
def test_extract_answer_never_raises(completion: str) -> None:
    answer = extract_answer(completion)
    assert answer is None or isinstance(answer, str)


#: Why an answer compared with itself may still earn 0: it was refused, it is no answer, it hedges,
#: or it could not be checked in time. "not equal" is never one of them.
_SELF_ZERO_REASONS = (
    "refused", "empty", "hedge", "several", "no final answer", "timed out", "still starting", "exceeds",
    "could not", "units differ", "verification failed",
)


@settings(max_examples=60, deadline=None)
@given(answer=latex_soup)
def test_an_answer_equals_itself_or_is_refused(answer: str) -> None:
    """Reflexivity: the same text never compares unequal (a 0 must come with a refusal reason)."""
    assume(gold_answer(answer) == answer)  # a gold that reads as a solution text has its own final answer
    assume("<answer>" not in answer and "</think>" not in answer)  # document structure, not an answer
    boxes = find_boxed(f"\\boxed{{{answer}}}")
    assume(len(boxes) == 1 and boxes[0][2] == answer.strip())  # the box holds exactly the answer (balanced braces)
    reward = verify_math(f"\\boxed{{{answer}}}", answer)
    if reward.score == 0.0:
        reason = reward.info.get("reason", "")
        assert any(word in reason for word in _SELF_ZERO_REASONS), (answer, reward.info)


@pytest.mark.parametrize("answer", ["3", "\\frac{1}{2}", "(1, 2]", "\\{1, 2\\}", "x+1", "\\sqrt{2}", "B", "yes"])
def test_reflexivity_on_ordinary_answers(answer: str) -> None:
    assert verify_math(f"\\boxed{{{answer}}}", answer).score == 1.0
