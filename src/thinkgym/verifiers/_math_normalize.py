"""Cleaning an extracted answer into canonical LaTeX-ish text, and refusing oversized work.

Pure string work (no sympy), run in the caller's process: it must stay linear-time on any input.
Cleaning drops what is decoration (math delimiters, ``\\left``/``\\right``, spacing commands,
units, currency, degree marks, trailing full stops) and keeps what carries meaning (a ``%``,
relation signs, brackets).
"""

from __future__ import annotations

import re

__all__ = ["clean_answer", "oversize_reason", "choice_letter", "plain_text", "MAX_ANSWER_CHARS"]

MAX_ANSWER_CHARS = 2000
MAX_NESTING = 60
MAX_POWER_DIGITS = 50_000  # decimal digits a power may have before we refuse to evaluate it
MAX_FACTORIAL = 5_000

_DELIMITERS_RE = re.compile(r"\$\$|\\\$|\$|\\\(|\\\)|\\\[|\\\]")
_SIZING_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|middle)(?![A-Za-z])"
)
_LEFT_DOT_RE = re.compile(r"\\(?:left|right)\s*\.")
_SPACES_RE = re.compile(r"(?<!\\)\\[,;:! ]|\\quad|\\qquad|~|\\hspace\{[^{}]*\}|\\thinspace|\\enspace")
_EMPTY_SET_RE = re.compile(r"\\varnothing|∅|\\\{\s*\\\}|\\emptyset")
_REALS_RE = re.compile(r"\\mathbb\s*\{?\s*R\s*\}?|ℝ|\\text\{\s*all real numbers\s*\}|^\s*all real numbers\s*$", re.I)
_STYLE_RE = re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![A-Za-z])")
_FRAC_RE = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_BINOM_RE = re.compile(r"\\[dt]binom(?![A-Za-z])")
_DEGREE_RE = re.compile(
    r"(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?:s)?(?![A-Za-z])|\\circ(?![A-Za-z]))"
    r"(?:\s*\\(?:text|mathrm)\s*\{\s*[CFK]\s*\}|\s*[CFK](?![A-Za-z]))?"  # 40^\circ F, 25°C
)
_TRIG_RE = re.compile(r"\\(?:sin|cos|tan|sec|csc|cot)(?![A-Za-z])")
_TRIG_DEGREE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)")
_CURRENCY_RE = re.compile(r"[€£¥₹]|\\(?:euro|pounds|yen)(?![A-Za-z])|\b(?:USD|EUR|Rs\.?|INR)\b")
_PERCENT_RE = re.compile(r"\\%|\\text\{\s*%\s*\}|\s*\\?(?:percent|pct)\b|\\text\{\s*percent\s*\}")
_TEXT_CMD = r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|operatorname|textup|mathsf|texttt)"
_UNIT_TEXT_RE = re.compile(
    rf"(?<=[\d}}).\s])\s*{_TEXT_CMD}\s*\{{\s*[A-Za-z][A-Za-z .\-/]+\}}(?:\s*\^\s*\{{?\s*[23]\s*\}}?)?\s*$"
)
_TEXT_UNWRAP_RE = re.compile(rf"{_TEXT_CMD}\s*\{{([^{{}}]*)\}}")
_BOLD_RE = re.compile(r"\*\*|__|`")
_THOUSANDS_BRACE_RE = re.compile(r"\{,\}")
#: LaTeX digit groups: ``12,\!345``, ``12,\! 345``, ``1{,}000``, ``1\,000``, ``1\!000`` (kept as ``12,345``).
_THOUSANDS_TEX_RE = re.compile(r"(?<=\d)(?:,\s*\\[!,;: ]|\{,\}|\\[,!;: ]|,\\:)\s*(?=\d{3}(?!\d))")
_WS_RE = re.compile(r"\s+")
_MATH_WORDS = {
    "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "log", "ln", "exp", "sqrt", "pi", "and", "or", "mod", "gcd", "lcm", "max", "min", "det", "lim",
}
_UNIT_WORD = r"[A-Za-z][A-Za-z./]*(?:\^\{?-?[123]\}?)?"
_TRAILING_WORDS_RE = re.compile(rf"(?<=[\d)}}])\s+({_UNIT_WORD}(?:\s+{_UNIT_WORD})*)\s*$")
_SHORT_UNITS = {
    "m", "cm", "mm", "km", "kg", "g", "mg", "s", "ms", "h", "hr", "hrs", "min", "l", "ml", "ft", "in",
    "yd", "mi", "lb", "lbs", "oz", "mph", "kph", "km/h", "m/s", "cm^2", "m^2", "sq", "cu",
}
_DOLLAR_WORDS_RE = re.compile(r"\s*\b(?:dollars?|cents?|euros?|pounds?|rupees?|yuan|units?)\b\s*$", re.I)
_CHOICE_RE = re.compile(
    r"^(?:(?:option|choice|answer)\s*:?\s*)?(?:\(\s*([A-J])\s*\)|([A-J])(?=\s*(?:[.:)]|$))).*$",
    re.I | re.S,
)
_GOLD_CHOICE_RE = re.compile(r"^\(?\s*([A-J])\s*\)?$|^\(?\s*([A-J])\s*\)\s+\S.*$", re.S)


_SIMPLE_RE = re.compile(r"-?[\d.,/]*\d")


_VULGAR = {
    "½": "\\frac{1}{2}", "⅓": "\\frac{1}{3}", "⅔": "\\frac{2}{3}", "¼": "\\frac{1}{4}", "¾": "\\frac{3}{4}",
    "⅕": "\\frac{1}{5}", "⅖": "\\frac{2}{5}", "⅗": "\\frac{3}{5}", "⅘": "\\frac{4}{5}", "⅙": "\\frac{1}{6}",
    "⅚": "\\frac{5}{6}", "⅛": "\\frac{1}{8}", "⅜": "\\frac{3}{8}", "⅝": "\\frac{5}{8}", "⅞": "\\frac{7}{8}",
}
_VULGAR_RE = re.compile("|".join(_VULGAR))
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUPERSCRIPT_RE = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+")
_UNICODE_MATH_RE = re.compile("[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞⁰¹²³⁴⁵⁶⁷⁸⁹⁻]")


def clean_answer(text: str) -> str:
    """Canonical form of an extracted answer (see the module docstring for what is dropped)."""
    s = text.strip()
    if _SIMPLE_RE.fullmatch(s):  # a plain number: nothing to clean
        return s
    s = _BOLD_RE.sub("", s)
    s = _DELIMITERS_RE.sub(" ", s)
    s = _LEFT_DOT_RE.sub("", s)
    s = _SIZING_RE.sub("", s)
    s = _STYLE_RE.sub("", s)
    s = _THOUSANDS_TEX_RE.sub(",", s)
    s = _THOUSANDS_BRACE_RE.sub(",", s)
    s = _SPACES_RE.sub(" ", s)
    s = _FRAC_RE.sub(r"\\frac", s)
    s = _BINOM_RE.sub(r"\\binom", s)
    if _TRIG_RE.search(s):  # "\cos 60^\circ": inside a trigonometric function a degree is pi/180
        s = _TRIG_DEGREE_RE.sub(r"(\1\\pi/180)", s)
    s = _DEGREE_RE.sub("", s)
    s = _CURRENCY_RE.sub("", s)
    s = _PERCENT_RE.sub("%", s)
    s = s.replace("\\infin ", "\\infty ").replace("∞", "\\infty").replace("−", "-").replace("×", "\\times ")
    s = s.replace("≤", "\\le ").replace("≥", "\\ge ").replace("≠", "\\ne ").replace("π", "\\pi ")
    s = s.replace("√", "\\sqrt").replace("·", "\\cdot ").replace("÷", "\\div ")
    if _UNICODE_MATH_RE.search(s):
        s = _VULGAR_RE.sub(lambda m: _VULGAR[m.group(0)], s)
        s = _SUPERSCRIPT_RE.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPTS) + "}", s)
    if "\\" in s or "∅" in s or "ℝ" in s or "real" in s:
        s = _EMPTY_SET_RE.sub(r"\\emptyset", s)
        s = _REALS_RE.sub(r"(-\\infty, \\infty)", s)
    s = s.replace("\\leqslant", "\\le").replace("\\geqslant", "\\ge").replace("\\dots", "").replace("\\ldots", "")
    s = _WS_RE.sub(" ", s).strip()
    for _ in range(4):  # "5\text{ cm}^2", "$12.50 dollars", "3 apples."
        before = s
        s = s.rstrip(" .;,")
        s = _UNIT_TEXT_RE.sub("", s)
        s = _DOLLAR_WORDS_RE.sub("", s)
        match = _TRAILING_WORDS_RE.search(s)
        if match and _is_unit_words(match.group(1)):
            s = s[: match.start()]
        if s == before:  # no unit left at the end: now \text{...} wrappers may go
            s = _TEXT_UNWRAP_RE.sub(lambda m: m.group(1), s)
        s = _WS_RE.sub(" ", s).strip()
        if s == before:
            break
    if s.startswith("{") and s.endswith("}") and _outer_group(s):
        s = s[1:-1].strip()
    return s


def _is_unit_words(words: str) -> bool:
    """``cm``, ``apples``, ``m/s^2``, ``square feet``: words after a number that are units."""
    parts = words.lower().split()
    if not parts or parts[0] in ("and", "or", "i", "e", "x", "y", "z", "n", "k"):
        return False
    pieces = [re.sub(r"\^\{?-?[123]\}?$", "", piece).strip(".") for p in parts for piece in p.split("/")]
    if any(not piece or piece in _MATH_WORDS for piece in pieces):
        return False
    return all(len(piece) >= 3 or piece in _SHORT_UNITS for piece in pieces)


def _outer_group(s: str) -> bool:
    """Whether the first ``{`` closes at the last character (so the braces wrap everything)."""
    depth = 0
    for i, ch in enumerate(s):
        if ch == "{" and (i == 0 or s[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or s[i - 1] != "\\"):
            depth -= 1
            if depth == 0 and i != len(s) - 1:
                return False
    return depth == 0


def choice_letter(text: str, *, gold: bool = False) -> str | None:
    """The multiple-choice letter ``text`` names (``C``, ``(C)``, ``\\text{(C)}``, ``C) 42``)."""
    s = text.strip().replace("\\text{", "").replace("}", "").strip() if gold else text.strip()
    match = (_GOLD_CHOICE_RE if gold else _CHOICE_RE).match(s)
    if not match:
        return None
    return next(g for g in match.groups() if g).upper()


_PLAIN_RE = re.compile(r"[^0-9a-z\u00c0-\uffff]+")


def plain_text(text: str) -> str:
    """Words only, lower case: how two text answers (``\\text{Monday}`` vs ``monday.``) compare."""
    s = _TEXT_UNWRAP_RE.sub(lambda m: m.group(1), text)
    s = _PLAIN_RE.sub(" ", s.lower()).strip()
    for article in ("the ", "an ", "a "):
        if s.startswith(article):
            s = s[len(article) :]
            break
    return s


_FACTORIAL_RE = re.compile(r"(\d+)\s*\)?\s*!")
_SUM_RE = re.compile(r"\\(?:sum|prod)\s*_\s*(?:\{[^{}]*\}|\S)\s*\^")
MAX_SUM_TERMS = 10_000
_RISKY_CHARS_RE = re.compile(r"[\^!({\[\\*]")
_NUMBER_RE = re.compile(r"\d{400,}")
_NUMERIC_BASE_RE = re.compile(r"(\d+(?:\.\d+)?|\\e(?![A-Za-z])|(?<![A-Za-z\\])e)\s*$")
_LITERAL_RE = re.compile(r"-?\d+(?:\.\d+)?")
_TOWER_RE = re.compile(r"^(\d+(?:\.\d+)?|\\e|e)\s*\^\s*(.+)$", re.S)


def oversize_reason(text: str, max_chars: int = MAX_ANSWER_CHARS) -> str | None:
    """Why evaluating ``text`` could take unbounded time or memory, or ``None`` if it looks safe.

    Refused up front, before any parsing: answers longer than ``max_chars``, brackets nested
    deeper than `MAX_NESTING`, powers (towers included, ``9^{9^{9^9}}``) or factorials whose
    values would have too many digits, and absurdly long digit strings.
    """
    if len(text) > max_chars:
        return f"answer of {len(text)} characters exceeds the limit of {max_chars}"
    if len(text) < 300 and not _RISKY_CHARS_RE.search(text):
        return None
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            if depth > best:
                best = depth
        elif ch in ")]}":
            depth -= 1
    if best > MAX_NESTING:
        return f"brackets nested {best} deep (limit {MAX_NESTING})"
    if _NUMBER_RE.search(text):
        return "a number with more than 400 digits"
    reason = _power_reason(text)
    if reason:
        return reason
    for match in _FACTORIAL_RE.finditer(text):
        if int(match.group(1)) > MAX_FACTORIAL:
            return f"{match.group(1)}! is too large to evaluate (limit {MAX_FACTORIAL}!)"
    if re.search(r"\\(?:Gamma|binom)\s*\{?\s*\d{5,}", text):
        return "a Gamma/binomial of a huge argument is refused"
    for match in _SUM_RE.finditer(text):
        upper, _ = _group_after(text, match.end())
        count = _estimate(upper)
        if count is not None and count > MAX_SUM_TERMS:
            return f"a sum or product of about {count:.3g} terms is refused"
    return None


def _group_after(text: str, j: int) -> tuple[str, int]:
    """The exponent starting at ``text[j]``: a braced/parenthesised group or one token."""
    while j < len(text) and text[j] == " ":
        j += 1
    if j < len(text) and text[j] in "{(":
        depth, k = 0, j
        while k < len(text):
            if text[k] in "{(":
                depth += 1
            elif text[k] in "})":
                depth -= 1
                if depth == 0:
                    return text[j + 1 : k], k + 1
            k += 1
        return text[j + 1 :], len(text)
    k = j
    if k < len(text) and text[k] in "+-":
        k += 1
    while k < len(text) and (text[k].isdigit() or text[k] == "."):
        k += 1
    if k == j:  # a single letter or command
        k = min(j + 1, len(text))
    return text[j:k], k


def _estimate(expr: str, depth: int = 0) -> float | None:
    """Value of a numeric power expression (``9^{9^9}``) as a float, ``inf`` if astronomically big."""
    import math

    s = expr.strip()
    while len(s) >= 2 and s[0] in "{(" and s[-1] in "})":
        s = s[1:-1].strip()
    if _LITERAL_RE.fullmatch(s):
        return abs(float(s))
    match = _TOWER_RE.match(s)
    if not match or depth > 20:
        return None
    base = math.e if match.group(1) in ("e", "\\e") else float(match.group(1))
    exponent = _estimate(match.group(2), depth + 1)
    if exponent is None:
        return None
    if base <= 1:
        return base
    if exponent == math.inf or exponent * math.log10(base) > 300:
        return math.inf
    return base**exponent


def _power_reason(text: str) -> str | None:
    import math

    i = text.find("^")
    while i != -1:
        exponent_text, _ = _group_after(text, i + 1)
        exponent = _estimate(exponent_text)
        if exponent is not None:
            base = _NUMERIC_BASE_RE.search(text[:i])
            if exponent == math.inf or exponent > 1e9:
                return f"power with an exponent of about {exponent:.3g} is refused"
            if base:
                b = math.e if base.group(1) in ("e", "\\e") else float(base.group(1))
                if b > 1 and exponent * math.log10(b) > MAX_POWER_DIGITS:
                    return f"a power with about {exponent * math.log10(b):.3g} digits is refused"
        i = text.find("^", i + 1)
    return None
