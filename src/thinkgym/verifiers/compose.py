"""Composing verifiers: weighted sums, gates and hierarchical sub-goals — themselves verifiers.

In the spirit of ``torch.nn.Module`` (and OpenEnv's rubrics): small objects that hold named
child verifiers, are called like one, and are picklable when their children are. Every
composite keeps each part's score in ``Reward.components`` under the part's name (a part's own
components appear as ``"part.sub"``), and each part's ``info`` under ``info["parts"][name]``, so a
trainer sees one float and a person sees why.

>>> from thinkgym.core import Problem
>>> from thinkgym.verifiers import FormatVerifier, MathVerifier
>>> reward = WeightedSum({"format": FormatVerifier(), "accuracy": MathVerifier()},
...                      weights={"format": 0.1, "accuracy": 0.9})
>>> gated = Gate(FormatVerifier(), MathVerifier())          # accuracy counts only if format passes
>>> problem = Problem("p0", "What is 6*7?", "42")
>>> reward("<think>6*7 = 42</think> The answer is 42.", problem).score
1.0
>>> gated("The answer is 42.", problem).score               # right, but not in the format
0.0
>>> def mentions_a_number(completion, problem):             # a sub-goal: any plain callable
...     return any(c.isdigit() for c in completion)
>>> staged = Hierarchy([("number", mentions_a_number), ("right", MathVerifier())])
>>> staged("no idea", problem).components                   # the later goal was not even run
{'number': 0.0, 'right': 0.0}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from thinkgym.core import Problem, Reward

__all__ = ["Rubric", "FunctionVerifier", "WeightedSum", "Gate", "Hierarchy", "run_part"]


def _check_verifier(part: Any, name: str) -> None:
    if not callable(part):
        raise TypeError(f"part {name!r} must be a verifier (callable(completion, problem)), got {type(part).__name__}")


def run_part(part: Callable[[str, Problem], Any], completion: str, problem: Problem, name: str) -> Reward:
    """Call one child verifier and coerce its result to a `Reward`.

    A child that returns a bool or number is wrapped; a child that raises is a bug in that child,
    but model output must never take the trainer down, so it scores 0 with the error in ``info``.
    """
    try:
        result = part(completion, problem)
    except Exception as exc:  # a child's bug must not crash training
        return Reward.zero(f"verifier {name!r} raised {type(exc).__name__}: {exc}")
    if isinstance(result, Reward):
        return result
    if isinstance(result, (bool, int, float)) and math.isfinite(float(result)):
        return Reward(float(result))
    return Reward.zero(f"verifier {name!r} returned {type(result).__name__}, not a Reward or number")


def _merge(components: dict[str, float], name: str, reward: Reward) -> None:
    components[name] = reward.score
    for key, value in reward.components.items():
        if key != name:
            components[f"{name}.{key}"] = float(value)


def _require_str(completion: Any) -> None:
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")


class Rubric:
    """Base class of composite verifiers: named children, called like a verifier."""

    def children(self) -> dict[str, Any]:
        """The named child verifiers (like ``nn.Module.named_children``)."""
        return {}

    def __call__(self, completion: str, problem: Problem) -> Reward:
        raise TypeError(f"{type(self).__name__} must implement __call__")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.children().items())
        return f"{type(self).__name__}({inner})"


@dataclass(frozen=True)
class FunctionVerifier(Rubric):
    """Wraps a plain ``fn(completion, problem) -> float | bool | Reward`` (a module-level function
    stays picklable) and names its component ``name``."""

    fn: Callable[[str, Problem], Any]
    name: str = "score"

    def __post_init__(self) -> None:
        _check_verifier(self.fn, self.name)

    def __call__(self, completion: str, problem: Problem) -> Reward:
        _require_str(completion)
        reward = run_part(self.fn, completion, problem, self.name)
        components = dict(reward.components)
        components[self.name] = reward.score
        return Reward(reward.score, components, reward.info)


class WeightedSum(Rubric):
    """``score = sum(weight[name] * part(completion).score)``; ``normalize`` divides by the sum of
    the absolute weights, so a completion that earns 1 from every part scores 1."""

    def __init__(
        self,
        parts: Mapping[str, Any],
        weights: Mapping[str, float] | None = None,
        *,
        normalize: bool = False,
    ):
        if not parts:
            raise ValueError("WeightedSum needs at least one part")
        for name, part in parts.items():
            _check_verifier(part, name)
        weights = dict(weights or {})
        unknown = set(weights) - set(parts)
        if unknown:
            raise ValueError(f"weights name parts that do not exist: {sorted(unknown)}")
        self.parts = dict(parts)
        self.weights = {name: float(weights.get(name, 1.0)) for name in self.parts}
        if not all(math.isfinite(w) for w in self.weights.values()):
            raise ValueError("weights must be finite")
        total = sum(abs(w) for w in self.weights.values())
        if normalize and total == 0:
            raise ValueError("cannot normalize weights that are all zero")
        self.normalize = bool(normalize)
        self._divisor = total if normalize else 1.0

    def children(self) -> dict[str, Any]:
        return dict(self.parts)

    def __call__(self, completion: str, problem: Problem) -> Reward:
        _require_str(completion)
        components: dict[str, float] = {}
        infos: dict[str, Any] = {}
        score = 0.0
        errors = []
        for name, part in self.parts.items():
            reward = run_part(part, completion, problem, name)
            _merge(components, name, reward)
            infos[name] = dict(reward.info)
            if "error" in reward.info:
                errors.append(f"{name}: {reward.info['error']}")
            score += self.weights[name] * reward.score
        info: dict[str, Any] = {"parts": infos, "weights": dict(self.weights)}
        if errors:
            info["error"] = "; ".join(errors)
        return Reward(score / self._divisor, components, info)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {self.weights[k]:g} * {v!r}" for k, v in self.parts.items())
        return f"WeightedSum({{{inner}}}, normalize={self.normalize})"


class Gate(Rubric):
    """``then`` counts only when ``gate`` scores at least ``threshold``.

    A gate that fails gives ``fail_score`` and ``then`` is not run (no cost, no chance to be
    fooled). Components: ``gate_name`` (the gate's score) and ``then_name`` (``then``'s score, 0
    when not run); the score is ``then``'s score, or ``fail_score``.
    """

    def __init__(
        self,
        gate: Any,
        then: Any,
        *,
        threshold: float = 1.0,
        fail_score: float = 0.0,
        gate_name: str = "format",
        then_name: str = "accuracy",
    ):
        _check_verifier(gate, gate_name)
        _check_verifier(then, then_name)
        if gate_name == then_name:
            raise ValueError("gate_name and then_name must differ")
        self.gate, self.then = gate, then
        self.threshold, self.fail_score = float(threshold), float(fail_score)
        self.gate_name, self.then_name = gate_name, then_name

    def children(self) -> dict[str, Any]:
        return {self.gate_name: self.gate, self.then_name: self.then}

    def __call__(self, completion: str, problem: Problem) -> Reward:
        _require_str(completion)
        components: dict[str, float] = {}
        gate_reward = run_part(self.gate, completion, problem, self.gate_name)
        _merge(components, self.gate_name, gate_reward)
        infos: dict[str, Any] = {self.gate_name: dict(gate_reward.info)}
        if gate_reward.score < self.threshold:
            components[self.then_name] = 0.0
            reason = gate_reward.info.get("error", f"scored {gate_reward.score:g} < {self.threshold:g}")
            return Reward(
                self.fail_score,
                components,
                {"parts": infos, "gated": True, "error": f"{self.gate_name} gate failed: {reason}"},
            )
        reward = run_part(self.then, completion, problem, self.then_name)
        _merge(components, self.then_name, reward)
        infos[self.then_name] = dict(reward.info)
        info: dict[str, Any] = {"parts": infos, "gated": False}
        if "error" in reward.info:
            info["error"] = reward.info["error"]
        return Reward(reward.score, components, info)


@dataclass(frozen=True)
class _Stage:
    name: str
    verifier: Any
    weight: float
    threshold: float


class Hierarchy(Rubric):
    """Sub-goals in order; a later one counts only when every earlier one was reached.

    ``stages`` is a sequence of ``(name, verifier)`` or ``(name, verifier, weight)`` or
    ``(name, verifier, weight, threshold)``. Stage ``i`` is *reached* when its score is at least
    its threshold (default 1). The score is the weighted sum of the scores of the stages that
    were run (every stage up to and including the first one not reached), divided by the total
    weight, so partial progress earns partial credit and later goals cannot be farmed while an
    earlier one fails. Stages not run appear as 0 in the components.
    """

    def __init__(self, stages: Sequence[tuple[Any, ...]]):
        if not stages:
            raise ValueError("Hierarchy needs at least one stage")
        parsed: list[_Stage] = []
        for entry in stages:
            if not isinstance(entry, tuple) or not 2 <= len(entry) <= 4:
                raise TypeError("each stage is (name, verifier[, weight[, threshold]])")
            name, verifier = entry[0], entry[1]
            weight = float(entry[2]) if len(entry) > 2 else 1.0
            threshold = float(entry[3]) if len(entry) > 3 else 1.0
            _check_verifier(verifier, name)
            if weight < 0 or not math.isfinite(weight):
                raise ValueError("stage weights must be finite and >= 0")
            parsed.append(_Stage(str(name), verifier, weight, threshold))
        if len({s.name for s in parsed}) != len(parsed):
            raise ValueError("stage names must be unique")
        total = sum(s.weight for s in parsed)
        if total <= 0:
            raise ValueError("at least one stage needs a positive weight")
        self.stages = parsed
        self._total = total

    def children(self) -> dict[str, Any]:
        return {s.name: s.verifier for s in self.stages}

    def __call__(self, completion: str, problem: Problem) -> Reward:
        _require_str(completion)
        components = {s.name: 0.0 for s in self.stages}
        infos: dict[str, Any] = {}
        reached: list[str] = []
        score = 0.0
        info: dict[str, Any] = {}
        for stage in self.stages:
            reward = run_part(stage.verifier, completion, problem, stage.name)
            _merge(components, stage.name, reward)
            infos[stage.name] = dict(reward.info)
            score += stage.weight * reward.score
            if reward.score < stage.threshold:
                info["error"] = f"stage {stage.name!r} not reached" + (
                    f": {reward.info['error']}" if "error" in reward.info else ""
                )
                break
            reached.append(stage.name)
        info.update({"parts": infos, "reached": reached})
        return Reward(score / self._total, components, info)
