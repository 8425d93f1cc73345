"""A learned reward: any transformers sequence-classification model as a scalar `Verifier`.

Why: some behaviours (helpfulness, style, a trained PRM/ORM) have no rule to check; a reward model
scores them. `RewardModelVerifier` wraps a ``*ForSequenceClassification`` model (``num_labels=1``
gives the logit itself; more labels give the probability of ``label``), batches inputs with
padding on the device given, and never raises on model text (an empty completion is scored like
any other). torch and transformers are imported only when a model is loaded or called.

Inputs are built as a chat (when the tokenizer has a chat template), as a (prompt, completion)
text pair, or as one concatenated string — ``input_format`` picks; long inputs are truncated from
the left so the end of the completion, where the answer is, is always seen.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any, Literal

from thinkgym.core import Problem, Reward

__all__ = ["RewardModelVerifier"]

InputFormat = Literal["auto", "chat", "pair", "concat"]


class RewardModelVerifier:
    """Scores completions with a sequence-classification model.

    ``model`` is a loaded model or a path/name for ``AutoModelForSequenceClassification``
    (loaded lazily, on first use, and dropped when pickled so worker processes reload it).
    ``tokenizer`` defaults to the model's own. ``sigmoid=True`` maps a logit into (0, 1);
    ``scale``/``shift`` apply afterwards (``score = scale * value + shift``).

    >>> from transformers import Qwen2Config, Qwen2ForSequenceClassification
    >>> from thinkgym.agents.tiny import build_tiny
    >>> _, tokenizer = build_tiny()       # a tiny model for the example; use your reward model
    >>> model = Qwen2ForSequenceClassification(Qwen2Config(
    ...     vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
    ...     num_attention_heads=2, num_key_value_heads=1, num_labels=1, pad_token_id=tokenizer.pad_token_id))
    >>> rm = RewardModelVerifier(model, tokenizer, batch_size=16)     # device="cuda:0" on a GPU
    >>> reward = rm("The answer is 4.", Problem("p0", "What is 2+2?", "4"))
    >>> isinstance(reward.score, float), reward.components.keys() == {"reward_model"}
    (True, True)
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str = "cpu",
        batch_size: int = 8,
        max_length: int = 2048,
        input_format: InputFormat = "auto",
        label: int | None = None,
        sigmoid: bool = False,
        scale: float = 1.0,
        shift: float = 0.0,
        dtype: str | None = None,
        name: str = "reward_model",
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if max_length < 8:
            raise ValueError("max_length must be >= 8")
        if input_format not in ("auto", "chat", "pair", "concat"):
            raise ValueError(f"input_format must be auto, chat, pair or concat, got {input_format!r}")
        if not (math.isfinite(scale) and math.isfinite(shift)):
            raise ValueError("scale and shift must be finite")
        self.model_path = model if isinstance(model, str) else None
        self._model = None if isinstance(model, str) else model
        self._tokenizer = tokenizer
        self.device = device
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.input_format = input_format
        self.label = label
        self.sigmoid = bool(sigmoid)
        self.scale = float(scale)
        self.shift = float(shift)
        self.dtype = dtype
        self.name = name
        self._placed = False
        self._lock = threading.Lock()  # one scoring call at a time: the tokenizer is reconfigured

    # ---- pickling: a path-built verifier travels without its weights ----------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        if self.model_path is not None:
            state["_model"] = None
            state["_placed"] = False
            if state.get("_tokenizer_from_path"):
                state["_tokenizer"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ---- loading -----------------------------------------------------------------------------

    def _load(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForSequenceClassification

        if self._model is None:
            assert self.model_path is not None
            kwargs: dict[str, Any] = {}
            if self.dtype:
                kwargs["dtype"] = getattr(torch, self.dtype)
            self._model = AutoModelForSequenceClassification.from_pretrained(self.model_path, **kwargs)
        if self._tokenizer is None:
            source = self.model_path or getattr(self._model, "name_or_path", None)
            if not source:
                raise TypeError("a tokenizer is required when the model was not loaded from a path")
            from thinkgym.tokenizers import load_tokenizer

            self._tokenizer = load_tokenizer(source)
            self.__dict__["_tokenizer_from_path"] = True
        if not self._placed:
            self._model.to(self.device)
            if self.dtype:
                self._model.to(getattr(torch, self.dtype))
            self._model.eval()
            self._prepare_padding()
            self._placed = True
        return self._model, self._tokenizer

    def _prepare_padding(self) -> None:
        tokenizer, model = self._tokenizer, self._model
        if tokenizer.pad_token_id is None:
            if tokenizer.eos_token is None:
                raise TypeError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
            tokenizer.pad_token = tokenizer.eos_token
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tokenizer.pad_token_id

    # ---- scoring -----------------------------------------------------------------------------

    def _texts(self, prompts: Sequence[str], completions: Sequence[str]) -> tuple[list[Any], str]:
        tokenizer = self._tokenizer
        fmt = self.input_format
        if fmt == "auto":
            fmt = "chat" if getattr(tokenizer, "chat_template", None) else "pair"
        if fmt == "chat":
            texts = [
                tokenizer.apply_chat_template(
                    [{"role": "user", "content": p}, {"role": "assistant", "content": c}],
                    tokenize=False,
                )
                for p, c in zip(prompts, completions, strict=True)
            ]
            return texts, fmt
        if fmt == "pair":
            return [(p, c) for p, c in zip(prompts, completions, strict=True)], fmt
        return [f"{p}\n\n{c}" if p else c for p, c in zip(prompts, completions, strict=True)], fmt

    def score_texts(self, prompts: Sequence[str], completions: Sequence[str]) -> list[float]:
        """Raw model values (after ``label``/``sigmoid``/``scale``/``shift``), in input order."""
        if len(prompts) != len(completions):
            raise ValueError("prompts and completions must have the same length")
        for text in (*prompts, *completions):
            if not isinstance(text, str):
                raise TypeError(f"prompts and completions must be str, got {type(text).__name__}")
        if not completions:
            return []
        with self._lock:
            return self._score_locked(list(prompts), list(completions))

    def _score_locked(self, prompts: list[str], completions: list[str]) -> list[float]:
        import torch

        model, tokenizer = self._load()
        texts, fmt = self._texts(prompts, completions)
        values: list[float] = []
        saved_side = getattr(tokenizer, "truncation_side", "right")
        tokenizer.truncation_side = "left"
        try:
            for start in range(0, len(texts), self.batch_size):
                chunk = texts[start : start + self.batch_size]
                if fmt == "pair":
                    firsts, seconds = [t[0] for t in chunk], [t[1] for t in chunk]
                    batch = tokenizer(
                        firsts, seconds, padding=True, truncation="longest_first",
                        max_length=self.max_length, return_tensors="pt",
                    )
                else:
                    batch = tokenizer(
                        chunk, padding=True, truncation=True, max_length=self.max_length,
                        return_tensors="pt", add_special_tokens=fmt != "chat",
                    )
                batch = {k: v.to(self.device) for k, v in batch.items() if k != "token_type_ids" or _uses_types(model)}
                with torch.inference_mode():
                    logits = model(**batch).logits.float()
                values.extend(self._reduce(logits))
        finally:
            tokenizer.truncation_side = saved_side
        return values

    def _reduce(self, logits: Any) -> list[float]:
        import torch

        if logits.shape[-1] == 1:
            raw = logits[:, 0]
        else:
            if self.label is None:
                raise TypeError(
                    f"the model has {logits.shape[-1]} labels: pass label= to pick the one that means 'good'"
                )
            raw = torch.softmax(logits, dim=-1)[:, self.label]
        if self.sigmoid:
            raw = torch.sigmoid(raw)
        return [self.scale * float(v) + self.shift for v in raw.cpu()]

    def _reward(self, value: float) -> Reward:
        if not math.isfinite(value):
            return Reward.zero("the reward model returned a non-finite value", {self.name: 0.0})
        return Reward(value, {self.name: value}, {"reward_model_value": value})

    def batch(self, completions: Sequence[str], problems: Sequence[Problem]) -> list[Reward]:
        """Rewards for many completions at once (one forward pass per ``batch_size``)."""
        if len(completions) != len(problems):
            raise ValueError("completions and problems must have the same length")
        prompts = [p.prompt for p in problems]
        return [self._reward(v) for v in self.score_texts(prompts, list(completions))]

    def __call__(self, completion: str, problem: Problem) -> Reward:
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a str, got {type(completion).__name__}")
        return self.batch([completion], [problem])[0]

    def __repr__(self) -> str:
        source = self.model_path or type(self._model).__name__
        return f"RewardModelVerifier({source!r}, device={self.device!r}, batch_size={self.batch_size})"


def _uses_types(model: Any) -> bool:
    return getattr(model.config, "type_vocab_size", 0) > 1
