"""Multi-turn episodes played with the trainer's own model: `rollout_func` for ``GRPOTrainer``.

`play_token_episodes` plays whole episodes of any thinkgym env, batched per turn; the model's tokens
are trained on, the env's tokens are masked out (``env_mask`` 0). With chat prompts the env's tokens
are what the model's chat template writes between turns, so the ids a trainer gets are the ids the
sampler conditioned on (token-exact; `thinkgym.envs.token.ChatTranscript` says how, and what
happens with templates that rewrite earlier turns). Tool envs get their tool schemas rendered into
the prompt by the template (``tools=``) and their tool results rendered as the template renders
``tool`` messages.

Note (TRL 1.16): ``rollout_func`` receives the prompts already repeated ``num_generations`` times and
returns exactly one completion per prompt it received.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from thinkgym.agents.base import env_attr
from thinkgym.agents.trl import (
    COMPONENTS_FIELD,
    EPISODE_ENV_FIELD,
    SCORE_FIELD,
    find_problem,
)
from thinkgym.core import TextEnv
from thinkgym.envs.token import ChatTranscript, env_tools
from thinkgym.registry import make

__all__ = ["rollout_func", "play_token_episodes", "TokenEpisode", "encode_prompt", "sample_turns", "turn_text"]


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
    #: Turns after which the chat template re-rendered the episode differently (see `ChatTranscript`).
    template_drift: list[int] = field(default_factory=list)
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


def _env_messages(env: TextEnv, info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The messages the env added after the policy's last turn (tool results, a user message)."""
    messages = list(info.get("messages") or env_attr(env, "messages", ()) or ())
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    return [dict(m) for m in messages[last + 1 :]]


class _Playing:
    """One episode being played: its env, its `TokenEpisode`, and the chat transcript (chat prompts)."""

    def __init__(self, env: TextEnv, prompt: Any, tokenizer: Any, on_drift: str):
        problem = env_attr(env, "problem")
        if problem is None or env_attr(env, "done", False):
            raise ValueError("play_token_episodes needs envs that were just reset")
        spec = env.unwrapped.spec
        self.env = env
        self.tokenizer = tokenizer
        self.transcript: ChatTranscript | None = None
        if not isinstance(prompt, str) and getattr(tokenizer, "chat_template", None):
            self.transcript = ChatTranscript(tokenizer, list(prompt), tools=env_tools(env), on_drift=on_drift)
            prompt_ids = list(tokenizer.encode(self.transcript.prompt, add_special_tokens=False))
        else:
            prompt_ids = encode_prompt(tokenizer, prompt)
        self.episode = TokenEpisode(spec.id if spec else type(env.unwrapped).__name__, problem.id, prompt_ids)

    def add(self, ids: list[int], logprobs: list[float], policy: bool, allowed: list[int] | None = None) -> None:
        episode = self.episode
        episode.completion_ids += ids
        episode.logprobs += logprobs if policy else [0.0] * len(ids)
        episode.env_mask += [1 if policy else 0] * len(ids)
        episode.allowed += [allowed if policy else None] * len(ids)

    def environment_ids(self, text: str, eos_text: str | None, info: Mapping[str, Any], observation: str) -> list[int]:
        """Token ids of what the env says after a turn: the template's own segment for chat
        prompts (`ChatTranscript`), ``"\\n" + observation + "\\n"`` for plain-text prompts."""
        if self.transcript is None:
            return list(self.tokenizer.encode("\n" + observation + "\n", add_special_tokens=False))
        drifted = len(self.transcript.drift_turns)
        segment = self.transcript.segment(text, _env_messages(self.env, info), eos_text=eos_text)
        if len(self.transcript.drift_turns) > drifted:
            self.episode.template_drift.append(len(self.episode.actions) - 1)
        return list(self.tokenizer.encode(segment, add_special_tokens=False))


def turn_text(tokenizer: Any, ids: Sequence[int], eos_token_ids: Sequence[int]) -> tuple[str, str | None]:
    """The text of a sampled turn as the env judges it (special tokens kept, the ending EOS left
    out) and the text of that EOS (None when the turn did not end with one)."""
    ids = list(ids)
    eos_text = None
    if ids and ids[-1] in eos_token_ids:
        eos_text = tokenizer.decode(ids[-1:], skip_special_tokens=False)
        ids = ids[:-1]
    return tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False), eos_text


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
    on_drift: str = "warn",
) -> list[TokenEpisode]:
    """Play one episode in each (already reset) env with ``model``, all envs batched per turn.

    ``prompts[i]`` is env ``i``'s first observation (text) or chat messages. The model writes a
    turn (up to ``max_tokens_per_turn`` tokens or EOS; one token with ``token_actions``), the env
    judges its text (special tokens kept, the ending EOS left out) and answers; its answer is
    appended as env tokens (not with ``token_actions``: there the state is the token sequence
    itself), until every episode ends or ``max_completion_tokens`` is used up (then the episode is
    truncated with the rewards earned so far).

    Token-exact: with chat prompts the env's tokens are what the tokenizer's chat template writes
    between turns (`thinkgym.envs.token.ChatTranscript`: the closing markup, the env's messages —
    tool results or a user message — and the next generation prompt, with the env's ``tools`` in the
    prompt), and the model's tokens are never re-tokenized, so ``prompt_ids + completion_ids`` is
    exactly what the sampler conditioned on and, for a prefix-stable template, exactly
    ``apply_chat_template`` of the conversation. A template that re-renders earlier turns
    differently is recorded in ``TokenEpisode.template_drift`` and warned about once
    (``on_drift="error"`` raises); the sampled ids stay the episode.
    """
    from thinkgym.agents.tiny import token_ids_for

    if max_completion_tokens < 1 or max_tokens_per_turn < 1:
        raise ValueError("max_completion_tokens and max_tokens_per_turn must be >= 1")
    playing = [_Playing(env, prompt, tokenizer, on_drift) for env, prompt in zip(envs, prompts, strict=True)]
    eos = list(eos_token_ids) or [tokenizer.eos_token_id]
    active = list(range(len(envs)))
    while active:
        allowed: list[list[int] | None] = []
        for i in active:
            valid = env_attr(envs[i], "valid_actions")() if restrict_to_valid_actions else None
            allowed.append(None if valid is None else token_ids_for(tokenizer, valid))
        turn_cap = 1 if token_actions else max_tokens_per_turn
        caps = [min(turn_cap, max_completion_tokens - len(playing[i].episode.completion_ids)) for i in active]
        turns = sample_turns(
            model,
            tokenizer,
            [playing[i].episode.prompt_ids + playing[i].episode.completion_ids for i in active],
            max_new_tokens=max(caps),
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            allowed=allowed,
            eos_token_ids=eos,
        )
        still_active = []
        for i, cap, restriction, (ids, lps) in zip(active, caps, allowed, turns, strict=True):
            if _play_turn(playing[i], ids[:cap], lps[:cap], restriction, eos, max_completion_tokens, token_actions):
                still_active.append(i)
        active = still_active
    return [p.episode for p in playing]


def _play_turn(
    playing: _Playing,
    ids: list[int],
    lps: list[float],
    restriction: list[int] | None,
    eos: Sequence[int],
    max_completion_tokens: int,
    token_actions: bool,
) -> bool:
    """Record one sampled turn, step the env with its text, append the env's answer; True while
    the episode goes on."""
    episode = playing.episode
    playing.add(ids, lps, True, restriction)
    text, eos_text = turn_text(playing.tokenizer, ids, eos)
    observation, reward, terminated, truncated, info = playing.env.step(text)
    episode.actions.append(text)
    episode.step_rewards.append(float(reward))
    episode.step_token_counts.append(len(ids))
    for name, value in info.get("reward_components", {}).items():
        episode.components[name] = episode.components.get(name, 0.0) + float(value)
    room = max_completion_tokens - len(episode.completion_ids)
    if terminated or truncated or room <= 0:
        episode.terminated, episode.truncated = bool(terminated), bool(truncated or not terminated)
        return False
    if not token_actions:
        obs_ids = playing.environment_ids(text, eos_text, info, observation)[: room - 1]
        playing.add(obs_ids, [], False)
    if len(episode.completion_ids) < max_completion_tokens:
        return True
    episode.truncated = True
    return False


def rollout_func(
    env_id: str | Sequence[str],
    *,
    token_actions: bool = False,
    restrict_to_valid_actions: bool = False,
    max_tokens_per_turn: int = 256,
    env_kwargs: Mapping[str, Any] | None = None,
    on_drift: str = "warn",
) -> Callable[[list[Any], Any], dict[str, list[Any]]]:
    """A `GRPOTrainer(rollout_func=...)` that plays whole episodes of ``env_id`` with the trainer's model.

    Each prompt (a row of `to_dataset`) is played to the end with `play_token_episodes`: the
    model's tokens are trained on, the env's observation tokens are masked out (``env_mask`` 0),
    and the trainer's ``max_completion_length`` bounds the whole episode. ``token_actions=True``:
    every generated token is one action. ``restrict_to_valid_actions=True`` samples only among the
    env's permitted actions (``env.valid_actions()``, each a single token): invalid-action masking.
    Conversational rows (``to_dataset(..., conversational=True)``) are played through the model's
    chat template, token-exact (`play_token_episodes`; ``on_drift`` as there); tool envs get their
    tools in the prompt and their results as ``tool`` messages the template renders.

    Returns ``prompt_ids``, ``completion_ids``, ``logprobs``, ``env_mask`` and the episode's
    ``thinkgym_score`` / ``thinkgym_components`` / ``thinkgym_env_id`` (read by `reward_funcs`).
    """
    env_ids = [env_id] if isinstance(env_id, str) else list(env_id)
    env_kwargs = dict(env_kwargs or {})
    if max_tokens_per_turn < 1:
        raise ValueError("max_tokens_per_turn must be >= 1")
    if on_drift not in ("warn", "error"):
        raise ValueError(f"on_drift must be 'warn' or 'error', got {on_drift!r}")

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        tokenizer = getattr(trainer, "_tokenizer", None) or trainer.processing_class
        model = trainer.accelerator.unwrap_model(trainer.model) if hasattr(trainer, "accelerator") else trainer.model
        envs, owners = [], []
        for prompt in prompts:
            found = find_problem(prompt)
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
                on_drift=on_drift,
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

