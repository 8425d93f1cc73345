"""`HFPolicy`: a local transformers model as a batched thinkgym `Policy`.

Chat models get their chat template; models without one get the conversation's text joined by
newlines (the base-model view). Each `Generation` carries the sampled token ids and their
log-probabilities *under the sampling distribution* (after temperature / top-k / top-p and any
token restriction) — what an RL trainer's importance ratios need.

Sampling is seeded per row, not per batch: every query draws its tokens from a `torch.Generator`
of its own, seeded with `Query.seed` (one per sample in `thinkgym eval`), else from the policy's
``seed`` and a call counter. So a sample does not depend on which other queries share its batch or
on the order they came in: the same model, prompt, settings and seed give the same text. What a
different ``batch_size`` (or a different device or dtype) can still change is the logits
themselves: a batch is left-padded to its longest prompt and the kernels reduce in a
shape-dependent order, so the probabilities differ in the last bits and, rarely, a token drawn
near a boundary between two tokens flips. Same settings, same samples; same seed with another
batch size, almost always the same samples.

Tool envs (`Query.tools` set): the tools go through the chat template (``apply_chat_template(...,
tools=...)``, as the model was trained to see them) and so does the multi-turn conversation
(``assistant`` messages with ``tool_calls`` and ``tool`` results, made ready for the template by
`thinkgym.agents.messages.chat_messages`), the way an inference server renders it. The
model's reply (Hermes ``<tool_call>`` blocks for most templates) is the env action as written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.agents.messages import chat_messages

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["HFPolicy"]


class HFPolicy(Policy):
    """A transformers causal LM answering `Query` batches.

    ``model`` is a loaded model, a local folder, or ``"tiny"`` (the tiny model of
    `thinkgym.agents.tiny`). ``allowed_tokens`` restricts sampling to those token strings plus
    EOS (e.g. the maze moves: the action space of a token-level policy). ``seed`` makes sampling
    reproducible without touching the global torch RNG (see the module docstring for per-query seeds).
    """

    name = "hf"

    def __init__(
        self,
        model: PreTrainedModel | str | Path,
        tokenizer: PreTrainedTokenizerBase | None = None,
        *,
        max_new_tokens: int = 256,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        do_sample: bool = True,
        batch_size: int = 16,
        use_chat_template: bool | None = None,
        system_prompt: str | None = None,
        stop: Sequence[str] = (),
        allowed_tokens: Sequence[str] | None = None,
        max_prompt_tokens: int | None = None,
        seed: int | None = None,
        device: str | None = None,
    ):
        import torch

        if isinstance(model, (str, Path)):
            from thinkgym.agents.tiny import load_model

            loaded_model, loaded_tokenizer = load_model(model)
            model = loaded_model
            tokenizer = tokenizer or loaded_tokenizer
        if tokenizer is None:
            raise TypeError("HFPolicy needs a tokenizer when given a model object")
        if max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1")
        if do_sample and temperature <= 0:
            raise ValueError("temperature must be > 0 when sampling (use do_sample=False for greedy)")
        self.model = model
        self.tokenizer = tokenizer
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.device = torch.device(device) if device else next(model.parameters()).device
        if device:
            self.model.to(self.device)
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.top_k = int(top_k)
        self.do_sample = bool(do_sample)
        self.batch_size = max(1, int(batch_size))
        self.use_chat_template = (
            bool(getattr(tokenizer, "chat_template", None)) if use_chat_template is None else use_chat_template
        )
        self.system_prompt = system_prompt
        self.stop = tuple(stop)
        self.max_prompt_tokens = max_prompt_tokens
        self.seed = seed
        self._calls = 0
        self.eos_token_ids = self._eos_ids()
        self.suppress_token_ids: list[int] | None = None
        if allowed_tokens is not None:
            from thinkgym.agents.tiny import token_ids_for

            allowed = set(token_ids_for(tokenizer, allowed_tokens)) | set(self.eos_token_ids)
            self.suppress_token_ids = [i for i in range(len(tokenizer)) if i not in allowed]

    # ---- prompt formatting ----------------------------------------------------------------

    def _eos_ids(self) -> list[int]:
        ids = self.model.generation_config.eos_token_id
        ids = [ids] if isinstance(ids, int) else list(ids or [])
        if self.tokenizer.eos_token_id is not None and self.tokenizer.eos_token_id not in ids:
            ids.append(self.tokenizer.eos_token_id)
        return ids

    def prompt_ids(self, query: Query) -> list[int]:
        """The token ids the model is conditioned on for ``query``."""
        messages = list(query.messages)
        if self.system_prompt and not any(m["role"] == "system" for m in messages):
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        if self.use_chat_template:
            encoded = self.tokenizer.apply_chat_template(
                chat_messages(messages, arguments="dict"),
                tools=[dict(t) for t in query.tools] if query.tools else None,
                add_generation_prompt=True,
                tokenize=True,
            )
            ids = list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)
        else:
            text = "\n".join(str(m.get("content") or "") for m in messages)
            ids = self.tokenizer.encode(text, add_special_tokens=True)
        if self.max_prompt_tokens is not None and len(ids) > self.max_prompt_tokens:
            ids = ids[-self.max_prompt_tokens :]  # keep the most recent context
        return ids

    # ---- generation -----------------------------------------------------------------------

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        results: list[Generation] = []
        for start in range(0, len(queries), self.batch_size):
            batch = list(queries[start : start + self.batch_size])
            try:
                results.extend(self._generate_batch(batch))
            except (RuntimeError, ValueError) as exc:  # a failed batch is recorded, never lost
                message = f"{type(exc).__name__}: {exc}"
                results.extend(Generation("", finish_reason="error", error=message) for _ in batch)
        return results

    def _generate_batch(self, queries: list[Query]) -> list[Generation]:
        import torch
        from transformers import LogitsProcessorList

        started = time.perf_counter()
        prompts = [self.prompt_ids(q) for q in queries]
        pad = self.tokenizer.pad_token_id
        width = max(len(p) for p in prompts)
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        attention_mask = torch.tensor(
            [[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device
        )
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "pad_token_id": pad,
            "eos_token_id": self.eos_token_ids,
            "return_dict_in_generate": True,
            "output_scores": True,
        }
        sampler = None
        if self.do_sample:
            # transformers runs its temperature/top-k/top-p warpers *after* custom processors, so
            # the sampler applies them itself and generate gets none (its draw is then forced)
            kwargs.update(temperature=1.0, top_p=1.0, top_k=0)
            sampler = _SeededSampler(self._row_seeds(queries), self.temperature, self.top_k, self.top_p)
            kwargs["logits_processor"] = LogitsProcessorList([sampler])
        if self.suppress_token_ids:
            kwargs["suppress_tokens"] = self.suppress_token_ids
        self._calls += 1
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                out = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
                if sampler is not None:
                    logprobs = sampler.logprobs()
                else:
                    logprobs = self.model.compute_transition_scores(
                        out.sequences, out.scores, normalize_logits=True
                    )
        finally:
            self.model.train(was_training)
        new_tokens = out.sequences[:, width:].tolist()
        latency = time.perf_counter() - started
        generations = []
        for row, ids in enumerate(new_tokens):
            kept, finish = self._cut(ids)
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            text, stopped = self._apply_stop(text)
            generations.append(
                Generation(
                    text=text,
                    token_ids=kept,
                    logprobs=[float(x) for x in logprobs[row, : len(kept)].tolist()],
                    finish_reason="stop" if stopped else finish,
                    latency_s=latency,
                    prompt_tokens=len(prompts[row]),
                    completion_tokens=len(kept),
                )
            )
        return generations

    def _row_seeds(self, queries: Sequence[Query]) -> list[int]:
        """One seed per query: its own, else one derived from the policy's seed and this call."""
        import torch

        from thinkgym.agents.base import derive_seed

        seeds = []
        for row, query in enumerate(queries):
            if query.seed is not None:
                seeds.append(int(query.seed))
            elif self.seed is not None:
                seeds.append(derive_seed(self.seed, "call", self._calls, row))
            else:  # unseeded policy: from the global torch RNG, as transformers would sample
                seeds.append(int(torch.randint(0, 2**31 - 1, ()).item()))
        return seeds

    def _cut(self, ids: list[int]) -> tuple[list[int], str]:
        """Generated ids up to and including the first EOS; the finish reason."""
        for i, token in enumerate(ids):
            if token in self.eos_token_ids:
                return ids[: i + 1], "stop"
        return ids, "length"

    def _apply_stop(self, text: str) -> tuple[str, bool]:
        cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
        return (text[:cut], True) if cut >= 0 else (text, False)

    def sequence_logprobs(self, prompt_ids: list[int], completion_ids: list[int]) -> torch.Tensor:
        """Log-probabilities of ``completion_ids`` after ``prompt_ids`` under the raw model (no sampling
        transforms) — what a trainer recomputes with gradients."""
        import torch

        ids = torch.tensor([prompt_ids + completion_ids], device=self.device)
        logits = self.model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1]
        return torch.log_softmax(logits.float(), dim=-1).gather(
            -1, torch.tensor(completion_ids, device=self.device)[:, None]
        )[:, 0]

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


class _SeededSampler:
    """The custom logits processor of a sampled `generate`: applies temperature, top-k and top-p
    (transformers' own warpers) to what the processors before it made (suppressed tokens), draws
    each row's next token from that row's own `torch.Generator`, records its log-probability under
    that sampling distribution, and leaves only that token possible, so transformers' multinomial
    draw can only pick it."""

    def __init__(self, seeds: Sequence[int], temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0):
        from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

        self.seeds = list(seeds)
        self.warpers: list[Any] = []
        if temperature != 1.0:
            self.warpers.append(TemperatureLogitsWarper(temperature))
        if top_k:
            self.warpers.append(TopKLogitsWarper(top_k=top_k))
        if top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p=top_p))
        self.generators: list[torch.Generator] | None = None
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        import torch

        if self.generators is None:
            self.generators = [torch.Generator(device=scores.device).manual_seed(s) for s in self.seeds]
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        logprobs = torch.log_softmax(scores.float(), dim=-1)
        probs = logprobs.exp()
        chosen = torch.stack(
            [torch.multinomial(probs[row], 1, generator=g)[0] for row, g in enumerate(self.generators)]
        )
        self.steps.append(logprobs.gather(-1, chosen[:, None])[:, 0])
        forced = torch.full_like(scores, float("-inf"))
        forced.scatter_(-1, chosen[:, None], 0.0)
        return forced

    def logprobs(self) -> torch.Tensor:
        """``[rows, steps]``: the log-probability of each drawn token under its sampling distribution."""
        import torch

        return torch.stack(self.steps, dim=1) if self.steps else torch.zeros(len(self.seeds), 0)
