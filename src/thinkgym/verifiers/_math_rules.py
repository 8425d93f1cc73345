"""The grading rules that depend on more than two answers: the problem text, the gold's form, hedges.

Pure string work (no sympy), run in the caller's process, linear time.

- `ProblemContext` reads what the problem text implies: a stated precision ("to the nearest
  tenth", "3 significant figures"), whether it is about angles (degrees ⇄ radians allowed),
  about intervals (``(1, 2)`` may be an open interval), or lists choices (a lower-case ``b``
  may name choice B).
- `gold_answer` extracts the final answer from a gold written as a solution text (``\\boxed``,
  "the answer is", ``$…$``), the same way as from a completion.
- `hedge_reason` says why a prediction hedges (``2 or 3``, ``(B) or (C)``, ``B/C``, "either",
  ``\\pm`` against a single gold value); a hedge earns 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from thinkgym.verifiers._math_extract import extract
from thinkgym.verifiers._math_numbers import stated_precision

__all__ = ["ProblemContext", "problem_context", "gold_answer", "hedge_reason", "choice_letters", "has_degree_mark"]

_ANGLE_RE = re.compile(
    r"\b(?:angles?|degrees?|radians?|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan)\b|\\angle|∠|°|\\circ|"
    r"\\(?:sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan)(?![A-Za-z])",
    re.I,
)
_INTERVAL_RE = re.compile(r"\b(?:intervals?|inequalit(?:y|ies)|domain|range|interval notation)\b", re.I)
_CHOICES_RE = re.compile(r"\(\s*([A-E])\s*\)|(?:^|\s)([A-E])[.)]\s|\\textbf\{\s*\(?([A-E])\)?")


@dataclass(frozen=True)
class ProblemContext:
    """What the problem text implies for grading (all off when there is no problem text)."""

    precision: tuple[str, int] | None = None
    angles: bool = False
    intervals: bool = False
    choices: bool = False


NO_CONTEXT = ProblemContext()


@lru_cache(maxsize=2048)
def problem_context(problem: str | None) -> ProblemContext:
    """Read the grading context from a problem text (cached: a GRPO group shares its problem)."""
    if not problem or not isinstance(problem, str):
        return NO_CONTEXT
    text = problem[-20_000:]
    return ProblemContext(
        precision=stated_precision(text),
        angles=bool(_ANGLE_RE.search(text)),
        intervals=bool(_INTERVAL_RE.search(text)),
        choices=len({next(g for g in m.groups() if g) for m in _CHOICES_RE.finditer(text)}) >= 2,
    )


_SOLUTION_HINT_RE = re.compile(r"\\boxed|\\fbox|<answer>|####|\$|\\\(|\\\[|\banswer\b|\*\*", re.I)


@lru_cache(maxsize=4096)
def gold_answer(gold: str) -> str:
    """The final answer of a gold: the gold itself, or, for a solution text, what extraction finds.

    A gold counts as a solution text when it holds a box, an answer marker or math delimiters;
    it is read with the completion's extraction order in strict mode (no last-number guess), and
    left as it is when nothing is found.
    """
    if not _SOLUTION_HINT_RE.search(gold):
        return gold
    found = extract(gold, strict=True)
    if found.answer is None:
        return gold
    return found.answer


_HEDGE_WORDS_RE = re.compile(
    r"(?:^|[\s}$(])(?:or|either|otherwise|possibly|maybe|perhaps)(?=$|[\s{$)])|\\(?:lor|vee)(?![A-Za-z])",
    re.I,
)
_PM_RE = re.compile(r"\\pm(?![A-Za-z])|\\mp(?![A-Za-z])|±|∓")
_LETTER_RE = re.compile(
    r"(?:\\text(?:bf)?\{\s*)?\(\s*([A-J])\s*\)|(?<![A-Za-z\\])([A-J])(?![A-Za-z])"
)
_SLASH_LETTERS_RE = re.compile(r"(?<![A-Za-z\\])[A-J]\s*/\s*\(?[A-J](?![A-Za-z])")


def choice_letters(pred: str) -> list[str]:
    """Every choice letter a prediction names, in order (``(B) or (C)`` → ``[B, C]``)."""
    letters = []
    for match in _LETTER_RE.finditer(pred):
        letter = match.group(1) or match.group(2)
        letters.append(letter)
    return letters


def hedge_reason(pred: str, gold_is_single: bool, gold_is_choice: bool, gold: str = "") -> str | None:
    """Why ``pred`` hedges, or ``None``. Only a single-valued gold makes ``or``/``±`` a hedge
    (and ``±`` is no hedge when the gold writes one too, as in the quadratic formula)."""
    if gold_is_choice:
        distinct = set(choice_letters(pred))
        if len(distinct) > 1 or _SLASH_LETTERS_RE.search(pred):
            return f"hedge: several choices ({', '.join(sorted(distinct)) or pred[:40]})"
    if not gold_is_single:
        return None
    if _HEDGE_WORDS_RE.search(pred):
        return "hedge: several different final answers joined by 'or'"
    if _PM_RE.search(pred) and not _PM_RE.search(gold):
        return "hedge: ± states two values where the gold is one"
    return None


_DEGREE_MARK_RE = re.compile(r"\^\s*\{?\s*\\circ|°|\\degree|\bdeg(?:rees?)?\b", re.I)


def has_degree_mark(raw: str) -> bool:
    """Whether an answer as written carries a degree sign (``60^\\circ``, ``60°``, ``60 degrees``)."""
    return bool(_DEGREE_MARK_RE.search(raw))
