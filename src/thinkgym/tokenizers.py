"""Loading a saved tokenizer exactly as it was saved (shared by policies, trainers and reward models)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["load_tokenizer", "GENERIC_TOKENIZER_CLASSES"]

#: Tokenizer classes a folder names when its tokenizer is generic (its tokenizer.json is the whole truth).
GENERIC_TOKENIZER_CLASSES = frozenset({"TokenizersBackend", "PreTrainedTokenizerFast"})


def load_tokenizer(name_or_path: str | Path) -> Any:
    """The tokenizer saved in ``name_or_path`` exactly as it was saved.

    ``AutoTokenizer`` picks the tokenizer class of the model's architecture (``Qwen2Tokenizer`` for
    the tiny model's Qwen2 config), which replaces the saved pre-tokenizer with its own, so a tiny
    model reloaded that way reads its text in different tokens than it was trained on. A folder
    whose tokenizer was saved as a generic one (``TokenizersBackend`` / ``PreTrainedTokenizerFast``:
    thinkgym's tiny tokenizers) is therefore loaded with ``PreTrainedTokenizerFast``, which keeps
    ``tokenizer.json`` as is; anything else (a real model's folder or hub id) with ``AutoTokenizer``.
    """
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    config = Path(name_or_path) / "tokenizer_config.json"
    saved_class = None
    if config.is_file():
        try:
            saved_class = json.loads(config.read_text(encoding="utf-8")).get("tokenizer_class")
        except (OSError, ValueError):
            saved_class = None
    if saved_class in GENERIC_TOKENIZER_CLASSES:
        return PreTrainedTokenizerFast.from_pretrained(str(name_or_path))
    return AutoTokenizer.from_pretrained(str(name_or_path))
