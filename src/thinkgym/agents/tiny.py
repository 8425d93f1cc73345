"""The `tiny` model: a small transformer built from a config, with a tokenizer made locally.

Nothing is downloaded. The tokenizer is character-level (one token per character of its alphabet,
built with the `tokenizers` library), so every maze move — a single character — is a single token,
and any text can be encoded (characters outside the alphabet become ``<unk>``). It has a ChatML
chat template, so conversational prompts work the same way as with real chat models.

`build_tiny` returns ``(model, tokenizer)``; `save_tiny` writes both to a folder that
``from_pretrained`` (and ``thinkgym train --model PATH``) loads back.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

__all__ = [
    "TinyConfig",
    "build_tokenizer",
    "build_tiny",
    "save_tiny",
    "load_model",
    "token_ids_for",
    "env_corpus",
    "DEFAULT_ALPHABET",
    "CHAT_TEMPLATE",
]

PAD, UNK, EOS, IM_START = "<pad>", "<unk>", "<|im_end|>", "<|im_start|>"
SPECIAL_TOKENS = (PAD, UNK, EOS, IM_START)

#: Printable ASCII (with newline and tab): enough for prompts, math answers and maze drawings.
DEFAULT_ALPHABET = "".join(c for c in string.printable if c not in "\x0b\x0c\r")

#: ChatML, the format most open chat models use; the assistant turn ends with the EOS token.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class TinyConfig:
    """Size of the tiny model (a Qwen2-architecture decoder). Defaults train in seconds on a CPU."""

    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 2048
    seed: int = 0


def registered_action_tokens() -> tuple[str, ...]:
    """The action strings registered envs want kept as whole tokens (their ``action_tokens``
    hook, e.g. the maze's moves), read from each registered env class without building it."""
    from thinkgym.registry import _load, list_envs

    tokens: list[str] = []
    for env_spec in list_envs():
        try:
            factory = _load(env_spec.entry_point)
        except Exception:  # a plugin whose module cannot load has no tokens to offer
            continue
        tokens.extend(t for t in getattr(factory, "action_tokens", ()) if isinstance(t, str) and t)
    return tuple(dict.fromkeys(tokens))


def build_tokenizer(
    alphabet: str | None = None,
    extra_tokens: Iterable[str] = (),
    *,
    corpus: Iterable[str] | None = None,
    vocab_size: int = 512,
) -> PreTrainedTokenizerFast:
    """A tokenizer made locally: character-level, or BPE trained on ``corpus``.

    Without ``corpus`` every character of ``alphabet`` is one token. With ``corpus`` (e.g. the
    prompts of the env to train on) a BPE model of up to ``vocab_size`` tokens is trained on it in
    well under a second, so long prompts (a maze drawing) become a few dozen tokens. Either way the
    registered envs' ``action_tokens`` (the maze's moves) and ``extra_tokens`` are split off before
    merging, so each is always one token, and
    every character of ``alphabet`` stays encodable. Padding is on the left, as generation needs.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    alphabet = DEFAULT_ALPHABET if alphabet is None else alphabet
    if not isinstance(alphabet, str):
        raise TypeError(f"alphabet must be a str, got {type(alphabet).__name__}")
    whole = list(dict.fromkeys([*registered_action_tokens(), *extra_tokens]))
    if corpus is None:
        vocab: dict[str, int] = {}
        for token in (*SPECIAL_TOKENS, *alphabet):
            vocab.setdefault(token, len(vocab))
        core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
        core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    else:
        core = Tokenizer(models.BPE(unk_token=UNK, fuse_unk=True))
        splits = [pre_tokenizers.Split(Regex(r"\n"), behavior="isolated")]
        if whole:
            pattern = "|".join(re.escape(t) for t in sorted(whole, key=len, reverse=True))
            splits.insert(0, pre_tokenizers.Split(Regex(pattern), behavior="isolated"))
        core.pre_tokenizer = pre_tokenizers.Sequence(splits)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=sorted(set(alphabet)),
            show_progress=False,
        )
        core.train_from_iterator(list(corpus), trainer=trainer)
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    missing = [t for t in whole if core.token_to_id(t) is None]
    if missing:
        core.add_tokens(missing)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        eos_token=EOS,
        padding_side="left",
        model_max_length=2048,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def env_corpus(env_id: str, n: int = 64, seed: int = 0, **env_kwargs: Any) -> list[str]:
    """Text to train a tokenizer for ``env_id``: the first observations of ``n`` of its problems,
    plus the observations of one random-policy episode per problem (multi-turn envs)."""
    from thinkgym.agents.base import play_episode
    from thinkgym.agents.random import RandomPolicy
    from thinkgym.registry import make

    env = make(env_id, **env_kwargs)
    policy = RandomPolicy(seed)
    texts: list[str] = []
    try:
        # cycled on purpose: a small source (the classic maze) still gives n episodes of text
        for i, problem in enumerate(env.unwrapped.source.take(n, seed, repeat=True)):
            episode = play_episode(env, policy, seed=seed + i, options={"problem": problem})
            texts.extend(m["content"] for m in episode.info["messages"])
    finally:
        env.close()
    return texts


def build_tiny(
    config: TinyConfig | None = None,
    *,
    alphabet: str | None = None,
    extra_tokens: Iterable[str] = (),
    corpus: Iterable[str] | None = None,
    vocab_size: int = 512,
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """A randomly initialised Qwen2-architecture causal LM and its local tokenizer (see
    `build_tokenizer`; pass ``corpus=env_corpus(env_id)`` for short prompts on that env)."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, Qwen2Config

    config = config or TinyConfig()
    tokenizer = build_tokenizer(alphabet, extra_tokens, corpus=corpus, vocab_size=vocab_size)
    model_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        max_position_embeddings=config.max_position_embeddings,
        tie_word_embeddings=False,  # tied embeddings make a fresh model repeat its last token
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(config.seed)
    try:
        model = AutoModelForCausalLM.from_config(model_config, dtype=torch.float32)
    finally:
        torch.random.set_rng_state(generator_state)
    # Sampling by default, so `transformers serve`, `hf:` and plain `generate` of a saved tiny model
    # give different samples of a problem (a greedy default silently turns pass@k into pass@1).
    model.generation_config = GenerationConfig(
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        do_sample=True,
        temperature=1.0,
    )
    model.config.tiny_config = asdict(config)
    return model, tokenizer


def save_tiny(path: str | Path, config: TinyConfig | None = None, **kwargs: Any) -> Path:
    """Build the tiny model and save model + tokenizer to ``path`` (a folder ``from_pretrained`` reads)."""
    model, tokenizer = build_tiny(config, **kwargs)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def load_model(
    name_or_path: str | Path, *, env_id: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """``"tiny"`` builds the tiny model (its tokenizer trained on ``env_id``'s prompts when given);
    anything else is a local folder (or hub id) for ``from_pretrained``."""
    if str(name_or_path) == "tiny":
        return build_tiny(corpus=env_corpus(env_id) if env_id else None)
    from transformers import AutoModelForCausalLM

    from thinkgym.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(name_or_path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(name_or_path))
    return model, tokenizer


def token_ids_for(tokenizer: Any, texts: Iterable[str]) -> list[int]:
    """The single token id of each text; a clear error when one is not a single token."""
    ids = []
    for text in texts:
        encoded = tokenizer.encode(text, add_special_tokens=False)
        if len(encoded) != 1:
            raise ValueError(f"{text!r} is {len(encoded)} tokens for this tokenizer; it must be exactly one")
        ids.append(encoded[0])
    return ids
