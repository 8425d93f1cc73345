"""`RandomPolicy`: the untrained agent of the seed example, and a baseline for any env.

Where the env exposes its permitted actions (the maze's moves) it picks one uniformly, which is
exactly the policy `thinkgym.envs.maze.expected_return` analyses by default. For open-text envs
it writes a short random string, so every env can be smoke-tested with no model at all.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import numpy as np

from thinkgym.agents.base import Generation, Policy, Query

__all__ = ["RandomPolicy"]

_TEXT_CHARS = string.ascii_letters + string.digits + " .,+-*/=()"


class RandomPolicy(Policy):
    """Uniform over ``Query.valid_actions`` when given, else random text of 1..``max_chars`` chars.

    Seeded once at construction (``np.random.Generator``), so a run is reproducible. A query that
    carries its own seed (`Query.seed`, set per sample by `thinkgym eval`) is answered from a
    generator seeded with it instead: the same sample gets the same text whatever order, batch or
    concurrency the queries arrive in.

    >>> from thinkgym.agents import Query
    >>> policy = RandomPolicy(seed=0)
    >>> ask = Query(messages=({"role": "user", "content": "Move"},), valid_actions=("L", "R"), seed=7)
    >>> policy.generate([ask])[0].text == RandomPolicy(seed=1).generate([ask])[0].text
    True
    """

    name = "random"
    wants_oracle = False

    def __init__(self, seed: int | np.random.SeedSequence | None = None, *, max_chars: int = 16):
        if max_chars < 1:
            raise ValueError("max_chars must be >= 1")
        self.rng = np.random.default_rng(seed)
        self.max_chars = int(max_chars)

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        return [self._one(query) for query in queries]

    def _one(self, query: Query) -> Generation:
        if not isinstance(query, Query):
            raise TypeError(f"RandomPolicy.generate expects Query objects, got {type(query).__name__}")
        rng = self.rng if query.seed is None else np.random.default_rng(query.seed)
        if query.valid_actions:
            text = query.valid_actions[int(rng.integers(len(query.valid_actions)))]
        else:
            length = int(rng.integers(1, self.max_chars + 1))
            text = "".join(_TEXT_CHARS[i] for i in rng.integers(len(_TEXT_CHARS), size=length))
        return Generation(text=text, finish_reason="stop", latency_s=0.0)
