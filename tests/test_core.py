"""The contract in thinkgym.core: Problem, Reward, problem sources, TextEnv and SingleTurnEnv."""

from __future__ import annotations

import copy
import math
import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

from thinkgym import GeneratorSource, ListSource, Problem, Reward, SingleTurnEnv, TextEnv, Turn
from thinkgym.core import TextSpace, problem_seed
from thinkgym.errors import ConfigError


def exact_match(completion: str, problem: Problem) -> Reward:
    """A module-level (picklable) verifier."""
    ok = completion.strip() == problem.answer
    return Reward(1.0 if ok else 0.0, {"accuracy": float(ok)}, {"extracted": completion.strip()})


def make_addition(rng, pid):
    a, b = (int(x) for x in rng.integers(0, 100, size=2))
    return Problem(pid, f"What is {a} + {b}?", str(a + b), {"a": a, "b": b})


PROBLEMS = [Problem(f"p{i}", f"Say {i}.", str(i)) for i in range(5)]


def test_reward_rules():
    assert float(Reward(1)) == 1.0 and isinstance(Reward(1).score, float)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            Reward(bad)
    zero = Reward.zero("no answer found", {"accuracy": 0.0}, extracted=None)
    assert zero.score == 0.0 and zero.info == {"error": "no answer found", "extracted": None}
    assert pickle.loads(pickle.dumps(zero)) == zero


def test_problem_is_frozen_and_serialisable():
    p = Problem("id", "prompt", "4", {"k": 1})
    with pytest.raises(AttributeError):
        p.id = "other"
    assert p.to_dict() == {"id": "id", "prompt": "prompt", "answer": "4", "meta": {"k": 1}}


def test_sources_are_deterministic():
    source = GeneratorSource("add", make_addition)
    assert source.get(5) == source.get(5)
    assert [p.id for p in source.take(3, seed=2)] == [p.id for p in source.take(3, seed=2)]
    assert source.take(3, seed=2) != source.take(3, seed=3)
    assert source.get(5).id == "add/train/5"
    assert GeneratorSource("add", make_addition, split="test").get(5) != source.get(5)
    finite = ListSource(PROBLEMS)
    ids = [p.id for p in finite.take(5, seed=0)]
    assert sorted(ids) == sorted(p.id for p in PROBLEMS)  # a permutation: no repeats
    with pytest.raises(ConfigError, match="holds 5"):  # no silent repeats (issue 14, item 10)
        finite.take(12, seed=0)
    cycled = finite.take(12, seed=0, repeat=True)  # repeats only when asked for
    assert len(cycled) == 12 and [p.id for p in cycled[:5]] == ids
    with pytest.raises(ValueError):
        ListSource([]).take(1)
    with pytest.raises(ValueError):
        finite.take(-1)
    assert (problem_seed("a", 1).integers(1 << 30) == problem_seed("a", 1).integers(1 << 30))
    assert problem_seed("a", 1).integers(1 << 30) != problem_seed("b", 1).integers(1 << 30)


def test_text_space():
    space = TextSpace(10)
    assert space.contains("héllo 中") and not space.contains("x" * 11) and not space.contains(b"x")
    assert space.contains(space.sample())
    assert space == TextSpace(10) and space != TextSpace(11)


UNICODE_TEXTS = ["", "plain", "… é ∑ 中文 😀", "\ud800 lone surrogate", "\x00\x7f\u200b\u202e", "x" * 64]


def test_text_space_encodes_any_unicode_exactly():
    """Issue 14 item 2: gymnasium's Text kept a fixed charset, so '…' crashed the shared-memory encoder."""
    from gymnasium.spaces import flatdim, flatten, flatten_space, unflatten

    space = TextSpace(64)
    for text in UNICODE_TEXTS:
        codes = flatten(space, text)
        assert codes.shape == (64,) and codes.dtype == np.int32
        assert unflatten(space, codes) == text and space.contains(text)
    assert flatdim(space) == 64 and flatten_space(space).contains(flatten(space, "… é"))
    assert all(c in space.character_set for c in "…é中😀\ud800") and len(space.character_set) == 0x110000
    assert space.character_list[ord("…")] == "…" and space.character_index("😀") == ord("😀")
    with pytest.raises(ValueError, match="does not fit"):
        flatten(space, "x" * 65)
    assert pickle.loads(pickle.dumps(space)) == space and copy.deepcopy(space) == space


def test_async_vector_env_carries_unicode_and_clips_long_observations():
    """Shared memory (on by default) carries every character; an observation longer than the space
    is clipped by the env (noted in info), never a crash in a worker."""
    long_prompt = "∑" * 50 + "…" + "é" * 60
    problems = [Problem(f"u{i}", text or "empty?", "x") for i, text in enumerate([*UNICODE_TEXTS, long_prompt])]

    def small():
        env = SingleTurnEnv(ListSource(problems), exact_match)
        env.max_observation_chars = 100
        env.observation_space = TextSpace(100)
        return env

    envs = gymnasium.vector.AsyncVectorEnv([small, small], shared_memory=True)
    try:
        for index, problem in enumerate(problems):
            observations, infos = envs.reset(options={"index": index})
            expected = problem.prompt[:100]
            assert observations == (expected, expected)
            clipped = infos.get("observation_clipped_from")
            assert (clipped is not None and list(clipped) == [111, 111]) == (len(problem.prompt) > 100)
            observations, *_ = envs.step(("x", "x"))
            assert observations == ("", "")
    finally:
        envs.close()


def test_single_turn_env_contract():
    env = SingleTurnEnv(ListSource(PROBLEMS), exact_match, system_prompt="Be brief.")
    obs, info = env.reset(seed=0)
    assert obs == env.problem.prompt
    assert set(info) >= {"problem_id", "messages", "reward_components", "reward_info"}
    assert info["messages"][0] == {"role": "system", "content": "Be brief."}
    obs, reward, terminated, truncated, info = env.step(env.problem.answer)
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["reward_components"] == {"accuracy": 1.0}
    assert info["messages"][-1]["role"] == "assistant"
    with pytest.raises(ResetNeeded):
        env.step("again")


def test_reset_options_and_seeds():
    env = SingleTurnEnv(GeneratorSource("add", make_addition), exact_match)
    assert env.reset(seed=4) == env.reset(seed=4)
    _, info = env.reset(options={"index": 9})
    assert info["problem_id"] == "add/train/9"
    _, info = env.reset(options={"problem": PROBLEMS[2]})
    assert info["problem_id"] == "p2"
    with pytest.raises(TypeError, match="Problem"):
        env.reset(options={"problem": "p2"})


def test_bad_actions_have_defined_outcomes():
    env = SingleTurnEnv(ListSource(PROBLEMS), exact_match, max_action_chars=100)
    with pytest.raises(ResetNeeded):
        env.step("before reset")
    env.reset(seed=0)
    for wrong in (None, 3, b"bytes", ["list"]):
        with pytest.raises(TypeError, match="str action"):
            env.step(wrong)
    _, reward, terminated, _, info = env.step("x" * 101)
    assert reward == 0.0 and terminated and "exceeds" in info["error"]


class CountdownEnv(TextEnv):
    """A tiny multi-turn env: say the numbers down from the prompt's start to 1."""

    def __init__(self, **kwargs):
        super().__init__(ListSource([Problem("cd3", "Count down from 3.", "3")]), max_turns=4, **kwargs)

    def _on_reset(self, problem):
        self.expect = 3

    def respond(self, action):
        if action.strip() != str(self.expect):
            return Turn(f"No, say {self.expect}.", Reward.zero("wrong number"), False)
        self.expect -= 1
        if self.expect == 0:
            return Turn("Done.", Reward(1.0), True)
        return Turn("Good, next?", Reward(0.0), False)

    def oracle_action(self):
        return str(self.expect)


def test_multi_turn_episode_terminates_or_truncates():
    env = CountdownEnv()
    env.reset()
    results = [env.step(a) for a in ("3", "2", "1")]
    assert [r[1] for r in results] == [0.0, 0.0, 1.0] and results[-1][2]
    assert [m["role"] for m in env.messages] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    env.reset()
    results = [env.step("9") for _ in range(4)]
    assert [r[3] for r in results] == [False, False, False, True]  # the turn limit truncates
    assert results[0][4]["error"] == "wrong number"
    with pytest.raises(ResetNeeded):
        env.step("3")


def test_render_modes_and_check_env():
    env = CountdownEnv(render_mode="ansi")
    env.reset()
    env.step("3")
    assert "[assistant] 3" in env.render()
    with pytest.raises(ValueError, match="render_mode"):
        CountdownEnv(render_mode="rgb_array")
    check_env(CountdownEnv(), skip_render_check=True)
    check_env(SingleTurnEnv(GeneratorSource("add", make_addition), exact_match), skip_render_check=True)


def test_shared_memory_slots_hold_exactly_the_last_text():
    """Length-prefixed slots: a shorter text after a longer one leaves no stale tail; text that does
    not fit, or is not text, is refused with a clear error."""
    from gymnasium.vector.utils import (
        create_shared_memory,
        read_from_shared_memory,
        write_to_shared_memory,
    )

    space = TextSpace(16)
    memory = create_shared_memory(space, n=2)
    view = read_from_shared_memory(space, memory, n=2)
    assert tuple(view) == ("", "")
    write_to_shared_memory(space, 1, "… é ∑ 中 😀 \ud800", memory)
    assert view[1] == "… é ∑ 中 😀 \ud800" and view[0] == ""  # the view is live, like a numpy one
    write_to_shared_memory(space, 1, "x", memory)
    assert copy.deepcopy(view) == ("", "x")
    with pytest.raises(ValueError, match="does not fit"):
        write_to_shared_memory(space, 0, "y" * 17, memory)
    with pytest.raises(TypeError, match="must be a str"):
        write_to_shared_memory(space, 0, b"bytes", memory)
    assert tuple(view) == ("", "x")
