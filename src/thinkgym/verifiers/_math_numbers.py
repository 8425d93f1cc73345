"""Plain numbers without sympy: the fast path that answers most RL comparisons in microseconds.

A `Num` is an exact `Fraction` plus how it was written (integer, decimal with ``decimals`` digits
after the point, fraction, percentage), because the written form decides how strictly two values
are compared (the precision rule, `decimal_matches`): a decimal and a *terminating* exact value
must be equal (``0.25`` = ``1/4``, ``327.6`` ≠ ``327551/1000``); a decimal stands for a
*non-terminating* exact value (``1/3``, ``\\sqrt 2``, ``\\pi``) when it is that value correctly
rounded to the digits written, with at least three significant digits (``0.333`` = ``1/3``,
``0.33`` ≠ ``1/3``). A percent sign is a unit: ``59%`` is 59, never also 0.59.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "Num", "parse_number", "numbers_equal", "decimal_matches", "terminates", "stated_precision", "rounded",
    "matches_precision", "number_word", "INF", "NEG_INF",
]

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


_POWER_RE = re.compile(r"^(?P<b>\d{1,6})\s*\^\s*(?:\{\s*(?P<e>-?\d{1,3})\s*\}|(?P<e1>\d))$")


def _power(text: str) -> Num | None:
    """``50^2``, ``2^{10}``, ``10^{-3}``: an integer power small enough to compute exactly here."""
    match = _POWER_RE.match(text)
    if not match:
        return None
    base, exponent = int(match.group("b")), int(match.group("e") or match.group("e1"))
    if abs(exponent) * len(str(base)) > 200 or (base == 0 and exponent < 0):
        return None
    value = Fraction(base) ** exponent
    return Num(value, "int" if value.denominator == 1 else "fraction")


def _repeating(text: str) -> Num | None:
    """``0.\\overline{3}`` = 1/3, ``0.1\\overline{6}`` = 1/6 (exact)."""
    match = _REPEATING_RE.match(text)
    if not match:
        return None
    whole, fixed, rep = match.group("i") or "0", match.group("f"), match.group("r")
    value = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(rep), 10 ** len(fixed) * (10 ** len(rep) - 1))
    return Num(value, "fraction")


_NUMBER_WORDS_VALUE = {
    w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
     "hundred": 100, "thousand": 1000, "million": 1_000_000}


def number_word(text: str) -> Num | None:
    """``six`` → 6: a whole answer that is one English number word (``Answer: six``)."""
    value = _NUMBER_WORDS_VALUE.get(text.strip().strip(".").lower())
    return None if value is None else Num(Fraction(value), "int", significant=len(str(value).rstrip("0")) or 1)


@lru_cache(maxsize=4096)
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
    if num is None and "^" in s:
        num = _power(s)
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


def terminates(value: Fraction) -> bool:
    """Whether ``value`` has a finite decimal expansion (its denominator is 2^a·5^b)."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


#: A decimal must carry this many significant digits to stand for a non-terminating value.
MIN_SIGNIFICANT = 3


def decimal_matches(decimal: Num, exact: Fraction, rel_tol: float = 0.0, *, terminating: bool | None = None) -> bool:
    """Whether a decimal literal is an acceptable written form of the exact value ``exact``.

    The precision rule: equal values always match. A *terminating* exact value (``1/4``,
    ``327551/1000``) matches only when equal: the decimal could have been written exactly.
    A *non-terminating* one (``1/3``; ``\\sqrt 2`` passed as a 40-digit fraction with
    ``terminating=False``) matches when the decimal is its correct rounding to the digits written
    (half-up and half-even agree: a non-terminating value is never a tie) and the decimal has at
    least `MIN_SIGNIFICANT` significant digits (``0.333`` and ``3.14`` pass, ``0.33``, ``1.4`` and
    the truncation ``0.334``-style neighbours do not). ``rel_tol`` > 0 (off by default) also
    accepts a relative error that small, for callers that want a looser grader.
    """
    if decimal.value == exact:
        return True
    if terminating is None:
        terminating = terminates(exact)
    if terminating:
        return False
    diff = abs(decimal.value - exact)
    if rel_tol > 0 and diff <= Fraction(rel_tol) * abs(exact):
        return True
    if decimal.significant < MIN_SIGNIFICANT:
        return False
    unit = Fraction(1, 10**decimal.decimals)
    return diff * 2 <= unit


def numbers_equal(pred: Num, gold: Num, rel_tol: float = 0.0) -> bool:
    """Equality of two plain numbers under the precision rule (a percent sign is only a unit)."""
    if pred.value == gold.value:
        return True
    if pred.kind == "decimal" and gold.kind != "decimal":
        return decimal_matches(pred, gold.value, rel_tol)
    if gold.kind == "decimal" and pred.kind != "decimal":
        return decimal_matches(gold, pred.value, rel_tol)
    return False


_PRECISION_WORDS = {
    "whole number": 0, "integer": 0, "nearest one": 0, "ones": 0, "unit": 0, "tenth": 1, "hundredth": 2,
    "thousandth": 3, "ten-thousandth": 4, "ten thousandth": 4, "ten": -1, "hundred": -2, "thousand": -3,
}
_PRECISION_NEAREST_RE = re.compile(
    r"nearest\s+(whole\s+number|integer|ten[- ]thousandth|thousandth|hundredth|tenth|thousand|hundred|ten|one|unit|"
    r"(?:dollar|cent|percent|degree|meter|foot|inch|mile|minute|second|hour)s?)", re.I
)
_PRECISION_PLACES_RE = re.compile(
    r"(\d+|one|two|three|four|five|six)\s*(decimal\s+places?|decimal\s+digits?|digits?\s+after\s+the\s+decimal|"
    r"d\.\s?p\.|dp\b|significant\s+(?:figures?|digits?)|s\.\s?f\.|sig\.?\s+figs?\.?)",
    re.I,
)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def stated_precision(problem: str | None) -> tuple[str, int] | None:
    """The precision a problem asks for: ``("decimals", n)`` or ``("significant", n)``, or ``None``.

    Read from "to the nearest tenth/hundredth/thousandth/whole number/integer/cent/dollar…",
    "N decimal places" and "N significant figures" (digits or the words one…six).
    """
    if not problem:
        return None
    text = problem[-4000:]
    match = _PRECISION_PLACES_RE.search(text)
    if match:
        count = match.group(1).lower()
        n = int(count) if count.isdigit() else _NUMBER_WORDS[count]
        if n > 30:
            return None
        return ("significant", n) if match.group(2).lower().startswith(("s", "sig")) else ("decimals", n)
    match = _PRECISION_NEAREST_RE.search(text)
    if match:
        word = re.sub(r"\s+", " ", match.group(1).lower())
        if word.startswith("cent"):
            return ("decimals", 2)
        return ("decimals", _PRECISION_WORDS.get(word.rstrip("s") if word not in _PRECISION_WORDS else word, 0))
    return None


def rounded(value: Fraction, precision: tuple[str, int]) -> set[Fraction]:
    """``value`` rounded to ``precision``, half-up and half-even (one or two values)."""
    kind, n = precision
    if kind == "significant":
        if value == 0 or n < 1:
            return {value}
        magnitude = _magnitude(abs(value))
        n = n - 1 - magnitude  # decimals that keep n significant digits (may be negative)
    scale = Fraction(10) ** n
    scaled = value * scale
    floor = scaled.numerator // scaled.denominator
    frac = scaled - floor
    if frac > Fraction(1, 2):
        options = {floor + 1}
    elif frac < Fraction(1, 2):
        options = {floor}
    else:  # a tie: half-up (away from zero) and half-even both accepted
        away = floor + 1 if value >= 0 else floor
        even = floor if floor % 2 == 0 else floor + 1
        options = {away, even}
    return {Fraction(o) / scale for o in options}


def _magnitude(value: Fraction) -> int:
    """``floor(log10(value))`` for a positive fraction, exactly."""
    m = len(str(value.numerator)) - len(str(value.denominator))
    if Fraction(10) ** m > value:
        m -= 1
    elif Fraction(10) ** (m + 1) <= value:
        m += 1
    return m


def matches_precision(pred: Num, gold: Fraction, precision: tuple[str, int]) -> bool:
    """The precision a problem states: ``pred`` is the gold rounded to it (an exact value that is
    not already that rounded number, ``16\\pi`` for "to the nearest tenth", does not count)."""
    return pred.value in rounded(gold, precision)
