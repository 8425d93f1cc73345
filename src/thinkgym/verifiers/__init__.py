"""Pure reward functions: ``(completion: str, problem: Problem) -> Reward``.

- `verify_math` / `MathVerifier` — math answer equivalence (``verifiers.math``)
- `FormatVerifier`, `AnswerSection`, `answer_part` — the think/answer format (``verifiers.format``)
- `RankingVerifier`, `ndcg_at_k`, `precision_at_k` — ranked lists (``verifiers.ranking``)
- `ArithmeticChecker`, `ProcessReward` — per-step and per-token process rewards (``verifiers.process``)
- `RewardModelVerifier` — a learned scalar reward (``verifiers.reward_model``)
- `WeightedSum`, `Gate`, `Hierarchy` — composition (``verifiers.compose``)
- `ToolCallVerifier`, `match_calls`, `check_call`, `GoldCall` — tool calls against gold calls, BFCL's AST rules (``verifiers.tool_calls``)
- `verify_batch`, `RayVerifierPool` — any verifier over a batch, here or on a Ray cluster (``verifiers.distributed``)

Names are imported lazily on first use, so ``import thinkgym.verifiers`` stays cheap and a
verifier's heavy dependencies load only when that verifier is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # math (answer equivalence)
    "verify_math": "math",
    "verify_math_batch": "math",
    "math_equal": "math",
    "extract_answer": "math",
    "MathVerifier": "math",
    # format
    "ThinkFormat": "format",
    "FormatCheck": "format",
    "FormatVerifier": "format",
    "AnswerSection": "format",
    "answer_part": "format",
    "check_format": "format",
    "tag_count_score": "format",
    # ranked lists
    "RankingVerifier": "ranking",
    "ndcg_at_k": "ranking",
    "precision_at_k": "ranking",
    "parse_ranked_list": "ranking",
    "normalize_item": "ranking",
    # process rewards
    "ProcessReward": "process",
    "ArithmeticChecker": "process",
    "Step": "process",
    "StepScore": "process",
    "split_steps": "process",
    "spread_over_tokens": "process",
    "token_offsets": "process",
    "find_arithmetic_claims": "process",
    "evaluate_arithmetic": "process",
    # reward models
    "RewardModelVerifier": "reward_model",
    # composition
    "Rubric": "compose",
    "FunctionVerifier": "compose",
    "WeightedSum": "compose",
    "Gate": "compose",
    "Hierarchy": "compose",
    # batches, here or on a Ray cluster
    "verify_batch": "distributed",
    "RayVerifierPool": "distributed",
    # tool calls (BFCL AST rules, multiset matching)
    "ToolCallVerifier": "tool_calls",
    "GoldCall": "tool_calls",
    "CallCheck": "tool_calls",
    "CallMatch": "tool_calls",
    "check_call": "tool_calls",
    "match_calls": "tool_calls",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'thinkgym.verifiers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"thinkgym.verifiers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
