"""Policies (agents) that play thinkgym envs, behind the one small `Policy` interface.

`RandomPolicy` and `OraclePolicy` are light and imported here; model-backed policies (transformers,
OpenAI-compatible servers) are imported lazily on first attribute access so `import thinkgym.agents`
stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from thinkgym.agents.base import (
    Episode,
    Generation,
    Policy,
    Query,
    derive_seed,
    env_attr,
    play_episode,
    query_for,
)
from thinkgym.agents.oracle import OraclePolicy
from thinkgym.agents.random import RandomPolicy

__all__ = [
    "Episode",
    "Generation",
    "OraclePolicy",
    "Policy",
    "Query",
    "RandomPolicy",
    "derive_seed",
    "env_attr",
    "play_episode",
    "query_for",
]

#: Lazily imported policies: attribute name -> "module:attribute". Add heavy policies here.
_LAZY: dict[str, str] = {
    "HFPolicy": "thinkgym.agents.hf:HFPolicy",
    "OpenAIPolicy": "thinkgym.agents.openai:OpenAIPolicy",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, _, attr = _LAZY[name].partition(":")
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module 'thinkgym.agents' has no attribute {name!r}")
