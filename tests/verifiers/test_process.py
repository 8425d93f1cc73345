"""Process rewards: step splitting, arithmetic claim checking, and per-token spreading."""

from __future__ import annotations

import pickle
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.core import Problem
from thinkgym.errors import ConfigError
from thinkgym.verifiers.process import (
    ArithmeticChecker,
    Step,
    StepScore,
    evaluate_arithmetic,
    find_arithmetic_claims,
    split_steps,
    spread_over_tokens,
    token_offsets,
)

PROBLEM = Problem("p0", "A shop sells 3 boxes of 4 apples and 5 loose apples. How many apples?", "17")


def _tokenizer():
    """A tiny byte-level BPE tokenizer built locally (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["[PAD]", "[UNK]", "[EOS]"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(["Step 1: 3*4=12 apples", "Step 2: 12 + 5 = 17", "the answer is 17"] * 5, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", eos_token="[EOS]", unk_token="[UNK]")


# ---- steps ------------------------------------------------------------------------------------


def test_split_by_step_markers_keeps_multi_line_steps_together() -> None:
    text = "Let me see.\nStep 1: 3*4=12\nso twelve\n**Step 2.** 12+5=17\n### Step 3 done"
    steps = split_steps(text)
    assert [s.text for s in steps] == ["Let me see.", "Step 1: 3*4=12\nso twelve", "**Step 2.** 12+5=17", "### Step 3 done"]
    for step in steps:
        assert text[step.start : step.end] == step.text


def test_split_by_lines_and_paragraphs() -> None:
    text = "  a = 1\n\n b = 2  \nc\n"
    assert [s.text for s in split_steps(text)] == ["a = 1", "b = 2", "c"]
    assert [s.text for s in split_steps("a\nb\n\nc", "paragraphs")] == ["a\nb", "c"]
    assert [s.text for s in split_steps("a\nb", "steps")] == ["a\nb"]
    assert split_steps("") == [] and split_steps("  \n ") == []
    with pytest.raises(ValueError):
        split_steps("a", "sentences")  # type: ignore[arg-type]


# ---- safe arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value"),
    [("3*4", 12), ("12 + 5", 17), ("1/3 + 1/6", 0.5), ("2^10", 1024), ("2**3", 8), ("-(3 - 5)", 2), ("0.1 + 0.2", 0.3)],
)
def test_evaluate_is_exact(expr: str, value: float) -> None:
    from fractions import Fraction

    assert evaluate_arithmetic(expr) == Fraction(str(value))


@pytest.mark.parametrize(
    "expr",
    ["__import__('os')", "abs(3)", "x + 1", "3 if 1 else 2", "[1][0]", "9^9^9^9", "1" * 300, "(" * 150 + "1" + ")" * 150, "2**0.5", ""],
)
def test_evaluate_refuses_anything_but_small_arithmetic(expr: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError):
        evaluate_arithmetic(expr)
    assert time.perf_counter() - start < 1.0


def test_division_by_zero_is_an_error_not_a_crash() -> None:
    with pytest.raises(ZeroDivisionError):
        evaluate_arithmetic("1/0")
    [claim] = find_arithmetic_claims("1/0 = 5")
    assert not claim.ok and "zero" in claim.reason


# ---- claims -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "verdicts"),
    [
        ("3*4=12", [True]),
        ("12 + 5 = 17", [True]),
        ("12 + 5 = 18", [False]),
        ("$3 \\times 4 = 12$ and 7 × 6 = 42", [True, True]),
        ("\\frac{3}{4} = 0.75", [True]),
        ("2^{10} = 1024", [True]),
        ("10 ÷ 4 = 2.5", [True]),
        ("10/3 = 3.33", [True]),  # a rounded decimal is accepted to its shown precision
        ("10/3 = 3.4", [False]),
        ("7 / 2 = 3", [False]),  # integers must be exact
        ("1,000 + 2 = 1,002", [True]),
        ("2+2=4, 3+3=7", [True, False]),
        ("3 + 4 = 7. 5 + 6 = 11.", [True, True]),
        ("so x = 3 + 4 = 7", [True]),
        ("a = 3 + 4 = 8", [False]),
        ("22/7 ≈ 3.14", [True]),
        ("22/7 \\approx 3", [False]),
        ("48/2 = <<48/2=24>>24 clips", [True]),
        ("**3+4=7**", [True]),
        ("5 - -3 = 8", [True]),
        ("(so 3 + 4 = 8)", [False]),
    ],
)
def test_claims_are_found_and_checked(text: str, verdicts: list[bool]) -> None:
    assert [c.ok for c in find_arithmetic_claims(text)] == verdicts


@pytest.mark.parametrize(
    "text",
    [
        "2x + 3 = 11",  # a variable is part of the left side
        "x - 3 = 5",
        "3 = 3x",
        "f(3) = 9",
        "20% of 50 = 10",
        "half of 50 = 25",
        "5! = 120",
        "4 + 4 = 8 hundred",
        "3:4 = 0.75",
        "9^9^9^9 = 1",  # too large to check, so unchecked rather than a hang
        "the year 2024 was great",
        "x <= 4",
    ],
)
def test_claims_that_cannot_be_attributed_are_left_unchecked(text: str) -> None:
    assert find_arithmetic_claims(text) == []


# ---- the checker ------------------------------------------------------------------------------


def test_checker_scores_steps_and_aggregates() -> None:
    good = "Step 1: 3*4 = 12 apples in boxes.\nStep 2: 12 + 5 = 17.\nThe answer is 17."
    bad = "Step 1: 3*4 = 12 apples in boxes.\nStep 2: 12 + 5 = 18.\nThe answer is 18."
    checker = ArithmeticChecker()
    assert checker(good, PROBLEM).score == 1.0
    reward = checker(bad, PROBLEM)
    assert reward.score == 0.0 and reward.components == {"process": 0.0}
    assert reward.info["step_scores"] == [1.0, 0.0]
    assert reward.info["wrong_claims"] == ["12 + 5 = 18"]
    mean = ArithmeticChecker(aggregate="mean")(bad, PROBLEM)
    assert mean.score == 0.5
    assert checker("", PROBLEM).score == 0.0 and "no reasoning steps" in checker("", PROBLEM).info["error"]


def test_penalty_only_configuration() -> None:
    checker = ArithmeticChecker(correct_score=0.0, wrong_score=-1.0, unchecked_score=0.0, aggregate="mean")
    scores = [s.score for s in checker.step_scores("I think.\n2+2=5\n2+2=4", PROBLEM)]
    assert scores == [0.0, -1.0, 0.0]


def test_spread_over_tokens_sums_to_step_scores() -> None:
    steps = [StepScore(Step(0, "aaaa", 0, 4), 1.0), StepScore(Step(1, "bb", 5, 7), -1.0)]
    offsets = [(0, 2), (2, 4), (4, 5), (5, 6), (6, 7), (7, 7)]
    assert spread_over_tokens(steps, offsets) == [0.5, 0.5, 0.0, -0.5, -0.5, 0.0]
    assert spread_over_tokens(steps, [(3, 7)]) == [-1.0]  # a straddling token goes to its larger overlap


def test_token_rewards_with_a_real_tokenizer() -> None:
    tokenizer = _tokenizer()
    text = "Step 1: 3*4=12 apples\nStep 2: 12 + 5 = 18"
    checker = ArithmeticChecker(correct_score=1.0, wrong_score=-1.0)
    rewards = checker.token_rewards(text, PROBLEM, tokenizer=tokenizer)
    offsets = token_offsets(tokenizer, text)
    assert len(rewards) == len(offsets) == len(tokenizer(text, add_special_tokens=False)["input_ids"])
    steps = split_steps(text)
    first = [r for r, (a, _) in zip(rewards, offsets, strict=True) if a < steps[0].end]
    second = [r for r, (a, _) in zip(rewards, offsets, strict=True) if a >= steps[1].start]
    assert sum(first) == pytest.approx(1.0) and len(set(first)) == 1
    assert sum(second) == pytest.approx(-1.0) and len(set(second)) == 1
    assert sum(rewards) == pytest.approx(0.0)


def test_token_rewards_from_generated_ids_match_retokenized() -> None:
    tokenizer = _tokenizer()
    text = "Step 1: 3*4=12 apples\nStep 2: 12 + 5 = 18 ünïcode"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    checker = ArithmeticChecker(wrong_score=-1.0)
    from_ids = checker.token_rewards(text, PROBLEM, tokenizer=tokenizer, token_ids=ids)
    assert len(from_ids) == len(ids) and from_ids[-1] == 0.0  # EOS is outside every step
    assert sum(from_ids) == pytest.approx(0.0)
    spans = token_offsets(tokenizer, token_ids=ids)
    assert spans[-1][0] == spans[-1][1] == len(text)
    with pytest.raises(ValueError):
        checker.token_rewards("different text", PROBLEM, tokenizer=tokenizer, token_ids=ids)
    with pytest.raises(TypeError):
        checker.token_rewards(text, PROBLEM)


def test_slow_tokenizer_without_offsets_gets_a_clear_error() -> None:
    class Slow:
        is_fast = False

    with pytest.raises(ConfigError, match="fast tokenizer"):
        token_offsets(Slow(), "text")


def test_checker_pickles_and_rejects_bad_configuration() -> None:
    checker = ArithmeticChecker(split="lines", aggregate="product")
    clone = pickle.loads(pickle.dumps(checker))
    assert clone("2+2=4\n3*3=9", PROBLEM) == checker("2+2=4\n3*3=9", PROBLEM)
    with pytest.raises(ValueError):
        ArithmeticChecker(aggregate="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ArithmeticChecker(unchecked_score=float("nan"))
    with pytest.raises(TypeError):
        checker(42, PROBLEM)  # type: ignore[arg-type]


@given(st.text(alphabet=st.sampled_from(list("0123456789+-*/^=≈().,x $\\{}frac\n")), max_size=200))
def test_checker_never_raises_and_stays_fast(text: str) -> None:
    start = time.perf_counter()
    reward = ArithmeticChecker()(text, PROBLEM)
    assert 0.0 <= reward.score <= 1.0
    assert time.perf_counter() - start < 2.0


def test_huge_inputs_are_bounded() -> None:
    start = time.perf_counter()
    ArithmeticChecker()("1" * 150_000 + "=1\n" + "(" * 10_000 + "\n" + "2^2^2^2^2^2^2^2=3", PROBLEM)
    assert time.perf_counter() - start < 10.0


def test_claim_budget_bounds_the_work() -> None:
    checker = ArithmeticChecker(max_claims=3)
    text = "1+1=2\n2+2=4\n3+3=6\n4+4=9\n5+5=10"
    reward = checker(text, PROBLEM)
    assert reward.info["claims_checked"] == 3
    assert reward.score == 0.0  # the fourth claim was past the budget: unchecked, and unchecked is not correct
    assert "budget" in reward.info["step_reasons"][3]
    assert ArithmeticChecker()(text, PROBLEM).score == 0.0
    assert ArithmeticChecker(max_claims=3)("1+1=2\n2+2=4\nno more sums here", PROBLEM).score == 1.0
    with pytest.raises(ValueError):
        ArithmeticChecker(max_claims=0)


def test_padding_with_true_claims_cannot_hide_a_false_one() -> None:
    padding = "\n".join(f"{i} + 1 = {i + 1}" for i in range(2000))
    checker = ArithmeticChecker()
    assert checker(padding, PROBLEM).score == 1.0  # the attack's cover really is all true
    for hidden in ("7 * 8 = 54", "2 + 2 = 4"):  # false, and true but past the 2,000-claim budget
        reward = checker(padding + "\n" + hidden, PROBLEM)
        assert reward.score == 0.0, reward.info["step_reasons"][-1]
    # one step holding all of it: the claim past the budget is still not counted as true
    assert checker(padding.replace("\n", ", ") + ", 2 + 2 = 4", PROBLEM).score == 0.0


def test_padding_cannot_raise_the_reward_under_any_aggregate() -> None:
    wrong = "Step 1: 2 + 2 = 5."
    for aggregate in ("min", "mean", "last", "product"):
        checker = ArithmeticChecker(aggregate=aggregate)
        base = checker(wrong, PROBLEM).score
        prose = checker(wrong + "\n\nStep 2: we think hard about it.\n\nStep 3: still thinking.", PROBLEM).score
        assert prose <= base, aggregate


@pytest.mark.parametrize(
    "text",
    [
        "9^9^9^9 = 1",  # too large to evaluate
        "2^(1/2) = 1.41421356",  # not plain arithmetic the checker evaluates
        "1" * 5000 + " = 1",  # too long
    ],
)
def test_claims_that_cannot_be_checked_never_score_like_correct(text: str) -> None:
    reward = ArithmeticChecker()(text, PROBLEM)
    assert reward.score == 0.0, reward.info
    assert reward.info["claims_unchecked"] >= 1


@pytest.mark.parametrize(
    "text,expected",
    [
        ("٢ + ٢ = ٥", 0.0),  # Unicode (Arabic-Indic) digits are read, not skipped
        ("２ + ２ = ４", 1.0),  # full-width digits
        ("2 + 2 == 5", 0.0),  # "==" claims equality too
        ("2 + 2 == 4", 1.0),
        ("y := 2 + 2 = 5", 0.0),
    ],
)
def test_claims_in_unusual_notation_are_checked(text: str, expected: float) -> None:
    assert ArithmeticChecker()(text, PROBLEM).score == expected


def test_a_completion_without_claims_scores_no_claims_score() -> None:
    text = "I am confident. The answer is obvious."
    reward = ArithmeticChecker()(text, PROBLEM)
    assert reward.score == 1.0 and "no arithmetic claims" in reward.info["reason"]
    assert ArithmeticChecker(no_claims_score=0.0)(text, PROBLEM).score == 0.0
    assert ArithmeticChecker(correct_score=0.0, wrong_score=-1.0)(text, PROBLEM).score == 0.0
