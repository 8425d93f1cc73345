"""PPO for language models on any thinkgym env, in one file that reads top to bottom (CleanRL style).

TRL 1.x no longer ships a PPO trainer, so this is ours. One iteration:

1. **Rollout** — play ``episodes_per_step`` episodes through the env API (``reset``/``step``) with
   the current policy (`thinkgym.agents.trl.play_token_episodes`: multi-turn episodes, env tokens
   masked out, optional token-action mode and invalid-action masking).
2. **Score** — per-token rewards from the env's rewards with the credit-assignment helpers
   (`thinkgym.agents.credit`): the episode reward on the last policy token (``terminal``), spread
   over all policy tokens (``spread``), or each step's reward on that step's tokens (``process``);
   minus ``kl_beta`` times the per-token KL estimate ``log pi(a|s) - log pi_ref(a|s)`` against a
   frozen copy of the initial model (the reference).
3. **Advantages** — GAE over the policy tokens of each episode (environment tokens are skipped:
   they are not actions), from a value head on the policy's last hidden state; then whitened.
4. **Update** — ``ppo_epochs`` passes over shuffled minibatches of episodes: clipped surrogate
   objective, clipped value loss, gradient-norm clipping.

`ppo_losses` holds the loss math on its own, so it can be checked by hand (tests do).
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from thinkgym.agents.credit import (
    gae_advantages,
    process_token_rewards,
    spread_token_rewards,
    terminal_token_rewards,
)
from thinkgym.agents.trl import TokenEpisode, play_token_episodes
from thinkgym.registry import make

__all__ = ["PPOConfig", "PolicyWithValueHead", "ppo_losses", "token_rewards", "train_ppo"]


# --------------------------------------------------------------------------------------------
# 0. Settings
# --------------------------------------------------------------------------------------------


@dataclass
class PPOConfig:
    """Every knob of a PPO run, in one place."""

    env_id: str
    steps: int = 50  # iterations (one rollout + one update each)
    episodes_per_step: int = 16
    learning_rate: float = 1e-3
    max_completion_length: int = 64  # tokens per episode (policy + env tokens)
    max_tokens_per_turn: int = 64
    temperature: float = 1.0
    kl_beta: float = 0.05  # weight of the KL penalty in the reward
    gamma: float = 1.0  # discount per token
    lam: float = 0.95  # GAE lambda
    clip_range: float = 0.2  # policy ratio clip
    value_clip_range: float = 0.2  # value prediction clip around the old value
    vf_coef: float = 0.5
    ppo_epochs: int = 4
    minibatch_size: int = 8  # episodes per minibatch
    max_grad_norm: float = 1.0
    whiten_advantages: bool = True
    credit: str = "terminal"  # terminal | spread | process
    seed: int = 0
    token_actions: bool = False
    restrict_to_valid_actions: bool = False
    conversational: bool = False
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.credit not in ("terminal", "spread", "process"):
            raise ValueError(f"credit must be 'terminal', 'spread' or 'process', got {self.credit!r}")
        if self.episodes_per_step < 1 or self.minibatch_size < 1 or self.ppo_epochs < 1:
            raise ValueError("episodes_per_step, minibatch_size and ppo_epochs must be >= 1")


# --------------------------------------------------------------------------------------------
# 1. The policy: a causal LM with a value head
# --------------------------------------------------------------------------------------------


class PolicyWithValueHead(nn.Module):
    """``lm`` plus a linear value head on its last hidden state: V(s) before each token."""

    def __init__(self, lm: nn.Module):
        super().__init__()
        self.lm = lm
        self.value_head = nn.Linear(lm.config.hidden_size, 1)
        nn.init.zeros_(self.value_head.weight)  # start from V = 0 everywhere: no spurious advantages
        nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        values = self.value_head(out.hidden_states[-1].to(self.value_head.weight.dtype)).squeeze(-1)
        return out.logits, values


def _batch(episodes: list[TokenEpisode], pad_id: int, vocab_size: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-padded ``prompt + completion`` ids, and for each completion token: its position in the
    sequence, its policy mask, and where the logits/value that score it sit (one position earlier)."""
    lengths = [len(e.prompt_ids) + len(e.completion_ids) for e in episodes]
    width = max(lengths)
    n_completion = max(len(e.completion_ids) for e in episodes)
    ids = torch.full((len(episodes), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(episodes), width), dtype=torch.long)
    index = torch.zeros((len(episodes), n_completion), dtype=torch.long)
    mask = torch.zeros((len(episodes), n_completion))
    for row, episode in enumerate(episodes):
        sequence = episode.prompt_ids + episode.completion_ids
        ids[row, : len(sequence)] = torch.tensor(sequence)
        attention[row, : len(sequence)] = 1
        start = len(episode.prompt_ids)
        k = len(episode.completion_ids)
        index[row, :k] = torch.arange(start - 1, start - 1 + k)  # logits at p-1 predict token p
        mask[row, :k] = torch.tensor(episode.env_mask, dtype=torch.float)
    completion = torch.zeros((len(episodes), n_completion), dtype=torch.long)
    for row, episode in enumerate(episodes):
        completion[row, : len(episode.completion_ids)] = torch.tensor(episode.completion_ids)
    batch = {
        "input_ids": ids.to(device),
        "attention_mask": attention.to(device),
        "index": index.to(device),
        "mask": mask.to(device),
        "completion_ids": completion.to(device),
    }
    if any(a is not None for e in episodes for a in e.allowed):
        # Sampling was restricted (invalid-action masking): score tokens under the same restriction,
        # so the ratio and the KL compare the distributions that were actually sampled from.
        restricted = torch.zeros((len(episodes), n_completion, vocab_size), dtype=torch.bool)
        for row, episode in enumerate(episodes):
            for t, allowed in enumerate(episode.allowed):
                if allowed is not None:
                    restricted[row, t] = True
                    restricted[row, t, allowed] = False
        batch["restricted"] = restricted.to(device)
    return batch


def _logprobs_and_values(
    model: PolicyWithValueHead | nn.Module, batch: dict[str, torch.Tensor], temperature: float, with_values: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probabilities of the completion tokens (under ``logits / temperature``) and V(s_t)."""
    if isinstance(model, PolicyWithValueHead):
        logits, values = model(batch["input_ids"], batch["attention_mask"])
    else:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        values = None
    gather_index = batch["index"].unsqueeze(-1).expand(-1, -1, logits.size(-1))
    token_logits = torch.gather(logits, 1, gather_index).float() / temperature
    if "restricted" in batch:
        token_logits = token_logits.masked_fill(batch["restricted"][..., : token_logits.size(-1)], float("-inf"))
    logprobs = torch.log_softmax(token_logits, dim=-1).gather(-1, batch["completion_ids"].unsqueeze(-1)).squeeze(-1)
    token_values = torch.gather(values, 1, batch["index"]) if (values is not None and with_values) else None
    return logprobs, token_values


# --------------------------------------------------------------------------------------------
# 2. Rewards per token (credit assignment) and 3. advantages (GAE)
# --------------------------------------------------------------------------------------------


def token_rewards(episode: TokenEpisode, credit: str) -> list[float]:
    """The episode's env reward as one float per completion token (env tokens get 0)."""
    n_policy = sum(episode.env_mask)
    if credit == "process":
        return process_token_rewards(
            episode.step_rewards, episode.step_token_counts, mask=episode.env_mask, placement="last"
        )
    per_policy = terminal_token_rewards(episode.score, n_policy) if credit == "terminal" else spread_token_rewards(episode.score, n_policy)
    out, cursor = [], 0
    for m in episode.env_mask:
        out.append(per_policy[cursor] if m else 0.0)
        cursor += 1 if m else 0
    return out


def _advantages(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE per row over the policy tokens only (env tokens are not decisions and are skipped)."""
    advantages = torch.zeros_like(rewards)
    returns = torch.zeros_like(rewards)
    for row in range(rewards.size(0)):
        positions = mask[row].nonzero().squeeze(-1).tolist()
        if not positions:
            continue
        adv, ret = gae_advantages(
            [float(rewards[row, p]) for p in positions], [float(values[row, p]) for p in positions], gamma=gamma, lam=lam
        )
        advantages[row, positions] = torch.tensor(adv, dtype=rewards.dtype, device=rewards.device)
        returns[row, positions] = torch.tensor(ret, dtype=rewards.dtype, device=rewards.device)
    return advantages, returns


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def _whiten(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    mean = _masked_mean(x, mask)
    var = _masked_mean((x - mean) ** 2, mask)
    return (x - mean) * torch.rsqrt(var + eps) * mask


# --------------------------------------------------------------------------------------------
# 4. The PPO loss
# --------------------------------------------------------------------------------------------


def ppo_losses(
    new_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    new_values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_range: float = 0.2,
    value_clip_range: float = 0.2,
) -> dict[str, torch.Tensor]:
    """The clipped surrogate and clipped value losses (masked means over policy tokens).

        ratio    = exp(new_logprob - old_logprob)
        pg_loss  = mean(max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps)))
        v_clip   = old_V + clip(new_V - old_V, -c, c)
        vf_loss  = 0.5 * mean(max((new_V - R)^2, (v_clip - R)^2))

    Also the fraction of tokens whose ratio was clipped and the approximate KL
    ``mean((ratio - 1) - log ratio)`` between the old and the new policy.
    """
    log_ratio = new_logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    pg_unclipped = -advantages * ratio
    pg_clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    pg_loss = _masked_mean(torch.maximum(pg_unclipped, pg_clipped), mask)
    values_clipped = old_values + torch.clamp(new_values - old_values, -value_clip_range, value_clip_range)
    vf_loss = 0.5 * _masked_mean(torch.maximum((new_values - returns) ** 2, (values_clipped - returns) ** 2), mask)
    clipfrac = _masked_mean((pg_clipped > pg_unclipped).float(), mask)
    approx_kl = _masked_mean((ratio - 1.0) - log_ratio, mask)
    return {"pg_loss": pg_loss, "vf_loss": vf_loss, "clipfrac": clipfrac, "approx_kl": approx_kl}


# --------------------------------------------------------------------------------------------
# The training loop
# --------------------------------------------------------------------------------------------


def _rollout(config: PPOConfig, lm: nn.Module, tokenizer: Any, step: int) -> list[TokenEpisode]:
    envs, prompts = [], []
    for i in range(config.episodes_per_step):
        env = make(config.env_id, **config.env_kwargs)
        _, info = env.reset(seed=config.seed * 1_000_003 + step * config.episodes_per_step + i)
        envs.append(env)
        messages = info["messages"]
        prompts.append(messages if config.conversational else messages[-1]["content"])
    try:
        return play_token_episodes(
            lm,
            tokenizer,
            envs,
            prompts,
            max_completion_tokens=config.max_completion_length,
            token_actions=config.token_actions,
            restrict_to_valid_actions=config.restrict_to_valid_actions,
            max_tokens_per_turn=config.max_tokens_per_turn,
            temperature=config.temperature,
        )
    finally:
        for env in envs:
            env.close()


def train_ppo(
    config: PPOConfig,
    model: nn.Module,
    tokenizer: Any,
    *,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train ``model`` (a transformers causal LM, updated in place) with PPO; one history row per step."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    device = next(model.parameters()).device
    policy = PolicyWithValueHead(model).to(device)
    reference = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=config.learning_rate, eps=1e-5)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    history: list[dict[str, Any]] = []

    for step in range(1, config.steps + 1):
        # 1. Rollout with the current policy.
        episodes = _rollout(config, model, tokenizer, step)
        episodes = [e for e in episodes if e.completion_ids]
        if not episodes:
            raise RuntimeError("every episode of this step was empty: check max_completion_length")
        batch = _batch(episodes, pad_id, model.get_output_embeddings().weight.size(0), device)
        mask = batch["mask"]

        # 2. Old log-probs and values, reference log-probs; per-token rewards with the KL penalty.
        policy.eval()
        with torch.no_grad():
            old_logprobs, old_values = _logprobs_and_values(policy, batch, config.temperature)
            ref_logprobs, _ = _logprobs_and_values(reference, batch, config.temperature, with_values=False)
        kl = (old_logprobs - ref_logprobs) * mask
        env_rewards = torch.zeros_like(old_logprobs)
        for row, episode in enumerate(episodes):
            values = token_rewards(episode, config.credit)
            env_rewards[row, : len(values)] = torch.tensor(values, device=device)
        rewards = env_rewards - config.kl_beta * kl

        # 3. GAE advantages over policy tokens, whitened across the batch.
        advantages, returns = _advantages(rewards, old_values * mask, mask, config.gamma, config.lam)
        if config.whiten_advantages:
            advantages = _whiten(advantages, mask)

        # 4. Minibatch epochs of the clipped objective.
        policy.train()
        stats: dict[str, list[float]] = {"pg_loss": [], "vf_loss": [], "clipfrac": [], "approx_kl": []}
        order = list(range(len(episodes)))
        for _ in range(config.ppo_epochs):
            rng.shuffle(order)
            for start in range(0, len(order), config.minibatch_size):
                rows = order[start : start + config.minibatch_size]
                sub = {k: v[rows] for k, v in batch.items()}
                new_logprobs, new_values = _logprobs_and_values(policy, sub, config.temperature)
                losses = ppo_losses(
                    new_logprobs,
                    old_logprobs[rows],
                    advantages[rows],
                    new_values,
                    old_values[rows],
                    returns[rows],
                    mask[rows],
                    clip_range=config.clip_range,
                    value_clip_range=config.value_clip_range,
                )
                loss = losses["pg_loss"] + config.vf_coef * losses["vf_loss"]
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
                optimizer.step()
                for key in stats:
                    stats[key].append(losses[key].item())

        scores = [e.score for e in episodes]
        components: dict[str, float] = {}
        for name in {k for e in episodes for k in e.components}:
            components[name] = sum(e.components.get(name, 0.0) for e in episodes) / len(episodes)
        row = {
            "step": step,
            "reward": sum(scores) / len(scores),
            "components": components,
            "kl": float(kl.sum() / mask.sum().clamp(min=1.0)),
            **{k: sum(v) / max(1, len(v)) for k, v in stats.items()},
        }
        if not all(math.isfinite(float(v)) for k, v in row.items() if k != "components"):
            raise FloatingPointError(f"PPO diverged at step {step}: {row}")
        history.append(row)
        if on_step is not None:
            on_step(row)
    policy.eval()
    return history
