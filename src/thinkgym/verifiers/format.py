"""Format rewards in the DeepSeek-R1 style: one ``<think>…</think>`` block first, then the answer.

Why a separate verifier: a trainer should be able to reward the *shape* of a completion on its
own (so a model learns to think before answering), and accuracy verifiers must only ever look at
the answer part — an answer that appears only inside ``<think>`` must not be extracted, or the
model learns to hedge inside its reasoning.

The rules (strict variant, `check_format`):

1. Optional leading whitespace, then the opening think tag; exactly one opening and one closing
   think tag in the whole completion, in that order (so no nesting, no second block).
2. After ``</think>`` comes the answer. Without an answer tag, the answer is all the text after
   ``</think>`` and must not be blank. With an answer tag (``answer_tag="answer"``), the rest is
   exactly one ``<answer>…</answer>`` block with a non-blank body, surrounded only by whitespace:
   nothing after the answer, no second answer block, no answer block inside ``<think>``.

The partial variant (`tag_count_score`) counts the expected tags that occur exactly once
(``1/n`` each) — a dense signal for a model that is still learning the shape; a strictly
well-formed completion always scores 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from thinkgym.core import Problem, Reward
from thinkgym.verifiers.compose import Gate, WeightedSum

__all__ = [
    "with_format_reward",
    "ThinkFormat",
    "FormatCheck",
    "check_format",
    "tag_count_score",
    "answer_part",
    "FormatVerifier",
    "AnswerSection",
]

_TAG_NAME = re.compile(r"^[A-Za-z][\w.-]*$")


@dataclass(frozen=True)
class ThinkFormat:
    """Which tags a completion must use.

    ``answer_tag=None`` means the answer is the free text after the think block (DeepSeek-R1's
    chat format); ``answer_tag="answer"`` requires an ``<answer>…</answer>`` block.
    """

    think_tag: str = "think"
    answer_tag: str | None = None

    def __post_init__(self) -> None:
        for tag in (self.think_tag, self.answer_tag):
            if tag is not None and (not isinstance(tag, str) or not _TAG_NAME.match(tag)):
                raise ValueError(f"tag names must look like 'think' or 'answer', got {tag!r}")
        if self.answer_tag == self.think_tag:
            raise ValueError("think_tag and answer_tag must differ")

    @property
    def think_open(self) -> str:
        return f"<{self.think_tag}>"

    @property
    def think_close(self) -> str:
        return f"</{self.think_tag}>"

    @property
    def answer_open(self) -> str | None:
        return f"<{self.answer_tag}>" if self.answer_tag else None

    @property
    def answer_close(self) -> str | None:
        return f"</{self.answer_tag}>" if self.answer_tag else None

    def tags(self) -> tuple[str, ...]:
        """Every tag a well-formed completion contains exactly once, in order."""
        tags = [self.think_open, self.think_close]
        if self.answer_tag:
            tags += [f"<{self.answer_tag}>", f"</{self.answer_tag}>"]
        return tuple(tags)

    def instruction(self, answer_hint: str = "your final answer") -> str:
        """The sentence a prompt uses to ask for this format."""
        text = f"First think step by step inside {self.think_open}…{self.think_close}, then give {answer_hint}"
        if self.answer_tag:
            text += f" inside {self.answer_open}…{self.answer_close}, with nothing after it"
        else:
            text += " after the closing tag"
        return text + "."

    def render(self, thinking: str, answer: str) -> str:
        """A completion in this format (used by oracles and tests)."""
        body = f"{self.answer_open}{answer}{self.answer_close}" if self.answer_tag else answer
        return f"{self.think_open}\n{thinking}\n{self.think_close}\n\n{body}"


DEFAULT_FORMAT = ThinkFormat()


@dataclass(frozen=True)
class FormatCheck:
    """The outcome of `check_format`: whether it passed, why not, and the parts found."""

    ok: bool
    reason: str = ""
    thinking: str | None = None
    answer: str | None = None


def _coerce_format(fmt: ThinkFormat | None) -> ThinkFormat:
    if fmt is None:
        return DEFAULT_FORMAT
    if not isinstance(fmt, ThinkFormat):
        raise TypeError(f"fmt must be a ThinkFormat, got {type(fmt).__name__}")
    return fmt


def _require_str(completion: Any) -> str:
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    return completion


def check_format(completion: str, fmt: ThinkFormat | None = None) -> FormatCheck:
    """Check ``completion`` against the strict rules of the module docstring."""
    text = _require_str(completion)
    fmt = _coerce_format(fmt)
    t_open, t_close = fmt.think_open, fmt.think_close
    n_open, n_close = text.count(t_open), text.count(t_close)
    if n_open != 1 or n_close != 1:
        return FormatCheck(False, f"expected one {t_open} and one {t_close}, found {n_open} and {n_close}")
    body = text.lstrip()
    if not body.startswith(t_open):
        return FormatCheck(False, f"the completion must start with {t_open}")
    close_at = body.index(t_close)
    thinking = body[len(t_open) : close_at]
    rest = body[close_at + len(t_close) :]
    if fmt.answer_tag is None:
        if not rest.strip():
            return FormatCheck(False, f"no answer after {t_close}", thinking=thinking)
        return FormatCheck(True, thinking=thinking, answer=rest.strip())
    a_open, a_close = fmt.answer_open, fmt.answer_close
    assert a_open is not None and a_close is not None
    if text.count(a_open) != 1 or text.count(a_close) != 1:
        return FormatCheck(
            False,
            f"expected one {a_open}…{a_close} block, found {text.count(a_open)} and {text.count(a_close)} tags",
            thinking=thinking,
        )
    if a_open in thinking or a_close in thinking:
        return FormatCheck(False, f"the {a_open} block must come after {t_close}", thinking=thinking)
    stripped = rest.strip()
    if not stripped.startswith(a_open):
        return FormatCheck(False, f"only whitespace may separate {t_close} and {a_open}", thinking=thinking)
    if not stripped.endswith(a_close):
        return FormatCheck(False, f"nothing may follow {a_close}", thinking=thinking)
    answer = stripped[len(a_open) : -len(a_close)]
    if a_close in answer or a_open in answer:
        return FormatCheck(False, "malformed answer block", thinking=thinking)
    if not answer.strip():
        return FormatCheck(False, "the answer block is empty", thinking=thinking)
    return FormatCheck(True, thinking=thinking, answer=answer.strip())


def tag_count_score(completion: str, fmt: ThinkFormat | None = None) -> float:
    """The partial format reward: the share of expected tags that occur exactly once."""
    text = _require_str(completion)
    tags = _coerce_format(fmt).tags()
    return sum(text.count(tag) == 1 for tag in tags) / len(tags)


def answer_part(completion: str, fmt: ThinkFormat | None = None, *, require_think: bool = True) -> str:
    """The part of ``completion`` an answer may be extracted from.

    It is the text after the last closing think tag, cut at any later opening think tag, so
    nothing written inside a think block is ever returned. With ``require_think`` (the default),
    a completion with no closing think tag has no answer part (``""``): an answer that appears
    only inside an unclosed ``<think>`` is not extracted. Without it, a completion with no think
    tags at all is returned whole. Answer tags are kept (math extractors read ``<answer>``).
    """
    text = _require_str(completion)
    fmt = _coerce_format(fmt)
    close_at = text.rfind(fmt.think_close)
    if close_at < 0:
        if require_think:
            return ""
        open_at = text.find(fmt.think_open)
        return text if open_at < 0 else text[:open_at]
    rest = text[close_at + len(fmt.think_close) :]
    reopen = rest.find(fmt.think_open)
    return rest if reopen < 0 else rest[:reopen]


@dataclass(frozen=True)
class FormatVerifier:
    """A verifier for the think/answer format.

    ``mode="strict"`` gives 1 for a well-formed completion and 0 otherwise (the reason in
    ``info["error"]``); ``mode="partial"`` gives `tag_count_score`. The component is named
    ``name`` (``"format"``).
    """

    fmt: ThinkFormat = DEFAULT_FORMAT
    mode: Literal["strict", "partial"] = "strict"
    name: str = "format"

    def __post_init__(self) -> None:
        if self.mode not in ("strict", "partial"):
            raise ValueError(f"mode must be 'strict' or 'partial', got {self.mode!r}")
        _coerce_format(self.fmt)

    def __call__(self, completion: str, problem: Problem | None = None) -> Reward:
        check = check_format(completion, self.fmt)
        if self.mode == "strict":
            score = 1.0 if check.ok else 0.0
        else:
            score = tag_count_score(completion, self.fmt)
        info: dict[str, Any] = {"format_ok": check.ok}
        if not check.ok:
            info["error"] = check.reason
        return Reward(score, {self.name: score}, info)


@dataclass(frozen=True)
class AnswerSection:
    """Runs ``inner`` on the answer part of a completion only (see `answer_part`).

    Wrap an accuracy verifier in this so reasoning inside ``<think>`` can never be graded as the
    answer. A completion with no answer part earns 0 with a reason, without calling ``inner``.
    """

    inner: Any
    fmt: ThinkFormat = DEFAULT_FORMAT
    require_think: bool = True

    def __post_init__(self) -> None:
        if not callable(self.inner):
            raise TypeError(f"inner must be a verifier (callable), got {type(self.inner).__name__}")
        _coerce_format(self.fmt)

    def __call__(self, completion: str, problem: Problem) -> Reward:
        part = answer_part(completion, self.fmt, require_think=self.require_think)
        if not part.strip():
            where = f"after {self.fmt.think_close}" if self.require_think else "in the completion"
            return Reward.zero(f"no answer {where}")
        return self.inner(part, problem)


def with_format_reward(
    accuracy: Any,
    fmt: ThinkFormat,
    *,
    think: bool = True,
    gate: bool = False,
    format_mode: str = "strict",
    accuracy_weight: float = 1.0,
    format_weight: float = 0.1,
) -> Any:
    """The reward of the answer envs (math, reasoning-gym): ``accuracy`` plus the format reward.

    With ``think`` the completion must follow ``fmt`` (reasoning, then the answer): the reward is
    the normalized weighted sum of ``accuracy`` and ``format`` (`FormatVerifier` in ``format_mode``),
    and with ``gate`` accuracy counts only when the format passes. Without ``think`` it is
    ``accuracy`` alone (still under its name, so components look the same either way).
    """
    if not think:
        return WeightedSum({"accuracy": accuracy}, normalize=True)
    format_check = FormatVerifier(fmt, mode=format_mode)  # type: ignore[arg-type]
    if gate:
        accuracy = Gate(format_check, accuracy, gate_name="format", then_name="accuracy")
    return WeightedSum(
        {"accuracy": accuracy, "format": format_check},
        weights={"accuracy": accuracy_weight, "format": format_weight},
        normalize=True,
    )
