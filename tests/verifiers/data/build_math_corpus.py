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
     [("9.109 \\times 10^{-25}", "9.109e-31 * 1e6"), ("9.109 \\times 10^{-25} \\text{ kg}", "with unit"), ("9.109\\mathrm{e}{-25}", "e notation in LaTeX")],
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

# === end of rows ===


def main() -> None:
    """Number the rows per category and write them, one JSON object a line."""
    seen: dict[str, int] = {}
    with OUT.open("w", encoding="utf-8") as fh:
        for row in ROWS:
            seen[row["category"]] = seen.get(row["category"], 0) + 1
            out = {"id": f"{row['category']}-{seen[row['category']]:03d}", **row}
            fh.write(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"wrote {len(ROWS)} rows ({sum(r['hard_negative'] for r in ROWS)} hard negatives) to {OUT}")


if __name__ == "__main__":
    main()
