"""The `Policy` interface every agent implements, and `play_episode`, the loop that runs one.

A policy is batched and text-in/text-out: it receives `Query` objects (the chat so far, plus what an
env exposes to privileged policies) and returns one `Generation` each. Model-backed policies
(transformers, OpenAI-compatible servers) read only ``messages``; `RandomPolicy` may read
``valid_actions`` and `OraclePolicy` ``oracle_action`` — fields a real model never sees.

Helpers take the env as users hold it: a thinkgym env, or one wrapped by ``gymnasium.make`` or by
any gymnasium wrapper (`RecordEpisodeStatistics`, `TimeLimit`, a `RewardWrapper` ...). The env's
state and hooks (``messages``, ``problem``, ``valid_actions``, ``oracle_action``) are read with
``env.get_wrapper_attr`` (the outermost wrapper that defines one wins, else the env itself);
``reset`` and ``step`` go through the wrappers, so the rewards a helper records are the ones the
wrapped env returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thinkgym.core import Problem, TextEnv

__all__ = ["Query", "Generation", "Policy", "Episode", "play_episode", "query_for", "env_attr", "derive_seed"]


@dataclass(frozen=True)
class Query:
    """One request to a policy: the conversation so far and the privileged hints an env offers."""

    messages: tuple[dict[str, Any], ...]
    problem: Problem | None = None
    valid_actions: tuple[str, ...] | None = None
    oracle_action: str | None = None
    #: The seed of this sample (and turn): a policy that samples draws from a generator seeded with
    #: it, so the same sample gets the same text whatever else runs beside it. None: the policy's own.
    seed: int | None = None
    #: The env's tools (OpenAI function-calling schemas) when it has some: model policies pass them
    #: to the server (``tools=``) or to the chat template; None for envs without tools.
    tools: tuple[dict[str, Any], ...] | None = None

    @property
    def prompt(self) -> str:
        """The latest user message (what single-turn text policies answer)."""
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        return ""


@dataclass
class Generation:
    """A policy's answer to one `Query`.

    ``error`` is set (and ``text`` empty) when the policy could not produce an answer (a server
    down after retries, a timeout); callers record it instead of scoring a silent zero.
    """

    text: str
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    finish_reason: str | None = None  # "stop", "length" or "error"
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


class Policy:
    """Batched text policy. Subclasses implement `generate`; `agenerate` defaults to a thread."""

    name: str = "policy"
    #: Whether the policy reads ``Query.oracle_action`` (so envs need to compute it).
    wants_oracle: bool = False

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        raise TypeError(f"{type(self).__name__} must implement generate()")

    async def agenerate(self, queries: Sequence[Query]) -> list[Generation]:
        return await asyncio.to_thread(self.generate, list(queries))

    def close(self) -> None:
        """Release resources (servers, models); safe to call twice."""


def env_attr(env: Any, name: str, default: Any = None) -> Any:
    """Attribute ``name`` of a thinkgym env, through any gymnasium wrappers around it.

    ``gymnasium.Wrapper`` no longer forwards unknown attributes (gymnasium 1.x), so ``env.messages``
    fails on ``gymnasium.make(...)``; ``get_wrapper_attr`` looks through the wrapper chain.
    """
    getter = getattr(env, "get_wrapper_attr", None)
    if getter is None:
        return getattr(env, name, default)
    try:
        return getter(name)
    except AttributeError:
        return default


def query_for(env: TextEnv, policy: Policy | None = None, *, seed: int | None = None) -> Query:
    """The `Query` for the env's current state, with the hints the policy wants.

    ``env`` may be wrapped (see the module docstring); ``seed`` is the sample's seed (`Query.seed`).
    """
    wants_oracle = policy is None or policy.wants_oracle
    valid_actions = env_attr(env, "valid_actions")
    valid = valid_actions() if valid_actions is not None else None
    oracle = env_attr(env, "oracle_action") if wants_oracle else None
    tools = env_attr(env, "tools")
    return Query(
        messages=tuple(dict(m) for m in env_attr(env, "messages", ())),
        problem=env_attr(env, "problem"),
        valid_actions=tuple(valid) if valid is not None else None,
        oracle_action=oracle() if oracle is not None else None,
        seed=seed,
        tools=tuple(dict(t) for t in tools) if tools else None,
    )


def derive_seed(seed: int, *parts: int | str) -> int:
    """A 31-bit seed derived from ``seed`` and ``parts`` the same way on every machine.

    Strings are hashed with a fixed byte-level hash (Python's ``hash`` is salted per process);
    the result fits any server's ``seed`` field (OpenAI's is a signed 32-bit int on some servers).

    >>> derive_seed(3, "maze", 0) == derive_seed(3, "maze", 0) != derive_seed(3, "maze", 1)
    True
    """
    import hashlib

    import numpy as np

    words = [int(seed) & 0xFFFFFFFFFFFFFFFF]
    for part in parts:
        if isinstance(part, str):
            words.append(int.from_bytes(hashlib.blake2b(part.encode(), digest_size=8).digest(), "little"))
        else:
            words.append(int(part) & 0xFFFFFFFFFFFFFFFF)
    return int(np.random.SeedSequence(words).generate_state(1, np.uint32)[0]) & 0x7FFFFFFF


@dataclass
class Episode:
    """A finished episode: actions, rewards, the last info, and the policy's generations."""

    problem_id: str
    actions: list[str] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def total_reward(self) -> float:
        return float(sum(self.rewards))


def play_episode(
    env: TextEnv, policy: Policy, *, seed: int | None = None, options: dict[str, Any] | None = None
) -> Episode:
    """Run one episode of ``policy`` in ``env`` (one query per turn) and return it.

    ``env`` may be wrapped by gymnasium (``gymnasium.make``, `TimeLimit`, a `RewardWrapper` ...):
    the episode records the rewards and ends the wrapped env returns. ``seed`` seeds the env's
    reset; the policy samples from its own generator (seed it at construction).

    >>> import thinkgym
    >>> from thinkgym.agents import OraclePolicy
    >>> play_episode(thinkgym.make("thinkgym/Maze-v0"), OraclePolicy(), seed=0).total_reward
    10.0
    """
    start = time.perf_counter()
    _, info = env.reset(seed=seed, options=options)
    episode = Episode(problem_id=info["problem_id"], info=info)
    while True:
        generation = policy.generate([query_for(env, policy)])[0]
        episode.generations.append(generation)
        _, reward, terminated, truncated, info = env.step(generation.text)
        episode.actions.append(generation.text)
        episode.rewards.append(float(reward))
        episode.info = info
        if terminated or truncated:
            episode.terminated, episode.truncated = terminated, truncated
            break
    episode.wall_s = time.perf_counter() - start
    return episode
