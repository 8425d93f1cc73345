"""The mazes of the pipeline: a training pool and held-out mazes no stage ever trains on.

Training mazes come from the ``train`` split of ``thinkgym/Maze-v0`` (``layout="random"``), held-out
mazes from the ``test`` split — separate seed streams (`thinkgym.core.GeneratorSource` seeds problem
``i`` from ``(name, split, i)``). Small grids repeat layouts across seeds, so disjoint seeds are not
enough for "never seen": a training maze whose layout (walls, start, goal, horizon) equals a
held-out one is dropped, and `split_mazes` asserts both kinds of disjointness.

The stages train through ``pipeline/MazePool-v0``: the same env, whose problems are drawn from the
training pool only (so GRPO's dataset and PPO's resets cannot reach a held-out maze), optionally
wrapped so the episode's reward is the reward model's score (`RewardModelReward`) while the true
reward stays in ``info["reward_components"]``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from thinkgym.core import ListSource, Problem
from thinkgym.envs.maze import GOAL_REWARD, MazeEnv, optimal_path
from thinkgym.registry import make, register

__all__ = [
    "POOL_ENV_ID",
    "MazeSplit",
    "RewardModelReward",
    "Evaluation",
    "split_mazes",
    "layout_key",
    "observation",
    "oracle_completion",
    "references",
    "evaluate",
    "register_pool_env",
]

#: The env id the RL stages train on (registered by `register_pool_env`).
POOL_ENV_ID = "pipeline/MazePool-v0"


def layout_key(problem: Problem) -> str:
    """What makes two mazes the same maze: walls, start, goal and horizon (not the id or name)."""
    maze = dict(problem.meta["maze"])
    maze.pop("name", None)
    return json.dumps(maze, sort_keys=True)


@dataclass
class MazeSplit:
    """Training mazes and held-out mazes, disjoint by seed stream and by layout."""

    rows: int
    cols: int
    train: list[Problem]
    heldout: list[Problem]
    dropped_duplicates: int = 0

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``thinkgym/Maze-v0`` for mazes of this size."""
        return {"layout": "random", "rows": self.rows, "cols": self.cols}

    def assert_disjoint(self) -> None:
        """Raise if a held-out maze shares a problem id or a layout with a training maze."""
        train_ids = {p.id for p in self.train}
        held_ids = {p.id for p in self.heldout}
        if train_ids & held_ids:
            raise AssertionError(f"{len(train_ids & held_ids)} problem ids are both training and held-out")
        train_keys = {layout_key(p) for p in self.train}
        shared = sum(layout_key(p) in train_keys for p in self.heldout)
        if shared:
            raise AssertionError(f"{shared} held-out mazes have the layout of a training maze")


def split_mazes(rows: int, cols: int, n_train: int, n_heldout: int, seed: int = 0) -> MazeSplit:
    """``n_heldout`` mazes of the ``test`` split and ``n_train`` distinct training mazes of the
    ``train`` split (starting at index ``seed * 1_000_000``), none with a held-out layout."""
    if n_train < 1 or n_heldout < 1:
        raise ValueError("n_train and n_heldout must be >= 1")
    test_env = MazeEnv(layout="random", rows=rows, cols=cols, split="test")
    train_env = MazeEnv(layout="random", rows=rows, cols=cols, split="train")
    heldout = [test_env.source.get(seed * 1_000_000 + i) for i in range(n_heldout)]
    held_keys = {layout_key(p) for p in heldout}
    train: list[Problem] = []
    seen: set[str] = set()
    dropped = 0
    index = seed * 1_000_000
    limit = index + 50 * (n_train + n_heldout)  # small grids have few layouts: stop, do not spin
    while len(train) < n_train and index < limit:
        problem = train_env.source.get(index)
        index += 1
        key = layout_key(problem)
        if key in held_keys:
            dropped += 1
            continue
        if key not in seen:  # a repeated training layout adds nothing
            seen.add(key)
            train.append(problem)
    if not train:
        raise ValueError(f"no {rows}x{cols} training maze differs from the held-out ones")
    split = MazeSplit(rows, cols, train, heldout, dropped)
    split.assert_disjoint()
    return split


def observation(problem: Problem, env_kwargs: dict[str, Any]) -> str:
    """The env's first observation of ``problem`` (the prompt every stage sees)."""
    env = make("thinkgym/Maze-v0", **env_kwargs)
    try:
        obs, _ = env.reset(options={"problem": problem})
    finally:
        env.close()
    return obs


def oracle_completion(problem: Problem) -> str:
    """An optimal move sequence for ``problem`` (the demonstration SFT imitates)."""
    from thinkgym.envs.maze import _problem_maze

    path = optimal_path(_problem_maze(problem))
    if path is None:
        raise ValueError(f"{problem.id}: the goal is out of reach")
    return path


def references(problems: Sequence[Problem], env_kwargs: dict[str, Any]) -> dict[str, float]:
    """Mean exact references over ``problems`` (the env's ``exact_references``): the uniform
    policy's expected return and the optimum."""
    env = make("thinkgym/Maze-v0", **env_kwargs)
    uniform, optimum = [], []
    for problem in problems:
        refs = env.exact_references(problem)
        uniform.append(float(refs["random_mean_reward"]))
        optimum.append(float(refs["optimal_mean_reward"]))
    env.close()
    return {"uniform": sum(uniform) / len(uniform), "optimum": sum(optimum) / len(optimum)}


@dataclass
class Evaluation:
    """Held-out returns of one policy: the mean return of its sampled episodes on each maze."""

    returns: list[float]
    optimum: float
    episodes: list[Any] = field(default_factory=list, repr=False)

    @property
    def mean(self) -> float:
        return sum(self.returns) / len(self.returns)

    @property
    def se(self) -> float:
        n = len(self.returns)
        if n < 2:
            return 0.0
        var = sum((r - self.mean) ** 2 for r in self.returns) / (n - 1)
        return math.sqrt(var / n)

    @property
    def fraction(self) -> float:
        """Mean return as a fraction of the optimal mean return."""
        return self.mean / self.optimum if self.optimum else 0.0

    @property
    def success(self) -> float:
        """Fraction of episodes that reached the goal."""
        scores = [e.score for e in self.episodes] or self.returns
        return sum(r >= GOAL_REWARD for r in scores) / len(scores)


def evaluate(
    model: Any,
    tokenizer: Any,
    problems: Sequence[Problem],
    env_kwargs: dict[str, Any],
    *,
    seed: int = 0,
    temperature: float = 1.0,
    batch: int = 256,
    samples: int = 1,
) -> Evaluation:
    """Play ``samples`` episodes per maze with ``model`` sampling at ``temperature`` (moves
    restricted to the permitted ones, one token per move — the setting every stage trains in),
    seeded. ``Evaluation.returns`` holds one mean return per maze (the unit the s.e. is over);
    ``Evaluation.episodes`` every episode, maze by maze."""
    import torch

    from thinkgym.agents.trl import play_token_episodes

    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    repeated = [p for p in problems for _ in range(samples)]
    episodes = []
    try:
        for start in range(0, len(repeated), batch):
            chunk = repeated[start : start + batch]
            envs, prompts = [], []
            for problem in chunk:
                env = make("thinkgym/Maze-v0", **env_kwargs)
                obs, _ = env.reset(options={"problem": problem})
                envs.append(env)
                prompts.append(obs)
            horizon = max(int(p.meta["maze"]["horizon"]) for p in chunk)
            episodes += play_token_episodes(
                model, tokenizer, envs, prompts, max_completion_tokens=horizon,
                token_actions=True, restrict_to_valid_actions=True, temperature=temperature,
            )
            for env in envs:
                env.close()
    finally:
        torch.random.set_rng_state(state)
    refs = references(problems, env_kwargs)
    returns = [sum(e.score for e in episodes[i : i + samples]) / samples for i in range(0, len(episodes), samples)]
    return Evaluation(returns, refs["optimum"], episodes)


class RewardModelReward(gymnasium.Wrapper):
    """The episode's reward is the reward model's score of (prompt, moves); the env's own reward
    stays visible in ``info["reward_components"]`` and ``info["true_reward"]``.

    ``scorer(prompt, completion) -> float`` is called once, when the episode ends; intermediate
    steps earn 0, the last one ``scale * score``. ``record(rm_score, true_return)`` (optional) sees
    every finished episode, unscaled, which is how the pipeline measures where the reward model and
    the true reward part ways.
    """

    def __init__(self, env: Any, scorer: Callable[[str, str], float],
                 record: Callable[[float, float], None] | None = None, scale: float = 1.0):
        super().__init__(env)
        self.scorer = scorer
        self.record = record
        self.scale = float(scale)
        self._prompt = ""
        self._moves: list[str] = []
        self._true = 0.0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._prompt, self._moves, self._true = obs, [], 0.0
        return obs, info

    def step(self, action: str) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._moves.append(action)
        self._true += float(reward)
        if not (terminated or truncated):
            return obs, 0.0, terminated, truncated, info
        score = float(self.scorer(self._prompt, "".join(self._moves)))
        if not math.isfinite(score):
            score = 0.0
        if self.record is not None:
            self.record(score, self._true)
        info = {**info, "true_reward": self._true, "reward_model": score}
        return obs, self.scale * score, terminated, truncated, info


def _pool_env(
    pool: Sequence[Problem] | None = None,
    scorer: Callable[[str, str], float] | None = None,
    record: Callable[[float, float], None] | None = None,
    reward_scale: float = 1.0,
    **maze_kwargs: Any,
) -> Any:
    """``thinkgym/Maze-v0`` (multi-turn, random layout) whose problems come from ``pool``;
    wrapped in `RewardModelReward` when a ``scorer`` is given."""
    maze_kwargs.setdefault("layout", "random")
    env = MazeEnv(mode="multi", **maze_kwargs)
    if pool:
        env.source = ListSource(list(pool))
    return RewardModelReward(env, scorer, record, reward_scale) if scorer is not None else env


def register_pool_env() -> str:
    """Register ``pipeline/MazePool-v0`` (idempotent) and return its id."""
    register(
        POOL_ENV_ID,
        _pool_env,
        description="Maze-v0 (random layout) drawing its problems from a given training pool; "
        "optionally rewarded by a reward model (thinkgym pipeline).",
        override=True,
    )
    return POOL_ENV_ID
