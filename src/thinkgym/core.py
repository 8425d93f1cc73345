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
`ResetNeeded`. An observation longer than ``max_observation_chars`` is cut to that length (so it
always lies in ``observation_space``) and ``info["observation_clipped_from"]`` gives its length.

Subclasses implement `respond` (one turn) and optionally `first_observation`, `valid_actions` and
`oracle_action`. Single-turn envs need not subclass at all: `SingleTurnEnv(source, verifier)`.

**Wrapped envs.** Users hold envs wrapped by ``gymnasium.make`` (`OrderEnforcing`,
`PassiveEnvChecker`) or by any wrapper (`RecordEpisodeStatistics`, `TimeLimit`, a `RewardWrapper`);
gymnasium 1.x wrappers do not forward attributes. Every generic helper therefore calls ``reset``
and ``step`` on the env it was given (so what the wrappers change is what it records) and reads
the env's state and hooks with ``env.get_wrapper_attr(name)`` (`thinkgym.agents.base.env_attr`):
``messages``, ``problem``, ``valid_actions()``, ``oracle_action()`` and the optional hooks below.
Envs with a finite action set also put it in ``info["valid_actions"]``.

**Optional hooks** that generic code (benchmarks, training, the CLI) uses instead of naming envs:

- ``success_component``: the reward component that means "solved" at 1.0 (``accuracy`` for math,
  ``all_passed`` for code, ``goal`` for the maze); None: a positive reward means solved.
- ``action_tokens``: action strings a tokenizer should keep whole (the maze's moves).
- ``exact_references(problem)``: exact expectations for one problem, when the env can compute
  them (the maze's dynamic programming): ``random_mean_reward`` (the expected return of the policy
  uniform over ``valid_actions()``), ``optimal_mean_reward`` (the best return) and
  ``optimal_accuracy`` (1.0 when the problem can be solved). None (the default): no reference.

**Everywhere users take an env.** Spaces are `TextSpace` (a gymnasium `Text` over all of Unicode),
so `gymnasium.vector.SyncVectorEnv`, `AsyncVectorEnv` with shared memory and
`gymnasium.make_vec` carry any text exactly. Envs pickle (sources and verifiers are module-level
functions or objects, never closures), for vector envs, worker processes and Ray. The public
checker `thinkgym.utils.check_env` tests all of this on any env.
"""

from __future__ import annotations

import abc
import functools
import math
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Sequence as SequenceABC
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from thinkgym.errors import ConfigError

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


def verification_failure(reward_info: Any, depth: int = 0) -> str | None:
    """Why the verification itself failed (``verification_failed`` anywhere in a reward's info,
    a composite's parts included), or None.

    Such a reward is 0 because the machinery could not judge (a worker pool that could not start,
    a stalled worker, a lost Ray actor), not because the answer is wrong: the eval records the
    sample as failed (retried on resume, never scored as a zero) and the TRL reward functions try
    once more, then give no reward (None) rather than a zero that would train on it.
    """
    if not isinstance(reward_info, Mapping) or depth > 8:
        return None
    if reward_info.get("verification_failed") is True:
        return str(reward_info.get("error") or reward_info.get("reason") or "verification failed")
    for value in reward_info.values():
        if isinstance(value, Mapping):
            found = verification_failure(value, depth + 1)
            if found:
                return found
    return None


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

    def take(self, n: int, seed: int = 0, *, repeat: bool = False) -> list[Problem]:
        """``n`` problems, the same for the same ``seed`` everywhere.

        A finite source gives a seeded permutation, so no problem repeats. Asking a finite source
        for more problems than it holds raises `ConfigError` (repeated problems would pass for
        independent ones: in a training set, and in an evaluation's confidence intervals) unless
        ``repeat=True`` asks for the permutation to be cycled on purpose. An unbounded source
        gives indices ``seed*1_000_003 ..``, so different seeds do not overlap.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        if self.size is None:
            start = int(seed) * 1_000_003
            return [self.get(start + i) for i in range(n)]
        if self.size == 0:
            raise ValueError("this problem source is empty")
        if n > self.size and not repeat:
            raise ConfigError(
                f"asked for {n} problems from a source that holds {self.size}: they would repeat. "
                f"Ask for at most {self.size} (several samples per problem are a separate setting, "
                "e.g. `thinkgym eval --samples k`), or pass repeat=True to cycle through them on purpose."
            )
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
    depends on which problems were drawn before it. ``make`` must pickle (a module-level function,
    or a `functools.partial` of one, not a closure): envs travel to worker processes.
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

_SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n\t" + "αβπ√∞→é中…∑😀"
#: Every Unicode code point (surrogates included: a Python ``str`` may hold them) is one character.
UNICODE_SIZE = 0x110000


class UnicodeCharset(AbstractSet):
    """The set of every one-character string: what model text and dataset text can contain.

    gymnasium's `Text` keeps its charset as a concrete set and encodes character ``c`` as its
    index in that set (flattening, shared memory of `AsyncVectorEnv`). For this set the index of
    ``c`` is ``ord(c)``, so the encoding covers all of Unicode without building a set of 1.1 M
    strings.
    """

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and len(item) == 1

    def __len__(self) -> int:
        return UNICODE_SIZE

    def __iter__(self) -> Iterator[str]:
        return map(chr, range(UNICODE_SIZE))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeCharset) or (isinstance(other, AbstractSet) and AbstractSet.__eq__(self, other))

    __hash__ = AbstractSet._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnicodeCharset, ())


class UnicodeCharList(SequenceABC):
    """``chr`` as a sequence: item ``i`` of gymnasium's character list is code point ``i``."""

    def __len__(self) -> int:
        return UNICODE_SIZE

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [chr(i) for i in range(*index.indices(UNICODE_SIZE))]
        return chr(int(index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (UnicodeCharList, ())


_UNICODE_SET = UnicodeCharset()
_UNICODE_LIST = UnicodeCharList()


@functools.cache
def _all_characters() -> str:
    return "".join(map(chr, range(UNICODE_SIZE)))


class TextSpace(spaces.Text):
    """Any Unicode string of bounded length: a gymnasium `Text` whose charset is all of Unicode.

    Membership checks type and length (every character is in the charset). Character ``c`` is
    encoded as ``ord(c)`` and padding as ``0x110000``, so `gymnasium.spaces.flatten` and the shared
    memory of `gymnasium.vector.AsyncVectorEnv` carry any text (``…``, ``é``, ``∑``, CJK, emoji,
    lone surrogates) exactly. Samples are drawn from a small mixed ASCII/Unicode charset.
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | None = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    @property
    def character_set(self) -> frozenset[str]:  # type: ignore[override]
        return _UNICODE_SET  # type: ignore[return-value]

    @property
    def character_list(self) -> tuple[str, ...]:  # type: ignore[override]
        return _UNICODE_LIST  # type: ignore[return-value]

    def character_index(self, char: str) -> np.int32:
        return np.int32(ord(char))

    @property
    def characters(self) -> str:
        """Every character, in code point order (built on first use: 1.1 M characters)."""
        return _all_characters()

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string of the sample charset (a mask or probability must span all of Unicode)."""
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        length = int(self.np_random.integers(self.min_length, self.max_length + 1))
        chars = self.np_random.choice(list(_SAMPLE_CHARSET), size=length)
        return "".join(chars)

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

    __hash__ = None  # type: ignore[assignment]


def text_to_codes(space: TextSpace, text: str) -> np.ndarray:
    """``text`` as ``max_length`` int32 code points, padded with ``0x110000`` (gymnasium's layout).

    Text longer than the space cannot be encoded: a `ValueError` says so (envs clip their
    observations to ``max_observation_chars``, so their own text always fits).
    """
    if len(text) > space.max_length:
        raise ValueError(
            f"a text of {len(text)} characters does not fit a TextSpace of max_length {space.max_length}"
        )
    codes = np.full(space.max_length, UNICODE_SIZE, dtype=np.int32)
    codes[: len(text)] = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return codes


def codes_to_text(codes: np.ndarray) -> str:
    """The inverse of `text_to_codes`: padding (and any value outside Unicode) is dropped."""
    codes = np.asarray(codes).reshape(-1)
    kept = codes[(codes >= 0) & (codes < UNICODE_SIZE)].astype("<u4")
    return kept.tobytes().decode("utf-32-le", "surrogatepass")


class SharedTextBatch(SequenceABC):
    """The texts in an `AsyncVectorEnv`'s shared memory, decoded when read.

    Each env's slot is ``max_length + 1`` int32: the text's length, then its code points, so a
    write and a read cost the text's length, not ``max_length`` (which is large: 1 M characters by
    default). `AsyncVectorEnv` reads its shared memory once, at construction, and expects a *view*
    that the workers' writes update (a numpy array, for numeric spaces); gymnasium's `Text` returns
    a tuple of strings instead, frozen at the empty buffer. This view decodes the current contents
    on each access, and `copy.deepcopy` (what `AsyncVectorEnv` returns with ``copy=True``, the
    default) turns it into a plain tuple of strings.
    """

    def __init__(self, slots: np.ndarray):
        self._slots = slots

    def __len__(self) -> int:
        return int(self._slots.shape[0])

    def _text(self, slot: np.ndarray) -> str:
        length = min(max(int(slot[0]), 0), slot.shape[0] - 1)
        return codes_to_text(slot[1 : 1 + length])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self._text(slot) for slot in self._slots[index])
        return self._text(self._slots[index])

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SequenceABC) and not isinstance(other, str) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SharedTextBatch({tuple(self)!r})"


def _register_gymnasium_codecs() -> None:
    """Teach gymnasium's single-dispatch space utilities the exact `TextSpace` codec.

    gymnasium's own `Text` versions would go through `character_index` and `character_list`, but
    loop in Python over every one of ``max_length`` slots per step, and its shared memory is read
    once (see `SharedTextBatch`); these are vectorised and cost the text's length.
    """
    from gymnasium.spaces import utils as space_utils
    from gymnasium.vector.utils import shared_memory
    from gymnasium.vector.utils import space_utils as vector_space_utils

    space_utils.flatten.register(TextSpace)(text_to_codes)
    space_utils.unflatten.register(TextSpace)(lambda space, x: codes_to_text(x))
    space_utils.flatten_space.register(TextSpace)(
        lambda space: spaces.Box(low=0, high=UNICODE_SIZE, shape=(space.max_length,), dtype=np.int32)
    )

    @shared_memory.create_shared_memory.register(TextSpace)
    def _create(space: TextSpace, n: int = 1, ctx: Any = None) -> Any:
        import multiprocessing

        return (ctx or multiprocessing).Array(np.dtype(np.int32).char, n * (space.max_length + 1))

    @shared_memory.read_from_shared_memory.register(TextSpace)
    def _read(space: TextSpace, memory: Any, n: int = 1) -> SharedTextBatch:
        return SharedTextBatch(np.frombuffer(memory.get_obj(), dtype=np.int32).reshape((n, space.max_length + 1)))

    @shared_memory.write_to_shared_memory.register(TextSpace)
    def _write(space: TextSpace, index: int, value: str, memory: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a TextSpace observation must be a str, got {type(value).__name__}")
        if len(value) > space.max_length:
            text_to_codes(space, value)  # raises the clear error for text that does not fit
        size = space.max_length + 1
        slot = np.frombuffer(memory.get_obj(), dtype=np.int32)[index * size : (index + 1) * size]
        codes = np.frombuffer(value.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        slot[1 : 1 + codes.shape[0]] = codes
        slot[0] = codes.shape[0]

    @vector_space_utils.create_empty_array.register(TextSpace)
    def _empty(space: TextSpace, n: int = 1, fn: Any = np.zeros) -> tuple[str, ...]:
        return tuple("a" * space.min_length for _ in range(n))


_register_gymnasium_codecs()


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
        self._clipped_from: int | None = None

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

    #: The reward component that means "solved" at 1.0 (None: a positive reward means solved).
    success_component: str | None = None
    #: Action strings a tokenizer should keep as single tokens (e.g. the maze's moves).
    action_tokens: tuple[str, ...] = ()

    def exact_references(self, problem: Problem) -> Mapping[str, float] | None:
        """Exact expectations for ``problem`` (see the module docstring), or None when unknown."""
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
        self._clipped_from = None
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
            turn = self._oversized(action)
        else:
            turn = self.respond(action)
        terminated = bool(turn.terminated)
        truncated = not terminated and self.turn >= self.max_turns
        self._done = terminated or truncated
        self._clipped_from = None
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

    def _oversized(self, action: str) -> Turn:
        """An action over ``max_action_chars`` is not judged: it counts as an empty answer (the
        env's own outcome for one, so the reward components keep their keys), worth 0."""
        empty = self.respond("")
        reason = f"action of {len(action)} characters exceeds the limit of {self.max_action_chars}"
        components = {name: 0.0 for name in empty.reward.components}
        return Turn(empty.observation, Reward.zero(reason, components), empty.terminated)

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
        """Cut an observation to ``max_observation_chars`` (noted in the next ``info``)."""
        if len(text) <= self.max_observation_chars:
            return text
        self._clipped_from = len(text)
        return text[: self.max_observation_chars]

    def _info(self) -> dict[str, Any]:
        assert self.problem is not None
        info: dict[str, Any] = {
            "problem_id": self.problem.id,
            "turn": self.turn,
            "messages": [dict(m) for m in self.messages],
            "reward_components": dict(self._last_reward.components),
            "reward_info": dict(self._last_reward.info),
        }
        if getattr(self, "_clipped_from", None) is not None:
            info["observation_clipped_from"] = self._clipped_from
        if not self._done:
            valid = self.valid_actions()
            if valid is not None:
                info["valid_actions"] = list(valid)
        info.update(self.extra_info())
        return info

    def extra_info(self) -> dict[str, Any]:
        """Subclass hook: env-specific info entries (e.g. the maze's ``action_mask``)."""
        return {}

    @property
    def done(self) -> bool:
        """Whether the current episode has ended (or none started)."""
        return self._done


class SingleTurnEnv(TextEnv):
    """One prompt, one answer, one reward: what most math and code envs are.

    >>> def exact(completion, problem):
    ...     return Reward(float(completion.strip() == problem.answer), {"exact": 1.0})
    >>> env = SingleTurnEnv(ListSource([Problem("p0", "1+1=?", "2")]), verifier=exact)
    >>> env.reset(seed=0)[0]
    '1+1=?'
    >>> env.step(" 2 ")[1:3]
    (1.0, True)

    (A registered env's verifier should be a module-level function or object, so the env pickles.)
    """

    def __init__(self, source: ProblemSource, verifier: Verifier, **kwargs: Any):
        kwargs.setdefault("max_turns", 1)
        super().__init__(source, **kwargs)
        self.verifier = verifier

    def respond(self, action: str) -> Turn:
        assert self.problem is not None
        return Turn("", self.verifier(action, self.problem), True)
