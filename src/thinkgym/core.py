"""The contract every thinkgym environment keeps: `Problem`, `Reward`, `ProblemSource`, `TextEnv`.

A `TextEnv` is a `gymnasium.Env` whose observations and actions are text:

- ``reset(seed=, options=) -> (observation, info)``: draws one `Problem` (deterministically from the
  seed) and returns the text the model sees first.
- ``step(action: str) -> (observation, reward, terminated, truncated, info)``: the model's text is
  judged by the env's rules. ``terminated`` means the episode reached a natural end (an answer was
  given, the goal was reached); ``truncated`` means it was cut short (turn limit) before that.
- ``info`` always holds ``problem_id``, ``messages`` (the whole exchange as chat messages),
  ``reward_components`` (the named parts of the last reward) and ``reward_info`` (why).

Bad model output never raises: an empty, oversized or malformed action earns reward 0 and an
``info["error"]``. Wrong *types* raise `TypeError`; stepping a finished episode raises gymnasium's
`ResetNeeded`.

Subclasses implement `respond` (one turn) and optionally `first_observation`, `valid_actions` and
`oracle_action`. Single-turn envs need not subclass at all: `SingleTurnEnv(source, verifier)`.
"""

from __future__ import annotations

import abc
import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

__all__ = [
    "Problem",
    "Reward",
    "Verifier",
    "ProblemSource",
    "ListSource",
    "GeneratorSource",
    "Turn",
    "TextEnv",
    "SingleTurnEnv",
    "TextSpace",
    "problem_seed",
]


# --------------------------------------------------------------------------------------------
# Problems and rewards
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One task instance.

    ``id`` is stable: the same env id, version, split and seed give the same problems on every
    machine. ``answer`` is the gold answer in the form the env's verifier expects (usually a str);
    ``meta`` carries anything else the verifier or an oracle needs (tests, difficulty, layout).
    """

    id: str
    prompt: str
    answer: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "prompt": self.prompt, "answer": self.answer, "meta": dict(self.meta)}


@dataclass(frozen=True)
class Reward:
    """What a verifier returns: the float a trainer sees, its named parts, and why.

    ``components`` maps part names (``accuracy``, ``format``, ``tests_passed`` …) to floats;
    ``info`` explains (extracted answer, failing test, error). Verifiers never raise on model
    output; they return ``Reward.zero(reason)`` instead.
    """

    score: float
    components: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        score = float(self.score)
        if not math.isfinite(score):
            raise ValueError(f"Reward.score must be finite, got {self.score!r}")
        object.__setattr__(self, "score", score)

    @classmethod
    def zero(cls, reason: str, components: Mapping[str, float] | None = None, **info: Any) -> Reward:
        """A zero reward that says why (``info["error"]``)."""
        return cls(0.0, dict(components or {}), {"error": reason, **info})

    def __float__(self) -> float:
        return self.score


@runtime_checkable
class Verifier(Protocol):
    """A reward function over one completion: pure, deterministic, picklable, bounded in time."""

    def __call__(self, completion: str, problem: Problem) -> Reward: ...


# --------------------------------------------------------------------------------------------
# Problem sources
# --------------------------------------------------------------------------------------------


def problem_seed(*parts: int | str) -> np.random.Generator:
    """A generator seeded from ``parts`` the same way on every machine.

    Strings are hashed with a fixed byte-level hash (Python's ``hash`` is salted per process).
    """
    words: list[int] = []
    for part in parts:
        if isinstance(part, str):
            h = 0xCBF29CE484222325
            for byte in part.encode():
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
            words.append(h)
        else:
            words.append(int(part) & 0xFFFFFFFFFFFFFFFF)
    return np.random.default_rng(words)


class ProblemSource(abc.ABC):
    """Where an env's problems come from: a procedural generator or a finite dataset.

    ``get(index)`` is deterministic. ``size`` is the number of problems, or ``None`` for an
    unbounded generator. `sample` and `take` are how envs, trainers and benchmarks draw from it.
    """

    size: int | None = None

    @abc.abstractmethod
    def get(self, index: int) -> Problem:
        """Problem number ``index`` (deterministic)."""

    def sample_index(self, rng: np.random.Generator) -> int:
        """The index of the problem an episode seeded with ``rng`` plays."""
        bound = self.size if self.size is not None else 2**31
        if bound == 0:
            raise ValueError("this problem source is empty")
        return int(rng.integers(bound))

    def take(self, n: int, seed: int = 0) -> list[Problem]:
        """``n`` problems, the same for the same ``seed`` everywhere.

        A finite source gives a seeded permutation (no repeats until exhausted); an unbounded one
        gives indices ``seed*n .. seed*n+n-1`` offset so different seeds do not overlap.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        if self.size is None:
            start = int(seed) * 1_000_003
            return [self.get(start + i) for i in range(n)]
        if self.size == 0:
            raise ValueError("this problem source is empty")
        order = np.random.default_rng(seed).permutation(self.size)
        reps = -(-n // self.size) if n else 0
        indices = np.concatenate([order] * max(reps, 1))[:n]
        return [self.get(int(i)) for i in indices]


class ListSource(ProblemSource):
    """A finite, in-memory list of problems (datasets load into this)."""

    def __init__(self, problems: Sequence[Problem]):
        self._problems = list(problems)
        self.size = len(self._problems)

    def get(self, index: int) -> Problem:
        return self._problems[index % self.size]


class GeneratorSource(ProblemSource):
    """An unbounded procedural source: ``make(rng, index) -> Problem`` with a per-index generator.

    The generator for index ``i`` is seeded from ``(name, split, i)``, so problem ``i`` never
    depends on which problems were drawn before it.
    """

    def __init__(self, name: str, make: Callable[[np.random.Generator, str], Problem], split: str = "train"):
        self.name = name
        self.split = split
        self._make = make

    def get(self, index: int) -> Problem:
        pid = f"{self.name}/{self.split}/{index}"
        return self._make(problem_seed(self.name, self.split, index), pid)


# --------------------------------------------------------------------------------------------
# Spaces
# --------------------------------------------------------------------------------------------

_SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n\t" + "αβπ√∞→é中"


class TextSpace(spaces.Text):
    """Any Unicode string of bounded length.

    gymnasium's `Text` only admits a fixed charset; model text can be any Unicode, so membership
    here checks type and length only. Samples are drawn from a mixed ASCII/Unicode charset.
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | None = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"TextSpace({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, TextSpace)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


# --------------------------------------------------------------------------------------------
# Environments
# --------------------------------------------------------------------------------------------


class Turn(NamedTuple):
    """The env's answer to one action: what the model sees next, the reward, and whether it ended."""

    observation: str
    reward: Reward
    terminated: bool


class TextEnv(gymnasium.Env[str, str], abc.ABC):
    """A text environment with verifiable rewards (see the module docstring for the contract).

    Subclasses implement `respond(action) -> Turn`. The base class handles seeding, problem choice,
    turn limits, chat history, type and size checks of actions, and the ``info`` dict.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human"], "render_fps": 4}

    #: Longest action (characters) that is judged; longer ones earn 0 with an error.
    max_action_chars: int = 65_536
    #: Longest observation the env produces.
    max_observation_chars: int = 1_000_000

    def __init__(
        self,
        source: ProblemSource,
        *,
        max_turns: int = 1,
        system_prompt: str | None = None,
        max_action_chars: int | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        if max_turns < 1:
            raise ValueError("max_turns must be >= 1")
        self.source = source
        self.max_turns = int(max_turns)
        self.system_prompt = system_prompt
        if max_action_chars is not None:
            self.max_action_chars = int(max_action_chars)
        self.render_mode = render_mode
        self.action_space = TextSpace(self.max_action_chars)
        self.observation_space = TextSpace(self.max_observation_chars)
        self.problem: Problem | None = None
        self.messages: list[dict[str, str]] = []
        self.turn = 0
        self._done = True
        self._started = False
        self._last_reward: Reward = Reward(0.0)

    # ---- hooks for subclasses -------------------------------------------------------------

    def first_observation(self, problem: Problem) -> str:
        """The text the model sees at reset; the problem's prompt unless overridden."""
        return problem.prompt

    @abc.abstractmethod
    def respond(self, action: str) -> Turn:
        """Judge one action in the current state. Must not raise on any string."""

    def valid_actions(self) -> list[str] | None:
        """The permitted actions now, when the action set is finite (None for open text)."""
        return None

    def oracle_action(self) -> str:
        """An action that earns the best reward from the current state (used by `OraclePolicy`)."""
        if self.problem is None:
            raise ResetNeeded("call reset() before asking for the oracle action")
        return str(self.problem.answer)

    # ---- gymnasium API --------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start an episode on one problem.

        ``options={"index": i}`` plays problem ``i`` of the source; ``options={"problem": p}``
        plays the given `Problem`; otherwise the problem is drawn from the seeded generator.
        """
        super().reset(seed=seed)
        options = options or {}
        if "problem" in options:
            problem = options["problem"]
            if not isinstance(problem, Problem):
                raise TypeError(f"options['problem'] must be a Problem, got {type(problem).__name__}")
        elif "index" in options:
            problem = self.source.get(int(options["index"]))
        else:
            problem = self.source.get(self.source.sample_index(self.np_random))
        self.problem = problem
        self.turn = 0
        self._done = False
        self._started = True
        self._last_reward = Reward(0.0)
        self._on_reset(problem)
        observation = self._clip(self.first_observation(problem))
        self.messages = []
        if self.system_prompt:
            self.messages.append({"role": "system", "content": self.system_prompt})
        self.messages.append({"role": "user", "content": observation})
        return observation, self._info()

    def _on_reset(self, problem: Problem) -> None:
        """Subclass hook: set up per-episode state before the first observation is made."""

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if not self._started or self._done:
            raise ResetNeeded(
                "the episode has ended (or never started): call env.reset() before env.step()"
            )
        if not isinstance(action, str):
            raise TypeError(f"{type(self).__name__}.step expects a str action, got {type(action).__name__}")
        self.turn += 1
        self.messages.append({"role": "assistant", "content": action})
        if len(action) > self.max_action_chars:
            turn = Turn(
                "",
                Reward.zero(f"action of {len(action)} characters exceeds the limit of {self.max_action_chars}"),
                self.max_turns == 1,
            )
        else:
            turn = self.respond(action)
        terminated = bool(turn.terminated)
        truncated = not terminated and self.turn >= self.max_turns
        self._done = terminated or truncated
        observation = self._clip(turn.observation)
        if observation and not self._done:
            self.messages.append({"role": "user", "content": observation})
        self._last_reward = turn.reward
        info = self._info()
        if "error" in turn.reward.info:
            info["error"] = turn.reward.info["error"]
        if self.render_mode == "human":
            print(self.render_text())
        return observation, turn.reward.score, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.render_text()
        if self.render_mode == "human":
            print(self.render_text())
        return None

    def render_text(self) -> str:
        """The conversation so far, as a person would read it."""
        lines = [f"[{m['role']}] {m['content']}" for m in self.messages]
        lines.append(f"[reward] {self._last_reward.score:g} {dict(self._last_reward.components)}")
        return "\n".join(lines)

    # ---- helpers ----------------------------------------------------------------------------

    def _clip(self, text: str) -> str:
        return text if len(text) <= self.max_observation_chars else text[: self.max_observation_chars]

    def _info(self) -> dict[str, Any]:
        assert self.problem is not None
        return {
            "problem_id": self.problem.id,
            "turn": self.turn,
            "messages": [dict(m) for m in self.messages],
            "reward_components": dict(self._last_reward.components),
            "reward_info": dict(self._last_reward.info),
            **self.extra_info(),
        }

    def extra_info(self) -> dict[str, Any]:
        """Subclass hook: env-specific info entries (e.g. the maze's ``action_mask``)."""
        return {}

    @property
    def done(self) -> bool:
        """Whether the current episode has ended (or none started)."""
        return self._done


class SingleTurnEnv(TextEnv):
    """One prompt, one answer, one reward: what most math and code envs are.

    >>> env = SingleTurnEnv(ListSource([Problem("p0", "1+1=?", "2")]), verifier=my_verifier)
    """

    def __init__(self, source: ProblemSource, verifier: Verifier, **kwargs: Any):
        kwargs.setdefault("max_turns", 1)
        super().__init__(source, **kwargs)
        self.verifier = verifier

    def respond(self, action: str) -> Turn:
        assert self.problem is not None
        return Turn("", self.verifier(action, self.problem), True)
