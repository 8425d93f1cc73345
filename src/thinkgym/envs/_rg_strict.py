"""Strict checkers and input guards for the reasoning-gym families whose own scoring is farmable.

Why this module exists: reasoning-gym's ``score_answer`` is the accuracy component of the bridged
envs (`thinkgym.envs.reasoning_gym`), but a few families score wrong answers as right, or hand
model text to Python's ``eval`` / sympy's ``parse_expr`` (which is ``eval``). Under RL a reward
that can be farmed will be farmed, so for those families the bridge uses the checks below instead
of (or before) reasoning-gym's. Everything here is pure, stdlib-only and bounded: answers are
parsed with `ast` (never evaluated), and arithmetic is exact (`fractions.Fraction`) over at most a
few dozen small integers.

What each family gets (audited against reasoning-gym 0.1.25; the attack tests in
``tests/envs/test_reasoning_gym.py`` show every exploit working on reasoning-gym directly and
failing through thinkgym):

- ``puzzle24``: reasoning-gym accepts *any* four numbers in range that make 24 (it never compares
  them with the puzzle's numbers) and truncates the value with ``int`` (24.5 counts as 24), so the
  constant answer ``1*2*3*4`` scores 1.0 on every problem. Strict: the expression uses exactly the
  given numbers (as a multiset), only ``+ - * /`` and parentheses, and equals 24 exactly.
- ``countdown``: the installed version checks the multiset of integers found by a regex, but
  evaluates the answer with ``parse_expr`` — any Python/sympy expression (``**``, ``!``,
  ``sin(pi)``, ``len('…')``) whose literal digits are the given numbers passes, and the text is
  executed. Strict: as ``puzzle24`` with the problem's target.
- ``game_of_life_halting``: reasoning-gym scores ``bool(answer) == bool(gold)`` with the gold the
  *string* ``"True"``/``"False"``: every non-empty answer (``"no idea"``) scores 1.0. Strict:
  ``True``/``False`` (any case) equal to the gold.
- ``coin_flip``: an absolute tolerance of 1e-4 makes ``0`` right for every probability below it
  (``3.05e-05`` …). Strict: equal as fractions, or within 1e-4 *relative*.
- ``number_sorting``: reasoning-gym accepts every sorted list whose numbers are within **1.0** of
  the expected ones, so ``[x + 0.9 for x in expected]`` scores 1.0. Strict: the same numbers
  (exact decimal values), in the asked order.
- ``n_queens``, ``binary_matrix``, ``spiral_matrix``, ``string_insertion``: a non-exact answer is
  passed to ``eval`` (to award 0.1-0.5 partial credit for a Python list): model text is executed.
  Strict: exact match only (``n_queens``: one of the listed valid boards); the partial credit those
  ``eval`` calls give is not counted as correct anyway.
- ``simple_integration``, ``intermediate_integration``, ``polynomial_multiplication``: the answer
  goes to ``sympy.parse_expr`` (``eval``). Guard: the answer must be a plain arithmetic expression
  (numbers, names, ``+ - * / **``, calls of known math functions) before reasoning-gym's scorer
  sees it; anything else (attribute access, dunders, strings, lambdas, subscripts) earns 0.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

__all__ = ["STRICT_CHECKERS", "GUARDS", "arithmetic_value", "safe_math_expression", "python_literal"]

#: Longest answer the strict checkers parse (an honest answer is far shorter).
MAX_ANSWER_CHARS = 2_000

_ARITH_OPS: dict[type, Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _normalize_ops(text: str) -> str:
    """Accept the usual typography of arithmetic (×, ÷, −) and a trailing ``= value``."""
    text = text.strip().replace("×", "*").replace("÷", "/").replace("−", "-").replace("\u2212", "-")
    if "=" in text:
        text = text.split("=", 1)[0]
    return text


def arithmetic_value(text: str) -> tuple[Fraction, list[int]] | str:
    """The exact value of ``text`` and the integers it uses, or the reason it is not plain arithmetic.

    Only integer literals, ``+ - * /`` and parentheses are allowed (no unary minus, powers,
    functions, names or decimals): that is what "combine the numbers with the four operations"
    means, and it is all that can be evaluated without running the text.
    """
    if len(text) > MAX_ANSWER_CHARS:
        return f"answer longer than {MAX_ANSWER_CHARS} characters"
    try:
        tree = ast.parse(_normalize_ops(text), mode="eval")
    except (SyntaxError, ValueError) as exc:
        return f"not an arithmetic expression: {type(exc).__name__}"
    numbers: list[int] = []

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
            numbers.append(node.value)
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH_OPS:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise ZeroDivisionError("division by zero")
            return _ARITH_OPS[type(node.op)](left, right)
        raise ValueError(f"{type(node).__name__} is not allowed (only integers, + - * / and parentheses)")

    try:
        return value(tree.body), numbers
    except (ValueError, ZeroDivisionError, RecursionError) as exc:
        return str(exc)


def _numbers_game(answer: str, numbers: list[int], target: Fraction) -> tuple[float, str]:
    result = arithmetic_value(answer)
    if isinstance(result, str):
        return 0.0, result
    got, used = result
    if Counter(used) != Counter(int(n) for n in numbers):
        return 0.0, f"uses the numbers {sorted(used)}, not exactly {sorted(int(n) for n in numbers)}"
    if got != target:
        return 0.0, f"evaluates to {got}, not {target}"
    return 1.0, "correct"


def check_countdown(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    meta = entry["metadata"]
    return _numbers_game(answer, list(meta["numbers"]), Fraction(int(meta["target"])))


def check_puzzle24(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    return _numbers_game(answer, list(entry["metadata"]["numbers"]), Fraction(24))


def _decimal_list(text: str) -> list[Decimal] | str:
    if len(text) > MAX_ANSWER_CHARS * 10:
        return "answer too long"
    try:
        items = json.loads(text.strip().replace("'", '"'))
    except (json.JSONDecodeError, RecursionError):
        return "not a list of numbers (write it as ['1', '2.5', ...])"
    if not isinstance(items, list):
        return "not a list"
    if any(isinstance(x, (list, dict, bool)) or x is None for x in items):
        return "the list holds something other than numbers"
    try:
        values = [Decimal(str(x).strip()) for x in items]
    except InvalidOperation:
        return "the list holds something other than numbers"
    if not all(v.is_finite() for v in values):
        return "the list holds something other than finite numbers"
    return values


def check_number_sorting(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    got = _decimal_list(answer)
    if isinstance(got, str):
        return 0.0, got
    expected = _decimal_list(str(entry["answer"]))
    if isinstance(expected, str):
        return 0.0, f"the gold answer could not be read: {expected}"
    if len(got) != len(expected):
        return 0.0, f"{len(got)} numbers, expected {len(expected)}"
    if any(not (a == b) for a, b in zip(got, expected, strict=True)):
        return 0.0, "not exactly the given numbers in the asked order"
    return 1.0, "correct"


def _exact(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    gold = entry.get("answer")
    if gold is not None and answer.strip() == str(gold).strip():
        return 1.0, "exact match"
    return 0.0, "not the expected answer (only an exact match counts)"


def check_n_queens(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    valid = [str(v).strip() for v in entry["metadata"].get("valid_answers", [])]
    if answer.strip() in valid:
        return 1.0, "a valid board"
    return 0.0, "not one of the valid boards (only an exact board counts)"


def check_true_false(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    """``game_of_life_halting``: reasoning-gym compares ``bool(answer) == bool(gold)``, and the gold
    is the *string* "True" or "False", so every non-empty answer scores 1.0."""
    said = answer.strip().lower()
    if said not in ("true", "false"):
        return 0.0, "answer True or False"
    return (1.0, "correct") if said == str(entry["answer"]).strip().lower() else (0.0, "wrong")


def check_probability(answer: str, entry: Mapping[str, Any]) -> tuple[float, str]:
    """``coin_flip``: reasoning-gym accepts any value within 0.0001 *absolute*, so "0" is right for
    every small probability (3.05e-05 …). Strict: equal as fractions, or within 1e-4 relative."""
    try:
        got = Fraction(answer.strip().replace(",", ""))
        gold = Fraction(str(entry["answer"]).strip().replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return 0.0, "not a number or fraction"
    if got == gold or (gold != 0 and abs(got - gold) <= abs(gold) * Fraction(1, 10_000)):
        return 1.0, "correct"
    return 0.0, f"{answer.strip()} is not {entry['answer']}"


#: family -> strict checker ``(answer, entry) -> (score, reason)``, used instead of reasoning-gym's.
STRICT_CHECKERS: dict[str, Callable[[str, Mapping[str, Any]], tuple[float, str]]] = {
    "countdown": check_countdown,
    "puzzle24": check_puzzle24,
    "game_of_life_halting": check_true_false,
    "coin_flip": check_probability,
    "number_sorting": check_number_sorting,
    "n_queens": check_n_queens,
    "binary_matrix": _exact,
    "spiral_matrix": _exact,
    "string_insertion": _exact,
}

# --------------------------------------------------------------------------------------------
# Guards: answers reasoning-gym would evaluate must be plain math before it sees them
# --------------------------------------------------------------------------------------------

_MATH_FUNCS = frozenset(
    "sin cos tan cot sec csc asin acos atan sinh cosh tanh exp log ln sqrt Abs abs sign "
    "factorial pi E I oo Rational Integer Float".split()
)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_MATH_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.Load)
_MATH_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


def safe_math_expression(answer: str) -> str | None:
    """None when ``answer`` is a plain math expression, else why not (it is never evaluated here)."""
    if len(answer) > MAX_ANSWER_CHARS:
        return f"answer longer than {MAX_ANSWER_CHARS} characters"
    try:
        tree = ast.parse(answer.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return "not a math expression"
    for node in ast.walk(tree):
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            if not isinstance(node.op, _MATH_OPS):
                return f"operator {type(node.op).__name__} is not allowed"
        elif isinstance(node, (ast.operator, ast.unaryop)):
            continue
        elif not isinstance(node, _MATH_NODES):
            return f"{type(node).__name__} is not allowed in a math answer"
        elif isinstance(node, ast.Constant) and not (isinstance(node.value, (int, float)) and not isinstance(node.value, bool)):
            return "only numbers may appear as literals"
        elif isinstance(node, ast.Name) and not _NAME.match(node.id):
            return f"name {node.id!r} is not allowed"
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _MATH_FUNCS or node.keywords:
                return "only calls of known math functions are allowed"
    return None


def python_literal(answer: str) -> str | None:
    """None when ``answer`` is a Python literal (what ``eval`` may safely see), else why not."""
    if len(answer) > MAX_ANSWER_CHARS * 10:
        return "answer too long"
    try:
        ast.literal_eval(answer.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return "only a literal (a list of numbers or strings) may be evaluated"
    return None


#: family -> guard ``answer -> reason or None``, run on a non-exact answer before reasoning-gym's
#: scorer sees it (with ``strict=False``; with ``strict=True`` the families that have a strict
#: checker never reach reasoning-gym's scorer at all).
GUARDS: dict[str, Callable[[str], str | None]] = {
    "simple_integration": safe_math_expression,
    "intermediate_integration": safe_math_expression,
    "polynomial_multiplication": safe_math_expression,
    "countdown": safe_math_expression,
    "puzzle24": safe_math_expression,
    "n_queens": python_literal,
    "binary_matrix": python_literal,
    "spiral_matrix": python_literal,
    "string_insertion": python_literal,
}
