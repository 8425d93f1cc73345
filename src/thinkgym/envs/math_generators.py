"""The procedural problems behind ``thinkgym/Math-v0``: seven kinds at difficulty 1-5.

Gold answers are computed exactly with `fractions.Fraction` from the generator's own numbers (no
model text is ever parsed). Problem ``i`` of a configuration is the same on every machine: changing
any generator here means bumping `GENERATOR_VERSION` (part of every problem id) and the env version.
The env itself (prompt, reward) lives in `thinkgym.envs.math`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

from thinkgym.core import GeneratorSource, Problem
from thinkgym.errors import ConfigError

__all__ = ["KINDS", "GENERATOR_VERSION", "generate_problem", "procedural_source"]

#: Bump when any generator below changes: it is part of every procedural problem id.
GENERATOR_VERSION = 0
KINDS: tuple[str, ...] = ("arithmetic", "fractions", "linear", "system", "polynomial", "percent", "word")


# ============================================================================================
# Exact formatting helpers (our own numbers only)
# ============================================================================================


def _frac_text(value: Fraction) -> str:
    """``3``, ``-3/4``: the plain form used in gold answers and solutions."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _frac_latex(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _decimal_text(value: Fraction) -> str:
    """An exact decimal when the value terminates (``92.5``), else the fraction."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return _frac_text(value)
    places = max(twos, fives)
    if places == 0:
        return str(value.numerator)
    scaled = abs(value) * 10**places
    digits = str(scaled.numerator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _term(coef: int, power: int, var: str = "x", first: bool = False) -> str:
    if coef == 0:
        return ""
    sign = "-" if coef < 0 else ("" if first else "+")
    magnitude = abs(coef)
    body = var if power == 1 else (f"{var}^{{{power}}}" if power > 1 else "")
    number = "" if (magnitude == 1 and power > 0) else str(magnitude)
    text = f"{number}{body}"
    return f"{sign}{text}" if first else f" {sign} {text}"


def _polynomial(coefs: Sequence[int], var: str = "x") -> str:
    """LaTeX of ``coefs[0] x^n + … + coefs[n]`` with signs folded (``x^{2} - 5x + 6``)."""
    degree = len(coefs) - 1
    out = ""
    for i, c in enumerate(coefs):
        out += _term(int(c), degree - i, var, first=not out)
    return out or "0"


def _linear(coefs: Sequence[int], names: Sequence[str], const: int = 0) -> str:
    out = ""
    for c, name in zip(coefs, names, strict=True):
        out += _term(int(c), 1, name, first=not out)
    if const:
        out += _term(int(const), 0, first=not out)
    return out or "0"


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]``."""
    return int(rng.integers(low, high + 1))


def _nonzero(rng: np.random.Generator, bound: int) -> int:
    value = _int(rng, 1, bound)
    return value if rng.random() < 0.5 else -value


def _pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


Generated = tuple[str, str, str]  # prompt, gold answer, worked solution


# ============================================================================================
# Generators, one per kind; each returns (prompt, gold, solution) for a level 1-5
# ============================================================================================

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
_LATEX_OP = {"+": "+", "-": "-", "*": "\\times", "/": "\\div"}


class _Expr:
    """A small arithmetic tree over exact integers, rendered in LaTeX and solved step by step."""

    def __init__(self, value: Fraction, op: str | None = None, left: _Expr | None = None, right: _Expr | None = None):
        self.value, self.op, self.left, self.right = value, op, left, right

    def latex(self, parent: str | None = None, right_side: bool = False) -> str:
        if self.op is None:
            text = str(self.value.numerator)
            return f"({text})" if self.value < 0 else text
        assert self.left is not None and self.right is not None
        text = f"{self.left.latex(self.op)} {_LATEX_OP[self.op]} {self.right.latex(self.op, True)}"
        if parent is not None and (_PREC[parent] > _PREC[self.op] or (right_side and _PREC[parent] == _PREC[self.op])):
            return f"({text})"
        return text

    def steps(self, out: list[str]) -> None:
        if self.op is None:
            return
        assert self.left is not None and self.right is not None
        self.left.steps(out)
        self.right.steps(out)
        a, b = _paren(self.left.value), _paren(self.right.value)
        out.append(f"{a} {_LATEX_OP[self.op]} {b} = {_frac_text(self.value)}")


def _paren(value: Fraction) -> str:
    return f"({_frac_text(value)})" if value < 0 else _frac_text(value)


def _random_expr(rng: np.random.Generator, n_ops: int, ops: str, digits: int, negatives: bool) -> _Expr:
    if n_ops == 0:
        value = _int(rng, max(2, 10 ** (digits - 1)), 10**digits - 1)
        if negatives and rng.random() < 0.25:
            value = -value
        return _Expr(Fraction(value))
    left_ops = _int(rng, 0, n_ops - 1)
    left = _random_expr(rng, left_ops, ops, digits, negatives)
    op = _pick(rng, ops)
    if op == "/":
        divisors = [d for d in range(2, 13) if left.value.numerator % d == 0 and left.value.denominator == 1]
        if not divisors:
            op = "*" if "*" in ops else "+"
        else:
            right = _Expr(Fraction(_pick(rng, divisors)))
            return _Expr(left.value / right.value, op, left, right)
    right_digits = max(1, digits - 2) if op == "*" else digits
    right = _random_expr(rng, n_ops - 1 - left_ops, ops.replace("/", ""), right_digits, negatives)
    return _Expr(_OPS[op](left.value, right.value), op, left, right)


def _arithmetic(rng: np.random.Generator, level: int) -> Generated:
    n_ops, ops, digits, negatives = {
        1: (1, "+-", 2, False),
        2: (2, "+-*", 2, False),
        3: (3, "+-*", 3, False),
        4: (3, "+-*/", 3, True),
        5: (5, "+-*/", 4, True),
    }[level]
    expr = _random_expr(rng, n_ops, ops, digits, negatives)
    steps: list[str] = []
    expr.steps(steps)
    prompt = f"Compute ${expr.latex()}$."
    return prompt, _frac_text(expr.value), "\n".join(steps)


def _random_fraction(rng: np.random.Generator, max_den: int) -> Fraction:
    den = _int(rng, 2, max_den)
    num = _int(rng, 1, den * 2 - 1)
    if num % den == 0:
        num += 1
    return Fraction(num, den)


def _fractions(rng: np.random.Generator, level: int) -> Generated:
    max_den = {1: 9, 2: 12, 3: 12, 4: 15, 5: 20}[level]
    n_terms = 2 if level <= 3 else 3
    ops = {1: "+", 2: "+-", 3: "*/", 4: "+-*", 5: "+-*/"}[level]
    values = [_random_fraction(rng, max_den) for _ in range(n_terms)]
    if level == 1:
        values[1] = Fraction(_int(rng, 1, values[0].denominator * 2), values[0].denominator)
    chosen = [_pick(rng, ops) for _ in range(n_terms - 1)]
    # evaluate left to right with the usual precedence by building a tree
    expr = _Expr(values[0])
    for op, v in zip(chosen, values[1:], strict=True):
        leaf = _Expr(v)
        if expr.op is not None and _PREC[op] > _PREC[expr.op]:
            assert expr.right is not None and expr.left is not None
            inner = _Expr(_OPS[op](expr.right.value, v), op, expr.right, leaf)
            expr = _Expr(_OPS[expr.op](expr.left.value, inner.value), expr.op, expr.left, inner)
        else:
            expr = _Expr(_OPS[op](expr.value, v), op, expr, leaf)
    steps: list[str] = []
    _fraction_steps(expr, steps)
    latex = _fraction_latex(expr)
    prompt = f"Compute ${latex}$. Give the answer as a fraction in lowest terms (or an integer)."
    return prompt, _frac_text(expr.value), "\n".join(steps)


def _fraction_latex(expr: _Expr, parent: str | None = None, right_side: bool = False) -> str:
    if expr.op is None:
        return _frac_latex(expr.value)
    assert expr.left is not None and expr.right is not None
    text = f"{_fraction_latex(expr.left, expr.op)} {_LATEX_OP[expr.op]} {_fraction_latex(expr.right, expr.op, True)}"
    if parent is not None and (_PREC[parent] > _PREC[expr.op] or (right_side and _PREC[parent] == _PREC[expr.op])):
        return f"\\left({text}\\right)"
    return text


def _fraction_steps(expr: _Expr, out: list[str]) -> None:
    if expr.op is None:
        return
    assert expr.left is not None and expr.right is not None
    _fraction_steps(expr.left, out)
    _fraction_steps(expr.right, out)
    a, b = expr.left.value, expr.right.value
    if expr.op in "+-" and a.denominator != b.denominator:
        den = a.denominator * b.denominator // math.gcd(a.denominator, b.denominator)
        na, nb = a.numerator * (den // a.denominator), b.numerator * (den // b.denominator)
        out.append(
            f"{_paren(a)} {expr.op} {_paren(b)} = {na}/{den} {expr.op} {nb}/{den} = {_frac_text(expr.value)}"
        )
    elif expr.op in "+-" and a.denominator != 1:
        den = a.denominator
        out.append(
            f"{_paren(a)} {expr.op} {_paren(b)} = ({a.numerator} {expr.op} {_paren(Fraction(b.numerator))})/{den}"
            f" = {_frac_text(expr.value)}"
        )
    else:
        out.append(f"{_fparen(a)} {_LATEX_OP[expr.op]} {_fparen(b)} = {_frac_text(expr.value)}")


def _fparen(value: Fraction) -> str:
    """A fraction as one operand: ``(5/4) \\div (10/11)`` must not read as ``5/4/10/11``."""
    return _frac_text(value) if value.denominator == 1 and value >= 0 else f"({_frac_text(value)})"


def _linear_eq(rng: np.random.Generator, level: int) -> Generated:
    if level in (1, 2, 4):
        x = Fraction(_nonzero(rng, 12))
    else:
        x = Fraction(_nonzero(rng, 12), _int(rng, 2, 7))
    if level == 1:
        a, b = _int(rng, 2, 9), _nonzero(rng, 20)
        c = a * x + b
        prompt = f"Solve for $x$: ${_linear([a], ['x'], b)} = {_frac_latex(c)}$."
        solution = f"{a}x = {_frac_text(c)} - ({b}) = {_frac_text(c - b)}\nx = {_frac_text(c - b)} / {a} = {_frac_text(x)}"
    elif level in (2, 3):
        # a - c is a multiple of x's denominator, so every number in the equation is an integer
        c = _nonzero(rng, 9)
        a = c + x.denominator * _nonzero(rng, 3)
        while a == 0:
            a = c + x.denominator * _nonzero(rng, 3)
        b = _nonzero(rng, 20)
        d = int((a - c) * x + b)
        prompt = f"Solve for $x$: ${_linear([a], ['x'], b)} = {_linear([c], ['x'], d)}$."
        solution = (
            f"Move the x terms left and the numbers right.\n{a} - ({c}) = {a - c}\n{d} - ({b}) = {d - b}\n"
            f"{a - c}x = {d - b}\nx = {d - b} / {a - c} = {_frac_text(x)}"
        )
    elif level == 4:
        a, b, c, d = _int(rng, 2, 6), _nonzero(rng, 9), _int(rng, 2, 6), _nonzero(rng, 9)
        while a == c:
            c = _int(rng, 2, 6)
        e = int(a * (x + b) - c * (x - d))
        left = f"{a}(x {'+' if b > 0 else '-'} {abs(b)})"
        right = f"{c}(x {'-' if d > 0 else '+'} {abs(d)}) {'+' if e >= 0 else '-'} {abs(e)}"
        rhs = -c * d + e
        solution = (
            f"Expand: {a}x + ({a * b}) = {c}x + ({-c * d}) + ({e})\n{-c * d} + ({e}) = {rhs}\n"
            f"{a} - {c} = {a - c}\n{rhs} - ({a * b}) = {rhs - a * b}\nx = {rhs - a * b} / {a - c} = {_frac_text(x)}"
        )
        prompt = f"Solve for $x$: ${left} = {right}$."
    else:
        p, q = _int(rng, 2, 6), _int(rng, 2, 6)
        while p == q:
            q = _int(rng, 2, 6)
        b = _nonzero(rng, 9)
        c = x / p + x / q + b
        k = Fraction(1, p) + Fraction(1, q)
        prompt = (
            f"Solve for $x$: $\\frac{{x}}{{{p}}} + \\frac{{x}}{{{q}}} {'+' if b > 0 else '-'} {abs(b)} = {_frac_latex(c)}$."
        )
        solution = (
            f"1/{p} + 1/{q} = {_frac_text(k)}\n{_frac_text(c)} - ({b}) = {_frac_text(c - b)}\n"
            f"x = ({_frac_text(c - b)}) / ({_frac_text(k)}) = {_frac_text(x)}"
        )
    return prompt + " Give the exact value of $x$.", _frac_text(x), solution


def _det(m: list[list[int]]) -> int:
    if len(m) == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    return (
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )


def _system(rng: np.random.Generator, level: int) -> Generated:
    n = 2 if level <= 3 else 3
    bound = {1: 3, 2: 6, 3: 9, 4: 4, 5: 7}[level]
    names = ["x", "y", "z"][:n]
    solution_values = [_int(rng, -bound * 2, bound * 2) for _ in range(n)]
    dense = n == 2 or level == 5  # every coefficient non-zero; level 4 may leave gaps
    while True:
        m = [[_nonzero(rng, bound) if dense else _int(rng, -bound, bound) for _ in range(n)] for _ in range(n)]
        if _det(m) != 0 and all(any(row) for row in m):
            break
    rhs = [sum(a * s for a, s in zip(row, solution_values, strict=True)) for row in m]
    equations = [f"{_linear(row, names)} = {r}" for row, r in zip(m, rhs, strict=True)]
    tuple_text = "(" + ", ".join(names) + ")"
    prompt = (
        "Solve the system of equations\n"
        + "\n".join(f"$${eq}$$" for eq in equations)
        + f"\nGive the answer as an ordered {'pair' if n == 2 else 'triple'} ${tuple_text}$."
    )
    checks = []
    for row, r in zip(m, rhs, strict=True):
        terms = " + ".join(f"{a} \\times {_paren(Fraction(s))}" for a, s in zip(row, solution_values, strict=True))
        checks.append(f"Check: {terms} = {r}")
    det_line = f"The determinant of the coefficients is {_det(m)}, so the solution is unique."
    gold = "(" + ", ".join(str(v) for v in solution_values) + ")"
    solution = "Eliminate one variable at a time.\n" + det_line + "\n" + "\n".join(checks)
    return prompt, gold, solution + f"\nSo {tuple_text} = {gold}."


def _poly_from_roots(roots: Sequence[Fraction]) -> list[int]:
    """Integer coefficients (leading first) of the primitive polynomial with these roots."""
    coefs = [Fraction(1)]
    for r in roots:
        nxt = [Fraction(0)] * (len(coefs) + 1)
        for i, c in enumerate(coefs):
            nxt[i] += c
            nxt[i + 1] -= c * r
        coefs = nxt
    lcm = 1
    for c in coefs:
        lcm = lcm * c.denominator // math.gcd(lcm, c.denominator)
    ints = [int(c * lcm) for c in coefs]
    g = 0
    for c in ints:
        g = math.gcd(g, c)
    return [c // g for c in ints]


def _polynomial_roots(rng: np.random.Generator, level: int) -> Generated:
    if level == 1:
        roots = [Fraction(_int(rng, 1, 9)), Fraction(_int(rng, 1, 9))]
        while roots[0] == roots[1]:
            roots[1] = Fraction(_int(rng, 1, 9))
    elif level == 2:
        roots = [Fraction(_nonzero(rng, 12)), Fraction(_nonzero(rng, 12))]
    elif level == 3:
        roots = [Fraction(_nonzero(rng, 9), _int(rng, 1, 4)), Fraction(_nonzero(rng, 9))]
    elif level == 4:
        roots = [Fraction(_nonzero(rng, 6)) for _ in range(3)]
    else:
        roots = [Fraction(_nonzero(rng, 5), _int(rng, 2, 4)), Fraction(_nonzero(rng, 6)), Fraction(_nonzero(rng, 6))]
    coefs = _poly_from_roots(roots)
    if rng.random() < 0.3 and level >= 2:
        k = _int(rng, 2, 3)
        coefs = [c * k for c in coefs]
    distinct = sorted(set(roots))
    gold = ", ".join(_frac_text(r) for r in distinct)
    prompt = (
        f"Find all real roots of ${_polynomial(coefs)} = 0$. "
        "List each distinct root once, in increasing order, separated by commas."
    )
    factors = "".join(f"(x - ({_frac_text(r)}))" for r in roots)
    lead = "" if coefs[0] == 1 else str(coefs[0])
    solution = (
        f"The polynomial equals {lead}{factors}.\n"
        f"The distinct roots, in increasing order, are {gold}."
    )
    return prompt, gold, solution


def _percent(rng: np.random.Generator, level: int) -> Generated:
    if level == 1:
        p = _pick(rng, [10, 20, 25, 50, 75, 5, 40])
        base = _int(rng, 1, 40) * 20
        value = Fraction(p * base, 100)
        prompt = f"What is ${p}\\%$ of ${base}$?"
        solution = f"{base} \\times {p} / 100 = {_decimal_text(value)}"
    elif level == 2:
        whole = _int(rng, 2, 40) * 5
        p = _pick(rng, [10, 20, 30, 40, 60, 80, 5, 15, 35])
        part = Fraction(whole * p, 100)
        prompt = f"${_decimal_text(part)}$ is what percent of ${whole}$? Answer with the number of percent."
        value = Fraction(p)
        solution = f"{_decimal_text(part)} / {whole} \\times 100 = {p}"
    elif level == 3:
        price = _int(rng, 2, 60) * 10
        p = _int(rng, 1, 19) * 5
        up = rng.random() < 0.5
        value = Fraction(price) * (100 + (p if up else -p)) / 100
        word = "increased" if up else "decreased"
        prompt = f"A price of $\\$ {price}$ is {word} by ${p}\\%$. What is the new price in dollars?"
        solution = f"{price} \\times ({100 + (p if up else -p)} / 100) = {_decimal_text(value)}"
    elif level == 4:
        price = _int(rng, 1, 50) * 20
        p, q = _int(rng, 1, 8) * 5, _int(rng, 1, 8) * 5
        after = Fraction(price) * (100 + p) / 100
        value = after * (100 - q) / 100
        prompt = (
            f"A stock worth $\\$ {price}$ rises by ${p}\\%$ and then falls by ${q}\\%$. "
            "What is it worth now, in dollars?"
        )
        solution = (
            f"{price} \\times {100 + p} / 100 = {_decimal_text(after)}\n"
            f"{_decimal_text(after)} \\times {100 - q} / 100 = {_decimal_text(value)}"
        )
    else:
        original = _int(rng, 4, 80) * 5
        p = _pick(rng, [10, 20, 25, 40, 50, 60, 75])
        sale = Fraction(original) * (100 - p) / 100
        value = Fraction(original)
        prompt = (
            f"After a ${p}\\%$ discount, a jacket costs $\\$ {_decimal_text(sale)}$. "
            "What was its price before the discount, in dollars?"
        )
        solution = f"{_decimal_text(sale)} / ({100 - p} / 100) = {original}"
    return prompt, _decimal_text(value), solution


_NAMES = ("Ava", "Ben", "Chen", "Dara", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lena")
_ITEMS = ("apples", "stickers", "marbles", "books", "pencils", "cards", "shells", "coins")


def _word(rng: np.random.Generator, level: int) -> Generated:
    name, other = _pick(rng, _NAMES), _pick(rng, _NAMES)
    while other == name:
        other = _pick(rng, _NAMES)
    item = _pick(rng, _ITEMS)
    if level == 1:
        a, b = _int(rng, 5, 60), _int(rng, 2, 40)
        value = a + b
        prompt = f"{name} has {a} {item} and gets {b} more from {other}. How many {item} does {name} have now?"
        solution = f"{a} + {b} = {value}"
    elif level == 2:
        per, boxes, loose = _int(rng, 6, 24), _int(rng, 3, 12), _int(rng, 1, 9)
        value = per * boxes + loose
        prompt = (
            f"A box holds {per} {item}. {name} has {boxes} full boxes and {loose} loose {item}. "
            f"How many {item} does {name} have in all?"
        )
        solution = f"{per} \\times {boxes} = {per * boxes}\n{per * boxes} + {loose} = {value}"
    elif level == 3:
        s1, t1, s2, t2 = _int(rng, 4, 12) * 10, _int(rng, 1, 5), _int(rng, 4, 12) * 10, _int(rng, 1, 5)
        value = s1 * t1 + s2 * t2
        prompt = (
            f"A train travels at {s1} km/h for {t1} hours, then at {s2} km/h for {t2} hours. "
            "How many kilometres does it travel in total?"
        )
        solution = f"{s1} \\times {t1} = {s1 * t1}\n{s2} \\times {t2} = {s2 * t2}\n{s1 * t1} + {s2 * t2} = {value}"
    elif level == 4:
        adult, child = _int(rng, 8, 20), _int(rng, 3, 7)
        adults, children = _int(rng, 1, 6), _int(rng, 1, 9)
        total = adult * adults + child * children
        value = children
        prompt = (
            f"Tickets cost ${adult} for an adult and ${child} for a child. A group of {adults} adults "
            f"and some children paid ${total} in total. How many children were in the group?"
        )
        solution = (
            f"{adult} \\times {adults} = {adult * adults}\n{total} - {adult * adults} = {total - adult * adults}\n"
            f"{total - adult * adults} / {child} = {value}"
        )
    else:
        count = _int(rng, 4, 7)
        known = [_int(rng, 50, 100) for _ in range(count - 1)]
        missing = _int(rng, 50, 100)
        total = sum(known) + missing
        while total % count:
            missing += 1
            total += 1
        mean = total // count
        value = missing
        listed = ", ".join(str(k) for k in known)
        prompt = (
            f"{name}'s average score over {count} tests is {mean}. The scores of the first {count - 1} tests "
            f"are {listed}. What was the score on the last test?"
        )
        solution = (
            f"{mean} \\times {count} = {total}\n{' + '.join(str(k) for k in known)} = {sum(known)}\n"
            f"{total} - {sum(known)} = {value}"
        )
    return prompt, str(value), solution


_GENERATORS: dict[str, Callable[[np.random.Generator, int], Generated]] = {
    "arithmetic": _arithmetic,
    "fractions": _fractions,
    "linear": _linear_eq,
    "system": _system,
    "polynomial": _polynomial_roots,
    "percent": _percent,
    "word": _word,
}


def _check_config(level: int | None, kinds: Sequence[str] | None) -> tuple[int | None, tuple[str, ...]]:
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5):
        raise ConfigError(f"level must be an int from 1 to 5 (or None for a mix), got {level!r}")
    chosen = tuple(KINDS if kinds is None else ([kinds] if isinstance(kinds, str) else kinds))
    unknown = [k for k in chosen if k not in _GENERATORS]
    if unknown or not chosen:
        raise ConfigError(f"unknown problem kinds {unknown or chosen!r}; choose from {', '.join(KINDS)}")
    return level, chosen


def generate_problem(rng: np.random.Generator, pid: str, *, level: int | None = None, kinds: Sequence[str] | None = None) -> Problem:
    """One procedural problem drawn with ``rng`` (kind and level drawn too unless fixed)."""
    level, chosen = _check_config(level, kinds)
    kind = _pick(rng, chosen)
    lvl = level if level is not None else _int(rng, 1, 5)
    prompt, gold, solution = _GENERATORS[kind](rng, lvl)
    return Problem(pid, prompt, gold, {"kind": kind, "level": lvl, "solution": solution})


def procedural_source(level: int | None = None, kinds: Sequence[str] | None = None, split: str = "train") -> GeneratorSource:
    """The unbounded, seeded source behind ``thinkgym/Math-v0``."""
    level, chosen = _check_config(level, kinds)
    kinds_tag = "all" if chosen == KINDS else "+".join(chosen)
    name = f"math-g{GENERATOR_VERSION}/{kinds_tag}/L{level if level is not None else 'mix'}"
    # a partial of a module-level function (not a closure), so the source and its env pickle
    return GeneratorSource(name, partial(generate_problem, level=level, kinds=chosen), split=split)
