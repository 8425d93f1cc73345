"""Credit assignment: turn an episode's rewards into per-token rewards and advantages.

An env hands out rewards per *turn* (one number when an answer is verified, or one per step of a
multi-turn episode); an RL trainer for language models needs them per *token*. These helpers are
the small, explicit conversions every LM-RL library re-implements, written so any library can use
them (plain Python lists in, plain lists out; no torch needed):

- `terminal_token_rewards`: the whole reward on the last token (the sparse RL view; PPO with GAE
  propagates it backwards through the value function).
- `spread_token_rewards`: the reward divided evenly over all tokens (a dense view with the same sum).
- `process_token_rewards`: per-step (process) rewards, each spread over the tokens of its step or
  put on the step's last token; environment tokens (a mask of 0) get nothing.
- `group_advantages`: the GRPO advantage ``(r - mean(group)) / (std(group) + eps)``.
- `gae_advantages`: generalised advantage estimation over token-level rewards and values.

Every function keeps the total reward: ``sum(token_rewards) == sum(episode rewards)`` (up to float
rounding), which is what makes them interchangeable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

__all__ = [
    "terminal_token_rewards",
    "spread_token_rewards",
    "process_token_rewards",
    "group_advantages",
    "gae_advantages",
]


def _check_count(n_tokens: int) -> int:
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, int):
        raise TypeError(f"n_tokens must be an int, got {type(n_tokens).__name__}")
    if n_tokens < 0:
        raise ValueError(f"n_tokens must be >= 0, got {n_tokens}")
    return n_tokens


def terminal_token_rewards(reward: float, n_tokens: int) -> list[float]:
    """The episode's reward on its last token, zero elsewhere.

    >>> terminal_token_rewards(10.0, 4)
    [0.0, 0.0, 0.0, 10.0]

    An empty completion (``n_tokens == 0``) has no token to carry the reward: ``[]``.
    """
    n = _check_count(n_tokens)
    rewards = [0.0] * n
    if n:
        rewards[-1] = float(reward)
    return rewards


def spread_token_rewards(reward: float, n_tokens: int) -> list[float]:
    """The episode's reward divided evenly over its tokens (same sum as the terminal view).

    >>> spread_token_rewards(10.0, 4)
    [2.5, 2.5, 2.5, 2.5]
    """
    n = _check_count(n_tokens)
    return [float(reward) / n] * n if n else []


def process_token_rewards(
    step_rewards: Sequence[float],
    step_token_counts: Sequence[int],
    *,
    mask: Sequence[int] | None = None,
    placement: Literal["spread", "last"] = "spread",
) -> list[float]:
    """Per-step (process) rewards turned into per-token rewards.

    ``step_rewards[i]`` belongs to step ``i``, whose policy tokens are the next
    ``step_token_counts[i]`` tokens with mask 1. ``mask`` (optional, one entry per token of the
    whole sequence) marks policy tokens with 1 and environment tokens (observations inserted
    between steps) with 0; environment tokens always get reward 0. ``placement="spread"`` divides
    each step's reward evenly over its tokens; ``"last"`` puts it on the step's last token.

    >>> process_token_rewards([1.0, 3.0], [2, 3])
    [0.5, 0.5, 1.0, 1.0, 1.0]
    >>> process_token_rewards([1.0, 3.0], [1, 1], mask=[1, 0, 0, 1], placement="last")
    [1.0, 0.0, 0.0, 3.0]

    A step with zero tokens cannot carry its reward; its reward moves to the previous policy
    token (or the next one if it is the first step) so the total is kept.
    """
    if len(step_rewards) != len(step_token_counts):
        raise ValueError(
            f"one token count per step needed: {len(step_rewards)} rewards, {len(step_token_counts)} counts"
        )
    if placement not in ("spread", "last"):
        raise ValueError(f"placement must be 'spread' or 'last', got {placement!r}")
    counts = [_check_count(c) for c in step_token_counts]
    n_policy = sum(counts)
    if mask is None:
        mask = [1] * n_policy
    policy_positions = [i for i, m in enumerate(mask) if m]
    if len(policy_positions) != n_policy:
        raise ValueError(f"mask has {len(policy_positions)} policy tokens but the steps have {n_policy}")
    token_rewards = [0.0] * len(mask)
    if n_policy == 0:
        if any(step_rewards):
            raise ValueError("non-zero step rewards but no policy tokens to carry them")
        return token_rewards
    cursor = 0
    carry = 0.0  # rewards of empty leading steps, waiting for the first token
    for reward, count in zip(step_rewards, counts, strict=True):
        reward = float(reward)
        if count == 0:
            if cursor == 0:
                carry += reward
            else:
                token_rewards[policy_positions[cursor - 1]] += reward
            continue
        reward += carry
        carry = 0.0
        positions = policy_positions[cursor : cursor + count]
        if placement == "spread":
            for p in positions:
                token_rewards[p] += reward / count
        else:
            token_rewards[positions[-1]] += reward
        cursor += count
    return token_rewards


def group_advantages(
    rewards: Sequence[float],
    group_size: int,
    *,
    std: Literal["sample", "population", "none"] = "sample",
    eps: float = 1e-4,
) -> list[float]:
    """GRPO's group-relative advantage: ``(r - mean(group)) / (std(group) + eps)``.

    ``rewards`` holds consecutive groups of ``group_size`` completions of the same prompt (the
    order TRL uses: prompt 0's completions, then prompt 1's, ...).

    The std convention matters for small groups, so it is explicit:

    - ``"sample"`` (default; what TRL 1.x's GRPOTrainer uses): the Bessel-corrected standard
      deviation, dividing by ``group_size - 1``;
    - ``"population"``: dividing by ``group_size`` (numpy's default);
    - ``"none"``: no scaling, just ``r - mean`` (Dr. GRPO).

    ``eps`` is added to the std (not to the variance) as TRL does, so a group whose rewards are all
    equal gets advantages of exactly 0 — it carries no learning signal.

    >>> [round(a, 3) for a in group_advantages([1.0, 0.0, 0.0, 1.0], 2)]
    [0.707, -0.707, -0.707, 0.707]
    """
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive int, got {group_size!r}")
    if len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    if std not in ("sample", "population", "none"):
        raise ValueError(f"std must be 'sample', 'population' or 'none', got {std!r}")
    values = [float(r) for r in rewards]
    advantages: list[float] = []
    for start in range(0, len(values), group_size):
        group = values[start : start + group_size]
        mean = sum(group) / group_size
        centred = [r - mean for r in group]
        if std == "none":
            advantages.extend(centred)
            continue
        divisor = group_size - 1 if std == "sample" else group_size
        sd = math.sqrt(sum(c * c for c in centred) / divisor) if divisor > 0 else 0.0
        advantages.extend(c / (sd + eps) for c in centred)
    return advantages


def gae_advantages(
    rewards: Sequence[float],
    values: Sequence[float],
    *,
    gamma: float = 1.0,
    lam: float = 0.95,
    last_value: float = 0.0,
) -> tuple[list[float], list[float]]:
    """Generalised advantage estimation over one sequence of token-level rewards.

    ``values[t]`` is the critic's estimate before token ``t``; ``last_value`` the value after the
    last token (0 when the episode ended there). Returns ``(advantages, returns)`` with
    ``returns[t] = advantages[t] + values[t]``:

        delta_t = r_t + gamma * V_{t+1} - V_t
        A_t     = delta_t + gamma * lam * A_{t+1}

    >>> gae_advantages([0.0, 1.0], [0.5, 0.5], gamma=1.0, lam=1.0)
    ([0.5, 0.5], [1.0, 1.0])
    """
    if len(rewards) != len(values):
        raise ValueError(f"rewards ({len(rewards)}) and values ({len(values)}) differ in length")
    n = len(rewards)
    advantages = [0.0] * n
    next_value = float(last_value)
    running = 0.0
    for t in reversed(range(n)):
        delta = float(rewards[t]) + gamma * next_value - float(values[t])
        running = delta + gamma * lam * running
        advantages[t] = running
        next_value = float(values[t])
    returns = [a + float(v) for a, v in zip(advantages, values, strict=True)]
    return advantages, returns
