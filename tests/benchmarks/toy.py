"""Toy envs and policies for the benchmark tests (no dependency on the real env families).

Registered under the ``toybench/`` namespace only while a benchmark test runs (conftest.py);
``toy_registered`` registers them on import, for verification worker processes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import thinkgym
from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.core import GeneratorSource, Problem, Reward, SingleTurnEnv, TextEnv, Turn


def _make_add(rng, pid: str) -> Problem:
    a, b = int(rng.integers(0, 100)), int(rng.integers(0, 100))
    return Problem(pid, f"What is {a} + {b}? Answer with <answer>n</answer>.", str(a + b))


def add_verifier(completion: str, problem: Problem) -> Reward:
    """accuracy + format components; the extracted answer in info, like the real math envs."""
    import re

    m = re.search(r"<answer>(.*?)</answer>", completion)
    fmt = 1.0 if m else 0.0
    if not m:
        return Reward.zero(
            "no <answer> tag", {"accuracy": 0.0, "format": 0.0}, extracted_answer=None
        )
    answer = m.group(1).strip()
    acc = 1.0 if answer == problem.answer else 0.0
    return Reward(acc + 0.1 * fmt, {"accuracy": acc, "format": fmt}, {"extracted_answer": answer})


class AddEnv(SingleTurnEnv):
    def __init__(self, **kwargs):
        super().__init__(
            GeneratorSource("toy-add", _make_add, split="test"), add_verifier, **kwargs
        )

    def oracle_action(self) -> str:
        return f"<answer>{self.problem.answer}</answer>"


class WalkEnv(TextEnv):
    """Reach position 3 from 0 with moves '+' / '-' within 4 turns: reward 10 at the goal."""

    def __init__(self, **kwargs):
        super().__init__(
            GeneratorSource("toy-walk", lambda rng, pid: Problem(pid, "walk to 3", "+++"), "test"),
            max_turns=4,
        )
        self.pos = 0

    def _on_reset(self, problem):
        self.pos = 0

    def valid_actions(self):
        return ["+", "-"] if self.pos > 0 else ["+"]

    def oracle_action(self) -> str:
        return "+"

    def respond(self, action: str) -> Turn:
        if action not in self.valid_actions():
            return Turn(f"at {self.pos}", Reward.zero(f"invalid move {action[:20]!r}"), False)
        self.pos += 1 if action == "+" else -1
        if self.pos == 3:
            return Turn("goal", Reward(10.0, {"goal": 10.0}), True)
        return Turn(f"at {self.pos}", Reward(0.0), False)


def sleepy_verifier(completion: str, problem: Problem) -> Reward:
    """A verifier that hangs on the answer 'sleep' (a stand-in for a grader stuck on some input)."""
    if completion == "sleep":
        time.sleep(60)
    return add_verifier(completion, problem)


class SleepyEnv(AddEnv):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.verifier = sleepy_verifier


class BrokenResetEnv(AddEnv):
    """An env with a bug: resetting to problem 1 raises."""

    def _on_reset(self, problem):
        if problem.id.endswith("/1"):
            raise KeyError("layout")


TOY_ENVS = {
    "toybench/Add-v0": AddEnv,
    "toybench/Walk-v0": WalkEnv,
    "toybench/Sleepy-v0": SleepyEnv,
    "toybench/BrokenReset-v0": BrokenResetEnv,
}


def register_toy_envs() -> None:
    """Register the toy envs. Only while a benchmark test runs (see conftest.py): registered at
    import they would join the all-envs contract tests, which collect `list_envs()`."""
    for env_id, cls in TOY_ENVS.items():
        thinkgym.register(env_id, cls, description=cls.__doc__ or env_id, override=True)


def unregister_toy_envs() -> None:
    import gymnasium

    from thinkgym import registry

    for env_id in TOY_ENVS:
        registry._REGISTRY.pop(env_id, None)
        gymnasium.registry.pop(env_id, None)


class HashPolicy(Policy):
    """Deterministic per query (so reruns agree), sometimes right, optionally slow."""

    name = "hash"
    wants_oracle = True

    def __init__(self, delay_s: float = 0.0, **_):
        self.delay_s = delay_s

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        out = []
        for q in queries:
            if self.delay_s:
                time.sleep(self.delay_s)
            h = int(hashlib.sha256(repr(q.messages).encode()).hexdigest(), 16)
            if q.valid_actions:
                text = q.valid_actions[h % len(q.valid_actions)]
            elif h % 3 == 0:
                text = "I do not know"
            elif h % 3 == 1:
                text = q.oracle_action or ""
            else:
                text = "<answer>-1</answer>"
            out.append(
                Generation(text, finish_reason="stop", completion_tokens=len(text), latency_s=0.001)
            )
        return out


def slow_hash_policy(**_):
    return HashPolicy(delay_s=0.03)


class OracleLike(Policy):
    name = "oracle-like"
    wants_oracle = True

    def generate(self, queries):
        return [Generation(q.oracle_action or "", finish_reason="stop") for q in queries]


class SleepOnFirstPolicy(Policy):
    """Answers 'sleep' to problem 0 (the verifier hangs) and correctly to every other problem."""

    name = "sleep-on-first"
    wants_oracle = True

    def generate(self, queries):
        return [
            Generation(
                "sleep" if q.problem.id.endswith("/0") else (q.oracle_action or ""),
                finish_reason="stop",
            )
            for q in queries
        ]
