"""Measured vs exact returns: the table `thinkgym demo` prints.

Monte Carlo returns of real policies played through the env (`play_episode`), next to the exact
expectation the env computes through its ``exact_references`` hook (the maze's dynamic
programming). When the two agree within a few standard errors, the env, the policies and the
analysis check each other. This module names no env.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from thinkgym.agents.base import Policy, play_episode
from thinkgym.agents.oracle import OraclePolicy
from thinkgym.agents.random import RandomPolicy

__all__ = ["ReturnRow", "policy_return_table"]


@dataclass(frozen=True)
class ReturnRow:
    """One policy's measured mean return (± standard error) and its exact expected return."""

    policy: str
    episodes: int
    measured_mean: float
    measured_se: float
    exact: float

    @property
    def within(self) -> float:
        """|measured - exact| in standard errors (0 when both are exact and equal)."""
        gap = abs(self.measured_mean - self.exact)
        if self.measured_se == 0:
            return 0.0 if gap < 1e-12 else math.inf
        return gap / self.measured_se


def _measure(env, policy: Policy, episodes: int, seed: int) -> tuple[float, float]:
    returns = [play_episode(env, policy, seed=seed + i).total_reward for i in range(episodes)]
    mean = sum(returns) / len(returns)
    if len(returns) < 2:
        return mean, 0.0
    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return mean, math.sqrt(var / len(returns))


def policy_return_table(env_id: str, *, episodes: int = 2000, seed: int = 0, **env_kwargs) -> list[ReturnRow]:
    """Random and oracle policies on an env with exact references: measured mean vs exact value.

    The env must offer the ``exact_references(problem)`` hook (see `thinkgym.core`) with
    ``random_mean_reward`` (the policy uniform over ``valid_actions()``, which `RandomPolicy`
    plays) and ``optimal_mean_reward`` (which `OraclePolicy` should reach). When every episode
    plays a different problem (a maze with ``layout="random"``), the exact column is the mean of
    each played problem's exact value, so both columns average the same problems.
    """
    import thinkgym
    from thinkgym.agents.base import env_attr

    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    env = thinkgym.make(env_id, **env_kwargs)
    hook = env_attr(env, "exact_references")
    cache: dict[str, Any] = {}
    exact_random, exact_oracle = [], []
    for i in range(episodes):
        env.reset(seed=seed + i)
        problem = env_attr(env, "problem")
        if problem.id not in cache:
            cache[problem.id] = hook(problem) if callable(hook) else None
        references = cache[problem.id]
        if not references or not {"random_mean_reward", "optimal_mean_reward"} <= set(references):
            raise TypeError(
                f"{env_id} offers no exact random and optimal returns for its problems (the env's "
                "exact_references hook); the table needs them"
            )
        exact_random.append(references["random_mean_reward"])
        exact_oracle.append(references["optimal_mean_reward"])
    rows = []
    # The policy's stream is spawned from the seed, so it never replays an env seed's stream.
    policy_seed = np.random.SeedSequence(seed).spawn(1)[0]
    for policy, exact in ((RandomPolicy(policy_seed), exact_random), (OraclePolicy(), exact_oracle)):
        mean, se = _measure(env, policy, episodes, seed)
        rows.append(ReturnRow(policy.name, episodes, mean, se, _exact_mean(exact)))
    return rows


def _exact_mean(values: list[Any]) -> float:
    """The mean, exactly when the values are Fractions (the classic maze), else in floats."""
    if all(isinstance(v, Fraction | int) for v in values):
        return float(sum(values, Fraction(0)) / len(values))
    return math.fsum(float(v) for v in values) / len(values)
