"""Math answer verification: is the final answer in a completion equal to the gold answer?

>>> verify_math("... so the total is \\\\boxed{\\\\frac{1}{2}}", "0.5").score
1.0

How it decides, cheapest first:

1. **Extraction** (`extract_answer`, ``_math_extract``), first match wins: the last
   ``<answer>…</answer>`` block; the last ``\\boxed{}``/``\\fbox{}`` group (several *different*
   boxed answers are a hedge: 0; the same answer boxed twice is fine); the text after the last
   "Final Answer:" / "the (final) answer is" / "Answer:" marker or a ``####`` line; a bold
   ``**…**`` answer in the final paragraph; the last math span (``$$…$$``, ``\\[…\\]``, ``$…$``,
   ``\\(…\\)``) of the final paragraph; then, unless ``strict``, the last number outside math
   (never one pulled out of LaTeX that did not close, nor out of a ``\\boxed{`` left open).
   A gold written as a solution text (a box, a marker, ``$…$``) is read the same way (strict),
   and a labelled gold (``$AB = 5$``, ``\\frac{AD}{DC} = …``, ``V_1:V_2 = 3:8``) gives its value.
2. **Refusal** of oversized work (power towers, huge factorials, deep nesting, long strings)
   before anything is parsed: reward 0 and the reason in ``info``.
3. **Fast path** in this process, without sympy: plain numbers, fractions, mixed numbers,
   scientific notation, digit groups (``1,500``, ``1 500``, ``12,\\!345``), small integer powers,
   and sets, tuples, intervals and lists of them; multiple-choice letters; text answers; the
   hedge guard. It answers only where it is sure and defers the rest.
4. **Symbolic path** for everything else, inside a worker process killed when the
   verification has used ``timeout`` seconds of CPU time (default 1 s; CPU, not wall time, so a
   loaded machine does not turn right answers into timeouts; a wall-clock cap of
   ``max(10 × timeout, timeout + 5)`` s stops a worker that is blocked or starved; a cold
   worker's start-up is waited for and never charged; safe from any thread or event loop; see
   `thinkgym.verifiers.bounded`): LaTeX parsed by ``latex2sympy2_extended``,
   compared with sympy by the same structural rules (``_math_structure``); where our parser
   cannot read a leaf, math-verify's ``parse``/``verify`` (signal timeouts off) gets the pair.
   Model text is never ``eval``-ed, ``exec``-ed or ``sympify``-ed in the caller's process.

Grading rules (both paths; ``problem`` is the problem text, when given):

- **Unchecked is not correct**: unparseable on either side, timeout, oversized → 0 with the reason.
  When the *machinery* fails rather than the answer (the worker pool could not start within its
  start-up bound, or the wall-clock cap ended a comparison that had not used its CPU budget),
  the reward is still 0, but ``info["verification_failed"]`` is ``True`` and ``info["error"]``
  says what failed: a trainer or an evaluation should drop or retry such samples, not learn
  from them (a wrong answer never carries that flag).
- **Percent is a unit**, read one way only: ``59\\%`` ≡ ``59``, never 0.59.
- **Precision**: a terminating exact value must match exactly (``0.25`` ≡ ``1/4``;
  ``\\frac{327551}{1000}`` ≠ ``327.6``; a decimal gold is exact). A non-terminating exact value
  (``1/3``, ``\\sqrt 2``, ``\\pi``) and a decimal match when the decimal is its correct rounding
  to the digits written with at least 3 significant digits, either way round (``0.333`` ≡ ``1/3``,
  ``0.33`` ≢ ``1/3``, ``0.334`` ≢ ``1/3``; an integer such as ``141`` rounds ``45\\pi``). When the
  problem names a precision ("nearest tenth/hundredth/whole number/integer", "N decimal places",
  "N significant figures"), the prediction must be the gold rounded to it (half-up or half-even);
  a closed form (``16\\pi``) is then not accepted.
- **Degrees** are a unit (``60^\\circ`` ≡ ``60``). Degrees ⇄ radians only when the problem text
  is about angles (angle, degree, radian, ``\\angle``, ∠, a trigonometric function).
- **Relations** are true or false as a whole (``3 = 2`` ≢ ``2``; ``1 + 2 = 3`` ≡ ``3``).
  ``label = value`` compares the value. Inequalities compare as solution sets (``y \\ge -1`` ≡
  ``[-1, \\infty)``; ``-1 \\le y \\le 4`` ≡ ``y \\in [-1, 4]``; strictness matters); equations
  compare by solution set up to scaling (``2x = 4`` ≡ ``x = 2``).
- **Hedges earn 0**: several different boxed answers, ``2 or 3``, ``(B) or (C)``, ``B/C``,
  "either", a list of candidates, ``\\pm`` — when the gold is one value. A gold that is itself a
  set or list accepts its members in any order, joined by commas, "or" or "and".
- **Sets vs tuples**: sets and bare lists are unordered, tuples ordered. A gold ``(1, 2)`` is an
  ordered pair unless the problem is about an interval/inequality/domain/range, where
  ``1 < x < 2`` also matches; a closed bracket at infinity is wrong.
- **Choices**: ``B``, ``(B)``, ``\\text{(B)}``, ``\\textbf{(B)}``, ``B)``, ``Option B``, ``(B) 12``
  ≡ ``B``; a lower-case ``b`` only when the problem lists choices.
- **Units and text**: ``\\text{}`` units, ``\\$``, "dollars" are dropped (but ``25 m`` ≢
  ``25 m^2`` when both carry units); text answers compare case-insensitively without
  ``\\text{}`` wrappers, punctuation and articles.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

from thinkgym.core import Problem, Reward
from thinkgym.verifiers._math_extract import extract
from thinkgym.verifiers._math_normalize import (
    MAX_ANSWER_CHARS,
    choice_letter,
    clean_answer,
    oversize_reason,
    plain_text,
)
from thinkgym.verifiers._math_numbers import (
    Num,
    matches_precision,
    number_word,
    numbers_equal,
    parse_number,
    rounded,
)
from thinkgym.verifiers._math_rules import (
    NO_CONTEXT,
    ProblemContext,
    gold_answer,
    hedge_reason,
    problem_context,
)
from thinkgym.verifiers._math_structure import (
    FastOps,
    Leaf,
    NeedSymbolic,
    Node,
    Seq,
    canonical_text,
    equal,
    is_scalar,
    parse,
)
from thinkgym.verifiers.bounded import BoundedPool, BoundedResult

__all__ = [
    "MathOptions",
    "MathVerifier",
    "averify_math",
    "extract_answer",
    "math_equal",
    "verify_math",
    "verify_math_batch",
    "math_worker_pool",
]

_SYMBOLIC_MODULE = "thinkgym.verifiers._math_sympy"


@dataclass(frozen=True)
class MathOptions:
    """Settings of math verification (every public function takes them as keyword arguments).

    ``strict``: no last-number fallback. ``last_number_fallback``: overrides that choice either
    way. ``timeout``: CPU seconds one verification may use, this thread's work and its symbolic
    comparisons' in the worker process together (the worker is killed when they are spent).
    CPU, not wall time, so a check that a loaded machine slows down is not scored as a timeout;
    a wall-clock cap of ``max(10 × timeout, timeout + 5)`` s per comparison stops a worker that
    is blocked or starved (reported as ``info["verification_failed"]``, not as a wrong answer).
    The start-up of a cold worker is never charged: the first symbolic comparison waits for it
    (up to the pool's ``startup_timeout``, 60 s); call ``math_worker_pool().warm()`` at start-up
    to pay it before the first reward. ``rel_tol``: an extra relative tolerance for a
    decimal standing for a non-terminating exact value (default 0: the precision rule alone).
    ``think_tag``: if set, only text after ``</think_tag>`` is searched (without it, text after a
    ``</think>`` is preferred when it holds an answer). ``allow_multiple_answers``: accept a
    completion whose earlier boxed answers differ
    from the last one. ``max_completion_chars``/``max_answer_chars``: longer inputs earn 0.
    ``cache``: remember symbolic verdicts per (answer, gold) pair in this process (a GRPO group
    repeats the same answers; the verdict is deterministic, so it is safe to reuse).
    """

    strict: bool = False
    last_number_fallback: bool | None = None
    timeout: float = 1.0
    rel_tol: float = 0.0
    think_tag: str | None = None
    allow_multiple_answers: bool = False
    max_completion_chars: int = 262_144
    max_answer_chars: int = MAX_ANSWER_CHARS
    cache: bool = True

    @classmethod
    def of(cls, options: dict[str, Any]) -> MathOptions:
        if not options:
            return _DEFAULT_OPTIONS
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown math verification option(s) {unknown}; known: {sorted(known)}")
        opts = replace(cls(), **options)
        if not (isinstance(opts.timeout, (int, float)) and opts.timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {opts.timeout!r}")
        return opts


_DEFAULT_OPTIONS = MathOptions()

# ---------------------------------------------------------------------------------------------
# The worker pool
# ---------------------------------------------------------------------------------------------

_POOLS: dict[int, BoundedPool] = {}
_POOLS_LOCK = threading.Lock()


def math_worker_pool(size: int = 1) -> BoundedPool:
    """The shared pool of ``size`` sympy workers (created on first use, reused afterwards).

    Call ``math_worker_pool().warm()`` at start-up to pay the worker's import cost up front.
    """
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None:
            pool = _POOLS[size] = BoundedPool(
                size, preload=(_SYMBOLIC_MODULE,), initializer=f"{_SYMBOLIC_MODULE}:warm_up", memory_limit_mb=4096
            )
        return pool


_STARTED = False


def _start_default_pool() -> None:
    """Start the shared worker's template in the background (a ``Popen``, no waiting), once per
    process: on import of this module and again on the first verification, so the first
    symbolic call of a fresh process usually finds it ready. ``THINKGYM_MATH_WORKER=lazy``
    defers the start to the first call that needs the worker."""
    global _STARTED
    if not _STARTED:
        _STARTED = True
        try:
            math_worker_pool().start()
        except Exception:  # noqa: BLE001 - a failed early start is retried by the first real call
            pass


def _symbolic_call(
    pred: str,
    gold: str,
    rel_tol: float,
    decimal_comma: bool,
    precision: tuple[str, int] | None = None,
    intervals: bool = False,
) -> bool:
    """Runs in the worker: import there, never here."""
    from thinkgym.verifiers._math_sympy import symbolic_equal

    return symbolic_equal(pred, gold, rel_tol, decimal_comma, precision=precision, intervals=intervals)


# ---------------------------------------------------------------------------------------------
# Judging two cleaned answers
# ---------------------------------------------------------------------------------------------

_TEXT_ANSWER_RE = re.compile(r"^[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f' .\-]*$")
_MATH_WORD_RE = re.compile(
    r"^(?:sin|cos|tan|sec|csc|cot|log|ln|exp|sqrt|pi|inf|infty|infinity)$", re.I
)


def _is_text_answer(gold: str) -> bool:
    """A gold answer that is words (``Monday``, ``no solution``), not a formula."""
    if not _TEXT_ANSWER_RE.match(gold):
        return False
    words = gold.split()
    if len(words) == 1 and words[0].lower() in _SHORT_TEXT_WORDS:
        return True
    return any(len(w) >= 3 for w in words) and not all(_MATH_WORD_RE.match(w) for w in words)


_SHORT_TEXT_WORDS = {"yes", "no", "none", "true", "false", "odd", "even"}


@dataclass(frozen=True)
class _Judgement:
    """An answer decided in-process (``equal`` set) or handed to the worker (``symbolic`` set)."""

    equal: bool | None
    reason: str
    path: str
    symbolic: tuple[str, str, float, bool] | None = None
    failed: bool = False  # the machinery failed (no worker, a stalled one): no verdict on the answer


@lru_cache(maxsize=4096)
def _gold_number(gold: str) -> Num | None:
    return parse_number(gold)


@lru_cache(maxsize=4096)
def _gold_node(gold: str) -> Node:
    return parse(gold)


def _judge_fast(pred: str, gold: str, opts: MathOptions, ctx: ProblemContext = NO_CONTEXT) -> _Judgement:
    if not pred:
        return _Judgement(False, "empty answer", "fast")
    gold_node = _gold_node(gold)
    letter = _gold_letter(gold)
    hedge = hedge_reason(pred, _is_single(gold_node), letter is not None, gold)
    if hedge and "'or'" in hedge:
        same = _one_answer_repeated(pred)  # "6 or 6" states one answer
        if same is not None:
            pred, hedge = same, None
    if hedge:
        return _Judgement(False, hedge, "fast")
    gold_number = _gold_number(gold)
    if ctx.precision is not None and _closed_form(pred) and (gold_number is not None or _closed_form(gold)):
        return _Judgement(False, f"the problem asks for a value rounded to {ctx.precision[1]} {ctx.precision[0]}", "fast")
    if gold_number is not None:
        pred_number = parse_number(pred) or number_word(pred)
        if pred_number is not None:  # the common case: two plain numbers
            return _judge_numbers(pred_number, gold_number, opts, ctx)
    if letter is not None:
        got = choice_letter(pred)
        if got is not None and len(pred.strip("() .")) == 1 and pred.strip("() .").islower() and not ctx.choices:
            got = None  # a lower-case "b" names a choice only when the problem lists choices
        return _Judgement(got == letter, f"choice {got or '?'} vs {letter}", "choice")
    if _is_text_answer(gold):
        same = plain_text(pred) == plain_text(gold)
        return _Judgement(same, "text answers " + ("match" if same else "differ"), "text")
    decimal_comma = isinstance(gold_node, Leaf) and _gold_number(gold_node.text) is not None
    pred_node = parse(pred, decimal_comma=decimal_comma)
    if isinstance(pred_node, Seq) and pred_node.kind in ("list", "set") and len(pred_node.items) > 1 and is_scalar(gold_node):
        return _Judgement(False, f"several candidates ({len(pred_node.items)}) for a single answer", "fast")
    try:
        same = equal(pred_node, gold_node, FastOps(opts.rel_tol, ctx.intervals))
    except NeedSymbolic:
        key = (pred, gold, opts.rel_tol, decimal_comma, ctx.precision, ctx.intervals)
        return _Judgement(None, "", "symbolic", key)
    except Exception as exc:  # noqa: BLE001 - model output must never raise
        return _Judgement(False, f"could not compare: {type(exc).__name__}", "fast")
    if not same and ctx.precision is not None and _gold_number(gold) is None:
        return _Judgement(None, "", "symbolic", (pred, gold, opts.rel_tol, decimal_comma, ctx.precision, ctx.intervals))
    return _Judgement(same, "equal" if same else "not equal", "fast")


def _judge_numbers(pred: Num, gold: Num, opts: MathOptions, ctx: ProblemContext) -> _Judgement:
    literal_off_precision = gold.kind in ("int", "decimal") and ctx.precision is not None and (
        gold.value not in rounded(gold.value, ctx.precision)
    )
    if ctx.precision is not None:
        same = matches_precision(pred, gold.value, ctx.precision)
        if same or not literal_off_precision:
            kind, n = ctx.precision
            return _Judgement(same, f"{'equal' if same else 'not equal'} to {n} {kind}", "fast")
    # no stated precision, or a gold written as a number that the stated precision would change:
    # the rounded gold counts, and so does the gold itself ("rounded to the nearest ten it is 50;
    # what is the largest such number?" → 54: the phrase is the problem's subject)
    same = numbers_equal(pred, gold, opts.rel_tol)
    return _Judgement(same, "equal" if same else "not equal", "fast")


@lru_cache(maxsize=4096)
def _gold_letter(gold: str) -> str | None:
    return choice_letter(gold, gold=True)


def _one_answer_repeated(pred: str) -> str | None:
    """The answer of ``a or a`` (the same text on every side of "or"), else ``None``."""
    node = parse(pred)
    if isinstance(node, Seq) and node.kind == "or" and node.items:
        texts = {canonical_text(i.text) if isinstance(i, Leaf) else repr(i) for i in node.items}
        first = node.items[0]
        if len(texts) == 1 and isinstance(first, Leaf):
            return first.text
    return None


def _is_single(node: Node) -> bool:
    """A gold that is one value (so ``2 or 3`` and ``±`` against it are hedges)."""
    return is_scalar(node) or (isinstance(node, Seq) and node.kind == "paren")


def _angle_alternative(pred: str, gold: str) -> tuple[str, str] | None:
    """For a problem about angles: the pair with the plain-number side read as degrees and
    written in radians (``60`` or ``60^\\circ`` vs ``\\frac{\\pi}{3}``), or ``None``."""
    if "\\pi" in gold and "\\pi" not in pred and parse_number(pred) is not None:
        return f"\\frac{{{pred} \\pi}}{{180}}", gold
    if "\\pi" in pred and "\\pi" not in gold and parse_number(gold) is not None:
        return pred, f"\\frac{{{gold} \\pi}}{{180}}"
    return None


_UNIT_POWER_RE = re.compile(r"(?:[A-Za-z}]\s*\^\s*\{?\s*([23])\s*\}?)|([²³])|\b(square|sq|cubic|cu)\b", re.I)
_UNIT_START_RE = re.compile(r"\d\s*(?:\\(?:text|mathrm|mbox)\s*\{\s*[A-Za-z]|[A-Za-z])")


def _unit_power(raw: str) -> int | None:
    """The power of the unit an answer as written carries (1 for ``m``, 2 for ``m^2``/``square
    metres``), or ``None`` when it carries none."""
    if not _UNIT_START_RE.search(raw):
        return None
    match = _UNIT_POWER_RE.search(raw)
    if not match:
        return 1
    power = match.group(1) or match.group(2) or match.group(3).lower()
    return {"2": 2, "²": 2, "square": 2, "sq": 2}.get(power, 3)


def _units_conflict(raw_pred: str, raw_gold: str, pred: str, gold: str) -> bool:
    """Both answers are numbers with units, and the units' powers differ (``25 m`` vs ``25 m^2``)."""
    if parse_number(pred) is None or parse_number(gold) is None:
        return False
    p, g = _unit_power(raw_pred), _unit_power(raw_gold)
    return p is not None and g is not None and p != g


_COMMAND_RE = re.compile(r"\\[A-Za-z]+")


def _closed_form(pred: str) -> bool:
    """A constant written in closed form (``16\\pi``, ``\\sqrt{2}``), not a plain number."""
    return "\\" in pred and parse_number(pred) is None and not re.search(r"[A-Za-z]", _COMMAND_RE.sub("", pred))


def _finish(judgement: _Judgement, result: BoundedResult | None) -> _Judgement:
    if judgement.symbolic is None:
        return judgement
    assert result is not None
    if result.ok:
        same = bool(result.value)
        return _Judgement(same, "equal" if same else "not equal", "symbolic")
    if result.inconclusive:  # no worker could start, or the wall-clock cap stopped a starved one
        return _Judgement(False, f"verification failed: {result.error}", "symbolic", failed=True)
    if result.status == "timeout":
        return _Judgement(False, f"symbolic comparison {result.error}", "symbolic")
    if result.status == "died":
        return _Judgement(False, f"symbolic worker {result.error}", "symbolic")
    return _Judgement(False, f"symbolic comparison failed: {result.error}", "symbolic")


_VERDICTS: OrderedDict[tuple, bool] = OrderedDict()
_VERDICTS_LOCK = threading.Lock()
_VERDICTS_SIZE = 8192


def _cached_verdict(key: tuple) -> bool | None:
    with _VERDICTS_LOCK:
        verdict = _VERDICTS.get(key)
        if verdict is not None:
            _VERDICTS.move_to_end(key)
        return verdict


def _remember(key: tuple, result: BoundedResult) -> None:
    if not result.ok:  # timeouts and crashes may be load-dependent: never cached
        return
    with _VERDICTS_LOCK:
        _VERDICTS[key] = bool(result.value)
        if len(_VERDICTS) > _VERDICTS_SIZE:
            _VERDICTS.popitem(last=False)


class _CpuBudget:
    """What is left of ``MathOptions.timeout`` for one verification, in CPU seconds: this thread's
    in-process work plus the worker's CPU time on each symbolic comparison. Wall time is not
    counted (a loaded machine makes a check slower, not more expensive), nor is the start-up of
    a cold worker."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._thread_start = time.thread_time()
        self._worker = 0.0

    def left(self) -> float:
        return self.seconds - (time.thread_time() - self._thread_start) - self._worker

    def charge(self, result: BoundedResult) -> None:
        if result.cpu is not None:
            self._worker += result.cpu
        elif result.status != "unavailable":  # no CPU reading (not Linux): wall time stands in
            self._worker += result.elapsed


def _judge(
    pred: str,
    gold: str,
    opts: MathOptions,
    pool: BoundedPool | None = None,
    budget: _CpuBudget | None = None,
    ctx: ProblemContext = NO_CONTEXT,
) -> _Judgement:
    judgement = _judge_fast(pred, gold, opts, ctx)
    if judgement.symbolic is None:
        return judgement
    if opts.cache:
        verdict = _cached_verdict(judgement.symbolic)
        if verdict is not None:
            return _Judgement(verdict, "equal" if verdict else "not equal", "symbolic-cached")
    budget = budget or _CpuBudget(opts.timeout)
    pool = pool or math_worker_pool()
    # CPU seconds; the start-up of a cold pool is waited for, not charged (see bounded.py)
    result = pool.call(_symbolic_call, *judgement.symbolic, timeout=max(budget.left(), 0.01))
    budget.charge(result)
    if opts.cache:
        _remember(judgement.symbolic, result)
    return _finish(judgement, result)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _gold_text(gold: Any) -> str:
    if isinstance(gold, str):
        return gold
    if isinstance(gold, bool) or not isinstance(gold, (int, float, Fraction)):
        raise TypeError(f"gold answer must be a str or a number, got {type(gold).__name__}")
    return str(gold)


def _problem_text(problem: Any) -> str | None:
    if problem is None or isinstance(problem, str):
        return problem
    if isinstance(problem, Problem):
        return problem.prompt if isinstance(problem.prompt, str) else None
    raise TypeError(f"problem must be a str, a Problem or None, got {type(problem).__name__}")


@dataclass(frozen=True)
class _Prepared:
    """A completion made ready for judging, or already decided (``reward`` set)."""

    reward: Reward | None = None
    pred: str = ""
    gold: str = ""
    info: dict[str, Any] | None = None
    others: tuple[str, ...] = ()
    ctx: ProblemContext = NO_CONTEXT
    alternative: tuple[str, str] | None = None  # degrees read as radians, for angle problems


def _check_types(completion: Any, gold: Any) -> None:
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    _gold_text(gold)


@lru_cache(maxsize=4096)
def _prepared_gold(gold_raw: str) -> tuple[str, str, str | None]:
    """``(raw final answer, cleaned, refusal)`` of a gold (cached: a GRPO group shares its gold)."""
    raw = gold_answer(gold_raw) if len(gold_raw) <= 100_000 else gold_raw
    clean = clean_answer(raw) if len(raw) <= MAX_ANSWER_CHARS * 4 else raw
    if not clean:
        return raw, clean, "the gold answer is empty"
    reason = oversize_reason(clean, max(MAX_ANSWER_CHARS, len(clean)))
    return raw, clean, (f"gold answer refused: {reason}" if reason else None)


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _invalid_text(text: str) -> str | None:
    """Why ``text`` is not valid text to grade (NUL bytes, lone surrogates), or ``None``."""
    if "\x00" in text:
        return "contains NUL bytes"
    if not text.isascii() and _SURROGATE_RE.search(text):
        return "is not valid Unicode (lone surrogates)"
    return None


def _vote_key(pred: str) -> str:
    """One spelling per value for majority voting (maj@k reads ``info["normalized"]``):
    ``0.5``, ``1/2`` and ``\\frac{1}{2}`` all give ``1/2``; other answers their canonical text."""
    number = parse_number(pred)
    if number is not None:
        return str(number.value) + ("%" if number.percent else "")
    return canonical_text(pred)


def _prepare(completion: str, gold: Any, opts: MathOptions, problem: str | None = None) -> _Prepared:
    gold_raw = _gold_text(gold)
    if len(completion) > opts.max_completion_chars:
        return _Prepared(_zero(f"refused: completion of {len(completion)} characters exceeds the limit of "
                               f"{opts.max_completion_chars}", None, "none"))
    invalid = _invalid_text(completion)
    if invalid:
        return _Prepared(_zero(f"refused: the completion {invalid}", None, "none"))
    if _invalid_text(gold_raw):
        return _Prepared(_zero(f"refused: the gold answer {_invalid_text(gold_raw)}", None, "none"))
    found = extract(
        completion, strict=opts.strict, last_number_fallback=opts.last_number_fallback, think_tag=opts.think_tag
    )
    if found.answer is None:
        return _Prepared(_zero(found.error or "no final answer found", None, found.source))
    if len(found.answer) > opts.max_answer_chars:
        reason = f"refused: answer of {len(found.answer)} characters exceeds the limit of {opts.max_answer_chars}"
        return _Prepared(_zero(reason, found.answer[:500], found.source))
    pred = clean_answer(found.answer)
    gold_final, gold_clean, gold_refusal = _prepared_gold(gold_raw)
    info = {"extracted": found.answer[:500], "normalized": _vote_key(pred)[:500], "source": found.source,
            "gold": gold_clean[:500]}
    reason = oversize_reason(pred, opts.max_answer_chars)
    if reason:
        return _Prepared(_zero(f"refused: {reason}", found.answer, found.source))
    if gold_refusal:
        return _Prepared(_zero(gold_refusal, found.answer, found.source))
    ctx = problem_context(problem)
    if _units_conflict(found.answer, gold_final, pred, gold_clean):
        return _Prepared(_zero("units differ (the number is right, its unit's power is not)", found.answer, found.source))
    alternative = _angle_alternative(pred, gold_clean) if ctx.angles else None
    others: tuple[str, ...] = ()
    if not opts.allow_multiple_answers:
        # an over-long earlier answer stays raw, is refused by the size check and so disagrees
        cleaned = [clean_answer(o) if len(o) <= opts.max_answer_chars else o for o in found.others]
        others = tuple(dict.fromkeys(o for o in cleaned if o and o.replace(" ", "") != pred.replace(" ", "")))
    return _Prepared(None, pred, gold_clean, info, others, ctx, alternative)


def _prepare_safely(completion: str, gold: Any, opts: MathOptions, problem: str | None = None) -> _Prepared:
    try:
        return _prepare(completion, gold, opts, problem)
    except Exception as exc:  # noqa: BLE001 - model output must never raise
        return _Prepared(_zero(f"could not verify: {type(exc).__name__}", None, "none"))


def _zero(reason: str, extracted: str | None, source: str) -> Reward:
    return Reward(0.0, {"accuracy": 0.0}, {"extracted": extracted, "reason": reason, "error": reason, "source": source})


def _reward(prepared: _Prepared, judgement: _Judgement) -> Reward:
    score = 1.0 if judgement.equal else 0.0
    info = dict(prepared.info or {})
    info.update(reason=judgement.reason, path=judgement.path)
    if not judgement.equal:
        info["error"] = judgement.reason
    if judgement.failed:
        info["verification_failed"] = True
    return Reward(score, {"accuracy": score}, info)


def _verify_prepared(
    prepared: _Prepared, opts: MathOptions, pool: BoundedPool | None, budget: _CpuBudget | None = None
) -> Reward:
    if prepared.reward is not None:
        return prepared.reward
    ctx = prepared.ctx
    budget = budget or _CpuBudget(opts.timeout)
    for other in prepared.others[:8]:  # an earlier final answer must agree with the last one
        agrees = None if oversize_reason(other, opts.max_answer_chars) else _judge(other, prepared.pred, opts, pool, budget)
        if agrees is not None and agrees.equal:
            continue
        if _lists_several(prepared.gold):  # "x = \\boxed{2} or x = \\boxed{3}" for the gold "2, 3"
            combined = ", ".join((*prepared.others[:8], prepared.pred))
            if not oversize_reason(combined, opts.max_answer_chars):
                together = _judge(combined, prepared.gold, opts, pool, budget, ctx)
                if together.equal:
                    return _reward(replace(prepared, pred=combined), together)
        if agrees is not None and agrees.failed:  # not known to differ: no hedge verdict either
            return _reward(prepared, agrees)
        reason = f"hedge: several different final answers ({other[:60]!r} and {prepared.pred[:60]!r})"
        return _reward(prepared, _Judgement(False, reason, "fast"))
    judgement = _judge(prepared.pred, prepared.gold, opts, pool, budget, ctx)
    if not judgement.equal and prepared.alternative is not None:
        converted = _judge(*prepared.alternative, opts, pool, budget, ctx)
        if converted.equal:
            judgement = replace(converted, reason="equal (degrees read as radians: the problem is about angles)")
        elif converted.failed and not judgement.failed:  # the other reading could not be checked
            judgement = converted
    return _reward(prepared, judgement)


def _lists_several(gold: str) -> bool:
    """A gold answer that is a set or list of several values."""
    node = _gold_node(gold)
    return isinstance(node, Seq) and node.kind in ("set", "list", "or") and len(node.items) > 1


def verify_math(completion: str, gold: Any, *, problem: str | Problem | None = None, **options: Any) -> Reward:
    """Reward 1 if the final answer in ``completion`` equals ``gold``, else 0 (with the reason).

    ``gold`` may be a bare answer, a labelled one (``$AB = 5$``) or a whole solution text (its
    final answer is extracted the way a completion's is). ``problem`` (the problem text) enables
    the rules that depend on it: a stated precision, degrees ⇄ radians, open intervals, lower-case
    choice letters. ``components["accuracy"]`` holds the score; ``info`` holds the extracted and
    normalized answers, where the answer was found, which path decided and why.
    Options: see `MathOptions`. Never raises on model output; raises `TypeError` for non-string input.
    """
    opts = MathOptions.of(options)
    budget = _CpuBudget(opts.timeout)
    _check_types(completion, gold)
    _start_default_pool()
    problem_text = _problem_text(problem)
    try:
        return _verify_prepared(_prepare(completion, gold, opts, problem_text), opts, None, budget)
    except Exception as exc:  # noqa: BLE001 - model output must never raise
        return _zero(f"could not verify: {type(exc).__name__}: {str(exc)[:200]}", None, "none")


async def averify_math(completion: str, gold: Any, *, problem: str | Problem | None = None, **options: Any) -> Reward:
    """`verify_math` for asyncio code: the bounded wait happens in a thread, the loop keeps running."""
    import asyncio

    return await asyncio.to_thread(verify_math, completion, gold, problem=problem, **options)


def math_equal(prediction: str, gold: Any, *, problem: str | Problem | None = None, **options: Any) -> bool:
    """Whether two answers (not whole completions) are mathematically the same."""
    if not isinstance(prediction, str):
        raise TypeError(f"prediction must be a str, got {type(prediction).__name__}")
    opts = MathOptions.of(options)
    ctx = problem_context(_problem_text(problem))
    if _invalid_text(prediction) or _invalid_text(_gold_text(gold)):
        return False
    pred = clean_answer(prediction) if len(prediction) <= opts.max_answer_chars else prediction
    gold_final, gold_clean, gold_refusal = _prepared_gold(_gold_text(gold))
    if gold_refusal or len(pred) > opts.max_answer_chars or oversize_reason(pred, opts.max_answer_chars):
        return False
    if _units_conflict(prediction, gold_final, pred, gold_clean):
        return False
    try:
        if _judge(pred, gold_clean, opts, ctx=ctx).equal:
            return True
        alternative = _angle_alternative(pred, gold_clean) if ctx.angles else None
        return alternative is not None and bool(_judge(*alternative, opts, ctx=ctx).equal)
    except Exception:  # noqa: BLE001 - model output must never raise
        return False


def extract_answer(completion: str, **options: Any) -> str | None:
    """The final answer text of ``completion`` (cleaned; the last one if several), or ``None``."""
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    opts = MathOptions.of(options)
    found = extract(
        completion[: opts.max_completion_chars],
        strict=opts.strict,
        last_number_fallback=opts.last_number_fallback,
        think_tag=opts.think_tag,
    )
    if found.answer is None or len(found.answer) > opts.max_answer_chars:
        return None
    return clean_answer(found.answer)


def verify_math_batch(
    completions: Sequence[str],
    golds: Sequence[Any],
    *,
    problems: Sequence[str | Problem | None] | None = None,
    workers: int | None = None,
    **options: Any,
) -> list[Reward]:
    """`verify_math` over many pairs, results in order; symbolic work spread over ``workers``.

    Fast-path pairs are answered in this process; the rest run in a pool of worker processes.
    A worker that overruns ``timeout`` or dies is replaced and only its own pair earns 0 (with
    the reason in ``info``). ``problems``, if given, holds one problem text per pair.
    """
    if len(completions) != len(golds):
        raise ValueError(f"{len(completions)} completions but {len(golds)} gold answers")
    if problems is not None and len(problems) != len(golds):
        raise ValueError(f"{len(problems)} problems but {len(golds)} gold answers")
    opts = MathOptions.of(options)
    size = workers if workers is not None else max(1, min(4, (os.cpu_count() or 1)))
    pool = math_worker_pool(size)
    for completion, gold in zip(completions, golds, strict=True):
        _check_types(completion, gold)
    texts = [_problem_text(p) for p in problems] if problems is not None else [None] * len(golds)
    prepared = [_prepare_safely(c, g, opts, t) for c, g, t in zip(completions, golds, texts, strict=True)]
    results: list[Reward | None] = [None] * len(prepared)
    pending: list[int] = []
    judgements: dict[int, _Judgement] = {}
    for i, item in enumerate(prepared):
        if item.reward is not None:
            results[i] = item.reward
        elif item.others or item.alternative is not None:
            results[i] = _verify_prepared(item, opts, pool)
        else:
            judgement = _judge_fast(item.pred, item.gold, opts, item.ctx)
            if judgement.symbolic is None:
                results[i] = _reward(item, judgement)
            else:
                judgements[i] = judgement
                pending.append(i)
    # per pair: ``timeout`` s of the worker's CPU; a cold pool's start-up is waited for, not charged
    outcomes = pool.map(_symbolic_call, [judgements[i].symbolic for i in pending], timeout=opts.timeout)  # type: ignore[misc]
    for i, outcome in zip(pending, outcomes, strict=False):
        results[i] = _reward(prepared[i], _finish(judgements[i], outcome))
    return [r for r in results if r is not None]


class MathVerifier:
    """A `Verifier` for math problems: ``MathVerifier(strict=True)(completion, problem)``.

    Uses ``problem.answer`` as the gold answer and ``problem.prompt`` as the problem text (for
    the rules that depend on it: stated precision, degrees, intervals, choice letters);
    picklable (it holds only its options).
    """

    def __init__(self, **options: Any):
        self.options = MathOptions.of(options)

    def __call__(self, completion: str, problem: Problem) -> Reward:
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
        return verify_math(completion, problem.answer, problem=problem, **_as_kwargs(self.options))

    def __repr__(self) -> str:
        changed = {k: v for k, v in _as_kwargs(self.options).items() if getattr(MathOptions(), k) != v}
        return f"MathVerifier({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MathVerifier) and other.options == self.options

    def __hash__(self) -> int:
        return hash(self.options)


def _as_kwargs(opts: MathOptions) -> dict[str, Any]:
    return {f.name: getattr(opts, f.name) for f in fields(opts)}


if os.environ.get("THINKGYM_MATH_WORKER", "").lower() != "lazy":
    _start_default_pool()
