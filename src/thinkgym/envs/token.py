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
template applied to the chat messages with a generation prompt; after each turn the environment
segment is the markup the template adds to close the assistant turn, the next user message and the
next generation prompt. Without a template (or with a bare `tokenizers.Tokenizer`) the context is
plain text: every system/user message followed by a newline, and each later observation written
as ``"\\n" + observation + "\\n"`` after the policy's tokens. Segments are tokenized one by one (the
policy's own tokens are never re-tokenized), which is what a sampler actually conditions on.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from thinkgym.core import TextEnv

__all__ = ["TokenEnv", "TokenizerAdapter"]


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

    def template(self, messages: Sequence[dict[str, str]], *, add_generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=add_generation_prompt
        )


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
        self.env = env
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
        self._prompt_text = ""
        self._done = True
        self._problem_id: str | None = None

    # ---- gymnasium API ----------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        _, text_info = self.env.reset(seed=seed, options=options)
        messages = text_info["messages"]
        if self.tok.use_template:
            self._prompt_text = self.tok.template(messages, add_generation_prompt=True)
        else:
            self._prompt_text = "".join(m["content"] + "\n" for m in messages if m["role"] != "assistant")
        self._ids = self.tok.encode(self._prompt_text)
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
        if not self._done:
            self._append_environment_segment(text, text_info["messages"], ended_with_eos=end == "eos")
        self._turn = []
        info = self._info(text_info=text_info, dropped_tokens=dropped)
        info.update(action_text=text, turn_end=end)
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

    def _append_environment_segment(self, action_text: str, messages: list[dict[str, str]], *, ended_with_eos: bool) -> None:
        """Tokens the environment adds after a turn: template markup and the next observation."""
        segment = None
        if self.tok.use_template:
            history = messages
            while history and history[-1]["role"] != "assistant":
                history = history[:-1]
            closed = self.tok.template(history, add_generation_prompt=False)
            following = self.tok.template(messages, add_generation_prompt=True)
            spoken = self._prompt_text + action_text
            if closed.startswith(spoken) and following.startswith(closed):
                closing = closed[len(spoken):]
                if ended_with_eos:
                    eos_texts = [self.tok.decode([e]) for e in self.tok.eos_ids]
                    for eos_text in eos_texts:
                        if eos_text and closing.startswith(eos_text):
                            closing = closing[len(eos_text):]
                            break
                segment = closing + following[len(closed):]
                self._prompt_text = following
        if segment is None:
            new = [m["content"] for m in messages[_last_assistant(messages) + 1 :]]
            segment = "".join("\n" + content + "\n" for content in new)
            self._prompt_text = self._prompt_text + action_text + segment
        ids = self.tok.encode(segment)
        self._ids.extend(ids)
        self._mask.extend([0] * len(ids))

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


def _last_assistant(messages: Sequence[dict[str, str]]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "assistant":
            return i
    return -1
