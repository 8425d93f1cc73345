"""Process rewards: score each reasoning step, and spread each step's score over its tokens.

An outcome reward says *whether* the answer was right; a process reward says *where* the
reasoning went wrong, which is what token-level credit assignment (PPO, per-token advantages)
needs. The interface is `ProcessReward`: split a completion into steps (`split_steps`), score
each step (`score_step`), aggregate the step scores into one `Reward` (the verifier view), or
spread every step's score evenly over the tokens of that step (`token_rewards`, the trainer view:
the rewards of a step's tokens sum to the step's score).

`ArithmeticChecker` is a rule-based implementation: it finds the arithmetic claims a step makes
(``3*4=12``, ``12 + 5 = 17``, ``\\frac{3}{4} = 0.75``, ``2^{10} = 1024``) and checks them with exact
`fractions.Fraction` arithmetic over a parsed, whitelisted syntax tree (numbers, ``+ - * / ^``,
parentheses; size-limited) — model text is never evaluated. It is conservative: a claim it cannot
attribute with confidence (a variable next to the numbers, ``20% of 50 = 10``, ``5! = 120``) is left
unchecked rather than marked wrong.
"""

from __future__ import annotations

import abc
import ast
import bisect
import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from thinkgym.core import Problem, Reward
from thinkgym.errors import ConfigError

__all__ = [
    "Step",
    "StepScore",
    "ArithmeticClaim",
    "split_steps",
    "spread_over_tokens",
    "token_offsets",
    "ProcessReward",
    "ArithmeticChecker",
    "find_arithmetic_claims",
    "evaluate_arithmetic",
]

SplitMode = Literal["auto", "lines", "steps", "paragraphs"]
Aggregate = Literal["min", "mean", "last", "product"]

#: Longest completion that is split into steps; the rest is ignored (no hang on huge output).
MAX_TEXT_CHARS = 200_000
#: Longest arithmetic expression and most syntax-tree nodes one side of a claim may have.
MAX_EXPR_CHARS = 200
MAX_EXPR_NODES = 80
#: Largest intermediate value (bits of numerator or denominator) the checker computes.
MAX_VALUE_BITS = 4096

_BARE_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One reasoning step: its text and its character span ``[start, end)`` in the completion."""

    index: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class StepScore:
    """A scored step and why it got its score."""

    step: Step
    score: float
    reason: str = ""


_STEP_MARKER = re.compile(r"(?im)^[ \t>*#_-]*step\s*\d+\b")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _spans(text: str, cuts: list[int]) -> list[Step]:
    steps: list[Step] = []
    bounds = [0, *cuts, len(text)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        start, end = _trimmed(text, start, end)
        if end > start:
            steps.append(Step(len(steps), text[start:end], start, end))
    return steps


def split_steps(text: str, mode: SplitMode = "auto") -> list[Step]:
    """Split reasoning into steps.

    ``"steps"`` cuts at ``Step n`` markers (``Step 1:``, ``**Step 2.**``, ``### Step 3``), text
    before the first marker being a step of its own; ``"lines"`` makes every non-blank line a
    step; ``"paragraphs"`` cuts at blank lines; ``"auto"`` uses markers when there are any and
    lines otherwise. Spans exclude surrounding whitespace.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if mode not in ("auto", "lines", "steps", "paragraphs"):
        raise ValueError(f"mode must be 'auto', 'lines', 'steps' or 'paragraphs', got {mode!r}")
    text = text[:MAX_TEXT_CHARS]
    if mode in ("auto", "steps"):
        cuts = [m.start() for m in _STEP_MARKER.finditer(text)]
        if cuts or mode == "steps":
            return _spans(text, cuts)
    if mode == "paragraphs":
        return _spans(text, [m.start() for m in _BLANK_LINE.finditer(text)])
    return _spans(text, [i for i, ch in enumerate(text) if ch == "\n"])


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


def spread_over_tokens(scores: Sequence[StepScore], offsets: Sequence[tuple[int, int]]) -> list[float]:
    """Per-token rewards: each step's score divided evenly among the tokens of that step.

    A token belongs to the step its character span overlaps most; tokens outside every step
    (whitespace between steps, special tokens with empty spans) get 0. A step that no token
    covers contributes nothing.
    """
    order = sorted(range(len(scores)), key=lambda i: scores[i].step.start)
    starts = [scores[i].step.start for i in order]
    owner: list[int | None] = []
    for start, end in offsets:
        best, best_overlap = None, 0
        # steps do not overlap, so only those starting before this token ends can overlap it
        j = bisect.bisect_left(starts, end) - 1
        while j >= 0:
            step = scores[order[j]].step
            overlap = min(end, step.end) - max(start, step.start)
            if overlap >= best_overlap and overlap > 0:
                best, best_overlap = order[j], overlap
            if step.end <= start:
                break
            j -= 1
        owner.append(best)
    counts = [0] * len(scores)
    for i in owner:
        if i is not None:
            counts[i] += 1
    return [0.0 if i is None else scores[i].score / counts[i] for i in owner]


def token_offsets(
    tokenizer: Any, text: str | None = None, token_ids: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Character spans of tokens: of ``token_ids`` as decoded, or of ``text`` as tokenized.

    With ``token_ids`` (what a policy generated — the ids a trainer assigns rewards to), spans
    come from decoding with a few tokens of context, so multi-byte characters split across tokens
    and leading-space conventions come out right; special tokens get empty spans. With ``text``
    only, a fast tokenizer's offset mapping is used.
    """
    if token_ids is not None:
        ids = [int(i) for i in token_ids]
        offsets: list[tuple[int, int]] = []
        position = 0
        window = 8
        for i in range(len(ids)):
            context = ids[max(0, i - window) : i]
            before = tokenizer.decode(context, skip_special_tokens=True)
            after = tokenizer.decode(context + [ids[i]], skip_special_tokens=True)
            grown = max(0, len(after) - len(before))
            offsets.append((position, position + grown))
            position += grown
        total = len(tokenizer.decode(ids, skip_special_tokens=True))
        if position != total:
            offsets = []
            previous = 0
            for i in range(len(ids)):
                length = len(tokenizer.decode(ids[: i + 1], skip_special_tokens=True))
                offsets.append((min(previous, length), length))
                previous = max(previous, length)
        return offsets
    if text is None:
        raise TypeError("token_offsets needs text or token_ids")
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(
            "this tokenizer gives no offset mapping: use a fast tokenizer, or pass token_ids= or offsets="
        )
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return [(int(a), int(b)) for a, b in encoded["offset_mapping"]]


# --------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------


class ProcessReward(abc.ABC):
    """Scores every step of a completion; a `Verifier` whose score aggregates the step scores.

    Subclasses implement `score_step`. ``aggregate`` turns step scores into the completion's
    score: ``"min"`` (a chain is as good as its weakest step), ``"mean"``, ``"last"`` or
    ``"product"``. The component is named ``name`` (``"process"``).
    """

    split: SplitMode = "auto"
    aggregate: Aggregate = "min"
    name: str = "process"

    @abc.abstractmethod
    def score_step(self, step: Step, problem: Problem | None) -> StepScore:
        """Score one step; must not raise on any text."""

    def step_scores(self, completion: str, problem: Problem | None = None) -> list[StepScore]:
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a str, got {type(completion).__name__}")
        return [self.score_step(step, problem) for step in split_steps(completion, self.split)]

    def __call__(self, completion: str, problem: Problem | None = None) -> Reward:
        return self._aggregate(self.step_scores(completion, problem))

    def _aggregate(self, scores: list[StepScore]) -> Reward:
        if not scores:
            return Reward.zero("no reasoning steps", {self.name: 0.0})
        values = [s.score for s in scores]
        if self.aggregate == "min":
            score = min(values)
        elif self.aggregate == "mean":
            score = sum(values) / len(values)
        elif self.aggregate == "last":
            score = values[-1]
        elif self.aggregate == "product":
            score = math.prod(values)
        else:
            raise ConfigError(f"unknown aggregate {self.aggregate!r}: use min, mean, last or product")
        info = {"step_scores": values, "step_reasons": [s.reason for s in scores]}
        return Reward(score, {self.name: score}, info)

    def token_rewards(
        self,
        completion: str,
        problem: Problem | None = None,
        *,
        tokenizer: Any = None,
        token_ids: Sequence[int] | None = None,
        offsets: Sequence[tuple[int, int]] | None = None,
    ) -> list[float]:
        """One reward per token of ``completion``; a step's tokens share its score evenly.

        Give ``offsets`` (character spans per token), or a ``tokenizer`` with the generated
        ``token_ids`` (which must decode to ``completion``), or a fast ``tokenizer`` alone.
        """
        if offsets is None:
            if tokenizer is None:
                raise TypeError("token_rewards needs offsets= or tokenizer=")
            if token_ids is not None:
                decoded = tokenizer.decode([int(i) for i in token_ids], skip_special_tokens=True)
                if decoded != completion:
                    raise ValueError("token_ids do not decode to the completion text")
            offsets = token_offsets(tokenizer, completion, token_ids)
        return spread_over_tokens(self.step_scores(completion, problem), offsets)


# --------------------------------------------------------------------------------------------
# Safe arithmetic
# --------------------------------------------------------------------------------------------


class _Unchecked(Exception):
    """The expression is outside what the checker evaluates (not an error in the claim)."""


def evaluate_arithmetic(expr: str) -> Fraction:
    """The exact value of a small arithmetic expression (numbers, ``+ - * / ^ **``, parentheses).

    The text is parsed with `ast` (parsing never runs code) and only number, unary and binary
    arithmetic nodes are accepted; sizes are bounded. Raises `ValueError` for anything else
    and `ZeroDivisionError` for a division by zero.
    """
    if not isinstance(expr, str):
        raise TypeError(f"expr must be a str, got {type(expr).__name__}")
    try:
        return _evaluate(expr)
    except _Unchecked as exc:
        raise ValueError(str(exc)) from None


@functools.lru_cache(maxsize=4096)
def _evaluate(expr: str) -> Fraction:
    source = expr.strip().replace("^", "**")
    if not source or len(source) > MAX_EXPR_CHARS:
        raise _Unchecked("empty or too long")
    if _BARE_NUMBER.match(source):
        return _bounded(Fraction(source))
    if _NOT_ARITHMETIC.search(source):
        raise _Unchecked("not plain arithmetic")
    if len(_OPERATOR_OR_NUMBER.findall(source)) > MAX_EXPR_NODES:
        raise _Unchecked("expression too large")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _Unchecked("not a valid expression") from None
    return _value(tree.body)


_NOT_ARITHMETIC = re.compile(r"[^0-9.+\-*/() \t]")
_OPERATOR_OR_NUMBER = re.compile(r"[\d.]+|[-+*/()]")


def _bounded(value: Fraction) -> Fraction:
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_VALUE_BITS:
        raise _Unchecked("value too large")
    return value


def _value(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, float):
            if not math.isfinite(node.value):
                raise _Unchecked("number out of range")
            return _bounded(Fraction(repr(node.value)))
        return _bounded(Fraction(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        inner = _value(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Add):
            return _bounded(left + right)
        if isinstance(node.op, ast.Sub):
            return _bounded(left - right)
        if isinstance(node.op, ast.Mult):
            return _bounded(left * right)
        if isinstance(node.op, ast.Div):
            return _bounded(left / right)  # ZeroDivisionError is the claim's problem
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
    raise _Unchecked(f"unsupported syntax ({type(node).__name__})")


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise _Unchecked("non-integer exponent")
    e = abs(exponent.numerator)
    size = max(base.numerator.bit_length(), base.denominator.bit_length())
    if e > 10_000 or size * e > MAX_VALUE_BITS:
        raise _Unchecked("power too large")
    return _bounded(base**exponent.numerator)


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArithmeticClaim:
    """``lhs op rhs`` found in a step; ``ok`` is True/False once checked.

    ``checked=False`` marks a numeric claim the checker could not evaluate (too long, too large,
    not plain arithmetic): ``ok`` is then False and ``reason`` says why; it never counts as true.
    """

    lhs: str
    op: str
    rhs: str
    ok: bool
    reason: str = ""
    checked: bool = True

    def __str__(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"


_LATEX_SUBS = [
    (re.compile(r"\\(?:times|cdot|ast)\b|[×·∙⋅✕]"), "*"),
    (re.compile(r"\\div\b|÷"), "/"),
    (re.compile(r"[−]"), "-"),
    (re.compile(r"\\approx\b|≃"), "≈"),
    (re.compile(r"\\left\s*([(\[])|\\right\s*([)\]])"), r"\1\2"),
    (re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}"), r"((\1)/(\2))"),
    (re.compile(r"\\text\s*\{([^{}]*)\}"), r" \1 "),
    (re.compile(r"\{,\}"), ""),
    (re.compile(r"(?<=\d),(?=\d{3}(?!\d))"), ""),
    (re.compile(r"\\[()\[\]]|\$"), " "),
    (re.compile(r"(?<![\d)])\*\*|\*\*(?![\d(])"), " "),
    (re.compile(r"\\[,;:! ]"), " "),
]
_SEGMENT = re.compile(r"(?:[0-9()^*/+\-=≈ \t]|\.(?=\d))+")
_RELATION = re.compile(r"(=|≈)")
_WORD_BEFORE = re.compile(r"([A-Za-z]+|%)\s*$")
_WORD_AFTER = re.compile(r"^\s*([A-Za-z]+|[%!^])")
_CONNECTIVES = {
    "of", "times", "by", "per", "plus", "minus", "over", "into", "divided", "multiplied",
    "x", "than", "squared", "cubed", "sqrt", "root", "log", "ln", "sin", "cos", "tan", "mod",
}
_MAGNITUDES = {
    "hundred", "thousand", "million", "billion", "trillion", "percent", "squared", "cubed",
    "dozen", "times", "factorial", "x", "hundredths", "tenths", "thousandths",
}
_OPEN_CONTEXT = set(" \t\n[\"'`“‘|<")
_CLOSE_CONTEXT = set(" \t\n.,;:?]\"'`”’|>")
_DECIMAL_LITERAL = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)$")


_UNICODE_DIGIT = re.compile(r"[^\x00-\x7f]")
_DOUBLE_EQUALS = re.compile(r"==+|:=|=:")


def _ascii_digit(match: re.Match[str]) -> str:
    """A Unicode decimal digit (``٣``, ``３``) as its ASCII digit; any other character unchanged."""
    ch = match.group(0)
    digit = unicodedata.decimal(ch, None)
    return str(digit) if digit is not None else ch


def _normalize_math_text(text: str) -> str:
    if not text.isascii():
        text = _UNICODE_DIGIT.sub(_ascii_digit, text)
    text = _DOUBLE_EQUALS.sub("=", text)  # "2+2==5" and "x := 3" claim equality too
    for pattern, repl in _LATEX_SUBS:
        text = pattern.sub(repl, text)
    return text.replace("{", "(").replace("}", ")")


def _strip_parens(side: str) -> str:
    side = side.strip()
    while side.startswith("(") and side.count("(") > side.count(")"):
        side = side[1:].strip()
    while side.endswith(")") and side.count(")") > side.count("("):
        side = side[:-1].strip()
    return side


def _sides_of(text: str, start: int, end: int) -> list[tuple[str, str, str]]:
    """The sides of one relation chain, with sides glued to non-arithmetic context dropped."""
    segment = text[start:end]
    parts = _RELATION.split(segment)
    sides, ops = parts[0::2], parts[1::2]
    if not ops:
        return []
    before = text[max(0, start - 64) : start]  # a window: context is local, and copies stay small
    first = sides[0].strip()
    glued_left = bool(segment) and not segment[0].isspace() and bool(before) and before[-1] not in _OPEN_CONTEXT
    prev_nonspace = before.rstrip()[-1:]
    word = _WORD_BEFORE.search(before[-40:])
    drop_first = (
        glued_left
        or not first
        or first[0] in "*/^+)"
        or (first[0] == "-" and (prev_nonspace.isalnum() or prev_nonspace in ")]}%!"))
        or (word is not None and word.group(1).lower() in _CONNECTIVES | {"%"})
        or (word is not None and word.group(1).lower() == "and" and _BARE_NUMBER.match(first) is not None)
    )
    after = text[end : end + 64]
    last = sides[-1].strip()
    glued_right = bool(segment) and not segment[-1].isspace() and bool(after) and after[0] not in _CLOSE_CONTEXT
    word_after = _WORD_AFTER.match(after[:40])
    drop_last = (
        glued_right
        or not last
        or last[-1] in "*/^+-("
        or (word_after is not None and word_after.group(1).lower() in _MAGNITUDES | {"%", "!", "^"})
    )
    chain: list[str] = []
    for i, side in enumerate(sides):
        if (i == 0 and drop_first) or (i == len(sides) - 1 and drop_last):
            chain.append("")
        else:
            chain.append(_strip_parens(side))
    return [(chain[i], op, chain[i + 1]) for i, op in enumerate(ops)]


def _rounds_to(value: Fraction, literal: str) -> bool:
    """Whether the decimal ``literal`` is ``value`` rounded (either half-way rule) or truncated."""
    decimals = len(literal.split(".")[1])
    scale = 10**decimals
    shown = Fraction(literal) * scale
    if shown.denominator != 1:
        return False
    x = value * scale
    low = x.numerator // x.denominator
    allowed = {low}
    if x - low >= Fraction(1, 2) or value < 0:
        allowed.add(low + 1)
    return shown.numerator in allowed


def _close(lhs_text: str, lhs: Fraction, rhs_text: str, rhs: Fraction, op: str) -> bool:
    if lhs == rhs:
        return True
    for text, exact in ((rhs_text.strip(), lhs), (lhs_text.strip(), rhs)):
        if _DECIMAL_LITERAL.match(text) and _rounds_to(exact, text):
            return True
    if op == "≈":
        return abs(lhs - rhs) <= max(abs(rhs), abs(lhs)) / 100
    return False


def find_arithmetic_claims(
    text: str, limit: int | None = None, *, include_unchecked: bool = False
) -> list[ArithmeticClaim]:
    """Every checkable arithmetic claim in ``text`` (the first ``limit``), checked.

    ``include_unchecked=True`` also returns the numeric claims that could not be evaluated (too
    long, too large, not plain arithmetic) with ``checked=False``, so a caller can refuse to
    count them as true. Claims glued to words (``20% of 50 = 10``, ``2x + 3 = 11``) are not
    attributable to arithmetic and are never returned.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    normalized = _normalize_math_text(text[:MAX_TEXT_CHARS])
    claims: list[ArithmeticClaim] = []
    for match in _SEGMENT.finditer(normalized):
        if limit is not None and len(claims) >= limit:
            break
        if "=" not in match.group() and "≈" not in match.group():
            continue
        if match.end() - match.start() > 20 * MAX_EXPR_CHARS:
            if include_unchecked and re.search(r"\d", match.group()):
                claims.append(ArithmeticClaim(match.group()[:40] + "…", "=", "…", False, "claim too long to check", False))
            continue
        for lhs, op, rhs in _sides_of(normalized, match.start(), match.end()):
            if not lhs or not rhs:
                continue
            claims.extend(_check_claim(lhs, op, rhs, include_unchecked))
    return claims if limit is None else claims[:limit]


def _check_claim(lhs: str, op: str, rhs: str, include_unchecked: bool) -> list[ArithmeticClaim]:
    try:
        left, right = _evaluate(lhs), _evaluate(rhs)
    except _Unchecked as exc:
        if include_unchecked:
            return [ArithmeticClaim(lhs, op, rhs, False, f"could not be checked: {exc}", False)]
        return []
    except ZeroDivisionError:
        return [ArithmeticClaim(lhs, op, rhs, False, "division by zero")]
    ok = _close(lhs, left, rhs, right, op)
    reason = "" if ok else f"{lhs} is {_show(left)}, not {rhs}"
    return [ArithmeticClaim(lhs, op, rhs, ok, reason)]


def _show(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator} (≈{float(value):.6g})"


@dataclass(frozen=True)
class ArithmeticChecker(ProcessReward):
    """Scores reasoning by its arithmetic claims; unchecked is never scored like correct.

    A step scores ``wrong_score`` when any of its claims is false, else ``unchecked_score`` when
    any claim could not be checked (not plain arithmetic the checker can evaluate: too long, too
    large; or past the ``max_claims`` budget), else ``correct_score`` when it makes claims and all
    hold. A step with no arithmetic claims is neutral: it scores 0 (no token credit) and is left
    out of the aggregate, so padding a completion with prose cannot move the reward; a completion
    with no claims at all earns ``no_claims_score`` (default: ``correct_score``, since it states
    nothing false; set it to 0 to make a policy show checkable work).

    The defaults (1, 0, 0) with ``aggregate="min"`` give 1 only for reasoning whose every claim
    was checked and holds; padding with true claims cannot raise it (2,000 true claims and one
    false or unchecked one still score 0). For a penalty-only shaping signal use
    ``correct_score=0, wrong_score=-1, unchecked_score=0``.
    """

    split: SplitMode = "auto"
    aggregate: Aggregate = "min"
    name: str = "process"
    correct_score: float = 1.0
    wrong_score: float = 0.0
    unchecked_score: float = 0.0
    #: Most claims checked per completion (a time bound); any claim past it counts as unchecked.
    max_claims: int = 2000
    #: Score of a completion that makes no arithmetic claim at all (``None``: ``correct_score``).
    no_claims_score: float | None = None

    def __post_init__(self) -> None:
        if self.aggregate not in ("min", "mean", "last", "product"):
            raise ValueError(f"aggregate must be min, mean, last or product, got {self.aggregate!r}")
        split_steps("", self.split)
        if self.max_claims < 1:
            raise ValueError("max_claims must be >= 1")
        for value in (self.correct_score, self.wrong_score, self.unchecked_score, self.no_claims_score or 0.0):
            if not math.isfinite(float(value)):
                raise ValueError("step scores must be finite")

    def score_step(self, step: Step, problem: Problem | None = None) -> StepScore:
        found = find_arithmetic_claims(step.text, self.max_claims + 1, include_unchecked=True)
        return self._score(step, found[: self.max_claims], over_budget=len(found) > self.max_claims)

    def _score(self, step: Step, claims: list[ArithmeticClaim], over_budget: bool = False) -> StepScore:
        wrong = [c for c in claims if c.checked and not c.ok]
        if wrong:
            return StepScore(step, float(self.wrong_score), "; ".join(c.reason for c in wrong))
        unchecked = [c for c in claims if not c.checked]
        if unchecked or over_budget:
            why = "; ".join(f"{c}: {c.reason}" for c in unchecked[:5]) or "claim budget exhausted"
            return StepScore(step, float(self.unchecked_score), f"unchecked claim(s): {why}")
        if not claims:
            return StepScore(step, 0.0, _NO_CLAIMS)
        return StepScore(step, float(self.correct_score), f"{len(claims)} claim(s) hold")

    def _checked(self, completion: str) -> tuple[list[StepScore], list[ArithmeticClaim]]:
        """Step scores and claims, checking at most ``max_claims`` claims in all (time bound)."""
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a str, got {type(completion).__name__}")
        scores: list[StepScore] = []
        claims: list[ArithmeticClaim] = []
        for step in split_steps(completion, self.split):
            budget = self.max_claims - len(claims)
            if budget <= 0:
                if _CLAIM_LIKE.search(step.text):  # a claim nobody checked is not a true one
                    scores.append(StepScore(step, float(self.unchecked_score), "unchecked: claim budget exhausted"))
                else:
                    scores.append(StepScore(step, 0.0, _NO_CLAIMS))
                continue
            found = find_arithmetic_claims(step.text, budget + 1, include_unchecked=True)
            claims.extend(found[:budget])
            scores.append(self._score(step, found[:budget], over_budget=len(found) > budget))
        return scores, claims

    def step_scores(self, completion: str, problem: Problem | None = None) -> list[StepScore]:
        return self._checked(completion)[0]

    def __call__(self, completion: str, problem: Problem | None = None) -> Reward:
        scores, claims = self._checked(completion)
        if not scores:
            return self._aggregate(scores)
        counted = [s for s in scores if s.reason != _NO_CLAIMS]
        if counted:
            reward = self._aggregate(counted)
            score = reward.score
        else:
            score = float(self.correct_score if self.no_claims_score is None else self.no_claims_score)
        info: dict[str, Any] = {
            "step_scores": [s.score for s in scores],
            "step_reasons": [s.reason for s in scores],
            "claims_checked": sum(1 for c in claims if c.checked),
            "claims_unchecked": sum(1 for c in claims if not c.checked),
            "wrong_claims": [str(c) for c in claims if c.checked and not c.ok][:20],
        }
        if not counted:
            info["reason"] = "no arithmetic claims to check"
        return Reward(score, {self.name: score}, info)


_NO_CLAIMS = "no arithmetic claims"
#: A numeric relation in text (what a budget-exhausted step may still claim).
_CLAIM_LIKE = re.compile(r"\d\s*(?:=|≈|==|:=)|(?:=|≈)\s*-?\d")
