"""`TokenEnv`: the token-level (RL) view of any `TextEnv`.

State = the token ids of the context so far; action = one token id (``Discrete(vocab)``) or, with
``chunk=True``, a chunk of ids; reward 0 until the policy's turn ends, then the inner env's reward
for that turn. A turn ends at

- an end-of-sequence token (``eos``; the token stays in the context but not in the text judged),
- a stop string appearing in the turn's decoded text (``stop``; the stop string is part of the text),
- ``max_new_tokens`` policy tokens (``length``; the text is still judged, and the episode is
  ``truncated`` unless the inner env terminated on it).

The text the inner env judges is exactly ``decode(policy tokens of the turn)`` (minus the ending
EOS), so decoding what the policy emitted gives exactly the text that was verified.
``info["policy_mask"]`` (``np.int8``, aligned with the observation) is 1 for policy tokens and 0 for
environment tokens (prompts, observations, chat-template markup): the loss mask for multi-turn RL.

Context layout. With a tokenizer that has a chat template (transformers), the prompt is the
template applied to the chat messages (with the env's ``tools`` when it has some) and a generation
prompt; after each turn the environment segment is what the template itself writes after the
assistant's text: the markup that closes the turn, the env's new messages (user or tool results) and
the next generation prompt (`ChatTranscript`). Policy tokens are never re-tokenized, so the context
is exactly what a sampler conditioned on. A template that re-renders earlier turns differently (one
that drops earlier ``<think>`` reasoning, one that trims content) is reported, never papered over:
``info["template_drift"]`` is True for that step, and a `TemplateDriftWarning` is issued once per
template (``on_drift="error"`` raises `TemplateDriftError` instead); the sampled ids stay the
context. Without a template (or with a bare `tokenizers.Tokenizer`) the context is plain text, the
base-model view: every system/user message followed by a newline, and each later observation
written as ``"\\n" + observation + "\\n"`` after the policy's tokens.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from thinkgym.core import TextEnv
from thinkgym.errors import ConfigError

__all__ = ["TokenEnv", "TokenizerAdapter", "ChatTranscript", "TemplateDriftWarning", "TemplateDriftError", "env_tools"]


def env_tools(env: Any) -> list[dict[str, Any]] | None:
    """The tool schemas of a (possibly wrapped) env, or None when it has none."""
    getter = getattr(env, "get_wrapper_attr", None)
    try:
        tools = getter("tools") if getter is not None else getattr(env, "tools", None)
    except AttributeError:
        return None
    return [dict(t) for t in tools] if tools else None


class TemplateDriftWarning(UserWarning):
    """A chat template re-renders an episode differently from the ids it was played with (see `ChatTranscript`)."""


class TemplateDriftError(ConfigError):
    """Raised instead of `TemplateDriftWarning` when ``on_drift="error"``."""


#: Stand-in for the assistant's text when the template's markup around a turn is derived: digits
#: only, so filters a template applies to content (``trim``, ``upper``, escaping) leave it intact.
_SENTINEL = "7305198264"
_WARNED: set[int] = set()


class ChatTranscript:
    """The text of a multi-turn chat episode, built turn by turn with the model's own chat template.

    Why: a trainer must get exactly the ids the sampler conditioned on, and those must be what the
    template writes between turns (``<|im_end|>\\n<|im_start|>user\\n`` for ChatML, not a hand-written
    separator). The prompt is the template applied to the first messages (with ``tools`` and a
    generation prompt). After each turn the environment's segment is taken from the template itself:
    the conversation is rendered with a stand-in for the assistant's text followed by the env's new
    messages (tool results, a user message) and a generation prompt, and the segment is everything
    the template writes after the stand-in: the markup that closes the assistant turn (less the EOS
    text when the model's turn already ended with it), the new messages, the next generation prompt.
    The model's own text is never re-rendered or re-tokenized, and nothing before the stand-in is
    read, so the segment is right even for templates that rewrite earlier turns.

    **When re-rendering is not prefix-stable.** Some templates render earlier turns differently once
    the conversation grows: Qwen3-style templates drop the ``<think>`` reasoning of assistant turns
    before the last user message, Llama-3 ``trim``s content, others normalise whitespace. Then no
    single token sequence is both "what the sampler saw turn after turn" and "the template applied to
    the whole conversation". The sampled text stays the source of truth (it is what the model
    conditioned on, so what the trainer must train on); after each turn the whole conversation is
    re-rendered and compared with the transcript, and a difference is a *drift*: its turn is
    recorded in `drift_turns`, and ``on_drift="warn"`` (default) warns once per template per process
    (`TemplateDriftWarning`) while ``on_drift="error"`` raises `TemplateDriftError`. There is no
    silent fallback to another format. To make inference match training on such a model, serve it
    with a prefix-preserving template (TRL's ``get_training_chat_template`` makes one for Qwen3).
    """

    def __init__(
        self,
        tokenizer: Any,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        on_drift: str = "warn",
        template_kwargs: Mapping[str, Any] | None = None,
    ):
        if on_drift not in ("warn", "error"):
            raise ValueError(f"on_drift must be 'warn' or 'error', got {on_drift!r}")
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("ChatTranscript needs a tokenizer with a chat template")
        self.tokenizer = tokenizer
        self.tools = [dict(t) for t in tools] if tools else None
        self.on_drift = on_drift
        self.template_kwargs = dict(template_kwargs or {})
        self.history: list[dict[str, Any]] = [dict(m) for m in messages]
        self.prompt = self.render(self.history, add_generation_prompt=True)
        #: The episode's text so far: the prompt, each turn's sampled text, each env segment.
        self.text = self.prompt
        #: Turns (0-based) after which the re-rendered conversation differed from `text`.
        self.drift_turns: list[int] = []
        self.turns = 0

    def render(self, messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool) -> str:
        """The template applied to ``messages`` (with the transcript's tools), as text. A template
        that cannot render the conversation (one that refuses ``tool`` messages or non-alternating
        roles) is a `ConfigError` naming the template's own complaint."""
        try:
            return self.tokenizer.apply_chat_template(
                [dict(m) for m in messages],
                tools=self.tools,
                tokenize=False,
                add_generation_prompt=add_generation_prompt,
                **self.template_kwargs,
            )
        except Exception as exc:  # jinja's TemplateError, raise_exception(...) in the template, TypeError
            roles = [m.get("role") for m in messages]
            raise ConfigError(
                f"the chat template cannot render this conversation (roles {roles}): {type(exc).__name__}: {exc}; "
                "use a template that supports the env's messages (tool results need one with tool support)"
            ) from exc

    def segment(self, turn_text: str, new_messages: Sequence[Mapping[str, Any]], *, eos_text: str | None = None) -> str:
        """The text the environment adds after a turn whose sampled text is ``turn_text``.

        ``eos_text`` is the text of the EOS token the turn ended with (None when it ended on a stop
        string or the length limit: the template's whole closing markup is then added). Records the
        turn, re-renders the conversation and handles a drift (class docstring).
        """
        sentinel = _SENTINEL
        while any(sentinel in str(m.get("content", "")) for m in (*self.history, *new_messages)) or sentinel in turn_text:
            sentinel += "1"
        stand_in = {"role": "assistant", "content": sentinel}
        rendered = self.render([*self.history, stand_in, *new_messages], add_generation_prompt=True)
        at = rendered.rfind(sentinel)
        if at < 0:
            raise TemplateDriftError(
                "the chat template does not write the assistant's text back into the conversation, so the "
                "markup between turns cannot be derived from it; use a template that renders assistant content"
            )
        tail = rendered[at + len(sentinel) :]
        if eos_text:
            lead = len(tail) - len(tail.lstrip())
            if tail.startswith(eos_text, lead) and (lead == 0 or not tail[:lead].strip()):
                tail = tail[lead + len(eos_text) :]  # the model's EOS already closed its turn
        self.history.append({"role": "assistant", "content": turn_text})
        self.history.extend(dict(m) for m in new_messages)
        self.text += turn_text + (eos_text or "") + tail
        self._check(self.turns)
        self.turns += 1
        return tail

    def _check(self, turn: int) -> None:
        expected = self.render(self.history, add_generation_prompt=True)
        if expected == self.text:
            return
        self.drift_turns.append(turn)
        where = next((i for i, (a, b) in enumerate(zip(expected, self.text, strict=False)) if a != b), min(len(expected), len(self.text)))
        message = (
            f"the chat template re-renders this episode differently after turn {turn} (first difference at "
            f"character {where}: template {expected[where : where + 40]!r} vs sampled {self.text[where : where + 40]!r}); "
            "the sampled ids are kept (they are what the model conditioned on). The template is not prefix-stable "
            "(it rewrites earlier turns, e.g. drops <think> reasoning or trims content): serve the model with a "
            "prefix-preserving template for inference to match training"
        )
        if self.on_drift == "error":
            raise TemplateDriftError(message)
        key = hash(str(self.tokenizer.chat_template))
        if key not in _WARNED:
            _WARNED.add(key)
            warnings.warn(message, TemplateDriftWarning, stacklevel=3)




class TokenizerAdapter:
    """One small interface over a transformers tokenizer or a bare `tokenizers.Tokenizer`."""

    def __init__(self, tokenizer: Any, *, eos_token_id: int | Iterable[int] | None = None, chat_template: bool | None = None):
        self.tokenizer = tokenizer
        self.is_transformers = hasattr(tokenizer, "apply_chat_template") and hasattr(tokenizer, "convert_tokens_to_ids")
        is_raw = hasattr(tokenizer, "get_vocab_size") and hasattr(tokenizer, "encode") and hasattr(tokenizer, "decode")
        if not (self.is_transformers or is_raw):
            raise TypeError(
                "tokenizer must be a transformers PreTrainedTokenizerBase or a tokenizers.Tokenizer, "
                f"got {type(tokenizer).__name__}"
            )
        if self.is_transformers:
            self.vocab_size = len(tokenizer)
            default_eos = tokenizer.eos_token_id
        else:
            self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
            default_eos = None
        if eos_token_id is None:
            eos = [] if default_eos is None else [default_eos]
        elif isinstance(eos_token_id, numbers.Integral):
            eos = [int(eos_token_id)]
        else:
            eos = [int(i) for i in eos_token_id]
        self.eos_ids = frozenset(eos)
        has_template = self.is_transformers and bool(getattr(tokenizer, "chat_template", None))
        if chat_template and not has_template:
            raise ValueError("chat_template=True but the tokenizer has no chat template")
        self.use_template = has_template if chat_template is None else bool(chat_template)

    def encode(self, text: str) -> list[int]:
        if not text:
            return []
        if self.is_transformers:
            return list(self.tokenizer.encode(text, add_special_tokens=False))
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        if not ids:
            return ""
        if self.is_transformers:
            return self.tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)


class TokenEnv(gymnasium.Env[np.ndarray, Any]):
    """Token-level view of a `TextEnv` (see the module docstring for the exact contract).

    The inner env may be wrapped by gymnasium (``gymnasium.make``, `TimeLimit`, a `RewardWrapper`
    …): TokenEnv only calls its ``reset`` and ``step`` and reads ``info["messages"]``.

    >>> import thinkgym
    >>> from thinkgym.agents.tiny import build_tokenizer
    >>> tokenizer = build_tokenizer()  # character-level, made locally
    >>> import thinkgym
    >>> from thinkgym.agents.tiny import build_tiny
    >>> _, tokenizer = build_tiny()                # any Hugging Face tokenizer
    >>> tenv = TokenEnv(thinkgym.make("thinkgym/Maze-v0"), tokenizer, max_new_tokens=8)
    >>> ids, info = tenv.reset(seed=0)  # the prompt's token ids
    >>> int(info["policy_mask"].sum())  # all of them from the environment
    0
    >>> ids, reward, terminated, truncated, info = tenv.step(tokenizer.convert_tokens_to_ids("R"))
    >>> reward, info["turn_tokens"]  # the turn goes on until EOS (or a stop string, or the budget)
    (0.0, 1)
    >>> ids, reward, terminated, truncated, info = tenv.step(tokenizer.eos_token_id)
    >>> info["action_text"], info["turn_end"], int(info["policy_mask"].sum())
    ('R', 'eos', 2)
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        env: gymnasium.Env,
        tokenizer: Any,
        *,
        max_new_tokens: int = 512,
        stop_strings: Sequence[str] = (),
        chunk: bool = False,
        eos_token_id: int | Iterable[int] | None = None,
        chat_template: bool | None = None,
        on_drift: str = "warn",
        render_mode: str | None = None,
    ):
        if not isinstance(getattr(env, "unwrapped", None), TextEnv):
            raise TypeError(f"TokenEnv wraps a thinkgym TextEnv, got {type(env).__name__}")
        if max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1")
        if isinstance(stop_strings, str) or not all(isinstance(s, str) and s for s in stop_strings):
            raise TypeError("stop_strings must be a sequence of non-empty strings")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        if on_drift not in ("warn", "error"):
            raise ValueError(f"on_drift must be 'warn' or 'error', got {on_drift!r}")
        self.env = env
        self.on_drift = on_drift
        self._transcript: ChatTranscript | None = None
        self.tok = TokenizerAdapter(tokenizer, eos_token_id=eos_token_id, chat_template=chat_template)
        self.max_new_tokens = int(max_new_tokens)
        self.stop_strings = tuple(stop_strings)
        self.chunk = bool(chunk)
        self.render_mode = render_mode
        token_space = spaces.Discrete(self.tok.vocab_size)
        self.observation_space = spaces.Sequence(token_space, stack=True)
        self.action_space = spaces.Sequence(token_space, stack=True) if self.chunk else token_space
        self._ids: list[int] = []
        self._mask: list[int] = []
        self._turn: list[int] = []
        self._done = True
        self._problem_id: str | None = None

    # ---- gymnasium API ----------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        _, text_info = self.env.reset(seed=seed, options=options)
        messages = text_info["messages"]
        if self.tok.use_template:
            self._transcript = ChatTranscript(self.tok.tokenizer, messages, tools=env_tools(self.env), on_drift=self.on_drift)
            prompt_text = self._transcript.prompt
        else:
            self._transcript = None
            prompt_text = "".join(str(m["content"]) + "\n" for m in messages if m["role"] != "assistant")
        self._ids = self.tok.encode(prompt_text)
        self._mask = [0] * len(self._ids)
        self._turn = []
        self._done = False
        self._problem_id = text_info.get("problem_id")
        return self._observation(), self._info(text_info=text_info)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise ResetNeeded("the episode has ended (or never started): call env.reset() before env.step()")
        tokens = self._coerce(action)
        end = None
        used = 0
        for token in tokens:
            used += 1
            self._ids.append(token)
            self._mask.append(1)
            self._turn.append(token)
            end = self._turn_end(token)
            if end is not None:
                break
        dropped = len(tokens) - used
        if end is None:
            return self._observation(), 0.0, False, False, self._info(dropped_tokens=dropped)
        policy_tokens = self._turn[:-1] if end == "eos" else self._turn
        text = self.tok.decode(policy_tokens)
        _, reward, terminated, truncated, text_info = self.env.step(text)
        truncated = bool(truncated or (end == "length" and not terminated))
        self._done = bool(terminated or truncated)
        drift = False
        if not self._done:
            eos_token = self._turn[-1] if end == "eos" else None
            drift = self._append_environment_segment(text, text_info["messages"], eos_token=eos_token)
        self._turn = []
        info = self._info(text_info=text_info, dropped_tokens=dropped)
        info.update(action_text=text, turn_end=end)
        if self._transcript is not None:
            info["template_drift"] = drift
        return self._observation(), float(reward), bool(terminated), truncated, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.tok.decode(self._ids)
        return None

    def close(self) -> None:
        self.env.close()

    # ---- internals --------------------------------------------------------------------------

    def _coerce(self, action: Any) -> list[int]:
        if isinstance(action, (bool, np.bool_)):
            raise TypeError("a token id must be an integer, got a bool")
        if isinstance(action, numbers.Integral):
            tokens = [int(action)]
        elif self.chunk and isinstance(action, (Sequence, np.ndarray)) and not isinstance(action, (str, bytes)):
            arr = np.asarray(action)
            if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
                raise TypeError(f"a chunk must be a 1-D sequence of integer token ids, got {arr.dtype} with shape {arr.shape}")
            tokens = [int(t) for t in arr]
        else:
            wanted = "an integer token id or a 1-D sequence of ids" if self.chunk else "an integer token id"
            raise TypeError(f"TokenEnv.step expects {wanted}, got {type(action).__name__}")
        for t in tokens:
            if not 0 <= t < self.tok.vocab_size:
                raise ValueError(f"token id {t} is outside the vocabulary (0..{self.tok.vocab_size - 1})")
        return tokens

    def _turn_end(self, token: int) -> str | None:
        if token in self.tok.eos_ids:
            return "eos"
        if self.stop_strings:
            text = self.tok.decode(self._turn)
            if any(s in text for s in self.stop_strings):
                return "stop"
        if len(self._turn) >= self.max_new_tokens:
            return "length"
        return None

    def _append_environment_segment(self, action_text: str, messages: list[dict[str, Any]], *, eos_token: int | None) -> bool:
        """Append the tokens the environment adds after a turn; True when the template drifted."""
        new = [m for m in messages[_last_assistant(messages) + 1 :]]
        drift = False
        if self._transcript is not None:
            eos_text = self.tok.decode([eos_token]) if eos_token is not None else None
            before = len(self._transcript.drift_turns)
            segment = self._transcript.segment(action_text, new, eos_text=eos_text)
            drift = len(self._transcript.drift_turns) > before
        else:
            segment = "".join("\n" + str(m.get("content", "")) + "\n" for m in new)
        ids = self.tok.encode(segment)
        self._ids.extend(ids)
        self._mask.extend([0] * len(ids))
        return drift

    def _observation(self) -> np.ndarray:
        return np.asarray(self._ids, dtype=np.int64)

    def _info(self, *, text_info: dict[str, Any] | None = None, dropped_tokens: int = 0) -> dict[str, Any]:
        info: dict[str, Any] = {
            "problem_id": self._problem_id,
            "policy_mask": np.asarray(self._mask, dtype=np.int8),
            "turn_tokens": len(self._turn),
        }
        if dropped_tokens:
            info["dropped_tokens"] = dropped_tokens
        if text_info is not None:
            info["text_info"] = text_info
        return info

    @property
    def context_ids(self) -> list[int]:
        """The token ids of the context so far (a copy)."""
        return list(self._ids)

    @property
    def policy_mask(self) -> list[int]:
        """1 for each policy token in `context_ids`, 0 for each environment token (a copy)."""
        return list(self._mask)


def _last_assistant(messages: Sequence[Mapping[str, Any]]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "assistant":
            return i
    return -1
