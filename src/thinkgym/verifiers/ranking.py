"""Rewards for ranked lists ("list the three most likely causes, most likely first").

A predicted ranking is compared with a gold ranking by NDCG@k (order-sensitive, graded) and
precision@k (did the top k contain the gold top k). Items are compared after `normalize_item`
(case, markdown, punctuation and spacing ignored), optionally through an alias table.

How awkward predictions are scored — documented because it is where graders get gamed:

- **Duplicates**: only the first occurrence of an item counts; a repeat earns nothing but still
  takes its rank, so repeating the best item pushes the others down instead of scoring twice.
- **Unknown items** (not in the gold list): earn nothing and also take their rank.
- **Fewer than k items** are not padded: the missing ranks simply earn nothing.
- **k** defaults to the length of the gold list; precision@k divides by ``min(k, len(gold))`` so
  a perfect ranking scores 1 even when the gold list is shorter than k.

Gains are graded: the gold item at rank ``i`` (0-based) of ``n`` has relevance ``n - i`` unless
explicit ``relevance`` values are given; DCG uses ``(2**rel - 1) / log2(rank + 2)``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from thinkgym.core import Problem, Reward
from thinkgym.verifiers.format import DEFAULT_FORMAT, ThinkFormat, answer_part

__all__ = [
    "normalize_item",
    "parse_ranked_list",
    "ndcg_at_k",
    "precision_at_k",
    "RankingVerifier",
]

#: Longest list text parsed and most items kept: longer model output is cut, never a hang.
MAX_LIST_CHARS = 100_000
MAX_ITEMS = 1_000

_MARKER = re.compile(
    r"^\s*(?:(?:\(?\d{1,4}[.):\]]|#\d{1,4}[.):]?|\(?[a-zA-Z][.)](?=\s))|[-*•·–+>])\s*"
)
_MARKDOWN = re.compile(r"[*_`~]+")
_SPACES = re.compile(r"\s+")
_INLINE_SPLIT = re.compile(r"\s*(?:;|,|\s>\s|\s→\s|\s->\s)\s*")
_INLINE_NUMBERED = re.compile(r"(?:^|\s)\(?\d{1,3}[.)]\s+")
_LEADING_WORDS = re.compile(r"^(?:and|or|then)\s+", re.IGNORECASE)


def normalize_item(item: str) -> str:
    """The form items are compared in: NFKC, casefolded, markdown and punctuation dropped."""
    if not isinstance(item, str):
        raise TypeError(f"ranked items must be str, got {type(item).__name__}")
    text = unicodedata.normalize("NFKC", item).casefold()
    text = _MARKDOWN.sub(" ", text)
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    return _SPACES.sub(" ", text).strip()


def parse_ranked_list(text: str) -> list[str]:
    """Items of a ranked list written as numbered or bulleted lines, or inline.

    Accepts ``1. a`` / ``1) a`` / ``(1) a`` / ``#1 a`` / ``- a`` / ``* a`` / ``• a`` lines, plain
    one-item lines, and a single line separated by commas, semicolons, ``>`` or arrows
    (``a > b > c``) or inline numbers (``1. a 2. b``). Items are returned as written (stripped);
    compare them through `normalize_item`.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = text[:MAX_LIST_CHARS]
    lines = [line for line in text.splitlines() if line.strip()]
    marked = [line for line in lines if _MARKER.match(line)]
    if len(marked) >= 2 or (marked and len(lines) == 1 and not _is_inline(lines[0])):
        items = [_MARKER.sub("", line, count=1) for line in marked]
    elif len(lines) >= 2:
        items = [line for line in lines if not line.rstrip().endswith(":")]
    elif lines:
        items = _split_inline(lines[0])
    else:
        items = []
    cleaned = [_clean(item) for item in items]
    return [item for item in cleaned if item][:MAX_ITEMS]


def _is_inline(line: str) -> bool:
    return len(_INLINE_NUMBERED.findall(line)) >= 2 or len(_INLINE_SPLIT.split(line)) >= 2


def _split_inline(line: str) -> list[str]:
    if len(_INLINE_NUMBERED.findall(line)) >= 2:
        parts = _INLINE_NUMBERED.split(line)
    else:
        parts = _INLINE_SPLIT.split(_MARKER.sub("", line, count=1))
    return [_LEADING_WORDS.sub("", part) for part in parts]


def _clean(item: str) -> str:
    item = item.strip().strip("*_`").strip()
    return item.rstrip(".;,").strip()


def _keys(
    items: Sequence[str], aliases: Mapping[str, Sequence[str]] | None
) -> tuple[list[str], dict[str, str]]:
    """Normalized gold keys, and a lookup from every accepted spelling to its gold key."""
    keys = [normalize_item(item) for item in items]
    lookup = {key: key for key in keys}
    for gold, names in (aliases or {}).items():
        key = normalize_item(gold)
        if key in lookup:
            for name in names:
                lookup.setdefault(normalize_item(name), key)
    return keys, lookup


def _matched(predicted: Sequence[str], lookup: Mapping[str, str], k: int) -> list[str | None]:
    """The gold key each of the top-k predictions earns, or None (unknown or repeated)."""
    seen: set[str] = set()
    out: list[str | None] = []
    for item in list(predicted)[:k]:
        key = lookup.get(normalize_item(item))
        if key is None or key in seen:
            out.append(None)
        else:
            seen.add(key)
            out.append(key)
    return out


def _resolve_k(k: int | None, gold: Sequence[str]) -> int:
    if k is None:
        return len(gold)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return k


def ndcg_at_k(
    predicted: Sequence[str],
    gold: Sequence[str],
    k: int | None = None,
    *,
    relevance: Sequence[float] | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> float:
    """NDCG@k of ``predicted`` against the ``gold`` ranking (1.0 = the gold order)."""
    if not gold:
        raise ValueError("the gold ranking is empty")
    k = _resolve_k(k, gold)
    keys, lookup = _keys(gold, aliases)
    if relevance is None:
        relevance = [float(len(keys) - i) for i in range(len(keys))]
    elif len(relevance) != len(keys):
        raise ValueError("relevance must have one value per gold item")
    gain = {}
    for key, rel in zip(keys, relevance, strict=True):
        gain.setdefault(key, 2.0 ** float(rel) - 1.0)
    ideal = sorted(gain.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    if idcg <= 0:
        raise ValueError("the gold ranking has no positive relevance")
    dcg = sum(
        gain[key] / math.log2(rank + 2)
        for rank, key in enumerate(_matched(predicted, lookup, k))
        if key is not None
    )
    return dcg / idcg


def precision_at_k(
    predicted: Sequence[str],
    gold: Sequence[str],
    k: int | None = None,
    *,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> float:
    """Share of the gold top-k found among the predicted top-k (order within k ignored)."""
    if not gold:
        raise ValueError("the gold ranking is empty")
    k = _resolve_k(k, gold)
    keys, lookup = _keys(gold, aliases)
    top = set(keys[:k])
    hits = sum(1 for key in _matched(predicted, lookup, k) if key in top)
    return hits / min(k, len(top))


@dataclass(frozen=True)
class RankingVerifier:
    """Scores a ranked list in a completion against ``problem.answer`` (a list, or list text).

    The score is NDCG@k (``metric="ndcg"``) or precision@k; both are reported as components.
    Aliases come from ``problem.meta["aliases"]`` (gold item -> other accepted names), graded
    relevance from ``problem.meta["relevance"]``. With ``require_think`` the list is read only
    after the think block (see `answer_part`); an ``<answer>`` block, when present, is read alone.
    """

    k: int | None = None
    metric: Literal["ndcg", "precision"] = "ndcg"
    require_think: bool = False
    fmt: ThinkFormat = field(default=DEFAULT_FORMAT)

    def __post_init__(self) -> None:
        if self.metric not in ("ndcg", "precision"):
            raise ValueError(f"metric must be 'ndcg' or 'precision', got {self.metric!r}")
        if self.k is not None:
            _resolve_k(self.k, ["x"])

    def __call__(self, completion: str, problem: Problem) -> Reward:
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a str, got {type(completion).__name__}")
        gold = problem.answer
        gold_items = parse_ranked_list(gold) if isinstance(gold, str) else list(gold or [])
        if not gold_items:
            raise ValueError(f"problem {problem.id!r} has no gold ranking in .answer")
        text = answer_part(completion, self.fmt, require_think=self.require_think)
        text = _answer_block(text)
        predicted = parse_ranked_list(text)
        if not predicted:
            return Reward.zero("no ranked list found", {"ndcg": 0.0, "precision": 0.0})
        aliases = problem.meta.get("aliases")
        relevance = problem.meta.get("relevance")
        ndcg = ndcg_at_k(predicted, gold_items, self.k, relevance=relevance, aliases=aliases)
        precision = precision_at_k(predicted, gold_items, self.k, aliases=aliases)
        score = ndcg if self.metric == "ndcg" else precision
        info: dict[str, Any] = {"predicted": predicted[:50], "k": self.k or len(gold_items)}
        return Reward(score, {"ndcg": ndcg, "precision": precision}, info)


_ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def _answer_block(text: str) -> str:
    blocks = _ANSWER_BLOCK.findall(text)
    return blocks[-1] if blocks else text
