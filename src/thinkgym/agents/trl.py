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

Multi-turn envs (the maze, tool use) — `rollout_func` plays whole episodes with the trainer's own
model: the model's tokens are trained on, the env's observation tokens are masked out
(``env_mask``), and the episode's reward parts reach the same reward functions. Token-action mode
(``token_actions=True``) makes every generated token one action (the RL view: state = token
sequence, action = token), optionally restricted to the env's permitted actions.

`ThinkgymToolEnv` is the `environment_factory` adapter: TRL exposes its ``step`` method as a tool.

Note (TRL 1.16): ``rollout_func`` receives the prompts already repeated ``num_generations`` times and
returns exactly one completion per prompt it received.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from thinkgym.agents.base import env_attr
from thinkgym.core import Problem, TextEnv
from thinkgym.registry import make

if TYPE_CHECKING:
    from datasets import Dataset

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

    def __call__(self, env_id: str, problem: Problem, text: str, ids: Sequence[int] | None) -> tuple[float, dict[str, float]]:
        env = self.env(env_id)
        env.reset(options={"problem": problem})  # first: some envs set their turn limit per problem
        actions = self.split(env, text, ids)
        key = (env_id, problem.id, tuple(actions))
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        score, components = 0.0, {}
        if not actions:
            actions = [""]  # an empty completion is still judged (and earns what the env says)
        for action in actions:
            _, reward, terminated, truncated, info = env.step(action)
            score += float(reward)
            for name, value in info.get("reward_components", {}).items():
                components[name] = components.get(name, 0.0) + float(value)
            if terminated or truncated:
                break
        outcome = (score, components)
        self.cache[key] = outcome
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return outcome


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
# Multi-turn: rollout_func for GRPOTrainer
# --------------------------------------------------------------------------------------------


class _AllowedTokens:
    """A logits processor that keeps, per row, only the given token ids (the others get -inf)."""

    def __init__(self, allowed: list[list[int] | None]):
        self.allowed = allowed

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for row, ids in enumerate(self.allowed):
            if ids is None:
                continue
            keep = torch.full_like(scores[row], float("-inf"))
            keep[ids] = 0.0
            scores[row] = scores[row] + keep
        return scores


def sample_turns(
    model: Any,
    tokenizer: Any,
    contexts: list[list[int]],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    top_k: int = 0,
    allowed: list[list[int] | None] | None = None,
    eos_token_ids: Sequence[int] = (),
) -> list[tuple[list[int], list[float]]]:
    """Sample one turn for each context (left-padded batch); the tokens up to and including EOS,
    with their log-probabilities under the sampling distribution."""
    import torch
    from transformers import LogitsProcessorList

    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    width = max(len(c) for c in contexts)
    input_ids = torch.tensor([[pad] * (width - len(c)) + list(c) for c in contexts], device=device)
    attention = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts], device=device)
    eos = list(eos_token_ids) or [tokenizer.eos_token_id]
    processors = LogitsProcessorList([_AllowedTokens(allowed)]) if allowed and any(a is not None for a in allowed) else None
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=max_new_tokens,
                do_sample=True,
                temperature=temperature,
                top_p=top_p,
                top_k=top_k or 0,
                pad_token_id=pad,
                eos_token_id=eos,
                logits_processor=processors,
                return_dict_in_generate=True,
                output_scores=True,
            )
            logprobs = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    finally:
        model.train(was_training)
    results = []
    for row, ids in enumerate(out.sequences[:, width:].tolist()):
        cut = len(ids)
        for i, token in enumerate(ids):
            if token in eos:
                cut = i + 1
                break
        results.append((ids[:cut], [float(x) for x in logprobs[row, :cut].tolist()]))
    return results


def _render_delta(tokenizer: Any, history: list[dict[str, str]], observation: str) -> list[int]:
    """Token ids of a new user message in chat format: the template's text for the conversation with
    it, minus the text for the conversation without it."""
    before = tokenizer.apply_chat_template(history, tokenize=False)
    after = tokenizer.apply_chat_template(
        [*history, {"role": "user", "content": observation}], tokenize=False, add_generation_prompt=True
    )
    delta = after[len(before) :] if after.startswith(before) else after
    return tokenizer.encode(delta, add_special_tokens=False)


@dataclass
class TokenEpisode:
    """One episode in the token-level view: what a trainer needs to score and train on it.

    ``completion_ids`` interleaves the policy's tokens (``env_mask`` 1) and the env's observation
    tokens (0); ``logprobs`` are the sampling log-probabilities (0.0 for env tokens).
    ``step_rewards[k]`` is the reward of turn ``k``, whose policy tokens number ``step_token_counts[k]``
    (the input of `thinkgym.agents.credit.process_token_rewards`).
    """

    env_id: str
    problem_id: str
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    step_rewards: list[float] = field(default_factory=list)
    step_token_counts: list[int] = field(default_factory=list)
    #: Per completion token: the token ids sampling was restricted to (None: the whole vocabulary).
    allowed: list[list[int] | None] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    terminated: bool = False
    truncated: bool = False

    @property
    def score(self) -> float:
        return float(sum(self.step_rewards))


def encode_prompt(tokenizer: Any, prompt: Any) -> list[int]:
    """Token ids of a prompt: plain text as is, chat messages through the chat template."""
    if isinstance(prompt, str):
        return list(tokenizer.encode(prompt, add_special_tokens=True))
    encoded = tokenizer.apply_chat_template(list(prompt), add_generation_prompt=True, tokenize=True)
    return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)


def play_token_episodes(
    model: Any,
    tokenizer: Any,
    envs: Sequence[TextEnv],
    prompts: Sequence[Any],
    *,
    max_completion_tokens: int,
    token_actions: bool = False,
    restrict_to_valid_actions: bool = False,
    max_tokens_per_turn: int = 256,
    temperature: float = 1.0,
    top_p: float = 1.0,
    top_k: int = 0,
    eos_token_ids: Sequence[int] = (),
) -> list[TokenEpisode]:
    """Play one episode in each (already reset) env with ``model``, all envs batched per turn.

    ``prompts[i]`` is env ``i``'s first observation (text) or chat messages. The model writes a
    turn (up to ``max_tokens_per_turn`` tokens or EOS; one token with ``token_actions``), the env
    answers, the observation is appended as env tokens (not with ``token_actions``: there the
    state is the token sequence itself), until every episode ends or ``max_completion_tokens`` is
    used up (then the episode is truncated with the rewards earned so far).
    """
    from thinkgym.agents.tiny import token_ids_for

    if max_completion_tokens < 1 or max_tokens_per_turn < 1:
        raise ValueError("max_completion_tokens and max_tokens_per_turn must be >= 1")
    episodes = []
    histories: list[list[dict[str, str]] | None] = []
    for env, prompt in zip(envs, prompts, strict=True):
        problem = env_attr(env, "problem")
        if problem is None or env_attr(env, "done", False):
            raise ValueError("play_token_episodes needs envs that were just reset")
        spec = env.unwrapped.spec
        episodes.append(TokenEpisode(spec.id if spec else type(env.unwrapped).__name__, problem.id, encode_prompt(tokenizer, prompt)))
        histories.append(None if isinstance(prompt, str) else [dict(m) for m in prompt])
    eos = list(eos_token_ids) or [tokenizer.eos_token_id]
    active = list(range(len(envs)))
    while active:
        allowed: list[list[int] | None] = []
        for i in active:
            valid = env_attr(envs[i], "valid_actions")() if restrict_to_valid_actions else None
            allowed.append(None if valid is None else token_ids_for(tokenizer, valid))
        turn_cap = 1 if token_actions else max_tokens_per_turn
        caps = [min(turn_cap, max_completion_tokens - len(episodes[i].completion_ids)) for i in active]
        turns = sample_turns(
            model,
            tokenizer,
            [episodes[i].prompt_ids + episodes[i].completion_ids for i in active],
            max_new_tokens=max(caps),
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            allowed=allowed,
            eos_token_ids=eos,
        )
        still_active = []
        for i, cap, restriction, (ids, lps) in zip(active, caps, allowed, turns, strict=True):
            episode = episodes[i]
            ids, lps = ids[:cap], lps[:cap]
            episode.completion_ids += ids
            episode.logprobs += lps
            episode.env_mask += [1] * len(ids)
            episode.allowed += [restriction] * len(ids)
            text = tokenizer.decode(ids, skip_special_tokens=True)
            observation, reward, terminated, truncated, info = envs[i].step(text)
            episode.actions.append(text)
            episode.step_rewards.append(float(reward))
            episode.step_token_counts.append(len(ids))
            for name, value in info.get("reward_components", {}).items():
                episode.components[name] = episode.components.get(name, 0.0) + float(value)
            room = max_completion_tokens - len(episode.completion_ids)
            if terminated or truncated or room <= 0:
                episode.terminated, episode.truncated = bool(terminated), bool(truncated or not terminated)
                continue
            if not token_actions and observation:
                history = histories[i]
                if history is not None:
                    history.append({"role": "assistant", "content": text})
                    obs_ids = _render_delta(tokenizer, history, observation)
                    history.append({"role": "user", "content": observation})
                else:
                    obs_ids = tokenizer.encode("\n" + observation + "\n", add_special_tokens=False)
                obs_ids = obs_ids[: room - 1]
                episode.completion_ids += obs_ids
                episode.logprobs += [0.0] * len(obs_ids)
                episode.env_mask += [0] * len(obs_ids)
                episode.allowed += [None] * len(obs_ids)
            if len(episode.completion_ids) < max_completion_tokens:
                still_active.append(i)
            else:
                episode.truncated = True
        active = still_active
    return episodes


def rollout_func(
    env_id: str | Sequence[str],
    *,
    token_actions: bool = False,
    restrict_to_valid_actions: bool = False,
    max_tokens_per_turn: int = 256,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Callable[[list[Any], Any], dict[str, list[Any]]]:
    """A `GRPOTrainer(rollout_func=...)` that plays whole episodes of ``env_id`` with the trainer's model.

    Each prompt (a row of `to_dataset`) is played to the end with `play_token_episodes`: the
    model's tokens are trained on, the env's observation tokens are masked out (``env_mask`` 0),
    and the trainer's ``max_completion_length`` bounds the whole episode. ``token_actions=True``:
    every generated token is one action. ``restrict_to_valid_actions=True`` samples only among the
    env's permitted actions (``env.valid_actions()``, each a single token): invalid-action masking.

    Returns ``prompt_ids``, ``completion_ids``, ``logprobs``, ``env_mask`` and the episode's
    ``thinkgym_score`` / ``thinkgym_components`` / ``thinkgym_env_id`` (read by `reward_funcs`).
    """
    env_ids = [env_id] if isinstance(env_id, str) else list(env_id)
    env_kwargs = dict(env_kwargs or {})
    if max_tokens_per_turn < 1:
        raise ValueError("max_tokens_per_turn must be >= 1")

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        tokenizer = getattr(trainer, "_tokenizer", None) or trainer.processing_class
        model = trainer.accelerator.unwrap_model(trainer.model) if hasattr(trainer, "accelerator") else trainer.model
        envs, owners = [], []
        for prompt in prompts:
            found = _BY_PROMPT.get(_prompt_key(prompt))
            if found is None or found[0] not in env_ids:
                raise ValueError(
                    "rollout_func got a prompt it did not hand out: build the dataset with "
                    f"thinkgym.agents.trl.to_dataset({env_ids[0]!r}, ...) in this process"
                )
            env = make(found[0], **env_kwargs)
            env.reset(options={"problem": found[1]})
            envs.append(env)
            owners.append(found[0])
        try:
            episodes = play_token_episodes(
                model,
                tokenizer,
                envs,
                prompts,
                max_completion_tokens=int(getattr(trainer, "max_completion_length", 0) or 256),
                token_actions=token_actions,
                restrict_to_valid_actions=restrict_to_valid_actions,
                max_tokens_per_turn=max_tokens_per_turn,
                temperature=float(getattr(trainer, "temperature", 1.0) or 1.0),
                top_p=float(getattr(trainer, "top_p", 1.0) or 1.0),
                top_k=int(getattr(trainer, "top_k", 0) or 0),
                eos_token_ids=list(getattr(trainer, "eos_token_ids", None) or []),
            )
        finally:
            for env in envs:
                env.close()
        return {
            "prompt_ids": [e.prompt_ids for e in episodes],
            "completion_ids": [e.completion_ids for e in episodes],
            "logprobs": [e.logprobs for e in episodes],
            "env_mask": [e.env_mask for e in episodes],
            SCORE_FIELD: [e.score for e in episodes],
            COMPONENTS_FIELD: [dict(e.components) for e in episodes],
            EPISODE_ENV_FIELD: owners,
        }

    rollout.__name__ = "thinkgym_rollout"
    return rollout


# --------------------------------------------------------------------------------------------
# Tool envs: environment_factory for GRPOTrainer
# --------------------------------------------------------------------------------------------


class ThinkgymToolEnv:
    """A thinkgym multi-turn env in the shape TRL's ``environment_factory`` expects.

    TRL turns the public methods into tools: here one, `step`, which sends an action to the env.
    ``reset(**row)`` starts the episode on the row's problem (a `to_dataset` row) and returns the
    first observation; ``get_reward()`` is the episode's total reward so far.
    """

    def __init__(self, env_id: str, env_kwargs: Mapping[str, Any] | None = None):
        self._env_id = env_id
        self._env = make(env_id, **dict(env_kwargs or {}))
        self._total = 0.0
        self._done = True

    def reset(self, **row: Any) -> str:
        """Start an episode on the row's problem; returns the env's first observation."""
        problem = problem_from_row(row.get(ENV_COLUMN, self._env_id), row.get(PROBLEM_ID_COLUMN), row.get(PROBLEM_COLUMN))
        options = {"problem": problem} if problem is not None else None
        observation, _ = self._env.reset(options=options)
        self._total = 0.0
        self._done = False
        return observation

    def step(self, action: str) -> str:
        """Send one action to the environment and get back what it answers.

        Args:
            action: The action, as text (for example a move such as "R", or an answer).

        Returns:
            The environment's observation after the action, with the reward it earned.
        """
        if self._done:
            return "The episode is over; no further actions are accepted."
        if not isinstance(action, str):
            action = str(action)
        observation, reward, terminated, truncated, info = self._env.step(action)
        self._total += float(reward)
        self._done = terminated or truncated
        status = " The episode is over." if self._done else ""
        error = f" ({info['error']})" if "error" in info else ""
        return f"{observation}\n[reward {float(reward):g}{error}]{status}"

    def get_reward(self) -> float:
        """The total reward of the episode so far."""
        return self._total


def tool_environment_factory(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> Callable[[], ThinkgymToolEnv]:
    """``GRPOTrainer(environment_factory=tool_environment_factory("thinkgym/..."))``."""

    def factory() -> ThinkgymToolEnv:
        return ThinkgymToolEnv(env_id, env_kwargs)

    factory.__name__ = f"{_short_name(env_id)}_environment"
    return factory
