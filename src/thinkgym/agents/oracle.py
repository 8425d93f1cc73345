"""`OraclePolicy`: plays the env's own best action, the upper bound every table is read against.

It reads ``Query.oracle_action`` (the maze's optimal next move or path, a problem's gold answer),
which `thinkgym.agents.base.query_for` fills in because ``wants_oracle`` is True. A model never
sees that field; the oracle exists to check that envs and verifiers can be solved at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from thinkgym.agents.base import Generation, Policy, Query

__all__ = ["OraclePolicy"]


class OraclePolicy(Policy):
    """Returns ``Query.oracle_action``; an empty answer (with ``error``) when none was offered."""

    name = "oracle"
    wants_oracle = True

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        out = []
        for query in queries:
            if not isinstance(query, Query):
                raise TypeError(f"OraclePolicy.generate expects Query objects, got {type(query).__name__}")
            if query.oracle_action is None:
                out.append(Generation("", finish_reason="error", error="the query carries no oracle action"))
            else:
                out.append(Generation(query.oracle_action, finish_reason="stop", latency_s=0.0))
        return out
