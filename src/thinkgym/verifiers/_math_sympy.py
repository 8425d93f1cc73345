"""Sympy-backed leaf operations. Imported and run ONLY inside the bounded worker process.

LaTeX is parsed by ``latex2sympy2_extended`` (never ``sympify``/``eval`` of model text). Values are
compared numerically with high precision instead of by ``simplify``: two closed forms are equal
when they agree to 25 significant digits *and* their difference vanishes under sympy's adaptive
precision (so ``1/2004!`` and ``1/2006!`` differ, which an absolute tolerance would miss, and so do
``10^{100} + \\sqrt{2}`` and ``10^{100} + \\sqrt{3}``), a decimal literal matches an exact value it
correctly rounds, and
expressions with variables are compared at fixed pseudo-random points (real points of both signs;
points where either side leaves the reals are skipped, so ``\\sqrt{1/n}`` equals ``1/\\sqrt{n}``
but ``\\sqrt{x^2}`` does not equal ``x``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig, latex2sympy
from latex2sympy2_extended.math_normalization import NormalizationConfig

from thinkgym.verifiers._math_numbers import (
    INF,
    NEG_INF,
    Num,
    decimal_matches,
    numbers_equal,
    parse_number,
    rounded,
)
from thinkgym.verifiers._math_structure import LeafOps, brace_scripts, canonical_text, equal, parse

__all__ = ["SympyOps", "symbolic_equal", "to_sympy"]

_NORMALIZATION = NormalizationConfig(
    basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none", equations=False
)
_CONVERSION = ConversionConfig(
    interpret_as_mixed_fractions=True,
    interpret_simple_eq_as_assignment=False,
    interpret_contains_as_eq=True,
    lowercase_symbols=False,
)
_I = sympy.Symbol("i")
_DIGITS = 40
_REL = sympy.Float("1e-25", _DIGITS)
_POINT_TOL = 1e-20  # points are evaluated with 30 digits
_MAX_DIGITS_FOR_ZERO = 400
_MAX_SIMPLIFY_OPS = 60


def _has_infinity(expr: Any) -> bool:
    return bool(expr.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan))


class UnparsableError(ValueError):
    """latex2sympy could not read a leaf."""


@lru_cache(maxsize=4096)
def to_sympy(text: str) -> Any:
    """The sympy object for one leaf of LaTeX (cached: golds repeat across a GRPO group)."""
    num = parse_number(text)
    if num is not None and not num.percent:
        return sympy.Rational(num.value.numerator, num.value.denominator)
    try:
        expr = latex2sympy(
            canonical_text_for_parser(text), normalization_config=_NORMALIZATION, conversion_config=_CONVERSION
        )
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds
        raise UnparsableError(f"cannot parse {text[:80]!r}: {type(exc).__name__}") from None
    if isinstance(expr, sympy.Basic) and _I in expr.free_symbols:
        expr = expr.xreplace({_I: sympy.I})
    return expr


def canonical_text_for_parser(text: str) -> str:
    """Braced scripts (``\\log_e 2`` → ``\\log_{e} 2``) parse more reliably; spaces are kept
    because they separate tokens (``\\sin x``)."""
    return brace_scripts(text)


def _strip_percent(text: str) -> str:
    """A percent sign is a unit (``59%`` is 59): it is dropped, never read as a factor 1/100."""
    s = text.strip()
    return s[:-1].strip() if s.endswith("%") else s


def _is_expr(x: Any) -> bool:
    return isinstance(x, sympy.Expr)


def _numeric(expr: Any) -> complex | None:
    """A 40-digit complex value of a closed-form expression, or ``None`` if it has none."""
    try:
        value = sympy.N(expr, _DIGITS)
    except Exception:  # noqa: BLE001
        return None
    if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    try:
        return value
    except (TypeError, ValueError):
        return None


def _as_exact_fraction(expr: Any) -> Fraction | None:
    if isinstance(expr, sympy.Rational):
        return Fraction(int(expr.p), int(expr.q))
    return None


def _close(a: Any, b: Any) -> bool:
    """Relative equality of two high-precision sympy numbers (complex allowed)."""
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    if scale == 0:
        return True
    return bool(diff <= _REL * scale)


def _difference_vanishes(p: Any, g: Any) -> bool:
    """Whether ``p - g`` is zero as far as adaptive precision can tell.

    Agreement to 40 digits is not enough (``10^{100} + \\sqrt{2}`` vs ``10^{100} + \\sqrt{3}``):
    sympy's evalf raises the working precision until the *difference* has 15 correct digits, and
    reports a difference with no significant digits (``0.e-425``) only when it found none.
    """
    try:
        value = sympy.N(p - g, 15, maxn=_MAX_DIGITS_FOR_ZERO)
    except Exception:  # noqa: BLE001 - cannot refine: trust the 40-digit agreement
        return True
    if value == 0:
        return True
    for part in (sympy.re(value), sympy.im(value)):
        if part == 0:
            continue
        if not (isinstance(part, sympy.Float) and part._prec <= 1):
            return False
    return True


def _irrational(expr: Any) -> bool:
    """A real constant that is not rational (``45\\pi``, ``\\sqrt 2``); ``False`` when unsure."""
    try:
        return bool(expr.is_number and expr.is_real and expr.is_rational is False)
    except Exception:  # noqa: BLE001
        return False


def _exact_value(expr: Any, value: Any) -> tuple[Fraction, bool | None] | None:
    """``(fraction, terminating)`` for a real closed form: exact for a rational (``terminating``
    left to the caller), else its 40-digit value with ``terminating=False`` (it is irrational)."""
    fraction = _as_exact_fraction(expr)
    if fraction is None:
        try:
            fraction = _as_exact_fraction(expr.doit())  # 1/2006! is an unevaluated Mul
        except Exception:  # noqa: BLE001
            fraction = None
    if fraction is not None:
        return fraction, None
    try:
        return Fraction(str(sympy.Float(value, _DIGITS))), False
    except (ValueError, TypeError):
        return None


class SympyOps(LeafOps):
    """Leaf operations on sympy objects, for the worker process only."""

    def __init__(
        self,
        rel_tol: float = 0.0,
        seed: int = 20240611,
        *,
        precision: tuple[str, int] | None = None,
        interval_context: bool = False,
    ):
        self.rel_tol = rel_tol
        self.seed = seed
        self.precision = precision
        self.interval_context = interval_context
        self.unparsed = False  # set when a leaf could not be parsed (math-verify gets a try)

    # ---- leaves ----------------------------------------------------------------------------

    def _expr(self, leaf: Any) -> Any:
        return leaf if isinstance(leaf, sympy.Basic) else to_sympy(leaf)

    def leaf_eq(self, pred: Any, gold: Any) -> bool:
        if isinstance(pred, str) and isinstance(gold, str):
            if canonical_text(pred) == canonical_text(gold):
                return True
            pn, gn = parse_number(pred), parse_number(gold)
            if pn is not None and gn is not None:
                return numbers_equal(pn, gn, self.rel_tol)
        p_text = _strip_percent(pred) if isinstance(pred, str) else pred
        g_text = _strip_percent(gold) if isinstance(gold, str) else gold
        try:
            p, g = self._expr(p_text), self._expr(g_text)
        except UnparsableError:
            self.unparsed = True
            return False
        p_dec = parse_number(p_text) if isinstance(p_text, str) else None
        g_dec = parse_number(g_text) if isinstance(g_text, str) else None
        return self._values_equal(p, g, p_dec, g_dec)

    def _values_equal(self, p: Any, g: Any, p_num: Num | None, g_num: Num | None) -> bool:
        try:
            if p == g:
                return True
        except Exception:  # noqa: BLE001
            return False
        if isinstance(p, sympy.MatrixBase) or isinstance(g, sympy.MatrixBase):
            if not (isinstance(p, sympy.MatrixBase) and isinstance(g, sympy.MatrixBase)) or p.shape != g.shape:
                return False
            return all(self._values_equal(a, b, None, None) for a, b in zip(p, g, strict=False))
        if not (_is_expr(p) and _is_expr(g)):
            return False
        p_syms = {s.name for s in p.free_symbols}
        g_syms = {s.name for s in g.free_symbols}
        if not p_syms and not g_syms:
            return self._numbers_equal(p, g, p_num, g_num)
        return self._identity(p, g)  # over the union of variables: sin^2 x + cos^2 x = 1

    def _numbers_equal(self, p: Any, g: Any, p_num: Num | None, g_num: Num | None) -> bool:
        pv, gv = _numeric(p), _numeric(g)
        if pv is None or gv is None:
            return False
        # an integer stands for an irrational value like a decimal with no decimals: 141 for 45π
        p_decimal = p_num is not None and (p_num.kind == "decimal" or (p_num.kind == "int" and _irrational(g)))
        g_decimal = g_num is not None and (g_num.kind == "decimal" or (g_num.kind == "int" and _irrational(p)))
        if self.precision is not None and gv.is_real:  # a stated precision: the gold rounded to it
            exact, stated = _exact_value(g, gv), _exact_value(p, pv) if pv.is_real else None
            if exact is None or stated is None or stated[1] is False:
                return False  # an irrational prediction is not a rounded number
            return stated[0] in rounded(exact[0], self.precision)
        if p_decimal != g_decimal:
            decimal, exact_expr, exact_value = (p_num, g, gv) if p_decimal else (g_num, p, pv)
            assert decimal is not None
            if not exact_value.is_real:
                return False
            exact = _exact_value(exact_expr, exact_value)
            if exact is None:
                return False
            return decimal_matches(decimal, exact[0], self.rel_tol, terminating=exact[1])
        if p.is_Float or g.is_Float or p.has(sympy.Float) or g.has(sympy.Float):
            scale = max(abs(pv), abs(gv))
            return bool(abs(pv - gv) <= max(self.rel_tol, 1e-12) * scale)
        if isinstance(p, sympy.Rational) and isinstance(g, sympy.Rational):
            return False  # exact and already compared
        return _close(pv, gv) and _difference_vanishes(p, g)

    # ---- expressions with variables ------------------------------------------------------

    def _points(self, symbols: list[Any], complex_points: bool) -> list[dict[Any, Any]]:
        rng = random.Random(self.seed)
        points = []
        for k in range(8):
            point = {}
            for s in symbols:
                magnitude = rng.uniform(0.3, 2.7)
                if complex_points:
                    point[s] = sympy.Float(magnitude, 30) + sympy.I * sympy.Float(rng.uniform(0.2, 1.5), 30)
                else:
                    sign = 1 if k % 2 == 0 else -1
                    point[s] = sympy.Float(sign * magnitude, 30)
            points.append(point)
        return points

    def _evaluate(self, expr: Any, point: dict[Any, Any]) -> Any:
        try:
            value = sympy.N(expr.xreplace(point), 30)
        except Exception:  # noqa: BLE001
            return None
        if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return None
        return value

    def _identity(self, p: Any, g: Any) -> bool:
        if _has_infinity(p) or _has_infinity(g):
            return False  # p == g was already tried; infinities make point tests meaningless
        symbols = sorted(p.free_symbols | g.free_symbols, key=lambda s: s.name)
        for complex_points in (False, True):
            checked = 0
            for point in self._points(symbols, complex_points):
                pv, gv = self._evaluate(p, point), self._evaluate(g, point)
                if pv is None or gv is None:
                    continue
                if not complex_points and (abs(sympy.im(pv)) > 1e-20 or abs(sympy.im(gv)) > 1e-20):
                    continue
                checked += 1
                scale = max(1, abs(pv), abs(gv))
                if abs(pv - gv) > _POINT_TOL * scale:
                    return False
            if checked >= 3:
                return True
        if sympy.count_ops(p) + sympy.count_ops(g) > _MAX_SIMPLIFY_OPS:
            return False  # too big to simplify within the bound; the points were inconclusive
        try:
            return bool(sympy.simplify(p - g) == 0)
        except Exception:  # noqa: BLE001
            return False

    # ---- values, equations, inequalities ------------------------------------------------

    def value(self, text: Any) -> Any:
        expr = self._expr(text)
        if expr == sympy.oo:
            return INF
        if expr == -sympy.oo:
            return NEG_INF
        value = _numeric(expr)
        if value is None or not value.is_real:
            raise ValueError("not a real number")
        return value

    def equation_eq(self, pred: Sequence[str], gold: Sequence[str]) -> bool:
        """Same solution set up to a constant factor: ``2x + 3y = 6`` ≡ ``4x + 6y = 12``."""
        try:
            dp = self._expr(pred[0]) - self._expr(pred[1])
            dg = self._expr(gold[0]) - self._expr(gold[1])
        except (UnparsableError, TypeError):
            return False
        if not (_is_expr(dp) and _is_expr(dg)):
            return False
        if {s.name for s in dp.free_symbols} != {s.name for s in dg.free_symbols} or not dg.free_symbols:
            return False
        symbols = sorted(dp.free_symbols | dg.free_symbols, key=lambda s: s.name)
        ratio = None
        checked = 0
        for complex_points in (False, True):
            for point in self._points(symbols, complex_points):
                pv, gv = self._evaluate(dp, point), self._evaluate(dg, point)
                if pv is None or gv is None or abs(gv) < 1e-12 or abs(pv) < 1e-12:
                    continue
                r = pv / gv
                if ratio is None:
                    ratio = r
                elif abs(r - ratio) > _POINT_TOL * max(1, abs(ratio)):
                    return False
                checked += 1
            if checked >= 3:
                return True
        return False

    def inequality_set(self, terms: Sequence[str], ops: Sequence[str]) -> tuple[list[tuple], str] | None:
        """Solve a one-variable inequality (chain) over the reals into intervals."""
        try:
            exprs = [self._expr(t) for t in terms]
        except UnparsableError:
            return None
        if not all(_is_expr(e) for e in exprs):
            return None
        symbols = set().union(*(e.free_symbols for e in exprs))
        if len(symbols) != 1:
            return None
        (symbol,) = symbols
        relations = {"<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge}
        solution = sympy.S.Reals
        real = sympy.Symbol(symbol.name, real=True)
        for (a, b), op in zip(zip(exprs, exprs[1:], strict=False), ops, strict=False):
            rel = relations[op](a.xreplace({symbol: real}), b.xreplace({symbol: real}))
            solution = solution.intersect(sympy.solveset(rel, real, domain=sympy.S.Reals))
        intervals = []
        parts = solution.args if isinstance(solution, sympy.Union) else (solution,)
        for part in parts:
            if isinstance(part, sympy.Interval):
                intervals.append((part.start, part.end, not part.left_open, not part.right_open))
            else:
                return None
        return intervals, symbol.name


def symbolic_equal(
    pred: str,
    gold: str,
    rel_tol: float = 0.0,
    decimal_comma: bool = False,
    *,
    precision: tuple[str, int] | None = None,
    intervals: bool = False,
) -> bool:
    """Worker entry point: the full comparison of two cleaned answers with sympy leaves.

    When a leaf cannot be read by our parser, math-verify (``_math_mv``) gets the pair as a
    second opinion; everything our rules decide stays decided by them.
    """
    ops = SympyOps(rel_tol, precision=precision, interval_context=intervals)
    try:
        if equal(parse(pred, decimal_comma=decimal_comma), parse(gold), ops):
            return True
    except Exception:  # noqa: BLE001 - sympy objects our rules could not compare
        ops.unparsed = True
    if ops.unparsed:
        from thinkgym.verifiers._math_mv import math_verify_equal

        return math_verify_equal(pred, gold)
    return False


_WARM_UP_PAIRS = (
    ("1.414", "\\sqrt{2}"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}"),
    ("2\\sqrt{5}", "\\sqrt{20}"),
    ("\\frac{3\\pi}{4}", "\\frac{3}{4}\\pi"),
    ("3 + 2\\sqrt{2}", "2\\sqrt{2} + 3"),
    ("x^{2}+2x+1", "(x+1)^2"),
    ("81 + 18x + x^2", "x^2 - 18x + 81"),
    ("\\tan^2 x + 1", "\\sec^2 x"),
    ("\\sin(2x)", "2\\sin x\\cos x"),
    ("\\log_2 8", "3"),
    ("\\ln(e^2)", "2"),
    ("e^{i\\pi}", "-1"),
    ("\\binom{5}{2}", "10"),
    ("5!", "120"),
    ("|{-3}|", "3"),
    ("\\frac{a+b}{2}", "\\frac{b+a}{2}"),
    ("\\sqrt[3]{27}", "3"),
    ("2^{10}", "1024"),
    ("(1, 2]", "1 < x \\le 2"),
    ("2x > 6", "x > 3"),
    ("(-\\infty, \\sqrt{2}) \\cup (2, \\infty)", "(2, \\infty) \\cup (-\\infty, \\sqrt{2})"),
    ("2x + 3y = 6", "4x + 6y = 12"),
    ("y = 2x + 1", "y = 1 + 2x"),
    ("4i + 3", "3 + 4i"),
    ("\\{1, \\frac{\\pi}{2}\\}", "\\{\\frac{1}{2}\\pi, 1\\}"),
    ("(\\sqrt{2}, -1)", "(\\sqrt{2}, 1)"),
    ("\\begin{pmatrix}1\\\\x\\end{pmatrix}", "(1, x)"),
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}"),
    ("\\sqrt{1/n}", "\\frac{1}{\\sqrt{n}}"),
    ("0.7071", "\\frac{\\sqrt{2}}{2}"),
    ("\\frac{x^2-1}{x-1}", "x+1"),
)


def warm_up() -> Iterator[None]:
    """Pay first-call costs (parser tables, evalf and solver imports) before any call's bound.

    A generator: the bounded pool's template steps it while idle and finishes it before it forks
    its first worker, so no worker's first call pays for it (see ``bounded.BoundedPool``).
    """
    symbolic_equal("1", "1")
    yield
    for pred, gold in _WARM_UP_PAIRS:
        symbolic_equal(pred, gold)
        yield
    from thinkgym.verifiers._math_mv import math_verify_equal

    math_verify_equal("\\frac{1}{2}", "0.5")
    to_sympy.cache_clear()
