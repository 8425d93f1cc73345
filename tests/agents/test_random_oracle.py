"""RandomPolicy and OraclePolicy through the Policy interface, and the measured-vs-exact table."""

from __future__ import annotations

from collections import Counter

import pytest

import thinkgym
from thinkgym.agents import (
    Generation,
    OraclePolicy,
    Policy,
    Query,
    RandomPolicy,
    play_episode,
    query_for,
)
from thinkgym.agents.returns import policy_return_table
from thinkgym.envs.maze import GOAL_REWARD


def test_random_policy_is_uniform_over_valid_actions_and_seeded():
    query = Query(messages=({"role": "user", "content": "move"},), valid_actions=("R", "L", "D"))
    texts = [g.text for g in RandomPolicy(seed=7).generate([query] * 3000)]
    counts = Counter(texts)
    assert set(counts) == {"R", "L", "D"}
    assert all(abs(c / 3000 - 1 / 3) < 0.04 for c in counts.values())
    assert texts == [g.text for g in RandomPolicy(seed=7).generate([query] * 3000)]


def test_random_policy_writes_short_text_without_valid_actions():
    gens = RandomPolicy(seed=1, max_chars=5).generate([Query(messages=())] * 50)
    assert all(isinstance(g, Generation) and 1 <= len(g.text) <= 5 for g in gens)
    assert len({g.text for g in gens}) > 10


def test_policies_reject_non_queries():
    for policy in (RandomPolicy(0), OraclePolicy()):
        assert isinstance(policy, Policy)
        with pytest.raises(TypeError):
            policy.generate(["not a query"])


def test_oracle_solves_both_maze_modes():
    for env_id in ("thinkgym/Maze-v0", "thinkgym/MazePath-v0"):
        for layout in ("classic", "random"):
            env = thinkgym.make(env_id, layout=layout)
            for seed in range(3):
                episode = play_episode(env, OraclePolicy(), seed=seed)
                assert episode.total_reward == GOAL_REWARD and episode.terminated


def test_oracle_without_oracle_action_reports_error():
    (gen,) = OraclePolicy().generate([Query(messages=())])
    assert gen.text == "" and gen.finish_reason == "error" and gen.error


def test_query_for_gives_hints_only_to_policies_that_want_them():
    env = thinkgym.make("thinkgym/Maze-v0")
    env.reset(seed=0)
    assert query_for(env, RandomPolicy(0)).oracle_action is None
    assert query_for(env, RandomPolicy(0)).valid_actions == ("R", "D")
    assert query_for(env, OraclePolicy()).oracle_action == "R"


def test_random_policy_plays_single_turn_text():
    env = thinkgym.make("thinkgym/MazePath-v0")
    episode = play_episode(env, RandomPolicy(3), seed=0)
    assert len(episode.actions) == 1 and episode.terminated


def test_return_table_measured_matches_exact():
    rows = {row.policy: row for row in policy_return_table("thinkgym/Maze-v0", episodes=1500, seed=5)}
    assert rows["random"].exact == pytest.approx(5 / 36)
    assert rows["random"].within <= 4
    assert rows["oracle"].measured_mean == rows["oracle"].exact == GOAL_REWARD


def test_return_table_on_random_mazes_and_bad_env():
    rows = {row.policy: row for row in policy_return_table("thinkgym/Maze-v0", episodes=200, layout="random", rows=3, cols=3)}
    assert 0 < rows["random"].exact < GOAL_REWARD
    assert rows["random"].within <= 4.5
    with pytest.raises(TypeError, match="exact random and optimal returns"):
        policy_return_table("thinkgym/MazePath-v0", episodes=2)
