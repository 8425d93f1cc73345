"""How one env step becomes part of a sample record: correctness, the extracted answer, why.

Envs report rewards differently (a maze's goal reward, math's ``accuracy`` and ``format``
components, code's ``tests_passed`` and ``all_passed``, composed rewards' ``parts``); these
functions read them all the same way, so metrics need not know any env.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from thinkgym.core import Problem

__all__ = [
    "ANSWER_KEYS",
    "SUCCESS_COMPONENTS",
    "component",
    "is_correct",
    "extract_answer",
    "jsonable",
    "step_outcome",
    "miss_reason",
]

#: ``info["reward_info"]`` keys that hold the answer a verifier extracted, in order of preference.
ANSWER_KEYS = ("extracted_answer", "extracted", "prediction", "predicted", "pred", "parsed")
MAX_INFO_CHARS = 2000


def component(components: Mapping[str, float], name: str) -> float | None:
    """The component called ``name``, also when a composed reward names it ``part.name``."""
    if name in components:
        return float(components[name])
    for key, value in components.items():
        if key.rsplit(".", 1)[-1] == name:
            return float(value)
    return None


#: Components that say "fully solved" (first found wins) for envs without a ``success_component``
#: hook (see `thinkgym.core`): math accuracy, code's all-tests-passed.
SUCCESS_COMPONENTS = ("accuracy", "all_passed")


def is_correct(score: float, components: Mapping[str, float], success_component: str | None = None) -> bool:
    """A sample counts as correct when its success component is full (1.0) — partial test passes
    are not a solve. The component is the env's own (its ``success_component`` hook) when given,
    else the first of `SUCCESS_COMPONENTS` present; for envs with neither, a positive reward."""
    if success_component is not None:
        value = component(components, success_component)
        if value is not None:
            return value >= 1.0 - 1e-9
    for name in SUCCESS_COMPONENTS:
        value = component(components, name)
        if value is not None:
            return value >= 1.0 - 1e-9
    return score > 0.0


def extract_answer(reward_info: Mapping[str, Any]) -> tuple[bool, Any, Any]:
    """``(found, answer, vote_key)``: the answer the verifier extracted, when it reports one
    (also inside a composed reward's ``info["parts"]``), and its normalized form for voting."""
    infos: list[Mapping[str, Any]] = [reward_info]
    parts = reward_info.get("parts")
    if isinstance(parts, Mapping):
        ordered = sorted(parts.items(), key=lambda kv: kv[0] != "accuracy")
        infos += [v for _, v in ordered if isinstance(v, Mapping)]
    for info in infos:
        for key in ANSWER_KEYS:
            if key in info:
                answer = info[key]
                normalized = info.get("normalized")
                return True, answer, normalized if normalized is not None else answer
    return False, None, None


def jsonable(value: Any, limit: int = MAX_INFO_CHARS) -> Any:
    """A JSON-safe copy with long strings cut (reward_info can hold whole programs)."""
    if isinstance(value, str):
        return (
            value if len(value) <= limit else value[:limit] + f"… [{len(value) - limit} more chars]"
        )
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, limit) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [jsonable(v, limit) for v in value[:50]]
    return jsonable(str(value), limit)


def step_outcome(env: Any, action: str, problem: Problem | None) -> dict[str, Any]:
    """Step ``env`` once (resetting it to ``problem`` first when given) and keep what is recorded."""
    if problem is not None:
        env.reset(options={"problem": problem})
    start = time.perf_counter()
    observation, reward, terminated, truncated, info = env.step(action)
    return {
        "observation": observation,
        "reward": float(reward),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "components": {str(k): float(v) for k, v in (info.get("reward_components") or {}).items()},
        "reward_info": jsonable(info.get("reward_info") or {}),
        "reason": info.get("error"),
        "verify_s": time.perf_counter() - start,
    }


def miss_reason(
    outcome: Mapping[str, Any], reward_info: Mapping[str, Any], multi_turn: bool
) -> str:
    """Why a sample is not correct: the env's error, the verifier's reason, or a plain default."""
    if multi_turn:
        if outcome.get("truncated"):
            return "turn limit reached without reward"
        if outcome.get("terminated"):
            return "episode ended with reward 0"
    infos = [reward_info]
    parts = reward_info.get("parts")
    if isinstance(parts, Mapping):
        infos += [
            v
            for k, v in sorted(parts.items(), key=lambda kv: kv[0] != "accuracy")
            if isinstance(v, Mapping)
        ]
    candidates = [outcome.get("reason")] + [
        i.get(key) for i in infos for key in ("error", "reason")
    ]
    for value in candidates:
        if value:
            return str(value)
    return "wrong answer" if outcome else "no step taken"
