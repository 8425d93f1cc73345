"""Builds ``math_corpus.jsonl``: the hand-labelled equivalence corpus of math answers (issue 12).

Run:  .venv/bin/python tests/verifiers/data/build_math_corpus.py   (rewrites the .jsonl beside it)

Why a script and not only the .jsonl: every row is written here by hand as
(problem, reasoning, answer, gold, verdict, why), and the script wraps the answer into a realistic
completion (reasoning with intermediate numbers, sometimes in ``<think>``, then the final answer in
one of the forms models use). The wrapper is picked by the row's position, so the output is
byte-for-byte deterministic: no randomness, no clock, no grader. Verdicts come from mathematics and
the grading rules of issue 12 (quoted in ``tests/verifiers/test_math_corpus.py``); no verifier was
run to label anything. Rows whose completion must be exact (unboxed forms, hedges, gold solution
texts) give the whole completion with ``raw=``.

Row fields: id (``<category>-<nnn>``), category, completion, gold, problem (text or null),
expected (bool), hard_negative (bool: looks right and is not), why (one line).
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).with_name("math_corpus.jsonl")

ROWS: list[dict] = []

# Final-answer wrappers, as reasoning models write them. {R} = reasoning, {A} = answer.
WRAPPERS = [
    "{R}\n\nTherefore, the answer is $\\boxed{{{A}}}$.",
    "<think>\n{R}\n</think>\n\nThe answer is $\\boxed{{{A}}}$.",
    "{R}\n\n\\[\n\\boxed{{{A}}}\n\\]",
    "{R}\n\n**Final Answer:** $\\boxed{{{A}}}$",
    "{R} So the final answer is $\\boxed{{{A}}}$.",
    "<think>\n{R}\n</think>\n\n{R2}\n\n$$\\boxed{{{A}}}$$",
    "{R}\n\nFinal Answer: The final answer is ${A}$. I hope it is correct.",
    "{R}\n\nThus we get \\(\\boxed{{{A}}}\\).",
]
_counter = [0]


def wrap(reasoning: str, answer: str, fmt: int | None = None) -> str:
    """The completion for ``answer`` after ``reasoning``, in wrapper ``fmt`` (default: rotate)."""
    if fmt is None:
        fmt = _counter[0] % len(WRAPPERS)
        _counter[0] += 1
    first = reasoning.split(". ")[0].rstrip(".")
    return WRAPPERS[fmt].format(R=reasoning, A=answer, R2=f"{first}, as worked out above.")


def add(category: str, answer: str | None, gold: str, expected: bool, why: str, *,
        problem: str | None = None, reasoning: str = "", hard: bool = False,
        fmt: int | None = None, raw: str | None = None) -> None:
    """One row. ``raw`` is the whole completion; otherwise ``answer`` is wrapped after ``reasoning``."""
    if hard and expected:
        raise ValueError(f"a hard negative is wrong by definition: {category} {answer!r}")
    completion = raw if raw is not None else wrap(reasoning, answer, fmt)
    ROWS.append({
        "category": category, "completion": completion, "gold": gold, "problem": problem,
        "expected": expected, "hard_negative": hard, "why": why,
    })


def item(category: str, problem: str | None, reasoning: str, gold: str,
         rights: list[tuple[str, str]], wrongs: list[tuple], *, give_problem: bool = True) -> None:
    """Several rows on one problem: ``rights`` = [(answer, why)], ``wrongs`` = [(answer, why[, hard])]."""
    shown = problem if give_problem else None
    for answer, why in rights:
        add(category, answer, gold, True, why, problem=shown, reasoning=reasoning)
    for wrong in wrongs:
        answer, why = wrong[0], wrong[1]
        hard = wrong[2] if len(wrong) > 2 else False
        add(category, answer, gold, False, why, problem=shown, reasoning=reasoning, hard=hard)


# ---------------------------------------------------------------------------------------------
# integers
# ---------------------------------------------------------------------------------------------
C = "integers"
item(C, "An orchard has 23 rows of 17 apple trees. The owner plants 58 more trees. How many trees are in the orchard now?",
     "There are $23 \\times 17 = 391$ trees at first. Planting 58 more gives $391 + 58 = 449$.",
     "449",
     [("449", "23*17+58 = 449"), ("449.0", "449.0 is the same integer"), ("{449}", "extra braces only")],
     [("391", "forgot the 58 new trees (intermediate value)", True), ("333", "subtracted 58 instead of adding")])
item(C, "What is the remainder when 2023 is divided by 17?",
     "We have $17 \\times 119 = 2023$, so $2023 = 17 \\cdot 119 + 0$. Checking: $17 \\cdot 100 = 1700$, $17 \\cdot 19 = 323$, and $1700 + 323 = 2023$.",
     "0",
     [("0", "17*119 = 2023 exactly, remainder 0")],
     [("119", "the quotient, not the remainder", True), ("17", "the divisor, the question's given number", True)])
item(C, "How many positive divisors does 360 have?",
     "Factor: $360 = 2^3 \\cdot 3^2 \\cdot 5$. The number of divisors is $(3+1)(2+1)(1+1) = 4 \\cdot 3 \\cdot 2$.",
     "24",
     [("24", "(3+1)(2+1)(1+1) = 24"), ("24 \\text{ divisors}", "24 with a word after it")],
     [("12", "dropped the factor for 5", True), ("360", "boxed the question's given number", True)])
item(C, "Compute $47^2 - 53^2$.",
     "Use the difference of squares: $47^2 - 53^2 = (47-53)(47+53) = (-6)(100)$.",
     "-600",
     [("-600", "(47-53)(47+53) = -600"), ("- 600", "a space after the minus sign"), ("\u2212600", "Unicode minus sign, same number")],
     [("600", "sign dropped", True), ("-6", "the first factor only")])
item(C, "Evaluate $12 - 7 \\cdot 9 + 4$.",
     "Multiplication first: $7 \\cdot 9 = 63$. Then $12 - 63 = -51$ and $-51 + 4 = -47$.",
     "-47",
     [("-47", "12 - 63 + 4 = -47")],
     [("49", "left-to-right evaluation (12-7)*9+4, ignoring precedence"), ("-51", "stopped before adding 4", True)])
item(C, "A train travels 312 miles in 4 hours and then 150 miles in 2 hours. What is its average speed for the whole trip in miles per hour?",
     "Total distance is $312 + 150 = 462$ miles and total time is $4 + 2 = 6$ hours, so the average speed is $462 / 6$.",
     "77",
     [("77", "462/6 = 77"), ("77 \\text{ mph}", "77 with its unit")],
     [("76.5", "averaged the two speeds 78 and 75 instead of total distance / total time", True), ("462", "total distance, an intermediate value")])
item(C, "What is the sum of the first 50 positive odd integers?",
     "The first $n$ odd numbers add to $n^2$. With $n = 50$ the 50th odd number is 99 and the sum is $50^2$.",
     "2500",
     [("2500", "50^2 = 2500"), ("2{,}500", "LaTeX thousands separator"), ("50^2", "the power evaluates to 2500")],
     [("2550", "sum of the first 50 even numbers", True), ("99", "the 50th odd number, an intermediate value")])
item(C, None,
     "The gcd of 84 and 126: $126 = 84 + 42$, and $84 = 2 \\cdot 42$, so $\\gcd(84,126) = 42$. The lcm is $84 \\cdot 126 / 42 = 252$.",
     "252",
     [("252", "lcm(84,126) = 252")],
     [("42", "the gcd instead of the lcm", True), ("10584", "the product 84*126, not divided by the gcd")])
item(C, "How many ways can 5 people stand in a line?",
     "There are 5 choices for the first spot, 4 for the second, and so on: $5! = 5 \\cdot 4 \\cdot 3 \\cdot 2 \\cdot 1$.",
     "120",
     [("120", "5! = 120"), ("5!", "5! evaluates to 120")],
     [("24", "4! instead of 5!", True)])
item(C, "Find the smallest positive integer $n$ such that $n^2 > 2000$.",
     "$44^2 = 1936$ is less than 2000 and $45^2 = 2025$ exceeds it.",
     "45",
     [("45", "45^2 = 2025 > 2000 > 1936 = 44^2"), ("n = 45", "labelled with the question's variable")],
     [("2025", "the square, not n", True), ("44", "the largest n with n^2 < 2000", True)])

# ---------------------------------------------------------------------------------------------
# decimals
# ---------------------------------------------------------------------------------------------
C = "decimals"
item(C, "A notebook costs $\\$2.35$ and a pen costs $\\$0.80$. How much do 3 notebooks and 2 pens cost, in dollars?",
     "Three notebooks cost $3 \\times 2.35 = 7.05$ and two pens cost $2 \\times 0.80 = 1.60$. Together: $7.05 + 1.60$.",
     "8.65",
     [("8.65", "7.05 + 1.60 = 8.65"), ("8.650", "trailing zero, same value"), ("\\frac{173}{20}", "173/20 = 8.65 exactly")],
     [("8.56", "digits transposed", True), ("7.05", "cost of the notebooks only")])
item(C, "What is the mean of 3.2, 4.5, 7.1 and 9.6?",
     "The sum is $3.2 + 4.5 + 7.1 + 9.6 = 24.4$, and there are 4 numbers.",
     "6.1",
     [("6.1", "24.4/4 = 6.1"), ("6.10", "trailing zero"), ("\\frac{61}{10}", "61/10 = 6.1 exactly")],
     [("6.01", "a near-miss decimal", True), ("24.4", "the sum, an intermediate value")])
item(C, None,
     "We need $0.125 \\times 8 + 0.5^2$. First $0.125 \\times 8 = 1$, and $0.5^2 = 0.25$.",
     "1.25",
     [("1.25", "1 + 0.25"), ("\\frac{5}{4}", "5/4 = 1.25 exactly"), ("1\\frac{1}{4}", "mixed number 1 1/4 = 1.25")],
     [("1.3", "a terminating value rounded: 1.3 != 1.25", True), ("1.025", "misplaced the digit")])
item(C, "Convert $\\frac{3}{8}$ to a decimal.",
     "Since $\\frac{1}{8} = 0.125$, we get $3 \\times 0.125$.",
     "0.375",
     [("0.375", "3/8 = 0.375"), (".375", "no leading zero")],
     [("0.38", "rounded a terminating value: 0.38 != 0.375", True), ("0.37", "truncated: 0.37 != 0.375", True), ("3.75", "off by a factor of 10")])
item(C, "A diver is at $-3.5$ meters relative to the surface of a lake and rises $7.25$ meters. What is her new position, in meters?",
     "Start at $-3.5$ and add $7.25$: $-3.5 + 7.25$.",
     "3.75",
     [("3.75", "-3.5 + 7.25 = 3.75")],
     [("-3.75", "sign flipped", True), ("10.75", "added 3.5 instead of subtracting it")])
item(C, None,
     "Divide: $2 \\div 3 = 0.6666\\ldots$, a repeating decimal. Rounded to three significant figures that is $0.667$.",
     "\\frac{2}{3}",
     [("0.667", "0.667 is 2/3 correctly rounded to 3 significant digits"), ("0.6667", "2/3 correctly rounded to 4 digits")],
     [("0.666", "truncated, not rounded: 2/3 rounds to 0.667", True), ("0.67", "only 2 significant digits, too coarse for an exact gold", True), ("0.6", "far too coarse")])
item(C, None,
     "Here $\\frac{1}{3} = 0.333\\ldots$, repeating.",
     "\\frac{1}{3}",
     [("0.333", "1/3 rounded to 3 significant digits"), ("0.\\overline{3}", "the repeating decimal is exactly 1/3")],
     [("0.33", "2 significant digits: too coarse", True), ("0.334", "not a correct rounding of 1/3", True)])
item(C, "What is $4.2 \\times 0.15$?",
     "$42 \\times 15 = 630$, and there are 3 decimal places in total.",
     "0.63",
     [("0.63", "4.2*0.15 = 0.630"), ("0.630", "trailing zero")],
     [("6.3", "decimal point misplaced", True), ("0.063", "one decimal place too many", True)])
item(C, None,
     "Subtract: $10 - 0.07 = 9.93$.",
     "9.93",
     [("9.93", "10 - 0.07"), ("993/100", "993/100 = 9.93 exactly")],
     [("9.3", "dropped the 0 in 0.07"), ("9.9", "rounded a terminating gold", True)])
item(C, "Round $\\pi \\cdot 4^2$ to the nearest tenth.",
     "The area is $16\\pi \\approx 50.265$. To the nearest tenth this is $50.3$.",
     "16\\pi",
     [("50.3", "16*pi = 50.265..., to the nearest tenth 50.3")],
     [("50.27", "more digits than the tenth the problem asks for: must be 16*pi rounded to tenths = 50.3"), ("50.2", "truncated instead of rounded", True), ("16\\pi", "the problem names a precision (nearest tenth): the prediction must be the rounded value 50.3")])
item(C, "A runner's time was 12.48 seconds. Round it to the nearest whole number.",
     "12.48 lies between 12 and 13 and is closer to 12.",
     "12",
     [("12", "12.48 rounds to 12")],
     [("12.5", "rounded to tenths, not to a whole number", True), ("13", "rounded up wrongly", True)])
item(C, "What is $\\frac{7}{11}$ to 3 decimal places?",
     "Long division gives $7/11 = 0.636363\\ldots$; the fourth decimal is 3, so we round down.",
     "0.636",
     [("0.636", "0.6363... to 3 decimal places"), ("0.6360", "same value, trailing zero")],
     [("0.637", "rounded up wrongly", True), ("0.64", "2 decimal places, not 3", True)])

# ---------------------------------------------------------------------------------------------
# fractions
# ---------------------------------------------------------------------------------------------
C = "fractions"
item(C, "Simplify $\\frac{2}{3} + \\frac{5}{6} + 1$.",
     "Common denominator 6: $\\frac{4}{6} + \\frac{5}{6} = \\frac{9}{6} = \\frac{3}{2}$, and adding 1 gives $\\frac{3}{2} + \\frac{2}{2}$.",
     "\\frac{5}{2}",
     [("\\frac{5}{2}", "9/6 + 1 = 5/2"), ("\\dfrac{5}{2}", "\\dfrac is \\frac"), ("\\tfrac52", "\\tfrac52 = 5/2"),
      ("\\frac52", "\\frac52 = 5/2"), ("5/2", "slash fraction"), ("2\\frac{1}{2}", "mixed number 2 1/2 = 5/2"),
      ("2\\frac12", "mixed number 2 1/2 = 5/2"), ("2 1/2", "mixed number written with a space"), ("2.5", "5/2 = 2.5 exactly"),
      ("\\frac{10}{4}", "not in lowest terms, same value")],
     [("\\frac{3}{2}", "forgot to add 1 (intermediate value)", True), ("\\frac{2}{5}", "reciprocal of the answer", True),
      ("2\\frac{1}{3}", "mixed number with the wrong fraction"), ("-\\frac{5}{2}", "sign", True)])
item(C, "What fraction of the integers from 1 to 21 inclusive are multiples of 3?",
     "The multiples of 3 are $3, 6, 9, 12, 15, 18, 21$: that is 7 of them out of 21 integers. So the fraction is $\\frac{7}{21}$, which reduces.",
     "\\frac{1}{3}",
     [("\\frac{1}{3}", "7/21 = 1/3"), ("\\frac{7}{21}", "unreduced, same value"), ("1/3", "slash fraction")],
     [("\\frac{1}{7}", "wrong fraction"), ("7", "the count, not the fraction", True), ("0.33", "2-digit decimal of a non-terminating 1/3: too coarse", True)])
item(C, "Compute $\\frac{3}{4} \\div \\frac{9}{10}$.",
     "Dividing by a fraction multiplies by its reciprocal: $\\frac{3}{4} \\cdot \\frac{10}{9} = \\frac{30}{36}$.",
     "\\frac{5}{6}",
     [("\\frac{5}{6}", "30/36 = 5/6"), ("\\frac{30}{36}", "unreduced"), ("\\dfrac{5}{6}", "\\dfrac"), ("0.833", "5/6 = 0.8333..., correctly rounded to 3 digits")],
     [("\\frac{6}{5}", "reciprocal", True), ("\\frac{27}{40}", "multiplied instead of divided"), ("0.83", "too coarse for 5/6", True)])
item(C, "A recipe needs $1\\frac{3}{4}$ cups of flour per batch. How many cups are needed for 3 batches?",
     "$1\\frac{3}{4} = \\frac{7}{4}$, and $3 \\cdot \\frac{7}{4} = \\frac{21}{4}$.",
     "\\frac{21}{4}",
     [("5\\frac{1}{4}", "21/4 = 5 1/4"), ("5 \\frac{1}{4}", "mixed number with a space"), ("5.25", "21/4 = 5.25"), ("\\frac{21}{4}", "same fraction"),
      ("5\\tfrac{1}{4} \\text{ cups}", "mixed number with a unit")],
     [("3\\frac{3}{4}", "3 3/4 = 15/4, not 21/4"), ("\\frac{7}{4}", "one batch only", True), ("5\\frac{3}{4}", "wrong mixed number")])
item(C, None,
     "We need $\\frac{a}{b}$ with $a = 12$ and $b = -18$. Dividing both by 6 gives $\\frac{2}{-3}$.",
     "-\\frac{2}{3}",
     [("-\\frac{2}{3}", "12/-18 = -2/3"), ("\\frac{-2}{3}", "minus in the numerator"), ("\\frac{2}{-3}", "minus in the denominator"), ("-2/3", "slash")],
     [("\\frac{2}{3}", "sign dropped", True), ("-\\frac{3}{2}", "reciprocal")])
item(C, "The probability of rolling a sum of 7 with two fair dice is?",
     "There are 36 equally likely outcomes; the pairs $(1,6),(2,5),(3,4),(4,3),(5,2),(6,1)$ give 7, so 6 favourable outcomes.",
     "\\frac{1}{6}",
     [("\\frac16", "6/36 = 1/6"), ("\\frac{6}{36}", "unreduced"), ("0.167", "1/6 = 0.1666..., rounded to 3 digits")],
     [("\\frac{1}{36}", "one outcome only", True), ("\\frac{5}{36}", "probability of a sum of 6 or 8"), ("0.166", "truncated, not rounded", True)])
item(C, "Express $0.\\overline{27}$ as a common fraction in lowest terms.",
     "Let $x = 0.2727\\ldots$; then $100x = 27.2727\\ldots$ and $99x = 27$, so $x = \\frac{27}{99}$.",
     "\\frac{3}{11}",
     [("\\frac{3}{11}", "27/99 = 3/11"), ("3/11", "slash")],
     [("\\frac{27}{100}", "0.27 exactly, not 0.2727...", True), ("\\frac{11}{3}", "reciprocal")])

# ---------------------------------------------------------------------------------------------
# percentages (the rule: % is a unit, read one way only)
# ---------------------------------------------------------------------------------------------
C = "percentages"
item(C, "A jacket priced at $\\$80$ is on sale for $\\$52.80$. What percent of the original price is the sale price?",
     "The ratio is $52.80 / 80 = 0.66$. As a percent: $0.66 \\times 100$.",
     "66",
     [("66\\%", "66% is 66 with a percent sign (a unit)"), ("66", "plain 66"), ("66 \\%", "space before the sign"), ("66 \\text{ percent}", "the word percent as a unit"), ("66%", "plain % sign")],
     [("0.66", "the ratio, not the percent (factor of 100)", True), ("34\\%", "the discount, not the sale price's share", True), ("6600\\%", "percent applied twice", True)])
item(C, "What fraction of the students passed, if 59 of the 100 students passed? Give a decimal.",
     "59 out of 100 students is $59/100$, so 59 per hundred.",
     "0.59",
     [("0.59", "59/100 = 0.59"), ("\\frac{59}{100}", "59/100 exactly")],
     [("59\\%", "a percent is read one way only: 59% is 59, not 0.59, vs gold 0.59", True), ("59", "59 != 0.59", True)])
item(C, None,
     "The survey: 59 of 100 respondents said yes, which is $59/100 \\cdot 100$ percent.",
     "59\\%",
     [("59", "gold 59% is 59"), ("59\\%", "same text"), ("59 \\text{ percent}", "word percent")],
     [("0.59", "gold 59% is 59, never 0.59", True), ("5900\\%", "double conversion", True)])
item(C, "A population grows from 1200 to 1500. What is the percent increase?",
     "The increase is $1500 - 1200 = 300$, and $\\frac{300}{1200} = 0.25$.",
     "25\\%",
     [("25\\%", "300/1200 = 25%"), ("25", "25% is 25"), ("25.0\\%", "25.0 = 25")],
     [("20\\%", "divided by the new value 1500, not the original", True), ("0.25", "factor of 100 from a percent", True), ("300", "the absolute increase")])
item(C, "What is $12.5\\%$ of 640?",
     "$12.5\\% = \\frac{1}{8}$, and $\\frac{640}{8}$.",
     "80",
     [("80", "640/8 = 80")],
     [("8000", "forgot to divide by 100", True), ("\\frac{1}{8}", "the rate as a fraction, not the amount", True)])
item(C, "One third of a class wears glasses. What percent of the class wears glasses?",
     "One third is $\\frac{1}{3} = 0.333\\ldots$, which is $\\frac{100}{3}\\%$.",
     "33\\frac{1}{3}\\%",
     [("33\\frac{1}{3}\\%", "same text"), ("33.3\\%", "33.3 is 100/3 correctly rounded to 3 significant digits"), ("\\frac{100}{3}\\%", "100/3 = 33 1/3"),
      ("33.33\\%", "100/3 correctly rounded to 4 digits")],
     [("33\\%", "33 is only 2 significant digits of 100/3", True), ("\\frac{1}{3}", "the fraction, not the percent (factor of 100)", True)])
item(C, "A test has 40 questions. Maria answered 34 correctly. What percentage did she score?",
     "Her score is $\\frac{34}{40} = 0.85$. Multiply by 100.",
     "85",
     [("85\\%", "34/40 = 85%"), ("85", "plain 85"), ("85 \\, \\%", "thin space before the sign")],
     [("0.85", "a fraction, not the percent", True), ("15\\%", "the share she missed")])

# ---------------------------------------------------------------------------------------------
# scientific notation
# ---------------------------------------------------------------------------------------------
C = "scientific_notation"
item(C, "The distance light travels in one second is about 300,000 km. Light takes about 500 seconds to reach Earth from the Sun. About how far is the Sun, in km? Write your answer in scientific notation.",
     "Multiply: $3 \\times 10^5 \\cdot 5 \\times 10^2 = 15 \\times 10^7$, and $15 \\times 10^7$ normalises to a mantissa between 1 and 10.",
     "1.5 \\times 10^{8}",
     [("1.5 \\times 10^8", "same value, unbraced exponent"), ("1.5 \\cdot 10^{8}", "\\cdot for the product"), ("15 \\times 10^7", "not normalised but equal"),
      ("150{,}000{,}000", "1.5e8 written out"), ("1.5e8", "e notation"), ("1.5 \\times 10^{8} \\text{ km}", "with its unit")],
     [("1.5 \\times 10^{-8}", "sign of the exponent", True), ("1.5 \\times 10^{7}", "off by a factor of 10", True), ("15 \\times 10^{8}", "off by a factor of 10", True)])
item(C, "Write $0.00042$ in scientific notation.",
     "Move the decimal point 4 places to the right to get $4.2$, so the exponent is $-4$.",
     "4.2 \\times 10^{-4}",
     [("4.2 \\times 10^{-4}", "0.00042"), ("0.00042", "the same number written out"), ("42 \\times 10^{-5}", "equal, not normalised"), ("4.2E-4", "E notation")],
     [("4.2 \\times 10^{4}", "exponent sign lost", True), ("4.2 \\times 10^{-3}", "off by a factor of 10", True), ("0.42 \\times 10^{-4}", "off by a factor of 10")])
item(C, "Avogadro's number is $6.022 \\times 10^{23}$. How many molecules are in 2 moles?",
     "Two moles contain $2 \\times 6.022 \\times 10^{23}$ molecules, i.e. $12.044 \\times 10^{23}$.",
     "1.2044 \\times 10^{24}",
     [("1.2044 \\times 10^{24}", "2*6.022e23"), ("12.044 \\times 10^{23}", "equal, not normalised")],
     [("1.20 \\times 10^{24}", "a lower-precision value of a decimal (exact) gold", True), ("1.2044 \\times 10^{23}", "exponent off by one", True), ("6.022 \\times 10^{23}", "the given number, not the answer", True)])
item(C, None,
     "Compute $(2 \\times 10^{3})(4 \\times 10^{-5}) = 8 \\times 10^{-2}$.",
     "0.08",
     [("8 \\times 10^{-2}", "8e-2 = 0.08"), ("0.080", "trailing zero"), ("\\frac{2}{25}", "2/25 = 0.08")],
     [("8 \\times 10^{2}", "exponent sign", True), ("0.8", "off by a factor of 10")])
item(C, "The mass of an electron is $9.109 \\times 10^{-31}$ kg. What is the mass of $10^{6}$ electrons in kg?",
     "Multiply the exponents' powers: $10^{-31} \\cdot 10^{6} = 10^{-25}$.",
     "9.109 \\times 10^{-25}",
     [("9.109 \\times 10^{-25}", "9.109e-31 * 1e6"), ("9.109 \\times 10^{-25} \\text{ kg}", "with unit"), ("9.109 \\times 10^{ -25 }", "spaces inside the exponent braces"), ("9.109\\times10^{-25}", "no spaces")],
     [("9.109 \\times 10^{-37}", "subtracted the exponents", True), ("9.11 \\times 10^{-25}", "lower precision than the decimal gold", True)])

# ---------------------------------------------------------------------------------------------
# thousands separators
# ---------------------------------------------------------------------------------------------
C = "thousands_separators"
item(C, "A stadium sold 12,345 tickets on Saturday and 23,456 tickets on Sunday. How many tickets were sold in total?",
     "Add the two days: $12{,}345 + 23{,}456$. Units: $5+6 = 11$, carry 1; the result is 35,801.",
     "35801",
     [("35,801", "comma separator"), ("35{,}801", "LaTeX braced comma"), ("35,\\!801", "LaTeX comma with negative thin space"), ("35\\,801", "thin space separator"),
      ("35 801", "plain space separator"), ("35801", "no separator"), ("35.801 \\times 10^3", "same number in scientific form")],
     [("35,810", "digits transposed", True), ("34,801", "carry error")])
item(C, None,
     "The population grew from 1,000,000 by 234,567 people, so it is now $1{,}000{,}000 + 234{,}567$.",
     "1,234,567",
     [("1234567", "the gold without separators"), ("1,234,567", "same text"), ("1\\,234\\,567", "thin spaces")],
     [("1,234,576", "last two digits swapped", True), ("123,456,7", "malformed grouping, not 1234567"), ("234,567", "the increase only", True)])
item(C, "A car costs $\\$24,500$ and the tax is 8%. What is the total cost in dollars?",
     "The tax is $0.08 \\times 24{,}500 = 1{,}960$, so the total is $24{,}500 + 1{,}960$.",
     "26460",
     [("\\$26,460", "dollar sign and comma"), ("26,460", "comma"), ("26{,}460", "LaTeX comma"), ("\\$26{,}460.00", "cents, same value")],
     [("1,960", "the tax only", True), ("26,640", "digits swapped", True)])
item(C, "How many seconds are in a week?",
     "A day has $24 \\cdot 3600 = 86{,}400$ seconds and a week has 7 days.",
     "604800",
     [("604,800", "7*86400"), ("604\\,800", "thin space"), ("604 800 \\text{ seconds}", "space separator and unit")],
     [("86,400", "a day, not a week", True), ("60,480", "dropped a zero", True)])
item(C, None,
     "Half of 3,000 is 1,500.",
     "1500",
     [("1 500", "space separator"), ("1,500", "comma separator"), ("1.5 \\times 10^3", "same value")],
     [("1,050", "wrong digits", True), ("150", "dropped a zero")])
item(C, "What is $1234.5 \\times 2$?",
     "Doubling: $1000 \\cdot 2 = 2000$ and $234.5 \\cdot 2 = 469$.",
     "2469",
     [("2,469", "comma separator"), ("2469.0", "same value")],
     [("2,469.5", "kept a stray .5"), ("246.9", "misplaced the decimal point", True)])

# ---------------------------------------------------------------------------------------------
# radicals and powers
# ---------------------------------------------------------------------------------------------
C = "radicals_powers"
item(C, "Simplify $\\sqrt{\\frac{1}{2}}$ and rationalize the denominator.",
     "$\\sqrt{\\frac12} = \\frac{\\sqrt1}{\\sqrt2} = \\frac{1}{\\sqrt2}$. Multiply top and bottom by $\\sqrt2$.",
     "\\frac{\\sqrt{2}}{2}",
     [("\\frac{\\sqrt{2}}{2}", "same"), ("\\frac{1}{\\sqrt{2}}", "equal value, not rationalised"), ("\\sqrt{\\frac12}", "equal value"),
      ("\\frac{\\sqrt2}{2}", "unbraced sqrt argument"), ("\\frac{1}{2}\\sqrt{2}", "coefficient form"), ("0.707", "sqrt(2)/2 = 0.70710..., rounded to 3 digits"), ("2^{-1/2}", "2^(-1/2) = 1/sqrt 2"), ("0.7071", "sqrt(2)/2 = 0.707106..., correctly rounded to 4 digits")],
     [("\\sqrt{2}", "reciprocal of the answer", True), ("\\frac{1}{2}", "dropped the root", True), ("0.71", "2 significant digits: too coarse", True), ("0.7072", "not a correct rounding of 0.707106...", True)])
item(C, None,
     "$2^{10} = 1024$ since $2^5 = 32$ and $32^2 = 1024$.",
     "1024",
     [("2^{10}", "2^10 = 1024"), ("1024", "same"), ("4^5", "4^5 = 1024"), ("32^2", "32^2 = 1024")],
     [("2^{-10}", "sign of the exponent", True), ("2^{11}", "off by one in the exponent", True), ("1000", "10^3, not 2^10")])
item(C, "Compute $\\sqrt[3]{8} + \\sqrt{49}$.",
     "$\\sqrt[3]{8} = 2$ since $2^3 = 8$, and $\\sqrt{49} = 7$.",
     "9",
     [("9", "2 + 7"), ("\\sqrt{81}", "sqrt 81 = 9"), ("\\sqrt[3]{729}", "cube root of 729 = 9")],
     [("11", "took sqrt 8 as 4", True), ("\\sqrt{8} + 7", "square root instead of cube root")])
item(C, "Simplify $\\sqrt{72}$.",
     "$72 = 36 \\cdot 2$, so $\\sqrt{72} = \\sqrt{36}\\sqrt{2}$.",
     "6\\sqrt{2}",
     [("6\\sqrt{2}", "sqrt 72 = 6 sqrt 2"), ("6\\sqrt2", "unbraced"), ("\\sqrt{72}", "unsimplified, same value"), ("6 \\cdot \\sqrt{2}", "explicit product"), ("8.49", "6 sqrt 2 = 8.4853, rounded to 3 digits"), ("3\\sqrt{8}", "3 sqrt 8 = sqrt 72, not fully simplified")],
     [("2\\sqrt{6}", "factors swapped: sqrt 24", True), ("8.48", "truncated, not rounded", True), ("36\\sqrt{2}", "forgot the square root of 36", True)])
item(C, "Evaluate $8^{2/3}$.",
     "$8^{1/3} = 2$, then squared.",
     "4",
     [("4", "8^(2/3) = 4"), ("2^2", "4")],
     [("\\frac{16}{3}", "multiplied 8 by 2/3", True), ("2", "stopped at the cube root", True)])
item(C, "Simplify $\\frac{1}{\\sqrt{5}-2}$.",
     "Multiply by the conjugate: $\\frac{\\sqrt5+2}{(\\sqrt5)^2 - 2^2} = \\frac{\\sqrt5+2}{5-4}$.",
     "\\sqrt{5}+2",
     [("2+\\sqrt{5}", "terms reordered"), ("\\sqrt5+2", "unbraced"), ("\\frac{1}{\\sqrt{5}-2}", "the same value, unsimplified")],
     [("\\sqrt{5}-2", "conjugate sign", True), ("\\frac{\\sqrt5+2}{9}", "denominator 5+4 instead of 5-4")])
item(C, None,
     "Denest: $(\\sqrt{2}+\\sqrt{3})^2 = 5 + 2\\sqrt{6}$, so $\\sqrt{5+2\\sqrt6}$ denests.",
     "\\sqrt{2}+\\sqrt{3}",
     [("\\sqrt{5+2\\sqrt{6}}", "(sqrt2+sqrt3)^2 = 5+2 sqrt6 and both are positive")],
     [("\\sqrt{5}", "sqrt 2 + sqrt 3 != sqrt 5", True), ("\\sqrt{6}", "wrong radical")])

# ---------------------------------------------------------------------------------------------
# constants: pi, e, i, complex numbers
# ---------------------------------------------------------------------------------------------
C = "constants"
item(C, "A circle has radius 3. What is its area?",
     "The area is $\\pi r^2$ with $r = 3$, so $\\pi \\cdot 3^2$.",
     "9\\pi",
     [("9\\pi", "pi*3^2"), ("9 \\pi", "space"), ("\\pi \\cdot 9", "factors reordered"), ("28.3", "9 pi = 28.274..., correctly rounded to 3 digits"), ("28.27", "9 pi correctly rounded to 4 digits")],
     [("6\\pi", "the circumference", True), ("3\\pi", "pi r instead of pi r^2"), ("28.2", "truncated: 9 pi rounds to 28.3", True), ("28", "2 significant digits: too coarse", True)])
item(C, None,
     "The ratio of a circle's circumference to its diameter is $\\pi = 3.14159\\ldots$.",
     "\\pi",
     [("3.14", "pi correctly rounded to 3 digits"), ("3.1416", "pi correctly rounded to 5 digits"), ("\\pi", "same")],
     [("3.1415", "truncated: pi rounds to 3.1416", True), ("\\frac{22}{7}", "22/7 is an approximation, not pi", True), ("3.1", "2 significant digits", True)])
item(C, None,
     "By definition $e = \\lim_{n\\to\\infty}(1+1/n)^n \\approx 2.71828$.",
     "e",
     [("e", "same"), ("2.718", "e correctly rounded to 4 digits"), ("e^{1}", "e^1 = e"), ("\\exp(1)", "exp(1) = e")],
     [("2.71", "truncated: e = 2.718... rounds to 2.72", True), ("2.7", "2 significant digits", True)])
item(C, "Compute $(2+i)^2$.",
     "Expand: $(2+i)^2 = 4 + 4i + i^2 = 4 + 4i - 1$.",
     "3+4i",
     [("3+4i", "4 + 4i - 1"), ("4i+3", "terms reordered"), ("3 + 4 i", "spaces"), ("3+4\\mathrm{i}", "upright i")],
     [("3-4i", "conjugate", True), ("5+4i", "took i^2 = +1", True), ("5", "the modulus squared is 25, modulus 5; not the square", True)])
item(C, None,
     "Here $i^2 = -1$, $i^3 = -i$ and $i^4 = 1$, so the powers cycle with period 4 and $i^{2023} = i^{3}$.",
     "-i",
     [("-i", "2023 = 4*505 + 3, i^3 = -i"), ("i^{3}", "i^3 = -i"), ("-\\sqrt{-1}", "-sqrt(-1) = -i (principal root)")],
     [("i", "sign", True), ("-1", "i^2, not i^3", True), ("1", "i^4")])
item(C, None,
     "Euler's identity $e^{i\\theta} = \\cos\\theta + i\\sin\\theta$ with $\\theta = \\pi$ gives $\\cos\\pi + i \\sin \\pi$.",
     "-1",
     [("-1", "cos pi = -1, sin pi = 0"), ("e^{i\\pi}", "e^(i pi) = -1")],
     [("1", "sign", True), ("e^{2i\\pi}", "e^(2 i pi) = 1")])
item(C, "Write $e^{i\\pi/3}$ in the form $a+bi$.",
     "$\\cos\\frac{\\pi}{3} = \\frac12$ and $\\sin\\frac{\\pi}{3} = \\frac{\\sqrt3}{2}$.",
     "\\frac{1}{2}+\\frac{\\sqrt{3}}{2}i",
     [("\\frac12 + \\frac{\\sqrt3}{2} i", "same"), ("\\frac{1+i\\sqrt{3}}{2}", "single fraction"), ("\\frac{\\sqrt{3}}{2}i + \\frac{1}{2}", "reordered")],
     [("\\frac{\\sqrt3}{2} + \\frac12 i", "real and imaginary parts swapped", True), ("\\frac12 - \\frac{\\sqrt3}{2}i", "conjugate", True)])
item(C, "What is $\\ln(e^5)$?",
     "Since $\\ln$ and $\\exp$ are inverse functions, $\\ln(e^5) = 5 \\ln e$ and $\\ln e = 1$.",
     "5",
     [("5", "ln(e^5) = 5"), ("5\\ln e", "5 ln e = 5")],
     [("e^5", "did not take the logarithm", True), ("148.4", "e^5, not its log")])

# ---------------------------------------------------------------------------------------------
# expressions (algebraic equivalence)
# ---------------------------------------------------------------------------------------------
C = "expressions"
item(C, "Expand $(x+1)^2$.",
     "$(x+1)^2 = (x+1)(x+1) = x^2 + x + x + 1$.",
     "x^2+2x+1",
     [("x^2 + 2x + 1", "spaces"), ("1+2x+x^2", "reordered terms"), ("(x+1)^2", "equal polynomial, unexpanded"), ("x^{2}+2x+1", "braced exponent"), ("x \\cdot x + 2 x + 1", "x*x = x^2")],
     [("x^2+1", "dropped the cross term", True), ("x^2+2x-1", "sign of the constant", True), ("(x-1)^2", "wrong sign inside", True), ("x^2+x+1", "cross term halved")])
item(C, "Factor $a^2 - b^2$.",
     "This is a difference of squares: the product of the sum and the difference.",
     "(a-b)(a+b)",
     [("(a+b)(a-b)", "factors commute"), ("a^2-b^2", "same polynomial, unfactored"), ("-(b-a)(a+b)", "-(b-a) = a-b")],
     [("(a-b)^2", "a^2-2ab+b^2", True), ("(a+b)^2", "a^2+2ab+b^2"), ("(b-a)(b+a)", "= b^2-a^2, the negative", True)])
item(C, "Simplify $\\frac{x^2-1}{x-1}$.",
     "Factor the numerator: $x^2 - 1 = (x-1)(x+1)$, and cancel the common factor $x - 1$.",
     "x+1",
     [("x+1", "same"), ("1+x", "reordered"), ("\\frac{x^2-1}{x-1}", "equal as rational functions (x^2-1 = (x-1)(x+1)); the removable point x=1 does not make them different answers")],
     [("x-1", "sign", True), ("x^2", "cancelled terms, not factors")])
item(C, None,
     "Using $\\sin^2 x + \\cos^2 x = 1$ and the double angle formula $\\cos 2x = \\cos^2 x - \\sin^2 x$, we replace $\\cos^2 x$ by $1 - \\sin^2 x$.",
     "1-2\\sin^2 x",
     [("\\cos 2x", "cos 2x = 1 - 2 sin^2 x"), ("\\cos(2x)", "parenthesised argument"), ("2\\cos^2 x - 1", "another form of cos 2x"), ("\\cos^2 x - \\sin^2 x", "cos^2 - sin^2 = 1 - 2 sin^2")],
     [("1-\\sin^2 x", "that is cos^2 x", True), ("2\\sin^2 x - 1", "negated", True), ("1-2\\sin x", "lost the square")])
item(C, None,
     "Add the fractions over the common denominator $xy$.",
     "\\frac{x+y}{xy}",
     [("\\frac{1}{x}+\\frac{1}{y}", "1/x + 1/y = (x+y)/(xy)"), ("\\frac{y+x}{yx}", "reordered"), ("(x+y)/(xy)", "slash with parentheses")],
     [("\\frac{2}{x+y}", "added denominators", True), ("\\frac{xy}{x+y}", "reciprocal", True)])
item(C, "Find a closed form for $1 + 2 + \\cdots + n$.",
     "Pair the first and last terms: each pair sums to $n+1$, and there are $n/2$ pairs.",
     "\\frac{n(n+1)}{2}",
     [("\\frac{n^2+n}{2}", "n(n+1) = n^2+n"), ("\\binom{n+1}{2}", "C(n+1,2) = (n+1)n/2"), ("\\frac{1}{2}n(n+1)", "coefficient form"), ("n(n+1)/2", "slash")],
     [("\\frac{n(n-1)}{2}", "sum to n-1", True), ("\\binom{n}{2}", "C(n,2) = n(n-1)/2", True), ("n(n+1)", "missing the 1/2")])
item(C, None,
     "Since $2^{n+1} = 2 \\cdot 2^n$, we get $2^n + 2^n = 2 \\cdot 2^n$.",
     "2^{n+1}",
     [("2 \\cdot 2^n", "2*2^n = 2^(n+1)"), ("2^{n+1}", "same")],
     [("4^n", "2^n + 2^n != 4^n", True), ("2^{2n}", "= 4^n", True)])
item(C, "Simplify $\\tan x \\cos x$.",
     "$\\tan x = \\frac{\\sin x}{\\cos x}$, so the $\\cos x$ cancels.",
     "\\sin x",
     [("\\sin x", "same"), ("\\sin(x)", "parentheses")],
     [("\\cos x", "wrong function", True), ("\\frac{\\sin x}{\\cos^2 x}", "divided instead of multiplied")])
item(C, None,
     "Collect like terms: $3x + 2y - x + 4y = (3-1)x + (2+4)y$.",
     "2x+6y",
     [("2x+6y", "same"), ("6y+2x", "reordered"), ("2(x+3y)", "factored")],
     [("2x+2y", "wrong y coefficient", True), ("4x+6y", "added x instead of subtracting it")])

# ---------------------------------------------------------------------------------------------
# equations and relations
# ---------------------------------------------------------------------------------------------
C = "equations_relations"
item(C, "Solve $3x - 7 = 8$.",
     "Add 7 to both sides: $3x = 15$. Divide by 3.",
     "5",
     [("x = 5", "label = value compares the value"), ("5 = x", "flipped sides"), ("x=5", "no spaces"), ("5", "plain")],
     [("x = 15", "the value of 3x, not x", True), ("\\frac{1}{3}", "inverted")])
item(C, "Solve for $y$: $2y + 3 \\ge 1$.",
     "Subtract 3: $2y \\ge -2$. Divide by 2 (positive, so the sign stays): $y \\ge -1$.",
     "y \\ge -1",
     [("y \\geq -1", "\\geq = \\ge"), ("-1 \\le y", "flipped sides"), ("y >= -1", "ASCII >="), ("y \u2265 -1", "Unicode \u2265"), ("[-1, \\infty)", "the same solution set as an interval"),
      ("y \\in [-1,\\infty)", "membership in the same interval")],
     [("y > -1", "strict: excludes -1", True), ("y \\le -1", "direction flipped", True), ("(-1, \\infty)", "open at -1: excludes -1", True), ("y \\ge -2", "stopped before dividing by 2", True)])
item(C, "For which real $y$ is $y^2 - 3y - 4 \\le 0$?",
     "Factor: $(y-4)(y+1) \\le 0$. The product is non-positive between the roots $-1$ and $4$, endpoints included.",
     "-1 \\le y \\le 4",
     [("-1 \\leq y \\leq 4", "\\leq"), ("y \\in [-1,4]", "membership"), ("[-1,4]", "interval"), ("4 \\ge y \\ge -1", "chain written the other way")],
     [("-1 < y \\le 4", "strict at -1", True), ("y \\le -1 \\text{ or } y \\ge 4", "the complement's closure", True), ("-4 \\le y \\le 1", "roots with wrong signs", True)])
item(C, "Find the equation of the line through $(0,3)$ with slope 2.",
     "Slope-intercept form $y = mx + b$ with $m = 2$ and $b = 3$.",
     "y = 2x + 3",
     [("y=2x+3", "same"), ("y - 2x = 3", "rearranged"), ("2x - y + 3 = 0", "general form, same line"), ("2x + 3 = y", "sides flipped"), ("-2x + y = 3", "rearranged")],
     [("y = 3x + 2", "slope and intercept swapped", True), ("y = 2x - 3", "intercept sign", True), ("y = 2x", "dropped the intercept")])
item(C, "Solve $2x = 4$.",
     "Divide both sides by 2.",
     "x = 2",
     [("x = 2", "same"), ("2", "value"), ("2x = 4", "same solution set {2}"), ("4 = 2x", "same solution set, flipped")],
     [("x = -2", "sign", True), ("x = 4", "did not divide"), ("x^2 = 4", "solution set {-2, 2} != {2}", True)])
item(C, "Find the equation of the circle with centre at the origin and radius 5.",
     "Points at distance 5 from $(0,0)$ satisfy $\\sqrt{x^2+y^2} = 5$; squaring gives the equation.",
     "x^2 + y^2 = 25",
     [("y^2 + x^2 = 25", "terms reordered"), ("x^2+y^2-25=0", "rearranged"), ("x^2 + y^2 = 5^2", "5^2 = 25")],
     [("x^2 + y^2 = 5", "radius not squared", True), ("x^2 - y^2 = 25", "a hyperbola")])
item(C, "Write the line $2x + 4y = 8$ in lowest terms.",
     "All coefficients share the factor 2.",
     "x + 2y = 4",
     [("x + 2y = 4", "same"), ("2x+4y=8", "the same line, scaled by 2"), ("y = 2 - \\frac{x}{2}", "solved for y, same line")],
     [("x + 2y = 8", "divided only the left side", True), ("2x + y = 4", "wrong coefficient")])
item(C, None,
     "Subtracting the two totals gives $7 - 5$, which leaves the difference.",
     "2",
     [("2", "the value")],
     [("3 = 2", "a false relation whose last term is the gold", True), ("2 = 3", "a false relation whose first term is the gold", True), ("x = 3", "value 3 != 2")])
item(C, "Solve $x^2 = 9$ for $x > 0$.",
     "$x = \\pm 3$, and only the positive root satisfies $x > 0$.",
     "3",
     [("3", "positive root"), ("x=3", "labelled")],
     [("x = \\pm 3", "includes -3, which the condition excludes; a \\pm hedge vs a single value", True), ("9", "the given number, not the answer", True)])

# ---------------------------------------------------------------------------------------------
# intervals and unions
# ---------------------------------------------------------------------------------------------
C = "intervals"
item(C, "Find the domain of $f(x) = \\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.",
     "We need $x - 2 \\ge 0$, so $x \\ge 2$, and $5 - x > 0$, so $x < 5$ (the denominator cannot be 0).",
     "[2,5)",
     [("[2, 5)", "spaces"), ("x \\in [2,5)", "membership"), ("2 \\le x < 5", "the same set as a chained inequality"), ("\\left[2, 5\\right)", "\\left/\\right delimiters")],
     [("[2,5]", "includes 5, where the denominator is 0", True), ("(2,5)", "excludes 2", True), ("(2,5]", "both brackets wrong", True), ("[2,\\infty)", "ignored the denominator")])
item(C, "Solve $|x| \\ge 2$.",
     "Either $x \\ge 2$ or $x \\le -2$.",
     "(-\\infty,-2]\\cup[2,\\infty)",
     [("(-\\infty, -2] \\cup [2, \\infty)", "spaces"), ("[2,\\infty) \\cup (-\\infty,-2]", "union order"), ("x \\le -2 \\text{ or } x \\ge 2", "the same set as an 'or' of inequalities (the gold is this union, so 'or' is no hedge)")],
     [("(-\\infty,-2)\\cup(2,\\infty)", "open ends: that is |x| > 2", True), ("[-2,2]", "the complement's closure", True), ("[2,\\infty)", "half of the set")])
item(C, "On what interval is $f(x) = -(x-1)(x-3)$ positive?",
     "The parabola opens downward with roots 1 and 3, so it is positive strictly between them.",
     "(1,3)",
     [("(1,3)", "same"), ("1 < x < 3", "the problem is about an interval, so the inequality names the same set"), ("x \\in (1, 3)", "membership")],
     [("[1,3]", "f is 0 at the ends, not positive", True), ("(3,1)", "reversed ends: not an interval", True), ("(-\\infty,1)\\cup(3,\\infty)", "where f is negative")])
item(C, None,
     "The set of all real numbers: no restriction applies to $x$.",
     "(-\\infty,\\infty)",
     [("\\mathbb{R}", "all reals"), ("(-\\infty, \\infty)", "same"), ("(-\\infty,+\\infty)", "explicit +infinity")],
     [("[0,\\infty)", "non-negative reals only", True), ("\\mathbb{Z}", "integers, not reals")])
item(C, "Find the range of $g(x) = x^2 + 4$.",
     "Since $x^2 \\ge 0$, $g(x) \\ge 4$, and every value from 4 up is reached.",
     "[4,\\infty)",
     [("[4, \\infty)", "same"), ("y \\ge 4", "same set as an inequality"), ("[4,+\\infty)", "+infinity")],
     [("(4,\\infty)", "excludes 4 = g(0)", True), ("[4,\\infty]", "a closed bracket at infinity is not a set of reals", True), ("[0,\\infty)", "range of x^2")])
item(C, None,
     "The union of $[1,3]$ and $[2,5]$: they overlap on $[2,3]$.",
     "[1,5]",
     [("[1,3] \\cup [2,5]", "overlapping union equals [1,5]"), ("[1,5]", "same")],
     [("[2,3]", "the intersection, not the union", True), ("[1,5)", "wrong bracket", True)])
item(C, "Solve $x^2 - 4x + 3 > 0$.",
     "The roots are $1$ and $3$; the parabola opens up, so it is positive outside them.",
     "(-\\infty,1)\\cup(3,\\infty)",
     [("(-\\infty,1)\\cup(3,\\infty)", "same"), ("x<1 \\text{ or } x>3", "same set"), ("\\mathbb{R}\\setminus[1,3]", "complement of [1,3]")],
     [("(1,3)", "where it is negative", True), ("(-\\infty,1]\\cup[3,\\infty)", "includes the roots, where it is 0", True)])

# ---------------------------------------------------------------------------------------------
# sets
# ---------------------------------------------------------------------------------------------
C = "sets"
item(C, "Find all real solutions of $x^2 - 5x + 6 = 0$.",
     "The quadratic factors as $(x-2)(x-3) = 0$; the sum of the roots is 5 and the product 6.",
     "\\{2,3\\}",
     [("\\{2, 3\\}", "same"), ("\\{3,2\\}", "a set has no order"), ("2, 3", "a bare list of the solutions"), ("3, 2", "bare list, any order"), ("x = 2, x = 3", "labelled list"),
      ("x=2 \\text{ or } x=3", "the gold is the set {2,3}, so 'or' of the same solutions is not a hedge"), ("2 \\text{ and } 3", "list with 'and'")],
     [("\\{2\\}", "one root missing", True), ("\\{2,3,5\\}", "an extra element", True), ("\\{-2,-3\\}", "signs of the roots", True), ("5", "the sum of the roots", True)])
item(C, "Solve $x^2 = 4$.",
     "$x^2 - 4 = (x-2)(x+2)$.",
     "-2, 2",
     [("\\pm 2", "\\pm 2 is the set {-2, 2}, which the gold lists"), ("2, -2", "order free"), ("\\{-2,2\\}", "set"), ("x = \\pm 2", "labelled \\pm")],
     [("2", "one of the two solutions", True), ("-2", "one of the two solutions", True), ("4, -4", "the wrong numbers")])
item(C, None,
     "No real number satisfies $x^2 = -1$, so the solution set in $\\mathbb{R}$ has no elements.",
     "\\emptyset",
     [("\\varnothing", "same symbol"), ("\\{\\}", "the empty set"), ("\\emptyset", "same")],
     [("\\{0\\}", "a set with one element", True), ("\\{i, -i\\}", "complex solutions, not real", True)])
item(C, "List the prime factors of 60.",
     "$60 = 2^2 \\cdot 3 \\cdot 5$.",
     "\\{2, 3, 5\\}",
     [("\\{5,3,2\\}", "order free"), ("2, 3, 5", "bare list")],
     [("\\{2,3,5,6\\}", "6 is not prime", True), ("\\{4,3,5\\}", "4 is a prime power, not a prime", True), ("\\{2,3\\}", "missing 5", True)])
item(C, "Let $A = \\{1,2,3,4\\}$ and $B = \\{3,4,5\\}$. Find $A \\cap B$.",
     "The common elements of $\\{1,2,3,4\\}$ and $\\{3,4,5\\}$.",
     "\\{3,4\\}",
     [("\\{4,3\\}", "order free"), ("\\{3, 4\\}", "spaces")],
     [("\\{1,2,3,4,5\\}", "the union", True), ("\\{1,2\\}", "A minus B", True)])

# ---------------------------------------------------------------------------------------------
# tuples and ordered lists
# ---------------------------------------------------------------------------------------------
C = "tuples"
item(C, "Solve the system $x + y = 5$, $x - y = 1$. Give the ordered pair $(x, y)$.",
     "Adding the equations gives $2x = 6$, so $x = 3$; then $y = 5 - 3 = 2$.",
     "(3,2)",
     [("(3, 2)", "same"), ("(x,y) = (3,2)", "labelled pair"), ("\\left(3, 2\\right)", "\\left/\\right"), ("x = 3, y = 2", "the values named by the pair's variables, in the problem's order (x, y)")],
     [("(2,3)", "a tuple in the wrong order", True), ("(3,-2)", "sign of y", True), ("(6,2)", "2x instead of x"), ("\\{2,3\\}", "a set loses the order the pair asks for", True)])
item(C, "Find the midpoint of the segment from $(-4, 7)$ to $(10, -1)$.",
     "Average the coordinates: $\\frac{-4+10}{2} = 3$ and $\\frac{7 + (-1)}{2} = 3$.",
     "(3,3)",
     [("(3,3)", "same"), ("(3.0, 3.0)", "decimals of the same values"), ("\\left(\\frac{6}{2}, \\frac{6}{2}\\right)", "unsimplified halves")],
     [("(6,6)", "forgot to halve", True), ("(7,-4)", "half the differences", True)])
item(C, "Find the vertex of the parabola $y = x^2 - 6x + 5$.",
     "The vertex is at $x = -\\frac{b}{2a} = 3$, and $y(3) = 9 - 18 + 5$.",
     "(3,-4)",
     [("(3, -4)", "same"), ("(3,\\,-4)", "thin space")],
     [("(-4,3)", "coordinates swapped", True), ("(-3,-4)", "sign of x", True), ("(3,4)", "sign of y", True), ("(3, -4, 0)", "a triple is not a pair")])
item(C, "Find the coordinates of the point that divides the segment from $A(1,2)$ to $B(7,5)$ in the ratio $1:2$.",
     "The point is $A + \\frac13(B - A) = (1,2) + \\frac13(6,3)$.",
     "(3,3)",
     [("(3,3)", "(1+2, 2+1)")],
     [("(5,4)", "ratio 2:1 instead of 1:2", True), ("(4, 3.5)", "the midpoint", True)])
item(C, "Find all pairs $(a,b)$ of positive integers with $a < b$ and $ab = 6$.",
     "The factor pairs of 6 are $1 \\cdot 6$ and $2 \\cdot 3$.",
     "(1,6),(2,3)",
     [("(1,6), (2,3)", "same list"), ("(2,3),(1,6)", "the list of solutions is unordered; each pair keeps its order")],
     [("(6,1),(3,2)", "pairs reversed: violate a < b", True), ("(1,6)", "one pair missing", True)])

# ---------------------------------------------------------------------------------------------
# matrices and vectors
# ---------------------------------------------------------------------------------------------
C = "matrices_vectors"
item(C, "Compute $\\begin{pmatrix} 1 & 2 \\\\ 0 & 1 \\end{pmatrix}\\begin{pmatrix} 3 & 0 \\\\ 1 & 2 \\end{pmatrix}$.",
     "Row 1: $(1\\cdot 3 + 2 \\cdot 1, 1\\cdot 0 + 2\\cdot 2) = (5, 4)$. Row 2: $(0 \\cdot 3 + 1 \\cdot 1, 0 + 1\\cdot 2) = (1, 2)$.",
     "\\begin{pmatrix} 5 & 4 \\\\ 1 & 2 \\end{pmatrix}",
     [("\\begin{pmatrix}5&4\\\\1&2\\end{pmatrix}", "no spaces"), ("\\begin{bmatrix} 5 & 4 \\\\ 1 & 2 \\end{bmatrix}", "bmatrix is the same matrix"), ("\\left(\\begin{array}{cc} 5 & 4 \\\\ 1 & 2 \\end{array}\\right)", "array form")],
     [("\\begin{pmatrix} 5 & 1 \\\\ 4 & 2 \\end{pmatrix}", "transposed", True), ("\\begin{pmatrix} 3 & 4 \\\\ 1 & 2 \\end{pmatrix}", "one wrong entry", True), ("\\begin{pmatrix} 3 & 6 \\\\ 1 & 4 \\end{pmatrix}", "the product in the other order BA", True)])
item(C, "Find the inverse of $\\begin{pmatrix} 2 & 1 \\\\ 5 & 3 \\end{pmatrix}$.",
     "The determinant is $2 \\cdot 3 - 1 \\cdot 5 = 1$, so the inverse is $\\frac{1}{1}\\begin{pmatrix} 3 & -1 \\\\ -5 & 2\\end{pmatrix}$.",
     "\\begin{pmatrix} 3 & -1 \\\\ -5 & 2 \\end{pmatrix}",
     [("\\begin{bmatrix}3&-1\\\\-5&2\\end{bmatrix}", "bmatrix"), ("\\begin{pmatrix} 3 & -1 \\\\ -5 & 2 \\end{pmatrix}", "same")],
     [("\\begin{pmatrix} 3 & -5 \\\\ -1 & 2 \\end{pmatrix}", "transposed", True), ("\\begin{pmatrix} 2 & -1 \\\\ -5 & 3 \\end{pmatrix}", "diagonal not swapped", True), ("1", "the determinant", True)])
item(C, "Find $\\mathbf{a} + 2\\mathbf{b}$ for $\\mathbf{a} = \\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}$ and $\\mathbf{b} = \\begin{pmatrix} 3 \\\\ 4 \\end{pmatrix}$.",
     "$2\\mathbf{b} = \\begin{pmatrix} 6 \\\\ 8 \\end{pmatrix}$, and adding $\\mathbf{a}$ gives $(1+6, -2+8)$.",
     "\\begin{pmatrix} 7 \\\\ 6 \\end{pmatrix}",
     [("\\begin{pmatrix}7\\\\6\\end{pmatrix}", "no spaces"), ("\\begin{bmatrix} 7 \\\\ 6 \\end{bmatrix}", "bmatrix"), ("(7, 6)", "the vector's components in running text")],
     [("\\begin{pmatrix} 6 \\\\ 7 \\end{pmatrix}", "components swapped", True), ("\\begin{pmatrix} 7 \\\\ -6 \\end{pmatrix}", "sign", True), ("\\begin{pmatrix} 4 \\\\ 2 \\end{pmatrix}", "a + b")])
item(C, "Find the determinant of $\\begin{pmatrix} 4 & 7 \\\\ 2 & 6 \\end{pmatrix}$.",
     "$\\det = 4 \\cdot 6 - 7 \\cdot 2 = 24 - 14$.",
     "10",
     [("10", "24 - 14")],
     [("\\begin{pmatrix} 4 & 7 \\\\ 2 & 6 \\end{pmatrix}", "the given matrix, not its determinant", True), ("38", "24 + 14", True)])
item(C, "Compute the cross product $\\begin{pmatrix} 1 \\\\ 0 \\\\ 0 \\end{pmatrix} \\times \\begin{pmatrix} 0 \\\\ 1 \\\\ 0 \\end{pmatrix}$.",
     "$\\mathbf{i} \\times \\mathbf{j} = \\mathbf{k}$.",
     "\\begin{pmatrix} 0 \\\\ 0 \\\\ 1 \\end{pmatrix}",
     [("\\begin{pmatrix} 0 \\\\ 0 \\\\ 1 \\end{pmatrix}", "same"), ("\\begin{bmatrix}0\\\\0\\\\1\\end{bmatrix}", "bmatrix")],
     [("\\begin{pmatrix} 0 \\\\ 0 \\\\ -1 \\end{pmatrix}", "j x i, the opposite orientation", True), ("\\begin{pmatrix} 1 \\\\ 1 \\\\ 0 \\end{pmatrix}", "the sum")])
item(C, None,
     "Scaling the identity: $3I$ has 3 on the diagonal.",
     "\\begin{pmatrix} 3 & 0 \\\\ 0 & 3 \\end{pmatrix}",
     [("\\begin{bmatrix} 3 & 0 \\\\ 0 & 3\\end{bmatrix}", "bmatrix"), ("\\begin{pmatrix} 3.0 & 0 \\\\ 0 & 3.0 \\end{pmatrix}", "decimal entries, same values")],
     [("\\begin{pmatrix} 3 & 0 & 0 \\\\ 0 & 3 & 0 \\\\ 0 & 0 & 3 \\end{pmatrix}", "3x3, not 2x2", True), ("\\begin{pmatrix} 3 & 3 \\\\ 3 & 3 \\end{pmatrix}", "all entries 3")])

# ---------------------------------------------------------------------------------------------
# multiple choice
# ---------------------------------------------------------------------------------------------
C = "multiple_choice"
MC1 = ("What is the least common multiple of 6 and 8?\n\n(A) 12 \\quad (B) 24 \\quad (C) 48 \\quad (D) 14 \\quad (E) 2")
item(C, MC1,
     "Multiples of 8: 8, 16, 24. Since 24 is divisible by 6, the lcm is 24, which is choice (B). Choice (C) 48 is only a common multiple.",
     "B",
     [("B", "same letter"), ("(B)", "parenthesised"), ("\\text{(B)}", "\\text wrapper"), ("\\textbf{(B)}", "bold, as in AMC solutions"), ("B)", "closing parenthesis"),
      ("\\text{Option B}", "'Option B'"), ("(B) 24", "letter with its value"), ("\\mathrm{B}", "upright letter"), ("b", "lower-case letter: the gold is a letter and the problem lists choices")],
     [("C", "a different letter", True), ("(C) 48", "a different letter with its value", True), ("A", "the smallest choice")])
MC2 = ("Which number is prime?\n(A) 21\n(B) 27\n(C) 29\n(D) 33")
item(C, MC2,
     "21 = 3 \u00b7 7, 27 = 3^3, 33 = 3 \u00b7 11, while 29 has no divisor up to 5.",
     "C",
     [("C", "same"), ("\\text{C}", "\\text{}"), ("\\textbf{(C)}", "bold"), ("(C)\\ 29", "letter and value")],
     [("D", "33 = 3*11 is not prime", True), ("(A)", "21 = 3*7")])
item(C, None,
     "Comparing the five options, only the third one satisfies both conditions.",
     "\\text{(C)}",
     [("C", "gold \\text{(C)} is the letter C"), ("(C)", "parenthesised")],
     [("c", "a lower-case letter counts only when the problem lists choices; here the problem text is not given", True), ("E", "another letter", True)])
item(C, "Which of the following is equal to $2^{-2}$? (A) $-4$ (B) $-\\frac14$ (C) $\\frac14$ (D) $4$",
     "$2^{-2} = \\frac{1}{2^2}$, positive.",
     "C",
     [("C", "letter"), ("\\text{(C) } \\frac{1}{4}", "letter and its value")],
     [("B", "sign", True)])
item(C, "If $3x + 2 = 11$, then $x =$\n\n$\\textbf{(A)}\\ 1 \\qquad \\textbf{(B)}\\ 2 \\qquad \\textbf{(C)}\\ 3 \\qquad \\textbf{(D)}\\ 4 \\qquad \\textbf{(E)}\\ 5$",
     "Subtract 2: $3x = 9$, so $x = 3$.",
     "\\textbf{(C)}",
     [("\\textbf{(C)}\\ 3", "AMC style answer"), ("C", "letter")],
     [("\\textbf{(D)}", "another letter", True), ("\\textbf{(E)}", "another letter")])

# ---------------------------------------------------------------------------------------------
# units and text decorations
# ---------------------------------------------------------------------------------------------
C = "units"
item(C, "A rectangle is 5 cm by 8 cm. What is its perimeter?",
     "The perimeter is $2(5 + 8) = 2 \\cdot 13$, while the area would be $40$.",
     "26",
     [("26 \\text{ cm}", "unit stripped"), ("26\\text{cm}", "no space"), ("26 \\mbox{ cm}", "\\mbox"), ("26\\,\\text{cm}", "thin space"), ("26 \\ \\mathrm{cm}", "\\mathrm unit"), ("26 cm", "plain unit")],
     [("40 \\text{ cm}", "the area's number", True), ("13 \\text{ cm}", "half the perimeter", True)])
item(C, "A square garden has side 5 m. What is its area?",
     "Area $= 5^2$ square metres; the perimeter would be 20 m.",
     "25 \\text{ m}^2",
     [("25", "the number; a unit on the gold side is stripped"), ("25\\,\\text{m}^2", "same unit, thin space"), ("25 \\text{ m}^{2}", "braced power"), ("25 \\text{ square meters}", "unit in words")],
     [("25 \\text{ m}", "the right number with the wrong unit power", True), ("25 \\text{ m}^3", "the right number with the wrong unit power", True), ("20 \\text{ m}", "the perimeter")])
item(C, "Tickets cost $\\$7.50$ each. How much do 6 tickets cost?",
     "$6 \\times 7.50 = 45$, and with a $\\$2$ booking fee it would be 47, but there is no fee here.",
     "45",
     [("\\$45", "dollar sign"), ("\\$45.00", "cents"), ("45 \\text{ dollars}", "unit in words"), ("\\$\\,45", "thin space after the dollar sign")],
     [("\\$47", "added a fee that the problem does not have", True), ("\\$7.50", "the given price", True)])
item(C, "A cube has edge 3 cm. What is its volume in cubic centimetres?",
     "$V = 3^3$; the surface area would be $6 \\cdot 9 = 54$.",
     "27",
     [("27 \\text{ cm}^3", "cubic centimetres"), ("27\\,\\mathrm{cm}^3", "\\mathrm unit"), ("27 \\text{ cubic centimeters}", "in words")],
     [("54 \\text{ cm}^2", "the surface area", True), ("9 \\text{ cm}^3", "squared instead of cubed", True)])
item(C, "A car travels 150 km in 2.5 hours. What is its average speed?",
     "Speed $= \\frac{150}{2.5}$, and $150 \\div 2.5 = 1500 \\div 25$.",
     "60 \\text{ km/h}",
     [("60", "number only"), ("60\\ \\text{km/h}", "same unit"), ("60 \\text{ km}/\\text{h}", "unit split"), ("60 \\, \\mathrm{km\\,h^{-1}}", "km h^-1")],
     [("375 \\text{ km/h}", "multiplied", True), ("0.0167 \\text{ h/km}", "the reciprocal")])
item(C, "How long does it take to walk 6 miles at 4 miles per hour?",
     "Time $= \\frac{6}{4}$ hours, i.e. one hour and thirty minutes.",
     "1.5",
     [("1.5 \\text{ hours}", "hours"), ("\\frac{3}{2} \\text{ hours}", "fraction with unit"), ("1.5\\text{ hrs}", "abbreviation")],
     [("24 \\text{ hours}", "multiplied", True), ("\\frac{2}{3} \\text{ hours}", "reciprocal", True)])

# ---------------------------------------------------------------------------------------------
# degrees
# ---------------------------------------------------------------------------------------------
C = "degrees"
item(C, "In triangle $ABC$, $\\angle A = 50^\\circ$ and $\\angle B = 70^\\circ$. Find $\\angle C$ in degrees.",
     "The angles of a triangle sum to $180^\\circ$, and $50 + 70 = 120$.",
     "60",
     [("60^\\circ", "degree sign is a unit"), ("60^{\\circ}", "braced"), ("60\u00b0", "Unicode degree sign"), ("60 \\text{ degrees}", "in words"), ("60", "plain"), ("\\frac{\\pi}{3}", "the problem is about angles, so radians convert: pi/3 = 60 degrees"), ("\\angle C = 60^\\circ", "labelled")],
     [("120^\\circ", "the sum of A and B", True), ("50^\\circ", "a given angle", True), ("\\frac{\\pi}{6}", "pi/6 = 30 degrees", True), ("30^\\circ", "half the answer")])
item(C, None,
     "The rotation is by a sixth of a full turn, and a full turn is 360.",
     "60",
     [("60^\\circ", "degree sign is a unit"), ("60 \\text{ degrees}", "unit in words")],
     [("\\frac{\\pi}{3}", "no problem text: degrees and radians do not convert", True), ("360^\\circ", "a full turn")])
item(C, "Solve $\\sin \\theta = \\frac{1}{2}$ for $0 < \\theta < \\frac{\\pi}{2}$.",
     "On $(0, \\pi/2)$, $\\sin$ is increasing and $\\sin\\frac{\\pi}{6} = \\frac12$.",
     "\\frac{\\pi}{6}",
     [("\\frac{\\pi}{6}", "same"), ("30^\\circ", "a trigonometric problem: 30 degrees = pi/6"), ("\\pi/6", "slash"), ("0.524", "pi/6 = 0.5236, rounded to 3 digits")],
     [("\\frac{\\pi}{3}", "sin(pi/3) = sqrt3/2", True), ("60^\\circ", "= pi/3", True), ("\\frac{5\\pi}{6}", "outside (0, pi/2)", True)])
item(C, "What is the measure of each interior angle of a regular hexagon?",
     "The interior angles sum to $(6-2) \\cdot 180 = 720$ degrees, shared by 6 angles.",
     "120^\\circ",
     [("120", "plain number"), ("120^{\\circ}", "braced"), ("120 \\text{ degrees}", "in words"), ("\\frac{2\\pi}{3}", "the problem is about angles: 2pi/3 = 120 degrees")],
     [("720^\\circ", "the sum of the angles", True), ("60^\\circ", "the exterior angle", True), ("\\frac{\\pi}{3}", "= 60 degrees", True)])
item(C, None,
     "Converting $\\frac{\\pi}{4}$: multiply by $\\frac{180}{\\pi}$.",
     "45^\\circ",
     [("45", "plain number"), ("45 \\text{ degrees}", "in words")],
     [("\\frac{\\pi}{4}", "no problem text given: no radians to degrees conversion", True), ("90^\\circ", "doubled")])

# ---------------------------------------------------------------------------------------------
# text answers
# ---------------------------------------------------------------------------------------------
C = "text_answers"
item(C, "Is 221 a prime number? Answer yes or no.",
     "Check small primes: $221 = 13 \\times 17$.",
     "no",
     [("\\text{No}", "case-insensitive, \\text wrapper"), ("No", "capitalised"), ("\\text{no}", "same"), ("NO", "upper case")],
     [("\\text{Yes}", "the opposite", True), ("13", "a factor, not the answer"), ("\\text{yes}", "the opposite", True)])
item(C, "Is the function $f(x) = x^3$ even, odd, or neither?",
     "$f(-x) = (-x)^3 = -x^3 = -f(x)$.",
     "\\text{odd}",
     [("\\text{odd}", "same"), ("odd", "without wrapper"), ("\\text{Odd}", "case"), ("\\mathrm{odd}", "\\mathrm"), ("\\text{odd.}", "trailing period")],
     [("\\text{even}", "the opposite", True), ("\\text{neither}", "wrong", True)])
item(C, "If today is Wednesday, what day of the week will it be 100 days from now?",
     "$100 = 7 \\cdot 14 + 2$, so we move 2 days forward.",
     "\\text{Friday}",
     [("\\text{Friday}", "same"), ("Friday", "plain"), ("\\text{friday}", "case"), ("\\textbf{Friday}", "bold")],
     [("\\text{Thursday}", "one day off", True), ("\\text{Saturday}", "three days off"), ("2", "the remainder, not the day", True)])
item(C, "What shape is the set of points equidistant from a fixed point in a plane?",
     "All points at a fixed distance $r$ from the centre.",
     "circle",
     [("\\text{a circle}", "article ignored"), ("\\text{Circle}", "case"), ("\\text{the circle}", "article ignored")],
     [("\\text{sphere}", "that is in space, not a plane", True), ("\\text{ellipse}", "different shape")])
item(C, "Does the series $\\sum_{n=1}^\\infty \\frac{1}{n}$ converge or diverge?",
     "The harmonic series: its partial sums grow like $\\ln n$.",
     "\\text{diverges}",
     [("\\text{diverges}", "same"), ("\\text{Diverges}", "case")],
     [("\\text{converges}", "the opposite", True), ("\\ln n", "the growth rate, not the answer")])

# ---------------------------------------------------------------------------------------------
# unboxed forms: the final answer without \boxed
# ---------------------------------------------------------------------------------------------
C = "unboxed"
P = "Sam has 3 boxes of 12 pencils and gives away 7 pencils. How many pencils does he have left?"
add(C, None, "29", True, "'The answer is 29.' after distractors 3, 12, 36, 7", problem=P,
    raw="Sam starts with 3 boxes of 12 pencils, so $3 \\times 12 = 36$ pencils. He gives away 7, leaving $36 - 7 = 29$.\n\nThe answer is 29.")
add(C, None, "29", False, "'The answer is 36.': the intermediate total", problem=P, hard=True,
    raw="Sam starts with $3 \\times 12 = 36$ pencils and gives away 7.\n\nThe answer is 36.")
add(C, None, "29", True, "bold **Final Answer:** 29", problem=P,
    raw="<think>\n3 boxes times 12 is 36. Minus 7 is 29.\n</think>\n\n3 boxes of 12 pencils make 36 pencils; giving away 7 leaves 29.\n\n**Final Answer:** 29")
add(C, None, "29", True, "'Final Answer: The final answer is $29$. I hope it is correct.'", problem=P,
    raw="We have $3 \\cdot 12 = 36$ and $36 - 7 = 29$.\n\nFinal Answer: The final answer is $29$. I hope it is correct.")
add(C, None, "29", False, "final answer 43 = 36 + 7 (added instead of subtracting)", problem=P,
    raw="We have $3 \\cdot 12 = 36$ and $36 + 7 = 43$.\n\nFinal Answer: The final answer is $43$. I hope it is correct.")
add(C, None, "29", True, "bold final number **29** after the reasoning", problem=P,
    raw="Total pencils: 3 x 12 = 36.\nAfter giving away 7: 36 - 7 = 29.\n\nSo Sam has **29** pencils left.")
add(C, None, "29", True, "display math \\[29\\] as the last line", problem=P,
    raw="He has $3 \\times 12 = 36$ pencils and gives away 7, so the number of pencils left is\n\\[\n29.\n\\]")
add(C, None, "29", True, "plain sentence ending in the answer", problem=P,
    raw="36 pencils minus the 7 he gave away means Sam has 29 pencils left.")
add(C, None, "29", False, "the last sentence states 30, an off-by-one", problem=P, hard=True,
    raw="Three boxes hold 36 pencils. Taking away 7 leaves 30 pencils, so Sam has 30 pencils left.")

P = "What is $\\frac{3}{4}$ of 48?"
add(C, None, "36", True, "inline \\(36\\) at the end", problem=P,
    raw="A quarter of 48 is 12, and three quarters is three times that: \\(3 \\times 12 = 36\\).")
add(C, None, "36", True, "'$...$' at the end of the completion", problem=P,
    raw="One fourth of 48 is $48/4 = 12$. Then three fourths is $36$")
add(C, None, "36", False, "the final statement is 12, a quarter only", problem=P, hard=True,
    raw="We divide 48 by 4 to get 12, which multiplied by 3 gives 36. Wait, the question is a quarter. So the answer is 12.")
add(C, None, "36", True, "'The answer is: 36'", problem=P,
    raw="$\\frac{3}{4} \\cdot 48 = \\frac{144}{4} = 36$\nThe answer is: 36")
add(C, None, "36", True, "'**Answer:** $36$'", problem=P,
    raw="Compute $48 \\div 4 = 12$, then $12 \\times 3 = 36$.\n\n**Answer:** $36$")
add(C, None, "36", False, "'**Answer:** $64$': divided by 3/4 instead of multiplying", problem=P, hard=True,
    raw="Dividing 48 by $\\frac34$ gives $48 \\cdot \\frac43 = 64$.\n\n**Answer:** $64$")

P = "Solve for $x$: $5x - 3 = 2x + 9$."
add(C, None, "4", True, "'Therefore, $x = 4$.'", problem=P,
    raw="Subtract $2x$ from both sides: $3x - 3 = 9$. Add 3: $3x = 12$. Therefore, $x = 4$.")
add(C, None, "4", False, "final value x = 12 is 3x, not x", problem=P, hard=True,
    raw="Moving terms: $5x - 2x = 9 + 3$, so $3x = 12$.\n\n**Final Answer:** $x = 12$")
add(C, None, "4", True, "'x = 4' in bold markdown", problem=P,
    raw="<think>\n5x - 3 = 2x + 9 -> 3x = 12 -> x = 4\n</think>\n\nCollect the $x$ terms: $3x = 12$, hence **x = 4**.")
add(C, None, "4", True, "answer tag <answer>4</answer>", problem=P,
    raw="First, $5x - 2x = 9 + 3$ gives $3x = 12$.\n<answer>4</answer>")

P = "What is $\\frac{1}{2} + \\frac{1}{3}$?"
add(C, None, "\\frac{5}{6}", True, "'The final answer is 5/6.' (plain slash)", problem=P,
    raw="The common denominator is 6: $\\frac{3}{6} + \\frac{2}{6}$.\n\nThe final answer is 5/6.")
add(C, None, "\\frac{5}{6}", True, "display \\[\\frac{5}{6}\\] at the end", problem=P,
    raw="Using the denominator 6, we add $3/6$ and $2/6$, and the sum is\n\\[\n\\frac{5}{6}\n\\]")
add(C, None, "\\frac{5}{6}", False, "'The final answer is 2/5': added numerators and denominators", problem=P, hard=True,
    raw="Adding tops and bottoms, $1 + 1 = 2$ and $2 + 3 = 5$.\n\nThe final answer is 2/5.")
add(C, None, "\\frac{5}{6}", False, "no final answer at all: the completion stops mid-way (unchecked is not correct)", problem=P,
    raw="The common denominator is 6, so we rewrite $\\frac{1}{2} = \\frac{3}{6}$ and $\\frac{1}{3} = \\frac{2}{6}$, and then")

P = "How many edges does a cube have?"
add(C, None, "12", True, "'Answer: 12'", problem=P,
    raw="A cube has 6 faces and 8 vertices. Each vertex meets 3 edges and each edge has 2 ends, so there are $8 \\cdot 3 / 2$ edges.\n\nAnswer: 12")
add(C, None, "12", False, "'Answer: 8' is the number of vertices", problem=P, hard=True,
    raw="A cube has 6 faces and 12 edges, and 8 corners.\n\nAnswer: 8")
add(C, None, "12", True, "'#### 12' GSM8K-style marker in the completion", problem=P,
    raw="Top square: 4 edges. Bottom square: 4 edges. Vertical edges: 4. Total 4 + 4 + 4 = 12.\n#### 12")

# ---------------------------------------------------------------------------------------------
# gold solution texts (MATH style ending in \boxed{}, GSM8K style ending in #### n)
# ---------------------------------------------------------------------------------------------
C = "gold_solutions"
G = ("The roots of $x^2 - 7x + 10 = 0$ are found by factoring: $(x-2)(x-5) = 0$. So $x = 2$ or $x = 5$, "
     "and the product of the roots is $2 \\cdot 5 = \\boxed{10}$.")
P = "What is the product of the roots of $x^2 - 7x + 10 = 0$?"
item(C, P, "By Vieta's formulas the product of the roots is $c/a$, and here $c = 10$, $a = 1$; the sum would be 7.", G,
     [("10", "the boxed value of the gold solution"), ("10.0", "same value")],
     [("7", "the sum of the roots", True), ("2", "a root named in the gold solution's text", True), ("5", "the other root named in the solution", True)])
G = ("Let the width be $w$. Then the length is $2w$ and the perimeter is $2(w + 2w) = 6w = 36$, so $w = 6$ and the length is 12. "
     "The area is $6 \\cdot 12 = \\boxed{72}$ square units.")
P = "A rectangle's length is twice its width and its perimeter is 36. What is its area?"
item(C, P, "Width $w$, length $2w$: $6w = 36$ gives $w = 6$, length 12.", G,
     [("72", "6*12"), ("72 \\text{ square units}", "with unit")],
     [("36", "the perimeter given in the problem", True), ("12", "the length, a number in the gold text", True)])
G = ("Multiplying numerator and denominator by the conjugate, $\\frac{2}{1+\\sqrt{3}} \\cdot \\frac{1-\\sqrt3}{1-\\sqrt3} = "
     "\\frac{2(1-\\sqrt3)}{1-3} = \\boxed{\\sqrt{3}-1}$.")
P = "Rationalize the denominator of $\\frac{2}{1+\\sqrt{3}}$."
item(C, P, "Multiply by the conjugate $1 - \\sqrt3$; the denominator becomes $1 - 3 = -2$.", G,
     [("\\sqrt{3}-1", "same"), ("-1+\\sqrt3", "reordered"), ("0.732", "sqrt3 - 1 = 0.73205, rounded to 3 digits")],
     [("1-\\sqrt{3}", "sign", True)])
G = ("She bought 4 packs of 6 muffins, which is 4*6 = <<4*6=24>>24 muffins.\nShe ate 3 and gave 5 away, so 24 - 3 - 5 = "
     "<<24-3-5=16>>16 muffins are left.\n#### 16")
P = "Ana bought 4 packs of 6 muffins. She ate 3 and gave 5 to a friend. How many muffins does she have left?"
item(C, P, "4 packs of 6 is 24 muffins. After eating 3 and giving away 5: 24 - 8.", G,
     [("16", "24 - 3 - 5"), ("16 \\text{ muffins}", "with unit")],
     [("24", "the total before, a number in the gold text", True), ("8", "the muffins gone", True), ("21", "subtracted only 3")])
G = ("Each ticket costs $12 and a family of 5 buys tickets: 5 * 12 = <<5*12=60>>60 dollars.\nParking is 8 dollars, so the total "
     "is 60 + 8 = <<60+8=68>>68 dollars.\n#### 68")
P = "A family of 5 goes to a show. Tickets cost $12 each and parking costs $8. How much do they spend?"
item(C, P, "Tickets: $5 \\times 12 = 60$. Parking: 8.", G,
     [("68", "60 + 8"), ("\\$68", "dollar sign"), ("\\$68.00", "cents")],
     [("60", "tickets only", True)])
G = ("A 20% discount on $\\$250$ is $0.2 \\times 250 = 50$ dollars, so the sale price is $250 - 50 = \\boxed{\\$200}$.")
P = "A bicycle costs $\\$250$. It is on sale for 20% off. What is the sale price?"
item(C, P, "20 percent of 250 is 50.", G,
     [("200", "250 - 50"), ("\\$200", "dollar sign"), ("\\$200.00", "cents")],
     [("50", "the discount", True), ("\\$250", "the given price", True)])
G = ("The slope is $\\frac{7 - 3}{4 - 2} = \\frac{4}{2} = 2$. Using point-slope form, $y - 3 = 2(x - 2)$, so the equation is "
     "$\\boxed{y = 2x - 1}$.")
P = "Find the equation of the line through $(2,3)$ and $(4,7)$."
item(C, P, "Slope $\\frac{4}{2} = 2$; at $x = 2$, $y = 3$ gives intercept $3 - 4 = -1$.", G,
     [("y = 2x - 1", "same"), ("y=-1+2x", "reordered"), ("2x - y = 1", "rearranged, same line")],
     [("y = 2x + 1", "intercept sign", True), ("y = \\frac{1}{2}x + 2", "inverted slope")])
G = ("Since $\\cos^2\\theta = 1 - \\sin^2\\theta = 1 - \\frac{9}{25} = \\frac{16}{25}$ and $\\theta$ is in the second quadrant, "
     "$\\cos\\theta < 0$. Hence $\\cos\\theta = \\boxed{-\\frac{4}{5}}$.")
P = "If $\\sin\\theta = \\frac35$ and $\\theta$ is in the second quadrant, find $\\cos\\theta$."
item(C, P, "$\\cos^2\\theta = \\frac{16}{25}$, and cosine is negative in quadrant II.", G,
     [("-\\frac{4}{5}", "same"), ("-0.8", "decimal"), ("-\\frac45", "unbraced")],
     [("\\frac{4}{5}", "sign for quadrant II", True), ("\\frac{16}{25}", "cos^2, not cos", True)])

# ---------------------------------------------------------------------------------------------
# labelled golds ("AB = 5", "\frac{AD}{DC} = ...", "V_1:V_2 = 3:8", "f(2) = 7", "y \in [-1,4]")
# ---------------------------------------------------------------------------------------------
C = "labelled_golds"
P = "In right triangle $ABC$ with the right angle at $C$, $AC = 3$ and $BC = 4$. Find $AB$."
item(C, P, "By the Pythagorean theorem, $AB^2 = 3^2 + 4^2 = 9 + 16 = 25$.", "$AB = 5$",
     [("5", "the value of the labelled gold"), ("AB = 5", "same label and value"), ("\\sqrt{25}", "= 5"), ("5 \\text{ units}", "with a unit")],
     [("25", "AB^2, not AB", True), ("AB = 7", "added the legs", True), ("\\sqrt{7}", "sqrt(4^2-3^2), the wrong leg relation", True)])
P = "In triangle $ABC$, $BD$ bisects angle $B$, $AB = 1$ and $BC = \\sqrt{3}$. Find $\\frac{AD}{DC}$."
item(C, P, "The angle bisector theorem gives $\\frac{AD}{DC} = \\frac{AB}{BC}$.", "$\\frac{AD}{DC}=\\frac{1}{\\sqrt{3}}$",
     [("\\frac{1}{\\sqrt{3}}", "the value"), ("\\frac{\\sqrt{3}}{3}", "rationalised, same value"), ("\\frac{AD}{DC} = \\frac{\\sqrt3}{3}", "labelled"), ("1:\\sqrt{3}", "as a ratio")],
     [("\\sqrt{3}", "the inverse ratio DC/AD", True), ("\\frac{1}{3}", "dropped the root", True)])
P = "Two cones have volumes $V_1$ and $V_2$; the first has radius 1 and height 3, the second radius 2 and height 2. Find $V_1 : V_2$."
item(C, P, "$V_1 = \\frac13\\pi \\cdot 1^2 \\cdot 3 = \\pi$ and $V_2 = \\frac13 \\pi \\cdot 2^2 \\cdot 2 = \\frac{8\\pi}{3}$. The ratio is $\\pi : \\frac{8\\pi}{3} = 3 : 8$.", "$V_1:V_2=3:8$",
     [("3:8", "the ratio"), ("V_1 : V_2 = 3 : 8", "labelled"), ("\\frac{3}{8}", "a ratio 3:8 is the number 3/8"), ("6:16", "same ratio")],
     [("8:3", "the ratio inverted", True), ("\\frac{8}{3}", "inverted", True), ("1:2", "ratio of the radii only")])
P = "Let $f(x) = x^2 + 3$. Find $f(2)$."
item(C, P, "$f(2) = 2^2 + 3 = 4 + 3$.", "f(2) = 7",
     [("7", "the value"), ("f(2) = 7", "same")],
     [("f(2) = 4", "stopped at 2^2", True), ("2", "the argument, a number given in the question", True)])
P = "What is the range of $y = 4\\sin^2 x - 1$?"
item(C, P, "Since $0 \\le \\sin^2 x \\le 1$, we get $-1 \\le 4\\sin^2x - 1 \\le 3$.", "y \\in [-1,3]",
     [("[-1,3]", "the interval"), ("-1 \\le y \\le 3", "the same set as a chain"), ("y \\in [-1, 3]", "same")],
     [("[-1,4]", "forgot the -1 shift at the top", True), ("(-1,3)", "open interval excludes the attained ends", True), ("[-5,3]", "used -1 <= sin x <= 1 for sin^2")])
P = "A cylinder has radius 3 and height 5. Find its volume $V$."
item(C, P, "$V = \\pi r^2 h = \\pi \\cdot 9 \\cdot 5$.", "$V = 45\\pi$",
     [("45\\pi", "the value"), ("V = 45\\pi", "labelled"), ("141", "45 pi = 141.37...: 141 is its rounding to 3 significant digits"), ("141.4", "45 pi = 141.37..., correctly rounded to 4 digits")],
     [("15\\pi", "pi r h", True), ("V = 45", "dropped pi", True), ("141.3", "45 pi = 141.37...: truncated, not rounded", True)])
P = "Point $P$ is the midpoint of $AB$ where $A = (0,0)$ and $B = (6,8)$. Find $OP$, the distance from the origin to $P$."
item(C, P, "$P = (3, 4)$ and $OP = \\sqrt{3^2 + 4^2}$.", "OP = 5",
     [("5", "value"), ("OP=5", "same")],
     [("10", "the length AB", True), ("(3,4)", "the point, not the distance", True)])

# ---------------------------------------------------------------------------------------------
# hedges: several answers earn 0; the same answer twice, or all of a listed gold, does not
# ---------------------------------------------------------------------------------------------
C = "hedges"
P = "What is the smallest prime greater than 20?"
R = "21 = 3 \u00b7 7 is composite, 22 is even, 23 has no prime factor up to 4."
add(C, None, "23", False, "two different boxed answers", problem=P, hard=True,
    raw=f"{R} It could be $\\boxed{{23}}$, but checking 29 as well, the answer might be $\\boxed{{29}}$.")
add(C, None, "23", False, "two different boxed answers, the gold first", problem=P, hard=True,
    raw=f"{R}\n\nThe answer is $\\boxed{{23}}$ or possibly $\\boxed{{21}}$.")
add(C, None, "23", True, "the same answer boxed twice is not a hedge", problem=P,
    raw=f"{R} So the smallest is $\\boxed{{23}}$.\n\n**Final Answer:** $\\boxed{{23}}$")
add(C, None, "23", False, "'23 or 29' in one box", problem=P, hard=True, raw=wrap(R, "23 \\text{ or } 29"))
add(C, None, "23", False, "'23 or 29' in plain words", problem=P, hard=True, raw=f"{R}\n\nThe answer is 23 or 29.")
add(C, None, "23", False, "'either 23 or 29'", problem=P, hard=True, raw=wrap(R, "\\text{either } 23 \\text{ or } 29"))
add(C, None, "23", False, "a list of many candidates", problem=P, hard=True, raw=wrap(R, "21, 22, 23, 24, 25, 26, 27, 28, 29"))
add(C, None, "23", True, "single answer after a rejected candidate in the reasoning", problem=P,
    raw=f"{R} Maybe 21? No, $21 = 3 \\cdot 7$.\n\nFinal Answer: The final answer is $23$. I hope it is correct.")
P = "Solve $x^2 - 5x + 6 = 0$ and give the smaller root."
R = "The quadratic factors as $(x-2)(x-3)$."
add(C, None, "2", False, "'x = 2 or x = 3' when the gold is one value", problem=P, hard=True, raw=wrap(R, "x = 2 \\text{ or } x = 3"))
add(C, None, "2", False, "'2 or 3'", problem=P, hard=True, raw=wrap(R, "2 \\text{ or } 3"))
add(C, None, "2", False, "'2, 3' lists both roots when one value is asked", problem=P, hard=True, raw=wrap(R, "2, 3"))
add(C, None, "2", True, "the smaller root alone", problem=P, raw=wrap(R, "2"))
P = "Solve $x^2 - 5x + 6 = 0$."
add(C, None, "x=2 \\text{ or } x=3", True, "gold lists both solutions; the same two in another order", problem=P, raw=wrap(R, "x = 3 \\text{ or } x = 2"))
add(C, None, "x=2 \\text{ or } x=3", True, "gold lists both; comma list of the same", problem=P, raw=wrap(R, "2, 3"))
add(C, None, "x=2 \\text{ or } x=3", True, "gold lists both; a set of the same", problem=P, raw=wrap(R, "\\{2, 3\\}"))
add(C, None, "x=2 \\text{ or } x=3", False, "one of two solutions only", problem=P, hard=True, raw=wrap(R, "x = 2"))
add(C, None, "x=2 \\text{ or } x=3", False, "an extra candidate beyond the solution set", problem=P, hard=True, raw=wrap(R, "x = 2, x = 3, x = 6"))
P = "Which of the following is a multiple of 7? (A) 45 (B) 56 (C) 64 (D) 72 (E) 81"
R = "$56 = 7 \\cdot 8$, and none of 45, 64, 72, 81 is divisible by 7."
add(C, None, "B", False, "'(B) or (C)': a hedge over letters", problem=P, hard=True, raw=wrap(R, "(B) \\text{ or } (C)"))
add(C, None, "B", False, "'B/C'", problem=P, hard=True, raw=wrap(R, "B/C"))
add(C, None, "B", False, "all five letters", problem=P, hard=True, raw=wrap(R, "A, B, C, D, E"))
add(C, None, "B", False, "two boxed letters", problem=P, hard=True, raw=f"{R} The answer is $\\boxed{{B}}$ and $\\boxed{{D}}$.")
add(C, None, "B", True, "one letter", problem=P, raw=wrap(R, "\\text{(B)}"))
P = "A number squared is 16, and the number is positive. What is it?"
R = "$\\sqrt{16} = 4$."
add(C, None, "4", False, "'\\pm 4' when the gold is one value", problem=P, hard=True, raw=wrap(R, "\\pm 4"))
add(C, None, "4", False, "'4 or -4'", problem=P, hard=True, raw=wrap(R, "4 \\text{ or } -4"))
add(C, None, "4", True, "4", problem=P, raw=wrap(R, "4"))
P = "Find all real $x$ with $x^2 = 16$."
add(C, None, "\\{-4, 4\\}", True, "'\\pm 4' is the set {-4, 4}", problem=P, raw=wrap(R, "\\pm 4"))
add(C, None, "\\{-4, 4\\}", True, "'4 or -4' names the same set", problem=P, raw=wrap(R, "4 \\text{ or } -4"))
add(C, None, "\\{-4, 4\\}", False, "only 4", problem=P, hard=True, raw=wrap(R, "4"))
P = "Is 91 prime?"
R = "$91 = 7 \\cdot 13$."
add(C, None, "no", False, "'yes or no' hedge", problem=P, hard=True, raw=wrap(R, "\\text{yes or no}"))
add(C, None, "no", False, "two different text answers boxed", problem=P, hard=True, raw=R + " So $\\boxed{\\text{no}}$, although one could say $\\boxed{\\text{yes}}$.")
add(C, None, "no", True, "'No' once", problem=P, raw=wrap(R, "\\text{No}"))
P = "Round $\\frac{7}{3}$ to the nearest hundredth."
R = "$7/3 = 2.3333\\ldots$."
add(C, None, "2.33", False, "a hedge between two roundings", problem=P, hard=True, raw=wrap(R, "2.33 \\text{ or } 2.34"))
add(C, None, "2.33", True, "2.33", problem=P, raw=wrap(R, "2.33"))
add(C, None, "2.33", False, "'approximately 2.3 to 2.4': a range of candidates", problem=P, hard=True, raw=f"{R} So it is somewhere between 2.3 and 2.4.")


# =============================================================================================
# Second batch: more forms per category (written after the first commit, same rules)
# =============================================================================================
item("integers", "How many minutes are there in 7 hours and 25 minutes?",
     "Seven hours is $7 \\times 60 = 420$ minutes, plus the 25 extra minutes.",
     "445",
     [("\\mathbf{445}", "bold math, same number"), ("\\displaystyle 445", "\\displaystyle prefix"), (" 445 ", "padding spaces"), ("\\text{445}", "number inside \\text")],
     [("420", "forgot the 25 minutes", True), ("7.25", "the question's time written as a decimal", True), ("32", "7 + 25, units mixed")])
item("integers", "What is the largest prime factor of 221?",
     "Trying small primes: 221 is odd, $2+2+1 = 5$ so not divisible by 3, and $221 = 13 \\times 17$.",
     "17",
     [("17", "221 = 13 * 17")],
     [("13", "the smaller prime factor", True), ("221", "the given number", True)])
item("decimals", "Express $\\frac{1}{7}$ as a decimal rounded to the nearest hundredth.",
     "$1 \\div 7 = 0.142857\\ldots$; the thousandths digit is 2, so we round down.",
     "\\frac{1}{7}",
     [("0.14", "1/7 to the nearest hundredth, as the problem asks")],
     [("0.143", "three decimals where the problem asks for hundredths"), ("\\frac{1}{7}", "the problem names a precision: the rounded value 0.14 is required"), ("0.15", "wrong rounding", True)])
item("decimals", "Round 1234 to 2 significant figures.",
     "The first two significant digits are 1 and 2; the next digit 3 rounds down.",
     "1234",
     [("1200", "1234 to 2 significant figures"), ("1.2 \\times 10^3", "the same value in scientific notation")],
     [("1230", "3 significant figures, not 2", True), ("12", "dropped the magnitude", True)])
item("decimals", "What is $\\sqrt{50}$ to the nearest integer?",
     "$7^2 = 49$ and $7.1^2 = 50.41$, so $\\sqrt{50} \\approx 7.07$.",
     "5\\sqrt{2}",
     [("7", "sqrt 50 = 7.07..., nearest integer 7")],
     [("7.07", "not rounded to an integer as asked"), ("8", "rounded up wrongly", True)])
item("decimals", None,
     "Dividing, $1 \\div 300 = 0.003333\\ldots$.",
     "\\frac{1}{300}",
     [("0.00333", "3 significant digits, correctly rounded"), ("3.33 \\times 10^{-3}", "the same rounding in scientific notation")],
     [("0.003", "1 significant digit: too coarse", True), ("0.0033", "2 significant digits: too coarse", True)])
item("decimals", None,
     "Ten thousand divided by thirty: $10000 / 30 = 333.33\\ldots$.",
     "\\frac{1000}{3}",
     [("333.3", "1000/3 correctly rounded to 4 significant digits"), ("333.33", "5 significant digits")],
     [("333.4", "not a correct rounding of 333.33...", True), ("330", "2 significant digits", True)])
item("decimals", None,
     "Half of a fifth: $\\frac12 \\cdot \\frac15$.",
     "0.1",
     [("\\frac{1}{10}", "1/10 = 0.1"), ("10^{-1}", "10^-1 = 0.1"), ("0.10", "trailing zero"), (".1", "no leading zero")],
     [("0.01", "a factor of 10", True), ("1", "a factor of 10")])
item("fractions", None,
     "Convert the improper fraction: $\\frac{4}{3} = 1 + \\frac{1}{3}$.",
     "\\frac{4}{3}",
     [("1\\frac{1}{3}", "mixed number"), ("1 \\frac{1}{3}", "mixed number with a space"), ("\\frac{8}{6}", "unreduced"), ("1.333", "4/3 correctly rounded to 4 digits"), ("1.33", "4/3 correctly rounded to 3 significant digits")],
     [("\\frac{3}{4}", "reciprocal", True), ("1\\frac{1}{4}", "5/4", True), ("1.3", "2 significant digits: too coarse", True)])
item("fractions", None,
     "The temperature fell by $1\\frac{1}{3}$ units, i.e. the change is negative.",
     "-\\frac{4}{3}",
     [("-1\\frac{1}{3}", "a negative mixed number is -(1 + 1/3)"), ("\\frac{-4}{3}", "minus in the numerator")],
     [("-\\frac{2}{3}", "read -1 1/3 as -1 + 1/3", True), ("\\frac{4}{3}", "sign", True)])
item("percentages", "What percent of 50 is 20?",
     "$\\frac{20}{50} = \\frac{2}{5} = 0.4$, which is 40 per hundred.",
     "40\\%",
     [("40", "gold 40% is 40"), ("40 \\%", "space")],
     [("\\frac{2}{5}", "the fraction 2/5, not 40: a percent is read one way only", True), ("0.4", "factor of 100", True), ("250\\%", "50/20 instead of 20/50", True)])
item("percentages", "What fraction of the square is shaded if one of its four equal parts is shaded?",
     "One of four equal parts is $\\frac14$ of the whole, which some would write as 25 percent.",
     "\\frac{1}{4}",
     [("\\frac14", "same"), ("0.25", "1/4 = 0.25")],
     [("25\\%", "25% reads as 25, not 1/4: a percent is read one way only", True), ("\\frac{3}{4}", "the unshaded part", True)])
item("scientific_notation", None,
     "$2.5 \\times 10^3$ is 2.5 thousand.",
     "2500",
     [("2.5 \\times 10^{3}", "2.5e3 = 2500"), ("2.5\\times10^3", "no spaces"), ("2.5 \\cdot 10^3", "\\cdot")],
     [("2.5 \\times 10^{-3}", "exponent sign", True), ("25 \\times 10^{3}", "a factor of 10", True)])
item("radicals_powers", None,
     "Rationalise: $\\frac{1}{\\sqrt3} = \\frac{\\sqrt3}{3}$.",
     "\\frac{\\sqrt{3}}{3}",
     [("\\sqrt{3}/3", "slash"), ("\\frac{1}{\\sqrt{3}}", "equal"), ("3^{-1/2}", "3^(-1/2) = 1/sqrt 3"), ("\\frac{\\sqrt{3}}{3}", "same")],
     [("\\sqrt{3}", "dropped the denominator", True), ("\\frac{3}{\\sqrt{3}}", "= sqrt 3, the reciprocal", True), ("\\frac{\\sqrt{2}}{2}", "a different radical", True)])
item("radicals_powers", None,
     "$16 = 2^4$, so the fourth root is 2, and $\\sqrt{2}^3 = 2\\sqrt{2}$.",
     "2\\sqrt{2}",
     [("\\sqrt{2}^3", "(sqrt 2)^3 = 2 sqrt 2"), ("\\sqrt{8}", "sqrt 8 = 2 sqrt 2"), ("2^{3/2}", "2^(3/2) = 2 sqrt 2")],
     [("\\sqrt[4]{16}", "= 2, not 2 sqrt 2", True), ("2^{2/3}", "exponent inverted", True)])
item("constants", None,
     "Compute $i^2 \\cdot 4 = -4$, and the principal square root of $-4$ is $2i$.",
     "2i",
     [("\\sqrt{-4}", "principal root of -4 is 2i"), ("2 i", "space"), ("i \\cdot 2", "reordered product")],
     [("-2i", "the other root", True), ("2", "dropped i", True), ("-4", "the radicand")])
item("constants", None,
     "The quarter circle angle is $\\frac{\\pi}{4} = 0.785398\\ldots$.",
     "\\frac{\\pi}{4}",
     [("0.785", "pi/4 correctly rounded to 3 digits"), ("\\pi/4", "slash"), ("\\frac{1}{4}\\pi", "coefficient form")],
     [("45", "no problem text: no degree conversion, and 45 != pi/4", True), ("0.78", "2 significant digits", True), ("\\frac{\\pi}{2}", "doubled")])
item("constants", None,
     "$e^{-1} = \\frac{1}{e} \\approx 0.3679$.",
     "\\frac{1}{e}",
     [("e^{-1}", "same"), ("0.368", "1/e rounded to 3 digits")],
     [("-e", "misread the exponent", True), ("0.367", "truncated", True)])
item("constants", None,
     "As $x \\to 0^+$, $\\ln x$ decreases without bound.",
     "-\\infty",
     [("-\\infty", "same"), ("- \\infty", "space")],
     [("\\infty", "sign", True), ("0", "the limit point")])
item("expressions", None,
     "Multiply numerator and denominator by $-1$: $\\frac{-2}{1-x} = \\frac{2}{x-1}$.",
     "\\frac{2}{x-1}",
     [("\\frac{-2}{1-x}", "multiply top and bottom by -1"), ("-\\frac{2}{1-x}", "sign in front"), ("2/(x-1)", "slash with parentheses")],
     [("\\frac{2}{1-x}", "sign", True), ("\\frac{x-1}{2}", "reciprocal", True)])
item("expressions", None,
     "Factor out $x$: $x^2 + 3x = x(x + 3)$.",
     "x^2+3x",
     [("x(x+3)", "factored"), ("3x + x^2", "reordered"), ("x\\cdot(3+x)", "explicit product")],
     [("x^2+3", "lost the x", True), ("x(x-3)", "sign", True)])
item("expressions", None,
     "Logarithm rules: $\\ln 8 = \\ln 2^3 = 3 \\ln 2$.",
     "3\\ln 2",
     [("\\ln 8", "ln 8 = 3 ln 2"), ("3\\ln(2)", "parentheses"), ("2.08", "3 ln 2 = 2.0794..., 3 digits")],
     [("\\ln 6", "ln(2*3) = ln 6 != ln 8 = 3 ln 2", True), ("2.07", "truncated", True)])
item("expressions", None,
     "Shifting the sine by a quarter period: $\\sin(x + \\frac{\\pi}{2}) = \\cos x$.",
     "\\cos x",
     [("\\sin\\left(x+\\frac{\\pi}{2}\\right)", "the same function"), ("\\cos(x)", "parentheses")],
     [("\\sin(x+\\pi)", "= -sin x", True), ("-\\cos x", "sign", True), ("\\sin x", "unshifted")])
item("expressions", None,
     "Squares of exponentials: $(e^x)^2 = e^{2x}$.",
     "e^{2x}",
     [("(e^x)^2", "same"), ("e^{x}\\cdot e^{x}", "product")],
     [("e^{x^2}", "exponent squared instead of doubled", True), ("2e^x", "doubled instead of squared", True)])
item("equations_relations", "Find the line through $(0,3)$ and $(6,0)$.",
     "The slope is $\\frac{0-3}{6-0} = -\\frac12$ and the intercept is 3.",
     "y = -\\frac{1}{2}x + 3",
     [("x + 2y = 6", "same line"), ("y = 3 - \\frac{x}{2}", "same line"), ("y=-0.5x+3", "decimal slope")],
     [("y = \\frac{1}{2}x + 3", "slope sign", True), ("y = -2x + 3", "inverted slope", True), ("x + 2y = 3", "wrong constant")])
item("equations_relations", "For which $k$ is $k + 2 < 7$?",
     "Subtract 2 from both sides.",
     "k < 5",
     [("k < 5", "same"), ("5 > k", "flipped"), ("(-\\infty, 5)", "interval"), ("k \\in (-\\infty,5)", "membership")],
     [("k \\le 5", "non-strict", True), ("k > 5", "direction", True), ("(-\\infty,5]", "closed at 5", True)])
item("equations_relations", None,
     "Solving, we find $a = 3$ and $b = -2$ from the two equations.",
     "a = 3, b = -2",
     [("a=3, b=-2", "same"), ("b = -2, a = 3", "the same assignment, other order")],
     [("a = -2, b = 3", "values swapped", True), ("a = 3, b = 2", "sign of b", True)])
item("intervals", "Solve $x > 0$ and write the answer in interval notation.",
     "All positive reals.",
     "(0,\\infty)",
     [("(0, \\infty)", "same"), ("x > 0", "the same set"), ("(0,+\\infty)", "+infinity")],
     [("[0,\\infty)", "includes 0", True), ("(-\\infty,0)", "negatives")])
item("intervals", "Find all $x$ with $x \\le 5$, in interval notation.",
     "Everything up to and including 5.",
     "(-\\infty,5]",
     [("x \\in (-\\infty, 5]", "membership"), ("x \\le 5", "inequality")],
     [("(-\\infty,5)", "excludes 5", True), ("[5,\\infty)", "wrong side", True)])
item("sets", "Find all ordered pairs of positive integers $(a,b)$ with $a + b = 3$.",
     "$a$ can be 1 or 2, and then $b = 3 - a$.",
     "\\{(1,2),(2,1)\\}",
     [("\\{(2,1),(1,2)\\}", "a set of pairs is unordered"), ("(1,2), (2,1)", "listed without braces")],
     [("\\{(1,2)\\}", "one pair missing", True), ("\\{(1,2),(2,1),(0,3)\\}", "0 is not positive", True)])
item("sets", None,
     "The digits used are 1, 2 and 3, each once.",
     "\\{1,2,3\\}",
     [("\\{3,2,1\\}", "unordered"), ("\\{1, 3, 2\\}", "unordered")],
     [("\\{1,2\\}", "missing 3", True), ("\\{1,2,3,4\\}", "extra 4", True)])
item("tuples", "Find the vector $\\mathbf{v} = \\overrightarrow{AB}$ for $A = (1,2)$ and $B = (4,6)$.",
     "Subtract the coordinates: $(4-1, 6-2)$.",
     "(3,4)",
     [("\\langle 3, 4 \\rangle", "angle-bracket vector"), ("\\begin{pmatrix} 3 \\\\ 4 \\end{pmatrix}", "column vector"), ("(3,4)", "same")],
     [("(4,3)", "components swapped", True), ("(-3,-4)", "the vector BA", True), ("5", "the length, not the vector", True)])
item("tuples", "Find $(a, b, c)$ if $a = 1$, $b = a + 1$ and $c = a + b$.",
     "$b = 2$ and $c = 1 + 2$.",
     "(1,2,3)",
     [("(a,b,c) = (1,2,3)", "labelled"), ("(1, 2, 3)", "spaces")],
     [("(3,2,1)", "reversed", True), ("(1,2)", "a pair, not a triple", True)])
item("matrices_vectors", "Find the inverse of $\\begin{pmatrix} 2 & 0 \\\\ 0 & \\frac12 \\end{pmatrix}$.",
     "A diagonal matrix inverts entry by entry: $\\frac12$ and $2$.",
     "\\begin{pmatrix} \\frac{1}{2} & 0 \\\\ 0 & 2 \\end{pmatrix}",
     [("\\begin{pmatrix} 0.5 & 0 \\\\ 0 & 2 \\end{pmatrix}", "0.5 = 1/2"), ("\\begin{bmatrix} 1/2 & 0 \\\\ 0 & 2 \\end{bmatrix}", "slash fraction")],
     [("\\begin{pmatrix} 2 & 0 \\\\ 0 & \\frac{1}{2} \\end{pmatrix}", "the matrix itself, not the inverse", True), ("\\begin{pmatrix} 0 & \\frac12 \\\\ 2 & 0 \\end{pmatrix}", "entries moved off the diagonal", True)])
item("multiple_choice", "Which is largest? (A) $2^{10}$ (B) $10^3$ (C) $3^6$ (D) $5^4$",
     "$2^{10} = 1024$, $10^3 = 1000$, $3^6 = 729$, $5^4 = 625$.",
     "(A)",
     [("A", "letter"), ("\\text{A}", "\\text"), ("A.", "letter and a period"), ("a", "lower-case letter: the problem lists choices"), ("(A)\\ 2^{10}", "letter and the option")],
     [("B", "1000 < 1024", True), ("\\text{A or B}", "a hedge over letters", True)])
item("units", None,
     "The patio is 5 by 3 metres, so the area is $15$ square metres and the perimeter 16 m.",
     "15",
     [("15\\ \\mathrm{m}^2", "unit after a space"), ("\\text{15 m}^2", "number inside \\text"), ("15 \\text{ m}^2", "unit")],
     [("16 \\text{ m}", "the perimeter", True), ("150 \\text{ m}^2", "a factor of 10")])
item("units", None,
     "Fifty cents is half a dollar, written $0.50$ in dollars.",
     "0.5",
     [("\\$0.50", "dollar sign, trailing zero"), ("\\$0.5", "dollar sign")],
     [("\\$5.00", "a factor of 10", True), ("\\$0.05", "a factor of 10", True)])
item("degrees", "Find the angle whose tangent is 1, between 0 and 90 degrees.",
     "$\\tan 45^\\circ = 1$.",
     "45",
     [("45^\\circ", "degree unit"), ("\\frac{\\pi}{4}", "an angle problem: pi/4 = 45 degrees"), ("45 \\text{ degrees}", "words"), ("45\u00b0", "Unicode sign")],
     [("\\frac{\\pi}{3}", "= 60 degrees", True), ("1", "the tangent's value, given in the question", True), ("135^\\circ", "tangent -1 there")])
item("degrees", None,
     "A right angle.",
     "90",
     [("90^\\circ", "unit"), ("90\u00b0", "Unicode sign")],
     [("\\frac{\\pi}{2}", "no problem text: no radian conversion", True), ("180^\\circ", "a straight angle")])
item("text_answers", "True or false: every square is a rectangle.",
     "A square has four right angles, which is the definition of a rectangle.",
     "true",
     [("\\text{True}", "case, \\text"), ("True", "case"), ("\\textbf{True}", "bold"), ("\\text{true}.", "trailing period")],
     [("\\text{False}", "the opposite", True), ("\\text{false}", "the opposite", True)])
item("text_answers", "Alice, Bob and Carol ran a race. Alice beat Bob and Carol beat Alice. Who won?",
     "Carol beat Alice, who beat Bob, so the order is Carol, Alice, Bob.",
     "Carol",
     [("\\text{Carol}", "\\text"), ("carol", "case")],
     [("\\text{Alice}", "second place", True), ("\\text{Bob}", "last place")])
C = "unboxed"
P = "A bag has 3 red and 2 blue marbles. One is drawn at random. What is the probability it is red?"
add(C, None, "\\frac{3}{5}", True, "'Answer: \\(\\frac{3}{5}\\)'", problem=P,
    raw="There are $3 + 2 = 5$ marbles and 3 are red.\n\nAnswer: \\(\\frac{3}{5}\\)")
add(C, None, "\\frac{3}{5}", True, "markdown heading '### Final Answer' then the value", problem=P,
    raw="Total marbles: 5. Red: 3. Blue: 2.\n\n### Final Answer\n$\\frac{3}{5}$")
add(C, None, "\\frac{3}{5}", True, "'the probability is 0.6' (3/5 = 0.6 exactly)", problem=P,
    raw="<think>\n5 marbles, 3 red, so 3 out of 5.\n</think>\n\nSince 3 of the 5 marbles are red, the probability is 0.6.")
add(C, None, "\\frac{3}{5}", False, "the final answer 2/5 is the blue probability", problem=P, hard=True,
    raw="There are 5 marbles; 2 are blue and 3 are red.\n\n**Final answer:** $\\frac{2}{5}$")
add(C, None, "\\frac{3}{5}", False, "'The answer is not 3/5; it is 3/2' — the final claim is 3/2", problem=P, hard=True,
    raw="Comparing red to blue gives $3:2$. The answer is not $\\frac{3}{5}$; it is $\\frac{3}{2}$.")
P = "Find $x$ if $4x + 1 = 29$."
add(C, None, "7", True, "display $$x = 7$$ at the end", problem=P,
    raw="Subtract 1: $4x = 28$. Divide by 4:\n$$x = 7$$")
add(C, None, "7", True, "'So, the value of $x$ is 7.'", problem=P,
    raw="We have $4x = 29 - 1 = 28$. So, the value of $x$ is 7.")
add(C, None, "7", True, "'ANSWER: 7'", problem=P, raw="4x = 28, x = 28 / 4.\n\nANSWER: 7")
add(C, None, "7", False, "'ANSWER: 28' is the value of 4x", problem=P, hard=True, raw="Subtract 1 from both sides: 4x = 28.\n\nANSWER: 28")
add(C, None, "7", False, "'$$x = 7.5$$' divided 30 by 4", problem=P, hard=True, raw="Adding 1 instead: $4x = 30$, so\n$$x = 7.5$$")
P = "How many sides does a hexagon have?"
add(C, None, "6", True, "bold answer with a unit word '**6 sides**'", problem=P, raw="A hexagon is a polygon with **6 sides**.")
add(C, None, "6", False, "bold '**8 sides**' is an octagon", problem=P, hard=True, raw="Hex means eight... so it has **8 sides**.")
add(C, None, "6", True, "'Answer: six' as a number word", problem=P, raw="Hexa- is the Greek prefix for six.\n\nAnswer: six")
add(C, None, "6", False, "'Answer: five' is a pentagon", problem=P, hard=True, raw="Penta- means five.\n\nAnswer: five")
item("intervals", None,
     "The two coordinates are 1 and 2, in that order.",
     "(1,2)",
     [("(1, 2)", "same pair"), ("\\left(1,2\\right)", "\\left/\\right")],
     [("1 < x < 2", "no problem text: (1,2) is an ordered pair, not an interval", True), ("(2,1)", "order", True)])
item("intervals", "Find the point where the lines $y = x + 1$ and $y = 3 - x$ meet.",
     "Setting $x + 1 = 3 - x$ gives $x = 1$ and $y = 2$.",
     "(1,2)",
     [("(1,2)", "the intersection point")],
     [("1 < x < 2", "the problem asks for a point, not an interval", True), ("[1,2]", "an interval, not the point", True)])
item("degrees", "Convert $90^\\circ$ to radians.",
     "Multiply by $\\frac{\\pi}{180}$: $90 \\cdot \\frac{\\pi}{180}$.",
     "\\frac{\\pi}{2}",
     [("\\frac{\\pi}{2}", "same"), ("\\pi/2", "slash"), ("1.57", "pi/2 = 1.5708 correctly rounded to 3 digits"), ("\\frac{\\pi}{2} \\text{ radians}", "unit in words")],
     [("\\pi", "180 degrees", True), ("\\frac{\\pi}{4}", "45 degrees", True), ("1.5", "2 significant digits", True)])
item("degrees", "In the figure, \u2220ABC is a right angle and \u2220ABD = 35\u00b0. Find \u2220DBC.",
     "Since $\\angle ABC = 90^\\circ$ and $\\angle ABD = 35^\\circ$, the rest is $90 - 35$.",
     "55^\\circ",
     [("55", "number"), ("55\u00b0", "Unicode sign"), ("\\frac{11\\pi}{36}", "an angle problem: 11 pi/36 = 55 degrees")],
     [("35^\\circ", "the given angle", True), ("125^\\circ", "180 - 55", True)])
LONG_R = (
    "Let me set up the problem. A store sells pencils in packs of 12 and erasers in packs of 5. "
    "Maria buys 7 packs of pencils and 4 packs of erasers, so she has $7 \\times 12 = 84$ pencils and "
    "$4 \\times 5 = 20$ erasers.\n\n"
    "Wait, I should double-check the question: it asks how many items she has left after giving 3 pencils to each of "
    "her 9 classmates and 2 erasers to each of 6 friends. The pencils given away: $3 \\times 9 = 27$. "
    "The erasers given away: $2 \\times 6 = 12$.\n\n"
    "Pencils left: $84 - 27 = 57$. Erasers left: $20 - 12 = 8$. Hmm, let me verify 84 - 27: 84 - 20 = 64, "
    "64 - 7 = 57. Yes. And 20 - 12 = 8.\n\n"
    "So in total she has $57 + 8$ items. Actually, let me reconsider whether the question wants only pencils... "
    "No, it says items, which includes both pencils and erasers. So the total is $57 + 8 = 65$."
)
P = ("Maria buys 7 packs of 12 pencils and 4 packs of 5 erasers. She gives 3 pencils to each of her 9 classmates and "
     "2 erasers to each of 6 friends. How many items does she have left?")
add("unboxed", None, "65", True, "long completion with many intermediate numbers, final 'The answer is 65.'", problem=P,
    raw="<think>\n" + LONG_R + "\n</think>\n\n" + LONG_R.split("\n\n")[-1] + "\n\nThe answer is 65.")
add("unboxed", None, "65", False, "long completion whose final sentence states 57 (pencils only)", problem=P, hard=True,
    raw=LONG_R.replace("So in total she has $57 + 8$ items. Actually, let me reconsider whether the question wants only pencils... "
                       "No, it says items, which includes both pencils and erasers. So the total is $57 + 8 = 65$.",
                       "The question is about what she has left to use in class, which is the pencils.")
    + "\n\nThe answer is 57.")
add("integers", "65", "65", True, "long completion ending in a box", problem=P, reasoning=LONG_R, fmt=0)
add("integers", "104", "65", False, "long completion boxing 84 + 20, the items before giving any away", problem=P, hard=True,
    reasoning=LONG_R.rsplit("\n\n", 1)[0] + "\n\nBefore giving anything away she had $84 + 20 = 104$ items.", fmt=3)

# === end of rows ===


def render() -> str:
    """The corpus as JSON lines: rows numbered per category, in the order written above."""
    seen: dict[str, int] = {}
    lines = []
    for row in ROWS:
        seen[row["category"]] = seen.get(row["category"], 0) + 1
        lines.append(json.dumps({"id": f"{row['category']}-{seen[row['category']]:03d}", **row}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {len(ROWS)} rows ({sum(r['hard_negative'] for r in ROWS)} hard negatives) to {OUT}")


if __name__ == "__main__":
    main()
