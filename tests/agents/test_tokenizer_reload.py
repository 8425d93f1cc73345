"""A saved tiny model reloads with the very tokenizer it was trained with.

``AutoTokenizer`` would build the architecture's tokenizer class (Qwen2's), whose own pre-tokenizer
splits text differently, so the reloaded model would read other tokens than it learned.
"""

from __future__ import annotations

from thinkgym.agents.tiny import build_tiny, env_corpus, load_model
from thinkgym.tokenizers import load_tokenizer

TEXTS = [
    "Find a path from S to G. Moves: R D L U\n#S..#\n#..G#\nRRDD",
    "<think>6*7 = 42</think> The answer is \\boxed{42}.",
    "déjà vu — 12,345.6 ≠ 7",
]


def test_a_saved_tiny_model_reloads_with_the_tokens_it_was_trained_on(tmp_path):
    from transformers import AutoTokenizer

    model, tokenizer = build_tiny(corpus=env_corpus("thinkgym/Maze-v0"))
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    auto = AutoTokenizer.from_pretrained(str(tmp_path))
    # the trap this guards against: AutoTokenizer re-splits the tiny model's text
    assert any(auto(t)["input_ids"] != tokenizer(t)["input_ids"] for t in TEXTS)
    _model, reloaded = load_model(tmp_path)
    for text in TEXTS:
        assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"], text
        assert load_tokenizer(tmp_path)(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert reloaded.eos_token == tokenizer.eos_token and reloaded.pad_token is not None
