"""Plain numbers without sympy: the fast path that answers most RL comparisons in microseconds.

A `Num` is an exact `Fraction` plus how it was written (integer, decimal with ``decimals`` digits
after the point, fraction, percentage), because the written form decides how strictly two values
are compared: ``0.33`` may stand for ``1/3`` (it is 1/3 correctly rounded), ``0.3`` may not, and
``1234.1`` never stands for ``1234``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Num", "parse_number", "numbers_equal", "decimal_matches", "INF", "NEG_INF"]

#: Stand-ins for ±infinity on the fast path (interval endpoints).
INF = "inf"
NEG_INF = "-inf"

_INT = r"\d+"
_GROUPED_COMMA = r"\d{1,3}(?:,\d{3})+"
_GROUPED_SPACE = r"\d{1,3}(?: \d{3})+"
_UNSIGNED = rf"(?:{_GROUPED_COMMA}|{_GROUPED_SPACE}|{_INT})"
_DECIMAL_RE = re.compile(rf"^(?P<int>{_UNSIGNED})?(?:\.(?P<frac>\d+))?$")
_FRAC_TEX_RE = re.compile(
    r"^\\frac\s*(?:\{\s*(?P<a>-?\s*\d+)\s*\}|(?P<a1>\d))\s*(?:\{\s*(?P<b>-?\s*\d+)\s*\}|(?P<b1>\d))$"
)
_SLASH_RE = re.compile(r"^(?P<a>\d+)\s*/\s*(?P<b>\d+)$")
_MIXED_TEX_RE = re.compile(r"^(?P<w>\d+)\s*(?P<f>\\frac.*)$")
_MIXED_SLASH_RE = re.compile(r"^(?P<w>\d+)\s+(?P<f>\d+\s*/\s*\d+)$")
_INF_WORDS = {"\\infty", "\\infinity", "\\infin", "∞", "inf", "infinity", "oo"}
_MAX_DIGITS = 4000


@dataclass(frozen=True)
class Num:
    """A number as written: exact ``value``; ``decimals`` is set when it was a decimal literal."""

    value: Fraction
    kind: str  # "int" | "decimal" | "fraction"
    decimals: int = 0
    percent: bool = False
    significant: int = 0

    def candidates(self) -> list[Num]:
        """Readings of this number: ``50%`` means 50 (percent as decoration) or 0.5."""
        plain = Num(self.value, self.kind, self.decimals, False, self.significant)
        if not self.percent:
            return [plain]
        scaled = Num(self.value / 100, self.kind, self.decimals + 2 if self.kind == "decimal" else 0,
                     False, self.significant)
        return [plain, scaled]


def _unsigned_decimal(text: str) -> Num | None:
    match = _DECIMAL_RE.match(text)
    if not match or (match.group("int") is None and match.group("frac") is None):
        return None
    int_part = (match.group("int") or "0").replace(",", "").replace(" ", "")
    frac_part = match.group("frac")
    if len(int_part) + len(frac_part or "") > _MAX_DIGITS:
        return None
    if frac_part is None:
        return Num(Fraction(int(int_part)), "int", significant=len(int_part.lstrip("0")))
    value = Fraction(int(int_part + frac_part), 10 ** len(frac_part))
    digits = (int_part + frac_part).lstrip("0")
    return Num(value, "decimal", decimals=len(frac_part), significant=len(digits))


def _fraction(text: str) -> Num | None:
    match = _FRAC_TEX_RE.match(text)
    if match:
        a = (match.group("a") or match.group("a1")).replace(" ", "")
        b = (match.group("b") or match.group("b1")).replace(" ", "")
    else:
        match = _SLASH_RE.match(text)
        if not match:
            return None
        a, b = match.group("a"), match.group("b")
    if len(a) + len(b) > _MAX_DIGITS or int(b) == 0:
        return None
    return Num(Fraction(int(a), int(b)), "fraction")


_SCIENTIFIC_RE = re.compile(
    r"^(?P<m>\d+(?:\.\d+)?)\s*(?:[eE]\s*(?P<e1>[+-]?\d{1,3})|(?:\\times|\\cdot|\*|×)\s*10\s*\^\s*\{?\s*(?P<e2>[+-]?\d{1,3})\s*\}?)$"
)
_REPEATING_RE = re.compile(r"^(?P<i>\d*)\.(?P<f>\d*)\\overline\s*\{(?P<r>\d{1,50})\}$")


def _scientific(text: str) -> Num | None:
    match = _SCIENTIFIC_RE.match(text)
    if not match:
        return None
    mantissa = _unsigned_decimal(match.group("m"))
    if mantissa is None:
        return None
    exponent = int(match.group("e1") or match.group("e2"))
    value = mantissa.value * Fraction(10) ** exponent
    decimals = max(mantissa.decimals - exponent, 0)
    kind = "decimal" if decimals else "int"
    return Num(value, kind, decimals, False, mantissa.significant)


def _repeating(text: str) -> Num | None:
    """``0.\\overline{3}`` = 1/3, ``0.1\\overline{6}`` = 1/6 (exact)."""
    match = _REPEATING_RE.match(text)
    if not match:
        return None
    whole, fixed, rep = match.group("i") or "0", match.group("f"), match.group("r")
    value = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(rep), 10 ** len(fixed) * (10 ** len(rep) - 1))
    return Num(value, "fraction")


def parse_number(text: str) -> Num | None:
    """The number ``text`` denotes, if it is a plain one; ``None`` for anything else.

    Accepts signs, digit groups (``7,425,000``, ``1 000``), leading zeros, ``.5``, ``\\frac``
    fractions including ``\\frac13``, ``a/b``, mixed numbers (``2\\frac{1}{2}``, ``2 1/2``) and a
    trailing ``%``. Text must already be normalized (see ``_math_normalize.clean_answer``).
    """
    s = text.strip()
    percent = False
    if s.endswith("%"):
        percent = True
        s = s[:-1].rstrip()
    sign = 1
    while s[:1] in ("-", "+"):
        if s[0] == "-":
            sign = -sign
        s = s[1:].lstrip()
    if s.startswith("{") and s.endswith("}") and s.count("{") == 1:
        s = s[1:-1].strip()
    if not s:
        return None
    num = _unsigned_decimal(s)
    if num is None:
        num = _fraction(s)
    if num is None and ("\\" in s or "e" in s or "E" in s or "*" in s or "×" in s):
        num = _scientific(s) or _repeating(s)
    if num is None:
        mixed = _MIXED_TEX_RE.match(s) or _MIXED_SLASH_RE.match(s)
        if mixed:
            frac = _fraction(mixed.group("f").strip())
            if frac is not None and 0 <= frac.value < 1 and frac.value.denominator != 1:
                num = Num(int(mixed.group("w")) + frac.value, "fraction")
    if num is None:
        return None
    return Num(sign * num.value, num.kind, num.decimals, percent, num.significant)


def parse_infinity(text: str) -> str | None:
    """``INF``/``NEG_INF`` when ``text`` is (minus) infinity."""
    s = text.replace(" ", "")
    sign = ""
    if s[:1] in "+-":
        sign, s = s[0], s[1:]
    if s in _INF_WORDS:
        return NEG_INF if sign == "-" else INF
    return None


def _terminates_within(value: Fraction, decimals: int) -> bool:
    return (value * 10**decimals).denominator == 1


def decimal_matches(decimal: Num, exact: Fraction | float, rel_tol: float) -> bool:
    """Whether a decimal literal is an acceptable written form of ``exact``.

    Equal values always match. If ``exact`` cannot be written with the literal's number of
    decimals (``1/3``, ``√2``), the literal matches when it is ``exact`` correctly rounded and
    carries at least two decimals or three significant digits (so ``0.33`` and ``3.14`` pass,
    ``0.3`` and ``3.1`` do not), when it is ``exact`` truncated to three or more decimals
    (``0.16666`` for 1/6), or when it is within ``rel_tol`` relatively.
    """
    if isinstance(exact, Fraction):
        if decimal.value == exact:
            return True
        if _terminates_within(exact, decimal.decimals):
            return False
        diff = abs(decimal.value - exact)
        scale = abs(exact)
    else:
        diff = abs(float(decimal.value) - exact)
        scale = abs(exact)
    if rel_tol > 0 and diff <= rel_tol * scale:
        return True
    if decimal.significant < 2:
        return False  # "0.000" is not an approximation of 1/2006!, nor "0.3" of 1/3
    unit = Fraction(1, 10**decimal.decimals)
    if (decimal.decimals >= 2 or decimal.significant >= 3) and diff <= unit / 2 * (1 + Fraction(1, 10**9)):
        return True  # correctly rounded
    # truncated (0.16666 for 1/6, 1.4142 for sqrt 2), with at least three decimals
    return decimal.decimals >= 3 and diff < unit and abs(decimal.value) <= abs(exact)


def numbers_equal(pred: Num, gold: Num, rel_tol: float = 1e-9) -> bool:
    """Equality of two plain numbers, with the decimal-approximation rule and percentages."""
    for p in pred.candidates():
        for g in gold.candidates():
            if p.value == g.value:
                return True
            if p.kind == "decimal" and g.kind != "decimal" and decimal_matches(p, g.value, rel_tol):
                return True
            if g.kind == "decimal" and p.kind != "decimal" and decimal_matches(g, p.value, rel_tol):
                return True
    return False
