"""Adapters that let TRL's trainers (GRPO, RLOO; TRL 1.x) train on any thinkgym env.

Single-turn envs — a dataset and reward functions, nothing else::

    from trl import GRPOConfig, GRPOTrainer
    from thinkgym.agents.trl import to_dataset, reward_funcs

    trainer = GRPOTrainer(
        model="Qwen/Qwen2.5-Math-1.5B-Instruct",
        reward_funcs=reward_funcs("thinkgym/Math-v0"),        # the env's own score: [math_score]
        train_dataset=to_dataset("thinkgym/Math-v0", n=5000, seed=0),
        args=GRPOConfig(output_dir="out"),
    )

By default training optimises exactly what the env scores: one function per env (``math_score``,
``gsm8k_score``, ``maze_path_score`` …) returns the env's own score (for Math-v0 0.9·accuracy +
0.1·format, so a well-formatted wrong answer is worth 0.1 of 1), and logs each reward component
through TRL's ``log_metric`` (``thinkgym/<env>/<component>``; GRPO and RLOO) so the parts stay
visible. To train on the components with weights of your own, ``reward_funcs(id, score=False)``
gives one function per top-level component (named after it) and ``GRPOConfig(reward_weights=[...])``
weighs them, in the order of the functions (TRL sums them with weight 1 each when no weights are
given).

The reward functions have TRL's signature (``prompts``, ``completions``, dataset columns as keyword
arguments) and accept plain and conversational completions. Several envs can share one run:
`reward_funcs` of several ids returns ``None`` for the rows of envs a function does not belong to
(TRL then leaves that function out for those rows), and `to_dataset` rows carry an ``env_id``
column. ``RLOOTrainer`` takes the same functions.

Envs may be wrapped by gymnasium (``gymnasium.make``, `TimeLimit` ...): the adapters read the
env's state through the wrappers (`thinkgym.agents.base.env_attr`).

Multi-turn envs (the maze, tool use) — `rollout_func` (in `thinkgym.agents.trl_rollout`) plays
whole episodes with the trainer's own model: the model's tokens are trained on, the env's tokens are
masked out (``env_mask``), and the episode's reward parts reach the same reward functions. With a
conversational dataset the ids are token-exact: the env's tokens are what the model's chat template
writes between turns (tool schemas in the prompt, tool results as ``tool`` messages). Token-action
mode (``token_actions=True``) makes every generated token one action (the RL view: state = token
sequence, action = token), optionally restricted to the env's permitted actions.

`tool_environment_factory` (in `thinkgym.agents.trl_tools`) is the ``environment_factory``
adapter: a tool env's tools become the model's tools (typed methods TRL reads with
``get_json_schema``), run through ``env.call_tool`` in the rollout's own episode, and
`reward_funcs` scores the episode with the model's final answer; an env without tools exposes one
``step`` tool. Both modules are imported on first use of their names from here.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from thinkgym.agents.base import env_attr
from thinkgym.core import Problem, TextEnv, verification_failure
from thinkgym.registry import make

if TYPE_CHECKING:
    from datasets import Dataset

    from thinkgym.agents.trl_rollout import (
        TokenEpisode,
        encode_prompt,
        play_token_episodes,
        rollout_func,
        sample_turns,
    )
    from thinkgym.agents.trl_tools import ThinkgymToolEnv, tool_environment_factory

__all__ = [
    "to_dataset",
    "reward_funcs",
    "rollout_func",
    "play_token_episodes",
    "TokenEpisode",
    "encode_prompt",
    "sample_turns",
    "ThinkgymToolEnv",
    "tool_environment_factory",
    "completion_text",
    "problem_from_row",
    "find_problem",
]

#: Dataset columns the adapters add next to ``prompt``.
ENV_COLUMN, PROBLEM_COLUMN, PROBLEM_ID_COLUMN = "env_id", "problem", "problem_id"
#: Extra fields `rollout_func` returns (TRL forwards them to the reward functions).
SCORE_FIELD, COMPONENTS_FIELD, EPISODE_ENV_FIELD = "thinkgym_score", "thinkgym_components", "thinkgym_env_id"

# Problems handed out by `to_dataset` in this process, so rewards and rollouts find the exact
# `Problem` (with its meta) without a lossy JSON round trip.
_PROBLEMS: dict[tuple[str, str], Problem] = {}
_BY_PROMPT: dict[str, tuple[str, Problem]] = {}


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


def _prompt_key(prompt: Any) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def _encode_problem(problem: Problem) -> str:
    return json.dumps(problem.to_dict(), sort_keys=True, default=str)


def find_problem(prompt: Any) -> tuple[str, Problem] | None:
    """``(env_id, problem)`` of a prompt `to_dataset` handed out in this process, else None."""
    return _BY_PROMPT.get(_prompt_key(prompt))


def problem_from_row(env_id: str, problem_id: str | None, problem_json: str | None) -> Problem | None:
    """The `Problem` of a dataset row: the in-process original when known, else the row's JSON."""
    if problem_id is not None and (env_id, problem_id) in _PROBLEMS:
        return _PROBLEMS[(env_id, problem_id)]
    if problem_json:
        data = json.loads(problem_json)
        return Problem(data["id"], data["prompt"], data.get("answer"), data.get("meta") or {})
    return None


def to_dataset(
    env_id: str | Sequence[str],
    n: int,
    seed: int = 0,
    *,
    conversational: bool = False,
    env_kwargs: Mapping[str, Any] | None = None,
    repeat: bool = False,
) -> Dataset:
    """``n`` problems of ``env_id`` (or ``n`` of each of several ids) as a `datasets.Dataset`.

    Columns: ``prompt`` (the env's first observation; a list of chat messages when
    ``conversational``), ``env_id``, ``problem_id`` and ``problem`` (the `Problem` as JSON, which
    the reward functions verify against). Same ids, ``n`` and ``seed`` give the same rows.
    Asking a finite source for more than it holds raises `ConfigError` unless ``repeat=True``
    (rows then cycle through its problems on purpose: the classic maze is one problem).
    """
    from datasets import Dataset

    env_ids = [env_id] if isinstance(env_id, str) else list(env_id)
    if not env_ids:
        raise ValueError("to_dataset needs at least one env id")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rows: dict[str, list[Any]] = {"prompt": [], ENV_COLUMN: [], PROBLEM_ID_COLUMN: [], PROBLEM_COLUMN: []}
    for one_id in env_ids:
        env = make(one_id, **dict(env_kwargs or {}))
        source = env_attr(env, "source")
        for problem in source.take(n, seed, **({"repeat": True} if repeat else {})):
            _, info = env.reset(options={"problem": problem})
            messages = info["messages"]
            prompt: Any = messages if conversational else messages[-1]["content"]
            _PROBLEMS[(one_id, problem.id)] = problem
            _BY_PROMPT[_prompt_key(prompt)] = (one_id, problem)
            rows["prompt"].append(prompt)
            rows[ENV_COLUMN].append(one_id)
            rows[PROBLEM_ID_COLUMN].append(problem.id)
            rows[PROBLEM_COLUMN].append(_encode_problem(problem))
        env.close()
    return Dataset.from_dict(rows)


# --------------------------------------------------------------------------------------------
# Reward functions
# --------------------------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The text of one TRL completion: a string, or the assistant messages of a conversation."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        parts = []
        for message in completion:
            if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
                content = message.get("content", "")
                parts.append(content if isinstance(content, str) else str(content))
        return "".join(parts)
    return str(completion)


class _Verifier:
    """Plays completions through envs (one instance per env id) and caches the outcome.

    TRL calls each reward function over the whole batch in turn; the cache means the env verifies
    each completion once however many component functions read it.
    """

    def __init__(self, env_kwargs: Mapping[str, Any], actions: str | Callable[[str], list[str]], tokenizer: Any):
        if actions not in ("text", "tokens") and not callable(actions):
            raise ValueError("actions must be 'text', 'tokens' or a callable splitting a completion into actions")
        if actions == "tokens" and tokenizer is None:
            raise ValueError("actions='tokens' needs the tokenizer that produced the completions")
        self.env_kwargs = dict(env_kwargs)
        self.actions = actions
        self.tokenizer = tokenizer
        self.envs: dict[str, TextEnv] = {}
        self.cache: OrderedDict[tuple[Any, ...], tuple[float, dict[str, float]]] = OrderedDict()
        self.cache_size = 8192

    def env(self, env_id: str) -> TextEnv:
        if env_id not in self.envs:
            self.envs[env_id] = make(env_id, **self.env_kwargs)
        return self.envs[env_id]

    def split(self, env: TextEnv, text: str, ids: Sequence[int] | None) -> list[str]:
        if self.actions == "tokens":
            if ids is None:
                raise ValueError("actions='tokens' needs completion_ids (TRL passes them to reward functions)")
            special = set(getattr(self.tokenizer, "all_special_ids", []))
            return [self.tokenizer.decode([i]) for i in ids if i not in special]
        if callable(self.actions):
            return list(self.actions(text))
        if int(env_attr(env, "max_turns", 1)) == 1:
            return [text]
        return text.split()  # a multi-turn completion as whitespace-separated actions

    def __call__(self, env_id: str, problem: Problem, text: str, ids: Sequence[int] | None) -> tuple[float, dict[str, float]] | None:
        """The completion's (score, components); None when the verifier could not judge it twice
        running (``verification_failed``: a worker pool that did not start, a lost Ray actor):
        TRL then leaves the row out of the reward instead of training on a zero that says nothing
        about the answer. Failures are never cached."""
        env = self.env(env_id)
        env.reset(options={"problem": problem})  # first: some envs set their turn limit per problem
        actions = self.split(env, text, ids)
        key = (env_id, problem.id, tuple(actions))
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        outcome, failed = self._play(env, actions or [""])  # an empty completion is still judged
        if failed:  # once more: such failures are mostly passing (a pool starting, an actor replaced)
            env.reset(options={"problem": problem})
            outcome, failed = self._play(env, actions or [""])
        if failed:
            warnings.warn(f"{env_id} could not verify a completion for problem {problem.id!r} twice ({failed}); "
                          "its reward is None (left out), not 0", RuntimeWarning, stacklevel=2)  # fmt: skip
            return None
        self.cache[key] = outcome
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return outcome

    @staticmethod
    def _play(env: TextEnv, actions: list[str]) -> tuple[tuple[float, dict[str, float]], str | None]:
        """Play the actions: ((score, components), why the verification failed or None)."""
        score, components, failed = 0.0, {}, None
        for action in actions:
            _, reward, terminated, truncated, info = env.step(action)
            score += float(reward)
            for name, value in info.get("reward_components", {}).items():
                components[name] = components.get(name, 0.0) + float(value)
            failed = failed or verification_failure(info.get("reward_info"))
            if terminated or truncated:
                break
        return (score, components), failed


def _component_names(env_id: str, env_kwargs: Mapping[str, Any]) -> list[str]:
    """The reward components ``env_id`` reports, found by playing its oracle and an empty answer."""
    env = make(env_id, **dict(env_kwargs))
    names: dict[str, None] = {}
    try:
        for attempt in ("oracle", "empty"):
            env.reset(seed=0)
            for _ in range(int(env_attr(env, "max_turns", 1))):
                try:
                    action = env_attr(env, "oracle_action")() if attempt == "oracle" else ""
                except Exception:  # an env without an oracle still reports components on ""
                    action = ""
                if action is None:  # an env may have no reference answer for this problem
                    action = ""
                _, _, terminated, truncated, info = env.step(action)
                names.update(dict.fromkeys(info.get("reward_components", {})))
                if terminated or truncated:
                    break
    finally:
        env.close()
    return list(names)


def _short_name(env_id: str) -> str:
    """A Python name for an env id: its name without namespace and version, in snake case.

    Words start at a capital after a lower-case letter (``MazePath`` → ``maze_path``) or at the
    last capital of an acronym that a word follows (``BFCLSimple`` → ``bfcl_simple``); digits stay
    with what they follow (``GSM8K`` → ``gsm8k``, ``MATH`` → ``math``).

    >>> [_short_name(i) for i in ("thinkgym/GSM8K-v0", "thinkgym/MazePath-v0", "mylib/BFCLSimple-v2")]
    ['gsm8k', 'maze_path', 'bfcl_simple']
    """
    name = env_id.split("/")[-1]
    name = re.sub(r"-v\d+$", "", name)
    name = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    name = re.sub(r"\W+", "_", name).strip("_").lower()
    if not name or name[0].isdigit():
        name = "env_" + name
    return name


def _score_names(env_ids: Sequence[str]) -> dict[str, str]:
    """``{env_id: "<name>_score"}``, unique: ids whose short names collide keep namespace and version.

    >>> _score_names(["thinkgym/MATH-v0", "thinkgym/Math-v0", "thinkgym/GSM8K-v0"])
    {'thinkgym/MATH-v0': 'thinkgym_MATH_v0_score', 'thinkgym/Math-v0': 'thinkgym_Math_v0_score', 'thinkgym/GSM8K-v0': 'gsm8k_score'}
    """
    short = {one_id: _short_name(one_id) for one_id in env_ids}
    taken = [name for name in short.values()]
    names = {}
    for one_id, name in short.items():
        if taken.count(name) > 1:
            name = re.sub(r"\W+", "_", one_id).strip("_")  # case kept: MATH-v0 and Math-v0 differ
        names[one_id] = f"{name}_score"
    return names


def reward_funcs(
    env_id: str | Sequence[str],
    *,
    score: bool = True,
    weights: Mapping[str, float] | None = None,
    actions: str | Callable[[str], list[str]] = "text",
    tokenizer: Any = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> list[Callable[..., list[float | None]]]:
    """TRL reward functions for one env id or several mixed in one run.

    By default (``score=True``) one function per env, named ``<env>_score``, returns the env's own
    score, so TRL trains on exactly what the env rewards; each reward component is logged through
    TRL's ``log_metric`` as ``thinkgym/<env>/<component>`` (the batch mean). With ``score=False``:
    one function per top-level reward component (named after it), which TRL sums weighted by
    ``GRPOConfig.reward_weights`` (1 each by default — not the env's weighting); ``weights`` scales
    functions by name inside them.

    ``actions`` says how a completion becomes env actions: ``"text"`` (a single-turn answer, or
    whitespace-separated actions for a multi-turn env), ``"tokens"`` (each completion token is one
    action — pass the ``tokenizer``), or a callable ``text -> list of actions``. Completions made by
    `rollout_func` carry their episode's reward and are not replayed.

    A function returns ``None`` for rows of envs that do not report its component.
    """
    env_ids = [env_id] if isinstance(env_id, str) else list(env_id)
    if not env_ids:
        raise ValueError("reward_funcs needs at least one env id")
    env_kwargs = dict(env_kwargs or {})
    weights = dict(weights or {})
    verifier = _Verifier(env_kwargs, actions, tokenizer)
    score_names = _score_names(env_ids)
    owners: dict[str, set[str]] = {}
    for one_id in env_ids:
        names = [score_names[one_id]] if score else _top_level(_component_names(one_id, env_kwargs))
        if not names:  # an env whose verifier reports no components: its score is the one component
            names = [score_names[one_id]]
        for name in names:
            owners.setdefault(name, set()).add(one_id)
    score_of = {name: one_id for one_id, name in score_names.items()}

    def build(name: str, envs_with_it: set[str]) -> Callable[..., list[float | None]]:
        weight = float(weights.get(name, 1.0))

        def reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float | None]:
            out: list[float | None] = []
            rows = _outcome_rows(verifier, env_ids[0], prompts, completions, kwargs)
            for row_env, outcome in rows:
                if row_env not in envs_with_it or outcome is None:
                    out.append(None)
                elif name in score_of and name not in outcome[1]:
                    out.append(weight * outcome[0])
                else:
                    out.append(weight * outcome[1].get(name, 0.0))
            log_metric = kwargs.get("log_metric")
            if name in score_of and callable(log_metric):
                _log_components(log_metric, _short_name(score_of[name]), [o for e, o in rows if e in envs_with_it and o])
            return out

        reward.__name__ = reward.__qualname__ = name
        reward.__doc__ = (
            f"TRL reward function: the {name!r} reward of {', '.join(sorted(envs_with_it))} "
            "(None for rows of other envs)."
        )
        return reward

    return [build(name, envs) for name, envs in owners.items()]


def _outcome_rows(
    verifier: _Verifier, default_env: str, prompts: list[Any], completions: list[Any], kwargs: dict[str, Any]
) -> list[tuple[str, tuple[float, dict[str, float]] | None]]:
    """(env id, (score, components)) of each row TRL hands a reward function."""
    n = len(completions)
    ids_list = kwargs.get("completion_ids")
    env_col = kwargs.get(ENV_COLUMN) or kwargs.get(EPISODE_ENV_FIELD) or [default_env] * n
    if SCORE_FIELD in kwargs:  # completions played by `rollout_func`: rewards are already known
        return [
            (env_col[i], (float(kwargs[SCORE_FIELD][i]), dict(kwargs[COMPONENTS_FIELD][i])))
            for i in range(n)
        ]
    environments = kwargs.get("environments")
    if environments and all(hasattr(e, "_thinkgym_outcome") for e in environments):
        # tool episodes played by TRL's own loop (`trl_tools`): each adapter ends its episode with
        # the model's final message and reports the env's reward for the calls actually made
        return [(env_col[i], environments[i]._thinkgym_outcome(completions[i])) for i in range(n)]
    pids = kwargs.get(PROBLEM_ID_COLUMN) or [None] * n
    pjson = kwargs.get(PROBLEM_COLUMN) or [None] * n
    rows = []
    for i in range(n):
        problem = problem_from_row(env_col[i], pids[i], pjson[i])
        if problem is None:
            looked_up = _BY_PROMPT.get(_prompt_key(prompts[i]))
            if looked_up is None:
                raise ValueError(
                    "the reward function cannot tell which problem a row is: build the dataset with "
                    "thinkgym.agents.trl.to_dataset (it adds 'problem' and 'env_id' columns)"
                )
            problem = looked_up[1]
        text = completion_text(completions[i])
        ids = ids_list[i] if ids_list is not None else None
        rows.append((env_col[i], verifier(env_col[i], problem, text, ids)))
    return rows


def _top_level(names: Sequence[str]) -> list[str]:
    """Component names without the nested parts of a composed reward (``accuracy.math``)."""
    top = [n for n in names if "." not in n]
    return top or list(names)


def _log_components(log_metric: Callable[[str, float], Any], env_name: str, outcomes: Sequence[tuple[float, dict[str, float]]]) -> None:
    """Log the batch mean of each reward component of ``outcomes`` through TRL's ``log_metric``."""
    names: dict[str, None] = {}
    for _, components in outcomes:
        names.update(dict.fromkeys(components))
    for component in names:
        values = [components.get(component, 0.0) for _, components in outcomes]
        log_metric(f"thinkgym/{env_name}/{component}", float(sum(values) / len(values)))


# --------------------------------------------------------------------------------------------
# Multi-turn (`trl_rollout`) and tool envs (`trl_tools`), imported on first use
# --------------------------------------------------------------------------------------------

_LAZY = {
    "rollout_func": "thinkgym.agents.trl_rollout",
    "play_token_episodes": "thinkgym.agents.trl_rollout",
    "TokenEpisode": "thinkgym.agents.trl_rollout",
    "encode_prompt": "thinkgym.agents.trl_rollout",
    "sample_turns": "thinkgym.agents.trl_rollout",
    "ThinkgymToolEnv": "thinkgym.agents.trl_tools",
    "tool_environment_factory": "thinkgym.agents.trl_tools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thinkgym.agents.trl' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
