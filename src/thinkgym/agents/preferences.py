"""Preference data for DPO: sample several completions per problem, rank them with the env's verifier.

Each problem gets ``samples`` completions (from one policy, or round-robin from several — e.g. a
strong and a weak model); the env scores every one; the best and the worst become one
(``prompt``, ``chosen``, ``rejected``) row when their scores differ (ties teach nothing and are
counted, not written). The result is a `datasets.Dataset` in the format TRL's ``DPOTrainer``
reads (plain text, or chat messages with ``conversational=True``), saved with ``save_to_disk``
and as JSON lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinkgym.agents.base import Generation, Policy, env_attr, query_for
from thinkgym.registry import make

if TYPE_CHECKING:
    from datasets import Dataset

__all__ = ["PreferenceStats", "collect_preferences", "save_preferences"]


@dataclass
class PreferenceStats:
    """What happened while collecting: problems seen, pairs written, and why others were not."""

    problems: int = 0
    pairs: int = 0
    ties: int = 0
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)


def collect_preferences(
    env_id: str,
    policies: Policy | Sequence[Policy],
    n: int,
    *,
    samples: int = 4,
    seed: int = 0,
    conversational: bool = False,
    env_kwargs: Mapping[str, Any] | None = None,
) -> tuple[Dataset, PreferenceStats]:
    """``n`` problems of ``env_id``, ``samples`` completions each, best vs worst as a DPO dataset.

    Completions whose generation failed (``Generation.error``) are left out and counted. For a
    multi-turn env the completion is replayed as whitespace-separated actions (as `reward_funcs`
    does with ``actions="text"``).
    """
    from datasets import Dataset

    from thinkgym.agents.trl import _Verifier

    policy_list = [policies] if isinstance(policies, Policy) else list(policies)
    if not policy_list or not all(isinstance(p, Policy) for p in policy_list):
        raise TypeError("policies must be a Policy or a non-empty sequence of Policy objects")
    if n < 1 or samples < 2:
        raise ValueError("n >= 1 and samples >= 2 are needed to form pairs")
    env = make(env_id, **dict(env_kwargs or {}))
    verifier = _Verifier(dict(env_kwargs or {}), "text", None)
    stats = PreferenceStats()
    rows: dict[str, list[Any]] = {
        "prompt": [], "chosen": [], "rejected": [], "score_chosen": [], "score_rejected": [],
        "env_id": [], "problem_id": [],
    }  # fmt: skip
    try:
        # A source smaller than n is cycled: each visit samples fresh completions, so a problem
        # seen again gives a new pair, not a copy (the classic maze is a single problem).
        for problem in env_attr(env, "source").take(n, seed, repeat=True):
            stats.problems += 1
            env.reset(options={"problem": problem})
            messages = [dict(m) for m in env_attr(env, "messages")]
            generations: list[Generation] = []
            for k, policy in enumerate(policy_list):
                count = samples // len(policy_list) + (1 if k < samples % len(policy_list) else 0)
                if count:
                    generations += policy.generate([query_for(env, policy)] * count)
            scored = []
            for generation in generations:
                if generation.error is not None:
                    stats.errors += 1
                    if len(stats.error_examples) < 3:
                        stats.error_examples.append(generation.error)
                    continue
                outcome = verifier(env_id, problem, generation.text, None)
                if outcome is None:  # the verifier could not judge it (twice): no pair from it
                    stats.errors += 1
                    if len(stats.error_examples) < 3:
                        stats.error_examples.append("verification failed")
                    continue
                scored.append((outcome[0], generation.text))
            if len(scored) < 2:
                continue
            best = max(scored, key=lambda item: item[0])
            worst = min(scored, key=lambda item: item[0])
            if best[0] <= worst[0]:
                stats.ties += 1
                continue
            stats.pairs += 1
            if conversational:
                rows["prompt"].append(messages)
                rows["chosen"].append([{"role": "assistant", "content": best[1]}])
                rows["rejected"].append([{"role": "assistant", "content": worst[1]}])
            else:
                rows["prompt"].append(messages[-1]["content"])
                rows["chosen"].append(best[1])
                rows["rejected"].append(worst[1])
            rows["score_chosen"].append(best[0])
            rows["score_rejected"].append(worst[0])
            rows["env_id"].append(env_id)
            rows["problem_id"].append(problem.id)
    finally:
        env.close()
    return Dataset.from_dict(rows), stats


def save_preferences(dataset: Dataset, out: str | Path) -> Path:
    """Write ``dataset`` to ``out`` (``datasets.load_from_disk(out)`` reads it back) and
    ``out/preferences.jsonl`` (``load_dataset("json", data_files=...)``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dataset.save_to_disk(str(out))
    with open(out / "preferences.jsonl", "w") as handle:
        for row in dataset:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out
