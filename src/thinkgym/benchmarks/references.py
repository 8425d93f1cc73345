"""Exact expectations that some envs make known, printed next to measured scores.

A benchmark number means more next to what it should be. An env that can compute exact values for
a problem offers them through its ``exact_references(problem)`` hook (see `thinkgym.core`; the
maze's dynamic programming gives the expected return of the uniform random policy and the optimal
return), so a run of ``--policy random`` or ``--policy oracle`` can be checked against the truth,
not a noisy estimate. This module names no env: envs without the hook simply have no reference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from thinkgym.benchmarks.suites import Suite

__all__ = ["exact_references", "mean_references"]


def _hook(env: Any) -> Any:
    """The env's ``exact_references`` hook, through any gymnasium wrappers (None when absent)."""
    try:
        hook = env.get_wrapper_attr("exact_references")
    except AttributeError:
        return None
    return hook if callable(hook) else None


def mean_references(env: Any, problems: Sequence[Any]) -> dict[str, float] | None:
    """The mean of each exact reference over ``problems`` (each problem counted as often as it
    appears), or None when the env offers none for some problem. Only the keys every problem
    reports are kept; Fractions are averaged exactly, then turned into floats."""
    hook = _hook(env)
    if hook is None or not problems:
        return None
    cache: dict[str, Mapping[str, Any] | None] = {}
    rows: list[Mapping[str, Any]] = []
    for problem in problems:
        if problem.id not in cache:
            cache[problem.id] = hook(problem)
        row = cache[problem.id]
        if not row:
            return None
        rows.append(row)
    keys = set(rows[0]).intersection(*rows[1:])
    return {key: _mean([row[key] for row in rows]) for key in sorted(keys)}


def _mean(values: Sequence[Any]) -> float:
    if all(isinstance(v, Fraction | int) for v in values):
        return float(sum(values, Fraction(0)) / len(values))
    return math.fsum(float(v) for v in values) / len(values)


def exact_references(suite: Suite) -> dict[str, dict[str, float]]:
    """``{entry label: {"random_mean_reward": …, "optimal_mean_reward": …}}`` where known."""
    references: dict[str, dict[str, float]] = {}
    for entry in suite.entries:
        env = entry.make_env()
        try:
            reference = mean_references(env, suite.problems[entry.label])
        finally:
            env.close()
        if reference:
            references[entry.label] = reference
    return references
