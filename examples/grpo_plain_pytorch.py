"""GRPO in plain PyTorch, through the env API only (``reset`` / ``step``): no TRL, no transformers.

The proof that any RL library can train on a thinkgym env. The policy reads the observation text
(the maze drawing with the agent's position and the moves left), writes one move per step, and
samples only among the moves the walls permit (``info["action_mask"]``). GRPO: play a group of
episodes of the same problem, score each by its return, advantage = ``(return - group mean) /
group std``, and raise the log-probability of every move of the better-than-average episodes.

    python examples/grpo_plain_pytorch.py --steps 30
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch
from torch import nn

import thinkgym
from thinkgym.agents.credit import group_advantages

MAX_CHARS = 512  # observations are clipped/padded to this many characters


def encode(text: str) -> torch.Tensor:
    """Character codes (ASCII, others -> 0), left-aligned in a fixed-length vector."""
    codes = [ord(c) if ord(c) < 128 else 0 for c in text[:MAX_CHARS]]
    return torch.tensor(codes + [0] * (MAX_CHARS - len(codes)), dtype=torch.long)


class Policy(nn.Module):
    """Observation text -> logits over the env's actions (a small MLP over character embeddings)."""

    def __init__(self, n_actions: int, width: int = 64):
        super().__init__()
        self.embed = nn.Embedding(128, 8)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(MAX_CHARS * 8, width), nn.Tanh(), nn.Linear(width, n_actions))
        nn.init.zeros_(self.body[-1].weight)  # start uniform over the permitted actions
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.body(self.embed(observations))


def play(env, policy: Policy, moves: Sequence[str], seed: int, greedy: bool = False) -> tuple[float, torch.Tensor]:
    """One episode; returns its return and the summed log-probability of the moves taken."""
    observation, info = env.reset(seed=seed)
    total, logprob = 0.0, torch.zeros(())
    while True:
        logits = policy(encode(observation)[None])[0]
        mask = torch.as_tensor(info.get("action_mask", [1] * len(moves)), dtype=torch.bool)
        logits = logits.masked_fill(~mask, float("-inf"))  # invalid-action masking
        dist = torch.distributions.Categorical(logits=logits)
        action = logits.argmax() if greedy else dist.sample()
        logprob = logprob + dist.log_prob(action)
        observation, reward, terminated, truncated, info = env.step(moves[int(action)])
        total += float(reward)
        if terminated or truncated:
            return total, logprob


def evaluate(env_id: str, policy: Policy, moves: Sequence[str], episodes: int, seed: int) -> float:
    env = thinkgym.make(env_id)
    with torch.no_grad():
        return sum(play(env, policy, moves, seed + i)[0] for i in range(episodes)) / episodes


def main(argv: Sequence[str] | None = None) -> dict[str, list[float] | float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="thinkgym/Maze-v0", help="a multi-turn env with a finite action set")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--group", type=int, default=16, help="episodes per group (GRPO's G)")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for a model this small)")
    args = parser.parse_args(argv)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _train(args)
    finally:
        torch.set_num_threads(previous_threads)


def _train(args: argparse.Namespace) -> dict[str, list[float] | float]:
    torch.manual_seed(args.seed)
    from thinkgym.envs.maze import MOVES  # the action alphabet, in action_mask order

    env = thinkgym.make(args.env)
    policy = Policy(len(MOVES))
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.lr)
    before = evaluate(args.env, policy, MOVES, args.eval_episodes, seed=10_000)
    curve = []
    for step in range(args.steps):
        # 1. a group of episodes of the same problem (same reset seed)
        returns, logprobs = [], []
        for _ in range(args.group):
            ret, logprob = play(env, policy, MOVES, seed=args.seed + step)
            returns.append(ret)
            logprobs.append(logprob)
        # 2. group-relative advantages; 3. policy gradient on every move of each episode
        advantages = torch.tensor(group_advantages(returns, args.group))
        loss = -(advantages * torch.stack(logprobs)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        curve.append(sum(returns) / len(returns))
        print(f"step {step + 1:3d}  mean return {curve[-1]:6.3f}")
    after = evaluate(args.env, policy, MOVES, args.eval_episodes, seed=20_000)
    print(f"mean return on {args.eval_episodes} fresh episodes: before {before:.3f}, after {after:.3f}")
    return {"before": before, "after": after, "curve": curve}


if __name__ == "__main__":
    main()
