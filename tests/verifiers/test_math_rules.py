"""The grading rules of issue 12, end to end through `verify_math` (whole completions, both ways).

Each row: a completion as models write it, the gold, an optional problem text, the verdict the
rules in ``verifiers/math.py``'s docstring give. Correct forms score 1, wrong ones 0.
"""

from __future__ import annotations

import pytest

from thinkgym.core import Problem
from thinkgym.verifiers.math import MathVerifier, math_equal, math_worker_pool, verify_math


@pytest.fixture(scope="module", autouse=True)
def _warm_worker():
    math_worker_pool().warm()


ANGLES = "In triangle $ABC$, $\\angle A = 50^\\circ$ and $\\angle B = 70^\\circ$. Find $\\angle C$."
DOMAIN = "Find the domain of $f(x) = \\sqrt{x-1} + \\sqrt{2-x}$ in interval notation."
CHOICES = "Which is prime? (A) 4 (B) 7 (C) 9 (D) 15"
TENTH = "Give the length to the nearest tenth."

CASES: dict[str, list[tuple[str, str, str | None, bool]]] = {
    "extraction_without_box": [
        ("So the solution set is $x \\in [2, 5)$.", "[2,5)", None, True),
        ("Thus the ratio is $\\frac27$.", "2/7", None, True),
        ("We conclude \\( \\left( \\frac{2}{7} \\right) \\).", "2/7", None, True),
        ("Hence $y \\geq -1$ is what we want.", "y >= -1", None, True),
        ("The matrix is $\\begin{pmatrix}1&0\\\\0&2\\end{pmatrix}$.", "\\begin{pmatrix}1&0\\\\0&2\\end{pmatrix}", None, True),
        ("The matrix is $\\begin{pmatrix}1&0\\\\0&2\\end{pmatrix}$.", "\\begin{pmatrix}1&0\\\\0&3\\end{pmatrix}", None, False),
        ("Working...\n\nFinal Answer: $\\frac{3}{4}$", "0.75", None, True),
        ("We get 12 apples.\n\n**18**", "18", None, True),
        ("We get 12 apples.\n\n**18**", "12", None, False),
        ("The value is\n\\[ x = \\frac{3}{4} \\]", "3/4", None, True),
        ("$$\\sqrt{2}$$", "\\sqrt 2", None, True),
        ("#### 1,234", "1234", None, True),
        ("the answer is $-7$.", "-7", None, True),
        ("the answer is $-7$.", "7", None, False),
    ],
    "integers_decimals": [
        ("\\boxed{007}", "7", None, True),
        ("\\boxed{7.0}", "7", None, True),
        ("\\boxed{-0}", "0", None, True),
        ("\\boxed{7.01}", "7", None, False),
        ("\\boxed{0.25}", "\\frac14", None, True),
        ("\\boxed{0.3}", "1/4", None, False),
        ("\\boxed{\\frac{327551}{1000}}", "327.6", None, False),
        ("\\boxed{327.6}", "\\frac{1638}{5}", None, True),
    ],
    "fractions_mixed": [
        ("\\boxed{2\\frac{1}{2}}", "5/2", None, True),
        ("\\boxed{2 1/2}", "\\frac{5}{2}", None, True),
        ("\\boxed{\\dfrac{-3}{4}}", "-0.75", None, True),
        ("\\boxed{\\tfrac{6}{8}}", "3/4", None, True),
        ("\\boxed{2\\frac{1}{2}}", "2", None, False),
        ("\\boxed{\\frac{4}{3}}", "3/4", None, False),
    ],
    "precision_rule": [
        ("\\boxed{0.333}", "\\frac{1}{3}", None, True),
        ("\\boxed{0.3333}", "\\frac{1}{3}", None, True),
        ("\\boxed{0.33}", "\\frac{1}{3}", None, False),
        ("\\boxed{0.334}", "\\frac{1}{3}", None, False),
        ("\\boxed{0.667}", "\\frac{2}{3}", None, True),
        ("\\boxed{1.41}", "\\sqrt{2}", None, True),
        ("\\boxed{1.4}", "\\sqrt{2}", None, False),
        ("\\boxed{\\pi}", "3.14", None, True),
        ("\\boxed{3.15}", "\\pi", None, False),
        ("\\boxed{2.718}", "e", None, True),
        ("\\boxed{12.6}", "4\\sqrt{10}", TENTH, True),
        ("\\boxed{12.65}", "4\\sqrt{10}", TENTH, False),
        ("\\boxed{4\\sqrt{10}}", "4\\sqrt{10}", TENTH, False),
        ("\\boxed{2.5}", "\\frac{5}{2}", "Round to the nearest tenth.", True),
        ("\\boxed{0.33}", "\\frac{1}{3}", "Round your answer to 2 decimal places.", True),
        ("\\boxed{0.333}", "\\frac{1}{3}", "Round your answer to 2 decimal places.", False),
        ("\\boxed{3}", "2.5", "Round to the nearest whole number.", True),
        ("\\boxed{2}", "2.5", "Round to the nearest integer.", True),
        ("\\boxed{1}", "2.5", "Round to the nearest integer.", False),
        ("\\boxed{1230}", "1234.5", "Give 3 significant figures.", True),
        ("\\boxed{1.2 \\times 10^3}", "1234", "Round 1234 to 2 significant figures.", True),
        ("\\boxed{0.667}", "\\frac{2}{3}", "Give your answer correct to 3 d.p.", True),
        ("\\boxed{0.67}", "\\frac{2}{3}", "Give your answer to 2 s.f.", True),
        ("\\boxed{0.667}", "\\frac{2}{3}", "Give your answer to 2 s.f.", False),
        ("\\boxed{1240}", "1236", "Round to the nearest ten.", True),
        # the precision is the problem's subject: the gold itself is not rounded, and it counts
        ("\\boxed{54}", "54", "A whole number rounds to 50 to the nearest ten. What is the largest it can be?", True),
        ("\\boxed{53}", "54", "A whole number rounds to 50 to the nearest ten. What is the largest it can be?", False),
    ],
    "percent_is_a_unit": [
        ("\\boxed{59\\%}", "59", None, True),
        ("\\boxed{59\\%}", "0.59", None, False),
        ("\\boxed{5900\\%}", "59", None, False),
        ("\\boxed{59}", "59\\%", None, True),
        ("\\boxed{0.59}", "59\\%", None, False),
        ("\\boxed{12.5 \\text{ percent}}", "12.5", None, True),
    ],
    "scientific_and_thousands": [
        ("\\boxed{1.5 \\times 10^{3}}", "1500", None, True),
        ("\\boxed{1.5e3}", "1500", None, True),
        ("\\boxed{1.5 \\times 10^{4}}", "1500", None, False),
        ("\\boxed{12,\\! 345,\\! 678}", "12345678", None, True),
        ("\\boxed{12{,}345}", "12345", None, True),
        ("\\boxed{1\\,500}", "1500", None, True),
        ("\\boxed{1 500}", "1500", None, True),
        ("\\boxed{1,500}", "1500", None, True),
        ("\\boxed{1,500}", "15", None, False),
    ],
    "radicals_constants": [
        ("\\boxed{\\sqrt{\\frac{1}{2}}}", "\\frac{1}{\\sqrt{2}}", None, True),
        ("\\boxed{\\sqrt{1/3}}", "\\frac{1}{\\sqrt 3}", None, True),
        ("\\boxed{\\frac{\\sqrt{2}}{2}}", "\\frac{1}{\\sqrt{2}}", None, True),
        ("\\boxed{2\\sqrt{3}}", "\\sqrt{12}", None, True),
        ("\\boxed{2\\sqrt{3}}", "\\sqrt{13}", None, False),
        ("\\boxed{e^{i\\pi}}", "-1", None, True),
        ("\\boxed{3+4i}", "4i+3", None, True),
        ("\\boxed{3-4i}", "3+4i", None, False),
    ],
    "expressions": [
        ("\\boxed{(x+1)^2}", "x^2+2x+1", None, True),
        ("\\boxed{x^2-1}", "(x-1)(x+1)", None, True),
        ("\\boxed{x^2+1}", "(x+1)^2", None, False),
    ],
    "relations": [
        ("\\boxed{3 = 2}", "2", None, False),
        ("\\boxed{1 + 2 = 3}", "3", None, True),
        ("\\boxed{x = 5}", "5", None, True),
        ("\\boxed{5}", "x = 5", None, True),
        ("\\boxed{5}", "$AB = 5$", None, True),
        ("\\boxed{6}", "$AB = 5$", None, False),
        ("\\boxed{\\frac{1}{\\sqrt{3}}}", "$\\frac{AD}{DC}=\\frac{1}{\\sqrt{3}}$", None, True),
        ("\\boxed{3:8}", "$V_1:V_2=3:8$", None, True),
        ("\\boxed{3:7}", "$V_1:V_2=3:8$", None, False),
        ("\\boxed{f(2) = 7}", "7", None, True),
        ("\\boxed{2x = 4}", "x = 2", None, True),
        ("\\boxed{2x = 6}", "x = 2", None, False),
        ("\\boxed{y = 2x + 1}", "y = 1 + 2x", None, True),
        ("\\boxed{-1 \\le y \\le 4}", "y \\in [-1,4]", None, True),
        ("\\boxed{y \\in [-1,4]}", "-1 \\le y \\le 4", None, True),
        ("\\boxed{-1 < y \\le 4}", "y \\in [-1,4]", None, False),
        ("\\boxed{y \\ge -1}", "[-1, \\infty)", None, True),
        ("\\boxed{-1 \\le y}", "y \\geq -1", None, True),
        ("\\boxed{y > -1}", "y \\geq -1", None, False),
    ],
    "intervals_sets_tuples": [
        ("\\boxed{(-\\infty, 2) \\cup (3, \\infty)}", "x<2 \\text{ or } x>3", None, True),
        ("\\boxed{(-\\infty, 2] \\cup (3, \\infty)}", "(-\\infty, 2) \\cup (3, \\infty)", None, False),
        ("\\boxed{[4,\\infty]}", "[4, \\infty)", None, False),
        ("\\boxed{\\{1,2\\}}", "\\{2,1\\}", None, True),
        ("\\boxed{2, 1}", "\\{1, 2\\}", None, True),
        ("\\boxed{\\{1,3\\}}", "\\{1, 2\\}", None, False),
        ("\\boxed{(1,2)}", "(1,2)", None, True),
        ("\\boxed{(2,1)}", "(1,2)", None, False),
        ("\\boxed{1 < x < 2}", "(1,2)", None, False),
        ("\\boxed{1 < x < 2}", "(1,2)", DOMAIN, True),
        ("\\boxed{(1, 2, 3)}", "(1, 2, 3)", None, True),
        ("\\boxed{(1, 3, 2)}", "(1, 2, 3)", None, False),
    ],
    "matrices_vectors": [
        ("\\boxed{\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", None, True),
        ("\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}", "(1, 2)", None, True),
        ("\\boxed{\\begin{pmatrix}2&1\\\\3&4\\end{pmatrix}}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", None, False),
    ],
    "choices": [
        ("\\boxed{B}", "B", None, True),
        ("\\boxed{(B)}", "B", None, True),
        ("\\boxed{\\text{(B)}}", "B", None, True),
        ("\\boxed{\\textbf{(B)}}", "B", None, True),
        ("The answer is B) 7.", "B", None, True),
        ("\\boxed{(B) 7}", "B", None, True),
        ("\\boxed{C}", "B", None, False),
        ("\\boxed{(B) or (C)}", "B", None, False),
        ("\\boxed{B/C}", "B", None, False),
        ("\\boxed{b}", "B", None, False),
        ("\\boxed{b}", "B", CHOICES, True),
        ("the answer is (b)", "B", CHOICES, True),
        ("the answer is (b)", "B", None, False),
        ("I choose option B.", "B", CHOICES, True),
        ("\\boxed{B}", "B) 7", None, True),
        ("\\boxed{A, B}", "B", None, False),
        ("\\boxed{\\text{A or B}}", "B", None, False),
    ],
    "hedges": [
        ("\\boxed{2 \\text{ or } 3}", "2", None, False),
        ("\\boxed{2 or 3}", "3", None, False),
        ("\\boxed{2} ... no wait \\boxed{3}", "3", None, False),
        ("\\boxed{3} and again \\boxed{3}", "3", None, True),
        ("\\boxed{\\pm 2}", "2", None, False),
        ("\\boxed{\\pm 2}", "\\{-2, 2\\}", None, True),
        ("\\boxed{\\pm 2}", "-2, 2", None, True),
        ("\\boxed{x = 2 \\text{ or } x = 3}", "2, 3", None, True),
        ("\\boxed{x = 2 \\text{ or } x = 3}", "\\{3, 2\\}", None, True),
        ("\\boxed{x = 2 \\text{ or } x = 3}", "2", None, False),
        ("\\boxed{1, 2, 3, 4, 5}", "3", None, False),
        ("\\boxed{\\text{either } 2 \\text{ or } 3}", "2", None, False),
    ],
    "units_degrees": [
        ("\\boxed{5 \\text{ cm}}", "5", None, True),
        ("\\boxed{\\$5}", "5", None, True),
        ("\\boxed{5\\text{ dollars}}", "5", None, True),
        ("\\boxed{25 \\text{ m}}", "25 \\text{ m}^2", None, False),
        ("\\boxed{60^\\circ}", "60", None, True),
        ("\\boxed{60°}", "60", None, True),
        ("\\boxed{60 \\text{ degrees}}", "60", None, True),
        ("\\boxed{60^{\\circ}}", "\\frac{\\pi}{3}", None, False),
        ("\\boxed{60^{\\circ}}", "\\frac{\\pi}{3}", ANGLES, True),
        ("\\boxed{\\frac{\\pi}{3}}", "60", ANGLES, True),
        ("\\boxed{\\frac{\\pi}{4}}", "60", ANGLES, False),
    ],
    "text": [
        ("\\boxed{\\text{Yes}}", "yes", None, True),
        ("\\boxed{YES}", "yes", None, True),
        ("\\boxed{no}", "yes", None, False),
        ("\\boxed{\\text{a circle}}", "circle", None, True),
        ("\\boxed{\\text{Monday}}", "Tuesday", None, False),
    ],
    "gold_solution_texts": [
        ("\\boxed{3}", "Adding the two parts gives $1+2=\\boxed{3}$.", None, True),
        ("\\boxed{4}", "Adding the two parts gives $1+2=\\boxed{3}$.", None, False),
        ("\\boxed{\\frac{1}{2}}", "We find $p = \\frac{1}{2}$, so the answer is $\\frac12$.", None, True),
    ],
}


@pytest.mark.parametrize(
    "completion,gold,problem,expected",
    [pytest.param(c, g, p, e, id=f"{cat}:{c[-40:]}|{g[:30]}") for cat, rows in CASES.items() for c, g, p, e in rows],
)
def test_rule(completion: str, gold: str, problem: str | None, expected: bool) -> None:
    reward = verify_math(completion, gold, problem=problem)
    assert reward.score == (1.0 if expected else 0.0), reward.info
    if not expected:
        assert reward.info.get("reason")


def test_hedges_say_why() -> None:
    for completion, gold in [("\\boxed{(B) or (C)}", "B"), ("\\boxed{2 \\text{ or } 3}", "2"), ("\\boxed{\\pm 2}", "2")]:
        assert "hedge" in verify_math(completion, gold).info["reason"]


def test_math_verifier_reads_the_problem_text() -> None:
    problem = Problem(id="p", prompt=ANGLES, answer="60")
    assert MathVerifier()("\\boxed{\\frac{\\pi}{3}}", problem).score == 1.0
    assert verify_math("\\boxed{\\frac{\\pi}{3}}", "60").score == 0.0  # no problem text: no conversion


def test_math_equal_takes_the_problem_text_too() -> None:
    assert math_equal("0.33", "\\frac{1}{3}", problem="Round to two decimal places.")
    assert not math_equal("0.33", "\\frac{1}{3}")


#: Forms seen in real reasoning-model output, and wrong answers that look right.
REAL_FORMS: list[tuple[str, str, bool]] = [
    ("The final answer is $\\boxed{\\text{(C) } 12}$", "C", True),
    ("**Answer: C**", "C", True),
    ("The correct option is **(D)**.", "D", True),
    ("\\boxed{A}", "(A) 5", True),
    ("\\boxed{\\$1,000.00}", "1000", True),
    ("\\boxed{(x, y) = (1, 2)}", "(1,2)", True),
    ("\\boxed{(x, y) = (2, 1)}", "(1,2)", False),
    ("\\boxed{\\frac{9}{2}\\text{ cm}^2}", "4.5", True),
    ("\\boxed{-\\infty}", "\\infty", False),
    ("\\boxed{2 \\text{ and } 3}", "2, 3", True),
    ("\\boxed{3, 2}", "(2, 3)", False),
    ("\\boxed{a = 3, b = 2}", "a=2, b=3", False),
    ("\\boxed{\\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}}", "\\frac{-b\\pm\\sqrt{b^2-4ac}}{2a}", True),
    ("\\boxed{-\\frac{1}{2} \\pm \\frac{\\sqrt{5}}{2}}", "\\frac{-1 \\pm \\sqrt 5}{2}", True),
    ("\\boxed{\\frac{-1 + \\sqrt 5}{2}, \\frac{-1 - \\sqrt 5}{2}}", "\\frac{-1 \\pm \\sqrt 5}{2}", True),
    ("\\boxed{[1, 2) \\cup (2, 3]}", "[1,3] \\setminus \\{2\\}", True),
    ("\\boxed{6 \\text{ or } 6}", "6", True),
    ("The answer is 5, not 6.", "5", True),
    ("The answer is 5, not 6.", "6", False),
    ("I think the answer is 5. But wait, let me recheck. Actually the answer is 6.", "6", True),
    ("I think the answer is 5. But wait, let me recheck. Actually the answer is 6.", "5", False),
    ("We need $n = 12$.\n\nThis is the smallest such $n$.", "12", True),
    ("We have $4x = 29 - 1 = 28$. So, the value of $x$ is 7.", "7", True),
    ("Hexa- is the Greek prefix for six.\n\nAnswer: six", "6", True),
    ("x = \\boxed{3}, y = \\boxed{5}", "(3, 5)", True),
    ("$\\boxed{3}$ and $\\boxed{5}$", "5", False),
    ("Final Answer: The final answer is $\\$0.5$. I hope it is correct.", "0.5", True),
    ("\\boxed{50^2}", "2500", True),
    ("\\boxed{0.1\\overline{6}}", "\\frac{1}{6}", True),
    ("\\boxed{x = 2, 3}", "\\{2, 3\\}", True),
    ("\\boxed{|x| \\le 2}", "[-2, 2]", True),
    ("\\boxed{1/4}", "25\\%", False),
    ("\\boxed{100}", "\\frac{301}{3}", False),
    ("\\boxed{2\\sqrt{3}}", "3\\sqrt{2}", False),
    ("\\boxed{x > 3}", "x \\ge 3", False),
    ("<think>maybe \\boxed{5}? no, recheck.</think>\n\nThe answer is $\\boxed{6}$.", "6", True),
    ("<think>maybe \\boxed{5}? no, recheck.</think>\n\nThe answer is $\\boxed{6}$.", "5", False),
    ("<think>it is \\boxed{5}</think>", "5", True),
    ("\\boxed{\\cos 60^\\circ}", "\\frac{1}{2}", True),
    ("The answer could be 2, 3, 4 or 5.", "5", False),  # hedges outside a box are hedges too
    ("the answer is $2$ or $3$.", "2", False),
    ("the answer is $2$, or maybe $3$.", "2", False),
    ("\\boxed{2 \\lor 3}", "2", False),
    ("\\boxed{2 \\text{ (or possibly 3)}}", "2", False),
    ("\\boxed{[1, 100]}", "50", False),
    ("\\boxed{x = 2 = 3}", "3", False),
    ("\\boxed{2 \\ne 3}", "3", False),
    ("\\boxed{0.5 \\text{ or } 50\\%}", "0.5", False),
    ("\\boxed{B} or \\boxed{C}", "B", False),
    ("So $a + b = 3 + 4 = 7$.", "7", True),
    ("So $a + b = 3 + 4 = 8$.", "8", False),  # a false chain is false as a whole
    ("The answer is $x = 2$ and $y = 3$.", "(2,3)", True),
    ("### Final Answer\n$$\\frac{3}{8}$$", "0.375", True),
    ("Thus, $\\boxed{\\textbf{(B)}~24}$.", "B", True),
    ("\\boxed{1.5 × 10³}", "1500", True),
    ("\\boxed{1,50,000}", "150000", False),
    ("## Final Answer\nThe number of ways is **42**.", "42", True),
    ("**Answer:** The probability is $\\frac{1}{4}$.", "0.25", True),
    ("Answer: The probability is $\\frac{1}{4}$ or $\\frac{1}{2}$.", "0.25", False),
    ("Answer: The value of $x$ is 7.", "7", True),
    ("The final answer is that the area is 25 square units.", "25", True),
    ("The final answer is that the area is 25 square units.", "24", False),
    ("\\boxed{\\{x \\mid x > 3\\}}", "(3,\\infty)", True),
    ("\\boxed{\\{x \\mid x \\ge 3\\}}", "(3,\\infty)", False),
    ("\\boxed{x \\neq 0}", "(-\\infty,0)\\cup(0,\\infty)", True),
    ("\\boxed{f^{-1}(x) = \\frac{x-3}{2}}", "\\frac{x-3}{2}", True),
    ("\\boxed{f^{-1}(x) = \\frac{x+3}{2}}", "\\frac{x-3}{2}", False),
    ("The matrix is $\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]$.", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", True),
]


@pytest.mark.parametrize("completion,gold,expected", REAL_FORMS, ids=[f"{c[-40:]}|{g[:30]}" for c, g, _ in REAL_FORMS])
def test_real_forms(completion: str, gold: str, expected: bool) -> None:
    assert verify_math(completion, gold).score == (1.0 if expected else 0.0)


def test_batch_applies_the_same_rules_with_problem_texts() -> None:
    from thinkgym.verifiers.math import verify_math_batch

    completions = ["\\boxed{\\frac{\\pi}{3}}", "\\boxed{59\\%}", "\\boxed{(B) or (C)}", "\\boxed{0.33}", "\\boxed{3}"]
    golds = ["60", "0.59", "B", "\\frac{1}{3}", "Adding the two parts gives $1+2=\\boxed{3}$."]
    problems = [ANGLES, None, None, "Round to two decimal places.", None]
    rewards = verify_math_batch(completions, golds, problems=problems, workers=1, timeout=3.0)
    assert [r.score for r in rewards] == [1.0, 0.0, 0.0, 1.0, 1.0]
