"""Credit assignment helpers: hand-computed cases and the sum-preserving property."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.agents.credit import (
    gae_advantages,
    group_advantages,
    process_token_rewards,
    spread_token_rewards,
    terminal_token_rewards,
)


def test_terminal_reward_sits_on_the_last_token():
    assert terminal_token_rewards(10.0, 4) == [0.0, 0.0, 0.0, 10.0]
    assert terminal_token_rewards(3.0, 1) == [3.0]
    assert terminal_token_rewards(5.0, 0) == []


def test_spread_reward_divides_evenly():
    assert spread_token_rewards(10.0, 4) == [2.5, 2.5, 2.5, 2.5]
    assert spread_token_rewards(1.0, 0) == []


def test_counts_are_checked():
    with pytest.raises(TypeError):
        terminal_token_rewards(1.0, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        spread_token_rewards(1.0, -1)


def test_process_rewards_spread_over_each_steps_tokens():
    assert process_token_rewards([1.0, 3.0], [2, 3]) == [0.5, 0.5, 1.0, 1.0, 1.0]


def test_process_rewards_skip_environment_tokens():
    # policy token, two env tokens, policy token: env tokens earn nothing
    assert process_token_rewards([1.0, 3.0], [1, 1], mask=[1, 0, 0, 1], placement="last") == [1.0, 0.0, 0.0, 3.0]
    spread = process_token_rewards([2.0, 4.0], [2, 2], mask=[1, 1, 0, 1, 1])
    assert spread == [1.0, 1.0, 0.0, 2.0, 2.0]


def test_process_reward_of_an_empty_step_is_kept():
    # the empty middle step's reward moves to the previous policy token; the total is kept
    assert process_token_rewards([1.0, 5.0, 2.0], [1, 0, 1], placement="last") == [6.0, 2.0]
    # an empty first step hands its reward to the first token
    assert process_token_rewards([4.0, 1.0], [0, 2]) == [2.5, 2.5]


def test_process_rewards_validate_shapes():
    with pytest.raises(ValueError, match="one token count per step"):
        process_token_rewards([1.0], [1, 2])
    with pytest.raises(ValueError, match="policy tokens"):
        process_token_rewards([1.0], [2], mask=[1, 0, 0])
    with pytest.raises(ValueError, match="placement"):
        process_token_rewards([1.0], [1], placement="first")  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(st.floats(-100, 100, allow_nan=False), st.integers(1, 6)), min_size=1, max_size=8
    ),
    st.sampled_from(["spread", "last"]),
)
def test_process_rewards_keep_the_total(steps, placement):
    rewards = [r for r, _ in steps]
    counts = [c for _, c in steps]
    tokens = process_token_rewards(rewards, counts, placement=placement)
    assert len(tokens) == sum(counts)
    assert math.isclose(sum(tokens), sum(rewards), abs_tol=1e-6)


def test_group_advantage_hand_computed():
    # group [1, 0]: mean 0.5, sample std sqrt(0.5) = 0.70711 -> +-0.5 / (0.70711 + 1e-4)
    adv = group_advantages([1.0, 0.0, 0.0, 1.0], 2)
    expected = 0.5 / (math.sqrt(0.5) + 1e-4)
    assert adv == pytest.approx([expected, -expected, -expected, expected])


def test_group_advantage_std_conventions():
    rewards = [0.0, 10.0, 10.0, 10.0]  # mean 7.5; squared deviations sum 75
    sample = group_advantages(rewards, 4, std="sample", eps=0.0)
    population = group_advantages(rewards, 4, std="population", eps=0.0)
    centred = group_advantages(rewards, 4, std="none")
    assert centred == [-7.5, 2.5, 2.5, 2.5]
    assert sample[0] == pytest.approx(-7.5 / math.sqrt(75 / 3))
    assert population[0] == pytest.approx(-7.5 / math.sqrt(75 / 4))


def test_equal_rewards_carry_no_signal():
    assert group_advantages([3.0, 3.0, 3.0], 3) == [0.0, 0.0, 0.0]


def test_group_advantage_matches_trl():
    torch = pytest.importorskip("torch")
    from trl.trainer.utils import nanstd

    rewards = [0.0, 1.0, 3.0, 2.0, 5.0, 5.0, 1.0, 0.0]
    t = torch.tensor(rewards).view(-1, 4)
    trl_adv = ((t - t.mean(dim=1, keepdim=True)) / (nanstd(t, dim=1, keepdim=True) + 1e-4)).flatten().tolist()
    assert group_advantages(rewards, 4) == pytest.approx(trl_adv, abs=1e-5)


def test_group_advantage_validates():
    with pytest.raises(ValueError, match="groups of 3"):
        group_advantages([1.0, 2.0], 3)
    with pytest.raises(ValueError):
        group_advantages([1.0], 0)


def test_gae_hand_computed():
    # gamma 1, lambda 1: advantages are the returns-to-go minus the value
    adv, ret = gae_advantages([0.0, 1.0], [0.5, 0.5], gamma=1.0, lam=1.0)
    assert adv == pytest.approx([0.5, 0.5])
    assert ret == pytest.approx([1.0, 1.0])
    # gamma 0.9, lambda 0.5, rewards [1, 0, 2], values [0.2, 0.4, 0.1]
    # deltas: d2 = 2 - 0.1 = 1.9; d1 = 0 + 0.9*0.1 - 0.4 = -0.31; d0 = 1 + 0.9*0.4 - 0.2 = 1.16
    # A2 = 1.9; A1 = -0.31 + 0.45*1.9 = 0.545; A0 = 1.16 + 0.45*0.545 = 1.40525
    adv, ret = gae_advantages([1.0, 0.0, 2.0], [0.2, 0.4, 0.1], gamma=0.9, lam=0.5)
    assert adv == pytest.approx([1.40525, 0.545, 1.9])
    assert ret == pytest.approx([1.60525, 0.945, 2.0])


def test_gae_bootstraps_from_last_value():
    adv, _ = gae_advantages([0.0], [1.0], gamma=1.0, lam=1.0, last_value=3.0)
    assert adv == pytest.approx([2.0])
    with pytest.raises(ValueError):
        gae_advantages([0.0, 1.0], [0.0])
