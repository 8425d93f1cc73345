"""Every registered env (built-in and plugins, teammates' included) keeps the TextEnv contract.

The loop runs over `thinkgym.list_envs()`, so a new env is covered the moment it registers.
"""

from __future__ import annotations

import math
import string

import gymnasium
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thinkgym
from thinkgym.agents import OraclePolicy, play_episode

ENV_IDS = [s.id for s in thinkgym.list_envs()]
CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\u200b\u202e\ufeff"

# Actions a model might emit: nothing, a flood, control characters, unpaired surrogates, near-misses.
NASTY_ACTIONS = [
    "",
    " ",
    "x" * 1_000_000,
    CONTROL,
    "\x00" * 100,
    "\ud800",
    "R" * 70_000,
    "\\boxed{" * 500,
    "```python\nimport os\nos._exit(0)\n```",
    "R\nL\nU\nD",
]


def _assert_step_result(result) -> bool:
    obs, reward, terminated, truncated, info = result
    assert isinstance(obs, str)
    assert isinstance(reward, float) and math.isfinite(reward)
    assert isinstance(terminated, bool) and isinstance(truncated, bool)
    assert isinstance(info, dict) and {"problem_id", "messages", "reward_components"} <= set(info)
    return terminated or truncated


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env(env_id):
    check_env(thinkgym.make(env_id), skip_render_check=True)


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
