"""Our PPO: the loss and advantage math against hand-computed cases, and short real runs."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from thinkgym.agents.ppo import PPOConfig, _advantages, ppo_losses, token_rewards, train_ppo  # noqa: E402
from thinkgym.agents.tiny import TinyConfig, build_tiny, env_corpus  # noqa: E402
from thinkgym.agents.trl import TokenEpisode  # noqa: E402


def _hand_case():
    old = torch.zeros(1, 3)
    new = torch.log(torch.tensor([[1.5, 0.5, 2.0]]))
    advantages = torch.tensor([[1.0, -1.0, 5.0]])
    old_values = torch.tensor([[0.0, 1.0, 0.0]])
    new_values = torch.tensor([[0.5, 0.7, 9.0]])
    returns = torch.tensor([[1.0, 0.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])  # the third token is an env token
    return new, old, advantages, new_values, old_values, returns, mask


def test_ppo_losses_match_a_hand_computed_case():
    losses = ppo_losses(*_hand_case(), clip_range=0.2, value_clip_range=0.2)
    # token 0: ratio 1.5, A=+1 -> max(-1.5, -1.2) = -1.2 ; token 1: ratio 0.5, A=-1 -> max(0.5, 0.8) = 0.8
    assert losses["pg_loss"].item() == pytest.approx((-1.2 + 0.8) / 2)
    # values: token 0 max((0.5-1)^2, (0.2-1)^2) = 0.64 ; token 1 max((0.7-0)^2, (0.8-0)^2) = 0.64
    assert losses["vf_loss"].item() == pytest.approx(0.5 * (0.64 + 0.64) / 2)
    assert losses["clipfrac"].item() == pytest.approx(1.0)
    expected_kl = ((0.5 - math.log(1.5)) + (-0.5 - math.log(0.5))) / 2
    assert losses["approx_kl"].item() == pytest.approx(expected_kl)


def test_ppo_gradient_vanishes_outside_the_clip_and_not_inside():
    new = torch.log(torch.tensor([[1.5, 1.1]])).requires_grad_(True)
    old = torch.zeros(1, 2)
    adv = torch.tensor([[1.0, 1.0]])
    zeros = torch.zeros(1, 2)
    losses = ppo_losses(new, old, adv, zeros, zeros, zeros, torch.ones(1, 2), clip_range=0.2)
    losses["pg_loss"].backward()
    # d/dlogp of -A*ratio/2 is -A*ratio/2 = -0.55 for the unclipped token; 0 for the clipped one
    assert new.grad.tolist()[0] == pytest.approx([0.0, -0.55])


def test_gae_skips_environment_tokens():
    rewards = torch.tensor([[0.0, 0.0, 1.0]])
    values = torch.tensor([[0.5, 9.0, 0.5]])
    mask = torch.tensor([[1.0, 0.0, 1.0]])
    adv, ret = _advantages(rewards, values, mask, 1.0, 1.0)
    # over the policy tokens only: rewards [0, 1], values [0.5, 0.5] -> advantages [0.5, 0.5]
    assert adv.tolist()[0] == pytest.approx([0.5, 0.0, 0.5])
    assert ret.tolist()[0] == pytest.approx([1.0, 0.0, 1.0])


def test_token_rewards_follow_the_credit_rule():
    episode = TokenEpisode("x", "p", [1], completion_ids=[5, 6, 7, 8], env_mask=[1, 1, 0, 1],
                           step_rewards=[1.0, 9.0], step_token_counts=[2, 1])  # fmt: skip
    assert token_rewards(episode, "terminal") == [0.0, 0.0, 0.0, 10.0]
    assert token_rewards(episode, "spread") == pytest.approx([10 / 3, 10 / 3, 0.0, 10 / 3])
    assert token_rewards(episode, "process") == [0.0, 1.0, 0.0, 9.0]


def test_ppo_config_rejects_unknown_credit():
    with pytest.raises(ValueError):
        PPOConfig(env_id="thinkgym/Maze-v0", credit="magic")


@pytest.fixture(scope="module")
def maze_model():
    torch.set_num_threads(1)
    return build_tiny(corpus=env_corpus("thinkgym/Maze-v0", 4), vocab_size=200)


def test_ppo_runs_in_token_action_mode(maze_model):
    model, tokenizer = maze_model
    before = [p.detach().clone() for p in model.parameters()]
    config = PPOConfig(env_id="thinkgym/Maze-v0", steps=2, episodes_per_step=8, max_completion_length=6,
                       token_actions=True, restrict_to_valid_actions=True, ppo_epochs=2, minibatch_size=4,
                       kl_beta=0.05)  # fmt: skip
    seen = []
    history = train_ppo(config, model, tokenizer, on_step=seen.append)
    assert [row["step"] for row in history] == [1, 2] and seen == history
    for row in history:
        assert 0.0 <= row["reward"] <= 10.0
        assert set(row["components"]) == {"goal"}
        assert all(math.isfinite(row[k]) for k in ("kl", "pg_loss", "vf_loss", "clipfrac", "approx_kl"))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_ppo_runs_multi_turn_with_environment_tokens():
    torch.set_num_threads(1)
    model, tokenizer = build_tiny(TinyConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1))
    config = PPOConfig(env_id="thinkgym/Maze-v0", steps=1, episodes_per_step=3, max_completion_length=48,
                       max_tokens_per_turn=2, ppo_epochs=1, minibatch_size=3, credit="process")  # fmt: skip
    history = train_ppo(config, model, tokenizer)
    assert len(history) == 1 and math.isfinite(history[0]["vf_loss"])


def test_ppo_runs_on_a_single_turn_env():
    torch.set_num_threads(1)
    model, tokenizer = build_tiny(TinyConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1))
    config = PPOConfig(env_id="thinkgym/MazePath-v0", steps=1, episodes_per_step=4, max_completion_length=8,
                       ppo_epochs=1, minibatch_size=2, credit="spread", conversational=True)  # fmt: skip
    history = train_ppo(config, model, tokenizer)
    assert history[0]["reward"] in (0.0, 2.5, 5.0, 7.5, 10.0) and set(history[0]["components"]) == {"goal"}
