"""Rewards of a tool-use episode, from what the tools actually did in it (never from what the model says).

Inputs: the model's final answer text, the `Problem` (``answer`` = the gold answer; ``meta["plan"]``
= the gold plan, a list of steps ``{"tool", "arguments", "match", "fact"}``), and the episode's
`ToolResult` records (every call the env executed, in order, and every parse failure counted in
``attempts``). The components, each in [0, 1]:

- ``validity``: valid calls / attempted calls (a call is valid when it parsed, named a known tool
  and its arguments fit the schema); 0 when nothing was attempted.
- ``arguments``: F1 of a one-to-one (bipartite) match between the valid calls made and the plan's
  steps, as multisets: a call matches a step when the tool is the same and the step's ``match``
  arguments agree (numbers numerically, text case- and space-insensitively; ``"contains"`` keys
  only need the call's text to contain the value). Extra and repeated calls lower precision.
- ``session``: the share of the plan's facts that some tool result of this episode obtained: its
  text states the fact and its call did not already carry it (`gives_fact`: echoing a guessed
  answer through ``calculator`` or ``python`` obtains nothing).
- ``subgoals``: the hierarchical credit — the plan's facts obtained *in order* (each after the
  previous one), as a share of the plan; the env pays its increase turn by turn.
- ``accuracy``: the final answer equals the gold answer (`thinkgym.verifiers.math.verify_math` for
  numbers, normalised text equality for names; a hedge of several answers earns 0).
- ``grounded``: a tool obtained the gold answer in this episode (so a right answer the model
  only claims, or guessed and echoed through a tool, is not grounded).
- ``efficiency``: 1 minus (repeated identical calls + invalid calls + calls beyond the plan's
  length + 1) / (plan length + 1), floored at 0.

**Default composition** (`DEFAULT_WEIGHTS`)::

    score = 0.6·accuracy·grounded + 0.2·subgoals + 0.1·arguments + 0.1·efficiency·accuracy·grounded

Nothing is paid per call: calling more cannot raise ``subgoals`` or ``session`` past what the
plan's facts allow, lowers ``arguments`` (precision) and ``efficiency``, and an episode that runs
out of its call or turn budget ends with ``accuracy`` 0. An ungrounded right answer earns at most
the process credit (0.3), a grounded one with the exact plan 1.0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from thinkgym.core import Problem, Reward

__all__ = [
    "DEFAULT_WEIGHTS",
    "extract_final_answer",
    "fact_in",
    "gives_fact",
    "facts_obtained",
    "subgoal_progress",
    "argument_f1",
    "call_matches",
    "score_tool_episode",
]

DEFAULT_WEIGHTS: Mapping[str, float] = {"answer": 0.6, "subgoals": 0.2, "arguments": 0.1, "efficiency": 0.1}

#: Calls beyond this many are not matched (an episode's call budget is far below it).
MAX_MATCHED_CALLS = 256
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_BOXED = re.compile(r"\\boxed\s*\{")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def extract_final_answer(text: str) -> str | None:
    """The final answer of a turn: the last ``<answer>…</answer>``, else the last ``\\boxed{…}``."""
    if not isinstance(text, str):
        return None
    tagged = _ANSWER_TAG.findall(text)
    if tagged:
        return tagged[-1].strip()
    starts = [m.end() for m in _BOXED.finditer(text)]
    if not starts:
        return None
    start, depth = starts[-1], 1
    for i in range(start, min(len(text), start + 10_000)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i].strip()
    return None


def _as_number(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def _norm_text(text: Any) -> str:
    return " ".join(re.sub(r"[^\w\s.-]", " ", str(text).lower()).split())


def fact_in(fact: Any, content: str) -> bool:
    """Whether a tool result's text ``content`` states ``fact``: a number appears as a number
    (commas ignored, numerically equal), a name as whole words (case-insensitive)."""
    fact_text = str(fact).strip()
    value = _as_number(fact_text)
    if value is not None:
        for token in _NUMBER.findall(content[:200_000]):
            if _as_number(token) == value:
                return True
        return False
    pattern = r"(?<!\w)" + re.escape(_norm_text(fact_text)) + r"(?!\w)"
    return re.search(pattern, _norm_text(content[:200_000])) is not None


def _arguments_text(arguments: Any) -> str:
    return json.dumps(arguments, ensure_ascii=False, default=str)[:200_000]


def gives_fact(result: Any, step: Mapping[str, Any]) -> bool:
    """Whether the tool result ``result`` obtained the fact of plan ``step``: the call succeeded,
    its text states the fact, and the call did not carry the fact in its own arguments (a
    ``calculator("4373928232")`` or ``print(4373928232)`` echoes an answer, it does not obtain
    it) — unless the gold call itself carries it (a list the computation runs over)."""
    if not getattr(result, "ok", False) or not fact_in(step["fact"], result.content):
        return False
    if fact_in(step["fact"], _arguments_text(step.get("arguments") or {})):
        return True
    return not fact_in(step["fact"], _arguments_text(result.call.arguments))


def facts_obtained(plan: Sequence[Mapping[str, Any]], results: Sequence[Any]) -> list[bool]:
    """For each plan step, whether some tool result of the episode obtained its fact (`gives_fact`)."""
    return [any(gives_fact(r, step) for r in results) for step in plan]


def subgoal_progress(plan: Sequence[Mapping[str, Any]], results: Sequence[Any]) -> int:
    """How many of the plan's facts were obtained in order: step k counts only when a result at or
    after the one that gave step k-1's fact obtains it (hierarchical sub-goals)."""
    done, position = 0, 0
    for step in plan:
        while position < len(results) and not gives_fact(results[position], step):
            position += 1
        if position >= len(results):
            break
        done += 1
    return done


def _arg_agrees(expected: Any, actual: Any, contains: bool) -> bool:
    if contains:
        return isinstance(actual, str) and _norm_text(expected) in _norm_text(actual)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and Fraction(str(actual)) == Fraction(str(expected))
    if isinstance(expected, str):
        return isinstance(actual, str) and _norm_text(expected) == _norm_text(actual)
    return expected == actual


def call_matches(call: Any, step: Mapping[str, Any]) -> bool:
    if call.name != step["tool"]:
        return False
    contains = set(step.get("contains", ()))
    for key, expected in (step.get("match") or {}).items():
        if key not in call.arguments or not _arg_agrees(expected, call.arguments[key], key in contains):
            return False
    return True


def argument_f1(calls: Sequence[Any], plan: Sequence[Mapping[str, Any]]) -> float:
    """F1 of the largest one-to-one match between ``calls`` and the plan's steps (multisets; the
    maximum bipartite matching of `thinkgym.verifiers.tool_calls`, with `call_matches` as the edge)."""
    if not calls or not plan:
        return 0.0
    from thinkgym.verifiers.tool_calls import max_matching

    calls = list(calls)[:MAX_MATCHED_CALLS]
    matched = len(max_matching([[call_matches(call, step) for step in plan] for call in calls]))
    if matched == 0:
        return 0.0
    precision, recall = matched / len(calls), matched / len(plan)
    return 2 * precision * recall / (precision + recall)


def _accuracy(answer: str | None, gold: Any, problem: Problem) -> tuple[float, str | None]:
    if answer is None:
        return 0.0, "no final answer (<answer>...</answer> or \\boxed{...})"
    if _as_number(str(gold)) is not None:
        from thinkgym.verifiers.math import verify_math

        reward = verify_math(f"\\boxed{{{answer}}}", str(gold), problem=problem.prompt)
        return reward.score, None if reward.score else str(reward.info.get("error") or reward.info.get("reason") or "wrong answer")
    right = _norm_text(answer) == _norm_text(gold)
    return float(right), None if right else "wrong answer"


def score_tool_episode(
    answer_text: str | None,
    problem: Problem,
    results: Sequence[Any],
    *,
    attempts: int | None = None,
    truncated: str | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> Reward:
    """The episode's `Reward` (components and composition: module docstring).

    ``results`` are the `thinkgym.tools.ToolResult` records of every executed call;
    ``attempts`` counts every call attempt, parse failures included (default: ``len(results)``);
    ``truncated`` (a reason) marks an episode cut short by a budget: no answer is judged.
    """
    plan = list(problem.meta.get("plan") or [])
    attempts = len(results) if attempts is None else int(attempts)
    valid = [r.call for r in results if r.valid]
    answer = None if truncated else extract_final_answer(answer_text or "")
    accuracy, why = (0.0, truncated) if truncated else _accuracy(answer, problem.answer, problem)
    answer_step = {"fact": problem.answer, "arguments": plan[-1].get("arguments") if plan else {}}
    grounded = float(any(gives_fact(r, answer_step) for r in results))
    obtained = facts_obtained(plan, results)
    keys = [c.key() for c in valid]
    repeats = len(keys) - len(set(keys))
    invalid = attempts - len(valid)
    excess = max(0, len(valid) - len(plan) - 1)
    efficiency = max(0.0, 1.0 - (repeats + invalid + excess) / (len(plan) + 1))
    components = {
        "validity": (len(valid) / attempts) if attempts else 0.0,
        "arguments": argument_f1(valid, plan),
        "session": (sum(obtained) / len(plan)) if plan else 0.0,
        "subgoals": (subgoal_progress(plan, results) / len(plan)) if plan else 0.0,
        "accuracy": accuracy,
        "grounded": grounded,
        "efficiency": efficiency,
    }
    solved = components["accuracy"] * components["grounded"]
    score = (
        weights["answer"] * solved
        + weights["subgoals"] * components["subgoals"]
        + weights["arguments"] * components["arguments"]
        + weights["efficiency"] * components["efficiency"] * solved
    )
    info: dict[str, Any] = {
        "answer": answer,
        "calls": len(results),
        "attempts": attempts,
        "repeated_calls": repeats,
        "facts_obtained": obtained,
    }
    if why:
        info["error"] = why
    elif accuracy and not grounded:
        info["error"] = "the answer is right but no tool returned it in this episode: not grounded"
    return Reward(score, components, info)
