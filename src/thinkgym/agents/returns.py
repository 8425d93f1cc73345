"""Measured vs exact returns on a maze: the table `thinkgym demo` prints.

Monte Carlo returns of real policies played through the env (`play_episode`), next to the exact
expectation from dynamic programming (`thinkgym.envs.maze.expected_return`). When the two agree
within a few standard errors, the env, the policies and the analysis check each other.
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


def policy_return_table(
    env_id: str = "thinkgym/Maze-v0", *, episodes: int = 2000, seed: int = 0, **env_kwargs
) -> list[ReturnRow]:
    """Random and oracle policies on a (multi-turn) maze env: measured mean vs exact expectation.

    With ``layout="random"`` every episode plays a different maze, and the exact column is the
    mean of each played maze's exact expectation (so both columns average the same mazes).
    """
    import thinkgym
    from thinkgym.envs.maze import MazeEnv, expected_return, optimal_value

    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    env = thinkgym.make(env_id, **env_kwargs)
    if not isinstance(env, MazeEnv) or env.mode != "multi":
        raise TypeError(f"{env_id} is not a multi-turn maze env; the table needs per-move policies")
    # Exact fractions on the classic maze; the same DP in floats on procedural mazes (fast).
    use_fractions = env.layout == "classic"
    cache: dict[str, tuple[Any, float]] = {}
    exact_random, exact_oracle = [], []
    for i in range(episodes):
        _, info = env.reset(seed=seed + i)
        pid = info["problem_id"]
        if pid not in cache:
            cache[pid] = (expected_return(env.maze, exact=use_fractions), optimal_value(env.maze))
        exact_random.append(cache[pid][0])
        exact_oracle.append(cache[pid][1])
    rows = []
    # The policy's stream is spawned from the seed, so it never replays an env seed's stream.
    policy_seed = np.random.SeedSequence(seed).spawn(1)[0]
    for policy, exact in ((RandomPolicy(policy_seed), exact_random), (OraclePolicy(), exact_oracle)):
        mean, se = _measure(env, policy, episodes, seed)
        exact_mean = sum(exact, Fraction(0)) / episodes if use_fractions else math.fsum(exact) / episodes
        rows.append(ReturnRow(policy.name, episodes, mean, se, float(exact_mean)))
    return rows
