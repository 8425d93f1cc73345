"""The pieces under `verify_math`: precision reading and rounding, problem context, gold extraction, hedges."""

from __future__ import annotations

from fractions import Fraction

import pytest

from thinkgym.verifiers._math_numbers import (
    decimal_matches,
    parse_number,
    rounded,
    stated_precision,
)
from thinkgym.verifiers._math_rules import (
    choice_letters,
    gold_answer,
    hedge_reason,
    problem_context,
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Round to the nearest tenth.", ("decimals", 1)),
        ("to the nearest hundredth", ("decimals", 2)),
        ("nearest whole number", ("decimals", 0)),
        ("to the nearest integer", ("decimals", 0)),
        ("to the nearest cent", ("decimals", 2)),
        ("to the nearest ten", ("decimals", -1)),
        ("Give 3 decimal places.", ("decimals", 3)),
        ("two decimal places", ("decimals", 2)),
        ("correct to 3 d.p.", ("decimals", 3)),
        ("4 significant figures", ("significant", 4)),
        ("to 2 s.f.", ("significant", 2)),
        ("What is 12 + 5?", None),
        (None, None),
    ],
)
def test_stated_precision(text: str | None, expected: tuple[str, int] | None) -> None:
    assert stated_precision(text) == expected


def test_rounding_accepts_half_up_and_half_even() -> None:
    assert rounded(Fraction(25, 10), ("decimals", 0)) == {Fraction(3), Fraction(2)}
    assert rounded(Fraction(35, 10), ("decimals", 0)) == {Fraction(4)}
    assert rounded(Fraction(-25, 10), ("decimals", 0)) == {Fraction(-3), Fraction(-2)}
    assert rounded(Fraction(1, 3), ("decimals", 2)) == {Fraction(33, 100)}
    assert rounded(Fraction(12345, 10), ("significant", 3)) == {Fraction(1230)}
    assert rounded(Fraction(1235), ("decimals", -1)) == {Fraction(1240)}


@pytest.mark.parametrize(
    "decimal,exact,expected",
    [
        ("0.25", Fraction(1, 4), True),
        ("0.3", Fraction(1, 4), False),
        ("327.6", Fraction(327551, 1000), False),  # a terminating exact value must match exactly
        ("0.333", Fraction(1, 3), True),
        ("0.33", Fraction(1, 3), False),  # two significant digits
        ("0.334", Fraction(1, 3), False),  # not the rounding
        ("0.16667", Fraction(1, 6), True),
        ("0.16666", Fraction(1, 6), False),  # truncated, not rounded
    ],
)
def test_the_precision_rule(decimal: str, exact: Fraction, expected: bool) -> None:
    num = parse_number(decimal)
    assert num is not None
    assert decimal_matches(num, exact) is expected


def test_percent_is_kept_as_a_unit_mark_not_a_factor() -> None:
    num = parse_number("59%")
    assert num is not None and num.value == 59 and num.percent


def test_problem_context() -> None:
    assert problem_context(None).angles is False
    assert problem_context("In triangle ABC, find angle C.").angles
    assert problem_context("Compute $\\sin x$ for $x = 1$.").angles
    assert not problem_context("How many apples are left?").angles
    assert problem_context("Find the domain of f.").intervals
    assert problem_context("Which is prime? (A) 4 (B) 7 (C) 9").choices
    assert not problem_context("Point (A) is here.").choices  # one letter is not a list of choices


@pytest.mark.parametrize(
    "gold,expected",
    [
        ("5", "5"),
        ("\\frac{1}{2}", "\\frac{1}{2}"),
        ("Adding gives $1+2=\\boxed{3}$.", "3"),
        ("$AB = 5$", "AB = 5"),
        ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "72"),
        ("no answer", "no answer"),
        ("\\$5", "\\$5"),
    ],
)
def test_gold_answer(gold: str, expected: str) -> None:
    assert gold_answer(gold) == expected


def test_hedges() -> None:
    assert hedge_reason("2 or 3", True, False)
    assert hedge_reason("\\pm 2", True, False)
    assert hedge_reason("\\pm 2", False, False) is None  # the gold is a set: ± lists its members
    assert hedge_reason("\\frac{-1 \\pm \\sqrt 5}{2}", True, False, "\\frac{-1\\pm\\sqrt5}{2}") is None
    assert hedge_reason("(B) or (C)", True, True)
    assert hedge_reason("B/C", True, True)
    assert hedge_reason("(B) 12", True, True) is None
    assert choice_letters("\\textbf{(B)} or (D)") == ["B", "D"]
