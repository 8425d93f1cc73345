"""Equivalence table for `math_equal`: every category of the issue, both directions.

Each row is ``(prediction, gold, expected)``. Rows are grouped by category so a failure names
what broke. Symbolic rows go through the bounded worker (one shared worker for the module).
"""

from __future__ import annotations

import pytest

from thinkgym.verifiers.math import math_equal, math_worker_pool


@pytest.fixture(scope="module", autouse=True)
def _warm_worker():
    math_worker_pool().warm()


CASES: dict[str, list[tuple[str, str, bool]]] = {
    "integers_and_separators": [
        ("7,425,000", "7425000", True),
        ("7425000", "7,425,000", True),
        ("1 000", "1000", True),
        ("7\\,425\\,000", "7425000", True),
        ("1{,}000", "1000", True),
        ("007", "7", True),
        ("-0", "0", True),
        ("+5", "5", True),
        ("7,425,001", "7425000", False),
        ("1 001", "1000", False),
        ("70", "7", False),
        ("-5", "5", False),
    ],
    "decimals": [
        (".5", "0.5", True),
        ("0.50", "0.5", True),
        ("3,5", "3.5", True),  # decimal comma
        ("0,25", "1/4", True),
        ("-.25", "-\\frac{1}{4}", True),
        ("2.0", "2", True),
        ("0.51", "0.5", False),
        ("3,6", "3.5", False),
        ("2.01", "2", False),
        ("1234.1", "1234", False),
        ("1e-3", "0.001", True),
        ("1.5 \\times 10^{3}", "1500", True),
        ("2.5e3", "2500", True),
        ("0.\\overline{3}", "1/3", True),
        ("0.1\\overline{6}", "\\frac{1}{6}", True),
        ("1.5 \\times 10^{3}", "150", False),
        ("0.\\overline{3}", "0.3", False),
    ],
    "fractions": [
        ("\\frac{1}{2}", "0.5", True),
        ("\\dfrac{3}{4}", "3/4", True),
        ("\\tfrac{3}{4}", "0.75", True),
        ("\\frac13", "1/3", True),
        ("\\frac1{3}", "\\frac{1}{3}", True),
        ("2/4", "\\frac{1}{2}", True),
        ("-\\frac{1}{2}", "\\frac{-1}{2}", True),
        ("2\\frac{1}{2}", "5/2", True),
        ("2 1/2", "2.5", True),
        ("\\frac{2}{3}", "0.6667", True),
        ("\\frac{1}{3}", "0.3", False),
        ("\\frac{1}{2}", "\\frac{1}{3}", False),
        ("2\\frac{1}{2}", "2", False),
        ("\\frac{3}{2}", "2\\frac{1}{3}", False),
        ("½", "0.5", True),  # Unicode
        ("2½", "5/2", True),
        ("x²+1", "x^2+1", True),
        ("10⁻³", "0.001", True),
        ("¾", "0.5", False),
    ],
    "decimal_vs_exact": [
        ("0.333", "\\frac{1}{3}", True),
        ("0.33", "\\frac{1}{3}", False),  # fewer than three significant digits
        ("1.414", "\\sqrt{2}", True),
        ("3.1416", "\\pi", True),
        ("2.718", "e", True),
        ("0.7071", "\\frac{\\sqrt{2}}{2}", True),
        ("0.16666", "\\frac{1}{6}", False),  # truncated, not rounded (0.16667)
        ("0.16667", "\\frac{1}{6}", True),
        ("0.334", "\\frac{1}{3}", False),
        ("1.4142", "\\sqrt{2}", True),
        ("0.667", "\\frac{2}{3}", True),
        ("0.3", "\\frac{1}{3}", False),
        ("0.16", "\\frac{1}{6}", False),
        ("0.66", "\\frac{2}{3}", False),
        ("1.4143", "\\sqrt{2}", False),
        ("1.41", "\\sqrt{3}", False),
        ("3.2", "\\pi", False),
        ("0.7", "\\frac{\\sqrt{2}}{2}", False),
    ],
    "roots_pi_e": [
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("\\sqrt{8}", "2\\sqrt{2}", True),
        ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", True),
        ("\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", True),
        ("2\\pi", "\\pi \\cdot 2", True),
        ("e^{2}", "e^2", True),
        ("\\sqrt[3]{8}", "2", True),
        ("\\sqrt{2}", "\\sqrt{3}", False),
        ("2\\pi", "\\pi", False),
        ("e^2", "e^3", False),
        ("\\sqrt[3]{9}", "3", False),
    ],
    "percentages": [
        ("50\\%", "50", True),
        ("50%", "0.5", False),  # a percent sign is a unit, read one way only
        ("0.5", "50\\%", False),
        ("59\\%", "59", True),
        ("5900\\%", "59", False),
        ("12.5 percent", "12.5\\%", True),
        ("50\\%", "5", False),
        ("25%", "0.5", False),
    ],
    "units_currency_degrees": [
        ("\\$12.50", "12.5", True),
        ("12.50 dollars", "12.5", True),
        ("5\\text{ cm}", "5", True),
        ("5 \\mathrm{cm}^2", "5", True),
        ("30^\\circ", "30", True),
        ("30°", "30", True),
        ("45^{\\circ}", "45", True),
        ("18 apples", "18", True),
        ("\\text{12 hours}", "12", True),
        ("€ 40", "40", True),
        ("9.8 m/s^2", "9.8", True),
        ("5 \\text{ dollars}", "\\$5", True),
        ("3 square feet", "3", True),
        ("\\$12.50", "12.05", False),
        ("31^\\circ", "30", False),
    ],
    "symbolic_expressions": [
        ("\\tan^2 x + 1", "\\sec^2 x", True),
        ("(x+1)^2", "x^2+2x+1", True),
        ("\\frac{x^2-1}{x-1}", "x+1", True),
        ("\\sin^2 x + \\cos^2 x", "1", True),
        ("2x", "x+x", True),
        ("\\frac{a+b}{2}", "\\frac{b+a}{2}", True),
        ("(x+1)^2", "x^2+1", False),
        ("\\sin x", "\\cos x", False),
        ("\\ln 2", "\\log_e 2", True),
        ("e^{x}", "\\exp(x)", True),
        ("x^{10}", "x^10", True),
        ("x^{2}+2x+1", "x^2 + 2x + 1", True),
        ("2x", "2y", False),
        ("x^3", "x^2", False),
    ],
    "equations_and_assignments": [
        ("x=5", "5", True),
        ("5", "x=5", True),
        ("x = 2 + 3 = 5", "5", True),
        ("y = 2x + 1", "y=1+2x", True),
        ("2x + 3y = 6", "4x + 6y = 12", True),
        ("6 = 2x + 3y", "2x + 3y = 6", True),
        ("y=5", "x=5", False),
        ("x=6", "5", False),
        ("2x + 3y = 6", "2x + 3y = 7", False),
    ],
    "inequalities_and_intervals": [
        ("(3, \\infty)", "x > 3", True),
        ("[3, \\infty)", "x \\ge 3", True),
        ("(1, 2]", "1 < x \\le 2", True),
        ("x > 3", "3 < x", True),
        ("(-\\infty, 1) \\cup (2, \\infty)", "x < 1 \\text{ or } x > 2", True),
        ("(-\\infty, 1) \\cup (2, \\infty)", "(2, \\infty) \\cup (-\\infty, 1)", True),
        ("[1, 2]", "[1,2]", True),
        ("x \\in [1, 2)", "[1, 2)", True),
        ("2x > 6", "x > 3", True),
        ("x > 3", "(3, \\infty)", True),  # inequalities and intervals compare as sets, both ways round
        ("x \\ge 3", "(3, \\infty)", False),
        ("[3, \\infty)", "x > 3", False),
        ("(1, 2)", "[1, 2]", False),
        ("(1, 2]", "(1, 2)", False),
        ("x \\ge 3", "x > 3", False),
        ("(-\\infty, -2) \\cup (2, \\infty)", "|x| > 2", True),
        ("(-\\infty, \\infty)", "\\mathbb{R}", True),
        ("\\text{all real numbers}", "(-\\infty, \\infty)", True),
        ("(-2, 2)", "|x| > 2", False),
        ("(-2, 2)", "x^2 < 4", True),
        ("-2 < x < 2", "x^2 < 4", True),
        ("[-2, 2]", "x^2 < 4", False),
        ("(-\\infty, 3) \\cup (3, \\infty)", "x \\neq 3", True),
        ("(-\\infty, 3)", "x \\neq 3", False),
        ("(3, \\infty)", "\\{x \\mid x > 3\\}", True),
        ("[3, \\infty)", "\\{x \\mid x > 3\\}", False),
        ("(-\\infty, 1) \\cup (3, \\infty)", "(-\\infty, 1) \\cup (2, \\infty)", False),
    ],
    "sets_tuples_unions_pm": [
        ("\\{1, 2, 3\\}", "\\{3, 2, 1\\}", True),
        ("1, 2, 3", "\\{3, 1, 2\\}", True),
        ("3, 1, 2", "1, 2, 3", True),
        ("x = 1 \\text{ or } x = 2", "1, 2", True),
        ("\\pm 3", "3, -3", True),
        ("-3, 3", "\\pm 3", True),
        ("2 \\pm \\sqrt{3}", "2+\\sqrt{3}, 2-\\sqrt{3}", True),
        ("(1, 2)", "(1, 2)", True),
        ("(1, \\frac{1}{2})", "(1, 0.5)", True),
        ("\\{1, 2\\}", "\\{1, 2, 3\\}", False),
        ("(2, 1)", "(1, 2)", False),
        ("\\{1, 4\\}", "\\{1, 2\\}", False),
        ("3", "\\pm 3", False),
        ("\\{1, 2\\}", "(1, 2)", False),
        ("y = 4, x = 3", "x = 3, y = 4", True),
        ("x = 3, y = 4", "(3, 4)", True),
        ("x = 4, y = 3", "x = 3, y = 4", False),
        ("\\{(1, 2), (3, 4)\\}", "(3, 4), (1, 2)", True),
        ("\\varnothing", "\\emptyset", True),
        ("\\{\\}", "\\emptyset", True),
        ("\\{0\\}", "\\emptyset", False),
    ],
    "matrices_and_vectors": [
        ("\\begin{pmatrix}1 & 2\\\\3 & 4\\end{pmatrix}", "\\begin{bmatrix}1 & 2\\\\3 & 4\\end{bmatrix}", True),
        ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "(1, 2)", True),
        ("(1, 2, 3)", "\\begin{pmatrix}1\\\\2\\\\3\\end{pmatrix}", True),
        ("\\begin{pmatrix}\\frac{1}{2}\\\\1\\end{pmatrix}", "\\begin{pmatrix}0.5\\\\1\\end{pmatrix}", True),
        ("\\begin{pmatrix}1 & 2\\\\3 & 5\\end{pmatrix}", "\\begin{pmatrix}1 & 2\\\\3 & 4\\end{pmatrix}", False),
        ("\\begin{pmatrix}2\\\\1\\end{pmatrix}", "(1, 2)", False),
        ("\\left[\\begin{array}{cc}1&2\\\\3&4\\end{array}\\right]", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", True),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\langle 1, 2\\rangle", True),
    ],
    "complex_numbers": [
        ("3+4i", "3+4i", True),
        ("4i+3", "3+4i", True),
        ("\\frac{1}{i}", "-i", True),
        ("(1+i)^2", "2i", True),
        ("3-4i", "3+4i", False),
        ("2 + 3\\mathrm{i}", "3i+2", True),
        ("\\sqrt{-1}", "i", True),
        ("4i", "4", False),
    ],
    "multiple_choice": [
        ("C", "C", True),
        ("(C)", "C", True),
        ("\\text{(C)}", "C", True),
        ("C) 42", "(C)", True),
        ("c", "C", False),  # a lower-case letter names a choice only when the problem lists choices
        ("B", "C", False),
        ("(A)", "C", False),
    ],
    "text_answers": [
        ("\\text{Monday}", "Monday", True),
        ("monday.", "\\text{Monday}", True),
        ("East", "east", True),
        ("no solution", "\\text{No solution}", True),
        ("Undefined", "undefined", True),
        ("\\text{None}", "none", True),
        ("infinity", "\\infty", True),
        ("Tuesday", "Monday", False),
        ("west", "east", False),
        ("defined", "undefined", False),
    ],
}

TRAPS: list[tuple[str, str, bool]] = [
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}", False),  # tiny but different
    ("\\frac{1}{2006!}", "\\frac{1}{2006!}", True),
    ("4\\sqrt{2}", "4", False),  # the root is not a unit
    ("4", "4\\sqrt{2}", False),
    ("\\sqrt{1/n}", "\\frac{1}{\\sqrt{n}}", True),
    ("\\sqrt{x^2}", "x", False),
    ("x^2 - 4 = 0", "x^2 - 9 = 0", False),  # both rearrange to "... = 0"
    ("x - 1 = 0", "2x - 2 = 0", True),
    ("x^2 - 9 = 0", "0", False),  # an equation is not its right-hand side 0
    ("\\frac{a}{b} = 3", "3", True),
    ("**73**", "73", True),
    ("10^{-30}", "0", False),
    ("0.000", "\\frac{1}{2006!}", False),
    ("10^{100} + \\sqrt{2}", "10^{100} + \\sqrt{3}", False),  # equal to 40 digits, still different
    ("2^{1000}", "2^{1000} + 1", False),
    ("x^2 + 10^{-15}", "x^2", False),  # variables: compared at points with 30 digits
    ("\\sqrt{2} + \\sqrt{3}", "\\sqrt{5 + 2\\sqrt{6}}", True),
    ("1 + 10^{-20}", "1", False),
]


@pytest.mark.parametrize(
    "pred,gold,expected",
    [pytest.param(p, g, e, id=f"{cat}:{p}|{g}") for cat, rows in CASES.items() for p, g, e in rows],
)
def test_equivalence_table(pred: str, gold: str, expected: bool) -> None:
    assert math_equal(pred, gold) is expected


@pytest.mark.parametrize("pred,gold,expected", TRAPS, ids=[f"{p}|{g}" for p, g, _ in TRAPS])
def test_known_grader_traps(pred: str, gold: str, expected: bool) -> None:
    assert math_equal(pred, gold) is expected


def test_every_category_has_both_directions() -> None:
    for category, rows in CASES.items():
        outcomes = {expected for _, _, expected in rows}
        assert outcomes == {True, False}, category
