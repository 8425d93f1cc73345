"""The built-in tools: ``calculator``, ``python``, ``search``, ``lookup`` and ``unit_convert``.

Each is bounded by construction, so they run ``inline`` (see `thinkgym.tools.executor`):

- `calculate` parses arithmetic with `ast` and computes it exactly with `fractions.Fraction`; it
  never evaluates text, and refuses work that would be huge (an exponent over `MAX_EXPONENT`, a
  result over `MAX_DIGITS` digits, a factorial over 1000) before doing it.
- `PythonTool` runs code through `thinkgym.sandbox.make_sandbox(...)` (the `Sandbox` interface
  only) with its `Limits`; the model sees stdout, and stderr when the program failed.
- `SearchIndex` ranks documents by Okapi BM25 (hand-written: twenty lines over a corpus of a few
  hundred documents do not justify a dependency); `KeyValueTable` looks values up by entity and
  attribute, case-insensitively.
- `convert_units` converts length, mass, volume, time, speed, area and temperature with exact
  factors (`Fraction`), and rounds to 4 decimal places.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from thinkgym.tools.schema import Tool

__all__ = [
    "calculate",
    "format_number",
    "convert_units",
    "UNITS",
    "SearchIndex",
    "KeyValueTable",
    "PythonTool",
    "calculator_tool",
    "unit_convert_tool",
    "MAX_EXPONENT",
    "MAX_DIGITS",
]

MAX_EXPONENT = 10_000
MAX_DIGITS = 5_000
_MAX_EXPRESSION = 2_000

# --------------------------------------------------------------------------------------------
# calculator
# --------------------------------------------------------------------------------------------

_BINARY: dict[type, Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _digits(x: Fraction) -> int:
    return max(abs(x.numerator).bit_length(), x.denominator.bit_length()) * 30103 // 100000 + 1


def _check_size(x: Fraction) -> Fraction:
    if _digits(x) > MAX_DIGITS:
        raise ValueError(f"the result would have more than {MAX_DIGITS} digits")
    return x


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        if exponent == Fraction(1, 2):
            return _sqrt(base)
        raise ValueError("only integer exponents (and 1/2) are exact; use sqrt for square roots")
    e = exponent.numerator
    if abs(e) > MAX_EXPONENT:
        raise ValueError(f"exponents are limited to {MAX_EXPONENT} in absolute value")
    if base == 0 and e < 0:
        raise ZeroDivisionError("0 cannot be raised to a negative power")
    bits = max(abs(base.numerator).bit_length(), base.denominator.bit_length())
    if bits * abs(e) * 30103 // 100000 > MAX_DIGITS:
        raise ValueError(f"the result would have more than {MAX_DIGITS} digits")
    return base**e


def _sqrt(x: Fraction) -> Fraction:
    if x < 0:
        raise ValueError("square root of a negative number")
    n, d = math.isqrt(x.numerator), math.isqrt(x.denominator)
    if n * n == x.numerator and d * d == x.denominator:
        return Fraction(n, d)
    return Fraction(Decimal(x.numerator).sqrt() / Decimal(x.denominator).sqrt()).limit_denominator(10**15)


def _integer(x: Fraction, what: str) -> int:
    if x.denominator != 1:
        raise ValueError(f"{what} needs an integer, got {format_number(x)}")
    return x.numerator


def _factorial(x: Fraction) -> Fraction:
    n = _integer(x, "factorial")
    if not 0 <= n <= 1000:
        raise ValueError("factorial is defined here for integers 0..1000")
    return Fraction(math.factorial(n))


_FUNCTIONS: dict[str, Callable[..., Fraction]] = {
    "sqrt": _sqrt,
    "abs": lambda x: abs(x),
    "round": lambda x, n=Fraction(0): Fraction(round(x, _integer(n, "round"))),
    "floor": lambda x: Fraction(math.floor(x)),
    "ceil": lambda x: Fraction(math.ceil(x)),
    "min": lambda *xs: min(xs),
    "max": lambda *xs: max(xs),
    "gcd": lambda *xs: Fraction(math.gcd(*(_integer(x, "gcd") for x in xs))),
    "lcm": lambda *xs: Fraction(math.lcm(*(_integer(x, "lcm") for x in xs))),
    "factorial": _factorial,
}


def _evaluate(node: ast.AST, depth: int = 0) -> Fraction:  # noqa: C901 - one branch per node kind
    if depth > 100:
        raise ValueError("the expression is nested too deeply")
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = _evaluate(node.operand, depth + 1)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, depth + 1), _evaluate(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)):
            if right == 0:
                raise ZeroDivisionError("division by zero")
            return _check_size(left // right if isinstance(node.op, ast.FloorDiv) else left % right)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ValueError(f"the operator {type(node.op).__name__} is not supported")
        if op is operator.truediv and right == 0:
            raise ZeroDivisionError("division by zero")
        return _check_size(op(left, right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = _FUNCTIONS.get(node.func.id)
        if fn is None:
            raise ValueError(f"unknown function {node.func.id!r}; available: {', '.join(_FUNCTIONS)}")
        return _check_size(fn(*(_evaluate(a, depth + 1) for a in node.args)))
    if isinstance(node, ast.Name) and node.id in ("pi", "e"):
        return Fraction(math.pi if node.id == "pi" else math.e).limit_denominator(10**15)
    raise ValueError(f"not arithmetic: {ast.unparse(node)[:60]}")


def format_number(x: Fraction) -> str:
    """An exact rational as text: an integer, a terminating decimal, or ``p/q (≈ decimal)``."""
    if x.denominator == 1:
        return str(x.numerator)
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        text = format(Decimal(x.numerator) / Decimal(x.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    approx = Decimal(x.numerator) / Decimal(x.denominator)
    return f"{x.numerator}/{x.denominator} (≈ {approx:.12g})"


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression exactly.

    Args:
        expression: arithmetic with + - * / // % ** (or ^), parentheses, and sqrt, abs, round, floor, ceil, min, max, gcd, lcm, factorial, e.g. "(48213 * 90721) - 17 ^ 3"
    """
    if not isinstance(expression, str):
        raise TypeError("expression must be a string")
    if len(expression) > _MAX_EXPRESSION:
        raise ValueError(f"the expression is longer than {_MAX_EXPRESSION} characters")
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/").replace("−", "-").strip()
    text = re.sub(r"(?<=\d)_(?=\d)", "", text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse the expression: {exc.msg}") from None
    return format_number(_evaluate(tree.body))



def calculator_tool() -> Tool:
    """The ``calculator`` tool (exact arithmetic; see `calculate`)."""
    return Tool.from_function(calculate, name="calculator", isolation="inline")


# --------------------------------------------------------------------------------------------
# unit_convert
# --------------------------------------------------------------------------------------------

_F = Fraction
#: unit -> (dimension, factor to the dimension's base unit). Temperatures are handled apart.
UNITS: dict[str, tuple[str, Fraction]] = {
    # length (m)
    "mm": ("length", _F(1, 1000)), "cm": ("length", _F(1, 100)), "m": ("length", _F(1)),
    "km": ("length", _F(1000)), "in": ("length", _F("0.0254")), "ft": ("length", _F("0.3048")),
    "yd": ("length", _F("0.9144")), "mi": ("length", _F("1609.344")), "nmi": ("length", _F(1852)),
    # mass (kg)
    "mg": ("mass", _F(1, 10**6)), "g": ("mass", _F(1, 1000)), "kg": ("mass", _F(1)), "t": ("mass", _F(1000)),
    "oz": ("mass", _F("0.028349523125")), "lb": ("mass", _F("0.45359237")), "st": ("mass", _F("6.35029318")),
    # volume (L)
    "ml": ("volume", _F(1, 1000)), "l": ("volume", _F(1)), "m3": ("volume", _F(1000)),
    "gal": ("volume", _F("3.785411784")), "qt": ("volume", _F("0.946352946")), "cup": ("volume", _F("0.2365882365")),
    "floz": ("volume", _F("0.0295735295625")),
    # time (s)
    "s": ("time", _F(1)), "min": ("time", _F(60)), "h": ("time", _F(3600)), "day": ("time", _F(86400)),
    "week": ("time", _F(604800)),
    # speed (m/s)
    "m/s": ("speed", _F(1)), "km/h": ("speed", _F(1000, 3600)), "mph": ("speed", _F("1609.344") / 3600),
    "kn": ("speed", _F(1852, 3600)),
    # area (m2)
    "m2": ("area", _F(1)), "km2": ("area", _F(10**6)), "ha": ("area", _F(10**4)), "acre": ("area", _F("4046.8564224")),
    "ft2": ("area", _F("0.09290304")), "mi2": ("area", _F("2589988.110336")),
}
_TEMPERATURES = ("c", "f", "k")
_ALIASES = {
    "meter": "m", "meters": "m", "metre": "m", "metres": "m", "kilometer": "km", "kilometers": "km",
    "kilometre": "km", "kilometres": "km", "centimeter": "cm", "centimeters": "cm", "millimeter": "mm",
    "millimeters": "mm", "inch": "in", "inches": "in", "foot": "ft", "feet": "ft", "yard": "yd", "yards": "yd",
    "mile": "mi", "miles": "mi", "gram": "g", "grams": "g", "kilogram": "kg", "kilograms": "kg", "kgs": "kg",
    "tonne": "t", "tonnes": "t", "ounce": "oz", "ounces": "oz", "pound": "lb", "pounds": "lb", "lbs": "lb",
    "stone": "st", "liter": "l", "liters": "l", "litre": "l", "litres": "l", "milliliter": "ml",
    "milliliters": "ml", "gallon": "gal", "gallons": "gal", "quart": "qt", "quarts": "qt", "cups": "cup",
    "second": "s", "seconds": "s", "sec": "s", "minute": "min", "minutes": "min", "hour": "h", "hours": "h",
    "hr": "h", "days": "day", "weeks": "week", "kmh": "km/h", "kph": "km/h", "knot": "kn", "knots": "kn",
    "celsius": "c", "°c": "c", "fahrenheit": "f", "°f": "f", "kelvin": "k", "hectare": "ha", "hectares": "ha",
    "acres": "acre", "sq km": "km2", "km²": "km2", "m²": "m2", "ft²": "ft2", "sq ft": "ft2", "mi²": "mi2",
}


def _unit(name: str) -> str:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in UNITS and key not in _TEMPERATURES:
        raise ValueError(f"unknown unit {name!r}; known units: {', '.join([*UNITS, 'C', 'F', 'K'])}")
    return key


def _to_kelvin(value: Fraction, unit: str) -> Fraction:
    if unit == "c":
        return value + Fraction("273.15")
    if unit == "f":
        return (value - 32) * Fraction(5, 9) + Fraction("273.15")
    return value


def _from_kelvin(value: Fraction, unit: str) -> Fraction:
    if unit == "c":
        return value - Fraction("273.15")
    if unit == "f":
        return (value - Fraction("273.15")) * Fraction(9, 5) + 32
    return value


def _round4(x: Fraction) -> float | int:
    rounded = Decimal(x.numerator) / Decimal(x.denominator)
    rounded = rounded.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    as_int = int(rounded)
    return as_int if rounded == as_int else float(rounded)


def convert_units(value: float, from_unit: str, to_unit: str) -> float | int:
    """Convert a quantity between units of length, mass, volume, time, speed, area or temperature; the result is rounded to 4 decimal places.

    Args:
        value: the quantity to convert
        from_unit: its unit, e.g. "km", "mi", "ft", "kg", "lb", "l", "gal", "h", "km/h", "mph", "km2", "acre", "C", "F", "K"
        to_unit: the unit to convert to (same dimension)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("value must be a finite number")
    if abs(value) > 1e15:
        raise ValueError("value must be at most 1e15 in absolute value")
    source, target = _unit(from_unit), _unit(to_unit)
    amount = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if source in _TEMPERATURES or target in _TEMPERATURES:
        if not (source in _TEMPERATURES and target in _TEMPERATURES):
            raise ValueError(f"cannot convert between {from_unit!r} and {to_unit!r}: different dimensions")
        return _round4(_from_kelvin(_to_kelvin(amount, source), target))
    (dim_a, factor_a), (dim_b, factor_b) = UNITS[source], UNITS[target]
    if dim_a != dim_b:
        raise ValueError(f"cannot convert {dim_a} ({from_unit}) to {dim_b} ({to_unit})")
    return _round4(amount * factor_a / factor_b)


def unit_convert_tool() -> Tool:
    """The ``unit_convert`` tool (see `convert_units`)."""
    return Tool.from_function(convert_units, name="unit_convert", isolation="inline")


# --------------------------------------------------------------------------------------------
# search and lookup
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class SearchIndex:
    """Okapi BM25 over ``documents`` (dicts with ``title`` and ``text``), best match first.

    ``search(query, k)`` is the tool's function: the top ``k`` documents (1..10) that share a term
    with the query, rendered as numbered ``title: text`` lines; no match says so.
    """

    def __init__(self, documents: Sequence[Mapping[str, str]], *, k1: float = 1.5, b: float = 0.75):
        self.documents = [{"title": str(d["title"]), "text": str(d["text"])} for d in documents]
        self.k1, self.b = float(k1), float(b)
        self._terms = [Counter(_tokens(d["title"] + " " + d["text"])) for d in self.documents]
        self._lengths = [sum(t.values()) for t in self._terms]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        df: Counter[str] = Counter()
        for terms in self._terms:
            df.update(terms.keys())
        n = len(self.documents)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def rank(self, query: str, k: int = 3) -> list[tuple[float, int]]:
        """(score, document index) of the best ``k`` documents, ties broken by index."""
        words = [w for w in _tokens(query)[:64] if w in self._idf]
        scores = []
        for i, terms in enumerate(self._terms):
            score = 0.0
            norm = self.k1 * (1 - self.b + self.b * self._lengths[i] / self._avg)
            for w in words:
                f = terms.get(w, 0)
                if f:
                    score += self._idf[w] * f * (self.k1 + 1) / (f + norm)
            if score > 0:
                scores.append((score, i))
        scores.sort(key=lambda s: (-s[0], s[1]))
        return scores[:k]

    def search(self, query: str, k: int = 3) -> str:
        """Search the encyclopedia; returns the best-matching articles, best first.

        Args:
            query: words to look for, e.g. a name
            k: how many articles to return (1 to 10)
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        k = max(1, min(int(k), 10))
        hits = self.rank(query, k)
        if not hits:
            return f"No article matches {query[:200]!r}."
        return "\n".join(f"{n}. {self.documents[i]['title']}: {self.documents[i]['text']}" for n, (_, i) in enumerate(hits, 1))

    def tool(self, name: str = "search") -> Tool:
        return Tool.from_function(self.search, name=name, isolation="inline")


class KeyValueTable:
    """``table[entity][attribute] = value``; ``lookup`` matches names case- and space-insensitively."""

    def __init__(self, table: Mapping[str, Mapping[str, Any]]):
        self.table = {str(e): {str(a): v for a, v in attrs.items()} for e, attrs in table.items()}
        self._keys = {self._norm(e): e for e in self.table}

    @staticmethod
    def _norm(text: str) -> str:
        return " ".join(str(text).lower().split())

    def lookup(self, entity: str, attribute: str) -> Any:
        """Look up one attribute of an entity in the reference table.

        Args:
            entity: the entity's name, e.g. a city
            attribute: the attribute, e.g. "population"
        """
        key = self._keys.get(self._norm(entity))
        if key is None:
            raise LookupError(f"no entity named {str(entity)[:100]!r} in the table")
        attrs = self.table[key]
        wanted = self._norm(attribute).replace(" ", "_")
        for name, value in attrs.items():
            if name.lower() == wanted:
                return value
        raise LookupError(f"{key} has no attribute {str(attribute)[:100]!r}; it has: {', '.join(attrs)}")

    def tool(self, name: str = "lookup") -> Tool:
        return Tool.from_function(self.lookup, name=name, isolation="inline")


# --------------------------------------------------------------------------------------------
# python
# --------------------------------------------------------------------------------------------


class PythonTool:
    """Runs Python code in a `Sandbox` (made on first use by ``make_sandbox(backend, **options)``).

    Picklable (the sandbox is made again in each process). ``limits`` are the sandbox's `Limits`
    for each run (default: 5 s wall, 256 MB, 64 KB of output).
    """

    def __init__(self, backend: str = "local", limits: Any = None, **options: Any):
        self.backend = backend
        self.options = options
        self.limits = limits
        self._sandbox: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"backend": self.backend, "options": self.options, "limits": self.limits}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["backend"], state["limits"], **state["options"])  # type: ignore[misc]

    def _get(self) -> Any:
        with self._lock:
            if self._sandbox is None:
                from thinkgym.sandbox import make_sandbox

                self._sandbox = make_sandbox(self.backend, **self.options)
            return self._sandbox

    def run(self, code: str) -> str:
        """Run a Python 3 program in a sandbox and return what it printed (no network, no files kept).

        Args:
            code: the whole program; print() the values you need
        """
        from thinkgym.sandbox import Limits

        if not isinstance(code, str):
            raise TypeError("code must be a string")
        limits = self.limits or Limits(wall_s=5.0, memory_mb=256, max_output_bytes=65_536)
        result = self._get().run(code, limits=limits)
        if result.error:
            raise RuntimeError(f"the sandbox could not run the code: {result.error}")
        if result.timed_out:
            raise TimeoutError(f"the program ran past {limits.wall_s:g} s and was stopped")
        if result.out_of_memory:
            raise MemoryError(f"the program went over {limits.memory_mb} MB and was stopped")
        if result.exit_code != 0:
            tail = result.stderr[-2000:]
            return f"{result.stdout}\n[exit code {result.exit_code}]\n{tail}".strip()
        return result.stdout

    def tool(self, name: str = "python") -> Tool:
        return Tool.from_function(self.run, name=name, isolation="inline")

    def close(self) -> None:
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None and hasattr(sandbox, "close"):
            sandbox.close()
