"""Every registered env (built-in and plugins, teammates' included) keeps the TextEnv contract.

The loop runs over `thinkgym.list_envs()`, so a new env is covered the moment it registers: the
public checker (`thinkgym.utils.check_env`, every rule), vector envs (sync, async with and without
shared memory, ``gymnasium.make_vec``), pickling, gymnasium wrappers, and fuzzed actions.
"""

from __future__ import annotations

import math
import os
import pickle
import string
from functools import partial
from pathlib import Path

import gymnasium
import pytest
from gymnasium.error import ResetNeeded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thinkgym
from thinkgym.agents import OraclePolicy, RandomPolicy, play_episode
from thinkgym.envs.bfcl import DATA_ENV_VAR
from thinkgym.utils import RULES, check_env, env_checker
from thinkgym.utils.env_checker import CONTROL

# The rg/ bridge registers ~100 reasoning-gym families through one env class: one of them stands
# for the class here (every rule, every vector mode); tests/envs/test_reasoning_gym.py runs the
# checker on a sample across domains and a reset/step on every family.
ENV_IDS = [s.id for s in thinkgym.list_envs() if not s.id.startswith("rg/") or s.id == "rg/countdown-v0"]
# thinkgym/BFCL-v0 reads BFCL's data from a folder (not shipped): here, our small files in its format.
os.environ[DATA_ENV_VAR] = str(Path(__file__).parent / "data" / "bfcl")
# The checker's actions a model might emit, plus a flood of valid maze moves.
NASTY_ACTIONS = [*env_checker.NASTY_ACTIONS, "R" * 70_000]


def _assert_step_result(result) -> bool:
    obs, reward, terminated, truncated, info = result
    assert isinstance(obs, str)
    assert isinstance(reward, float) and math.isfinite(reward)
    assert isinstance(terminated, bool) and isinstance(truncated, bool)
    assert isinstance(info, dict) and {"problem_id", "messages", "reward_components"} <= set(info)
    return terminated or truncated


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env(env_id):
    """The public checker, every rule, on the env as thinkgym.make and gymnasium.make give it."""
    assert check_env(thinkgym.make(env_id)) == list(RULES)
    assert check_env(gymnasium.make(env_id), skip={"vector"}) == [r for r in RULES if r != "vector"]


UNICODE_ACTIONS = ("… é ∑ 中文 😀", "R", "\\boxed{∑}", "")


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("mode", ["sync", "async-shared", "async-pipes", "make_vec", "make_vec-sync"])
def test_vector_envs(env_id, mode):
    """Issue 14 item 2: every env runs vectorised; Unicode text crosses shared memory intact."""
    if mode == "sync":
        vector = gymnasium.vector.SyncVectorEnv([partial(gymnasium.make, env_id)] * 2)
    elif mode.startswith("make_vec"):
        vector = gymnasium.make_vec(env_id, num_envs=2, vectorization_mode="sync" if "sync" in mode else "async")
    else:
        shared = mode == "async-shared"
        vector = gymnasium.vector.AsyncVectorEnv([partial(gymnasium.make, env_id)] * 2, shared_memory=shared)
    single = [thinkgym.make(env_id) for _ in range(2)]
    try:
        observations, infos = vector.reset(seed=5)
        assert list(observations) == [env.reset(seed=5 + i)[0] for i, env in enumerate(single)]
        assert all(isinstance(o, str) and o for o in observations)
        for step in range(4):
            actions = tuple(UNICODE_ACTIONS[(step + i) % len(UNICODE_ACTIONS)] for i in range(2))
            observations, rewards, terminated, truncated, infos = vector.step(actions)
            assert len(observations) == 2 and all(isinstance(o, str) for o in observations)
            assert all(math.isfinite(float(r)) for r in rewards)
            assert "reward_components" in infos
    finally:
        vector.close()


@pytest.mark.parametrize("context,how", [(None, "id"), ("spawn", "spec"), ("spawn", "module:id")])
def test_unicode_prompt_crosses_async_shared_memory(context, how):
    """The crash of issue 14 item 2: a prompt with '…' (and other Unicode) in AsyncVectorEnv.
    Spawned workers import nothing by themselves: they get the spec (its entry point imports
    thinkgym) or gymnasium's ``module:id`` form, as for any third-party gymnasium env."""
    env_id = "thinkgym/Math-v0"
    prompts = [thinkgym.make(env_id).reset(seed=s)[0] for s in (3, 4)]
    assert any(ord(c) > 127 for p in prompts for c in p)
    target = {"id": env_id, "spec": thinkgym.spec(env_id), "module:id": f"thinkgym:{env_id}"}[how]
    vector = gymnasium.vector.AsyncVectorEnv([partial(gymnasium.make, target)] * 2, shared_memory=True, context=context)
    try:
        assert vector.reset(seed=3)[0] == tuple(prompts)
    finally:
        vector.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickles_after_reset_and_mid_episode(env_id):
    """Issue 14 item 3: envs pickle, and the copy continues exactly like the original."""
    env = thinkgym.make(env_id)
    env.reset(seed=2)
    copy = pickle.loads(pickle.dumps(env))
    assert copy.problem == env.problem and copy.messages == env.messages
    for action in ("R", "D", "R"):
        mine, theirs = env.step(action), copy.step(action)
        assert mine[:4] == theirs[:4] and mine[4]["messages"] == theirs[4]["messages"]
        if mine[2] or mine[3]:
            break
        copy = pickle.loads(pickle.dumps(copy))  # again, mid-episode
    assert env.reset()[1]["problem_id"] == copy.reset()[1]["problem_id"]  # the RNG state travelled


class _HalfReward(gymnasium.RewardWrapper):
    def reward(self, reward):
        return reward / 2


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_helpers_work_through_gymnasium_wrappers(env_id):
    """Issue 14 item 1: play_episode with gymnasium.make and the common wrappers around the env."""
    env = gymnasium.wrappers.RecordEpisodeStatistics(
        _HalfReward(gymnasium.wrappers.TimeLimit(gymnasium.make(env_id), max_episode_steps=50))
    )
    bare = play_episode(thinkgym.make(env_id), OraclePolicy(), seed=4)
    wrapped = play_episode(env, OraclePolicy(), seed=4)
    assert wrapped.actions == bare.actions and wrapped.total_reward == pytest.approx(bare.total_reward / 2)
    assert wrapped.info["episode"]["r"] == pytest.approx(wrapped.total_reward)
    random_episode = play_episode(env, RandomPolicy(0), seed=4)
    assert random_episode.terminated or random_episode.truncated


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_make_and_seeded_reset(env_id):
    env = gymnasium.make(env_id)
    first = env.reset(seed=11)
    again = env.reset(seed=11)
    assert first[0] == again[0] and first[1]["problem_id"] == again[1]["problem_id"]
    assert thinkgym.spec(env_id).description


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_nasty_actions_have_defined_outcomes(env_id):
    env = thinkgym.make(env_id)
    for action in NASTY_ACTIONS:
        env.reset(seed=0)
        for _ in range(env.max_turns + 1):
            if _assert_step_result(env.step(action)):
                break
        assert env.done
        with pytest.raises(ResetNeeded):
            env.step(action)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_wrong_types_raise_type_error(env_id):
    env = thinkgym.make(env_id)
    env.reset(seed=0)
    for wrong in (None, 1, 2.5, b"R", ["R"]):
        with pytest.raises(TypeError):
            env.step(wrong)
    assert not env.done  # a rejected call does not use up a turn


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_oracle_earns_a_positive_reward(env_id):
    episode = play_episode(thinkgym.make(env_id), OraclePolicy(), seed=0)
    assert episode.total_reward > 0, (env_id, episode.info.get("error"))


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(CONTROL + string.printable)), max_size=200), min_size=1, max_size=8), seed=st.integers(0, 10_000))
def test_fuzz_step(env_id, actions, seed):
    env = thinkgym.make(env_id)
    env.reset(seed=seed)
    for action in actions:
        if _assert_step_result(env.step(action)):
            with pytest.raises(ResetNeeded):
                env.step(action)
            break
