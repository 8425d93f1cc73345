"""thinkgym/ToolUse-v0: the contract, the oracle on every difficulty, random ≈ 0, each reward
component, bad input, budgets, and attempts to farm the reward."""

from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thinkgym
from thinkgym.agents import OraclePolicy, RandomPolicy, play_episode
from thinkgym.core import Problem
from thinkgym.envs.tool_use import (
    FAMILIES,
    MAX_DIFFICULTY,
    ToolUseEnv,
    load_world,
    tool_use_source,
    world_corpus,
)
from thinkgym.tools import Tool, ToolCall
from thinkgym.tools.executor import ToolResult
from thinkgym.utils import RULES, check_env
from thinkgym.verifiers.tool_use import (
    argument_f1,
    extract_final_answer,
    fact_in,
    score_tool_episode,
    subgoal_progress,
)

ENV_ID = "thinkgym/ToolUse-v0"


def call(name, **arguments):
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def play_oracle(env, seed):
    env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, info = env.step(env.get_wrapper_attr("oracle_action")())
        total += reward
        done = terminated or truncated
    return total, terminated, info


# ---- contract ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", [None, 1, 4])
def test_check_env_passes(difficulty):
    assert check_env(thinkgym.make(ENV_ID, difficulty=difficulty)) == list(RULES)


def test_tools_are_openai_schemas_reachable_through_wrappers():
    env = gymnasium.make(ENV_ID)
    tools = env.get_wrapper_attr("tools")
    assert [t["function"]["name"] for t in tools] == ["calculator", "search", "lookup", "unit_convert", "python"]
    for schema in tools:
        assert schema["type"] == "function" and schema["function"]["parameters"]["type"] == "object"
        assert schema["function"]["description"]


def test_problems_are_seeded_versioned_and_carry_a_gold_plan():
    source = tool_use_source(3)
    a, b = source.get(5), tool_use_source(3).get(5)
    assert a == b and a.id == "tooluse-g0/d3-mixed/train/5"
    assert source.get(6) != a and tool_use_source(3, split="test").get(5) != a
    for family in FAMILIES:
        for d in range(1, MAX_DIFFICULTY + 1):
            problem = tool_use_source(d, family).get(0)
            plan = problem.meta["plan"]
            assert len(plan) == d and problem.meta["difficulty"] == d and problem.meta["family"] == family
            assert str(plan[-1]["fact"]) == problem.answer


def test_facts_of_the_world_live_only_in_the_tools():
    """Relations are in the corpus, numbers in the table; the question names neither the answer nor the plan's facts."""
    world = load_world()
    corpus = " ".join(d["text"] for d in world_corpus(world))
    assert not any(str(c["population"]) in corpus for c in world["cities"].values())
    for seed in range(40):
        problem = tool_use_source(3, "chain").get(seed)
        for step in problem.meta["plan"]:
            assert not fact_in(step["fact"], problem.prompt), (problem.prompt, step["fact"])


# ---- oracle and random -------------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", range(1, MAX_DIFFICULTY + 1))
def test_oracle_scores_full_reward_on_every_difficulty_and_family(difficulty):
    for family in FAMILIES:
        env = thinkgym.make(ENV_ID, difficulty=difficulty, families=family)
        for seed in range(3):
            total, terminated, info = play_oracle(env, seed)
            assert terminated and total == pytest.approx(1.0), (family, seed, info["reward_components"])
            assert all(v == pytest.approx(1.0) for v in info["reward_components"].values())


def test_oracle_policy_through_play_episode():
    env = gymnasium.make(ENV_ID, difficulty=2)
    episode = play_episode(env, OraclePolicy(), seed=3)
    assert episode.terminated and sum(episode.rewards) == pytest.approx(1.0)


def test_random_policy_scores_near_zero():
    env = thinkgym.make(ENV_ID)
    policy = RandomPolicy(seed=0, max_chars=64)
    returns = [sum(play_episode(env, policy, seed=s).rewards) for s in range(30)]
    assert np.mean(returns) < 0.01


# ---- messages and the session --------------------------------------------------------------------------


def test_messages_are_openai_style_with_tool_calls_and_tool_results():
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic", system_prompt="Be brief.")
    obs, info = env.reset(seed=0)
    assert [m["role"] for m in info["messages"]] == ["system", "user"] and info["messages"][-1]["content"] == obs
    action = "Computing. " + call("calculator", expression="2+3") + call("unit_convert", value=1, from_unit="km", to_unit="m")
    obs, reward, terminated, truncated, info = env.step(action)
    assert obs == "<tool_response>\n5\n</tool_response>\n<tool_response>\n1000\n</tool_response>"
    assistant, first, second = info["messages"][-3:]
    assert assistant["role"] == "assistant" and assistant["content"] == action
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["calculator", "unit_convert"]
    assert json.loads(assistant["tool_calls"][1]["function"]["arguments"]) == {"value": 1, "from_unit": "km", "to_unit": "m"}
    assert (first["role"], first["tool_call_id"], first["name"], first["content"]) == ("tool", assistant["tool_calls"][0]["id"], "calculator", "5")
    assert second["tool_call_id"] == assistant["tool_calls"][1]["id"] != first["tool_call_id"]
    assert not (terminated or truncated)


def test_openai_message_and_pythonic_actions():
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=0)
    message = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "srv-1", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'}}]}
    obs, *_, info = env.step(json.dumps(message))
    assert obs == "<tool_response>\n42\n</tool_response>"
    assert info["messages"][-1]["tool_call_id"] == "srv-1"
    obs, *_ = env.step('[calculator(expression="1+1"), lookup(entity="Quatov", attribute="population")]')
    assert obs.count("<tool_response>") == 2 and str(load_world()["cities"]["Quatov"]["population"]) in obs


def test_call_tool_executes_in_the_session_and_counts():
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=1)
    problem = env.problem
    expression = problem.meta["plan"][0]["arguments"]["expression"]
    assert env.call_tool("calculator", {"expression": expression}) == problem.answer
    assert env.call_tool("nope", {}).startswith("Error: unknown tool")
    *_, terminated, _, info = env.step(f"<answer>{problem.answer}</answer>")
    assert terminated and info["reward_components"]["grounded"] == 1.0 and info["reward_components"]["accuracy"] == 1.0
    assert info["reward_components"]["validity"] == 0.5


def test_per_turn_rewards_sum_to_the_episode_score():
    env = thinkgym.make(ENV_ID, difficulty=3, families="chain")
    env.reset(seed=2)
    rewards = []
    env.step("thinking out loud")  # a wasted turn
    done = False
    while not done:
        _, reward, terminated, truncated, info = env.step(env.oracle_action())
        rewards.append(reward)
        done = terminated or truncated
    assert any(r > 0 for r in rewards[:-1])  # sub-goal credit arrives turn by turn
    assert sum(rewards) == pytest.approx(info["reward_info"]["episode_score"])


# ---- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, expected",
    [
        ('<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}', "<tool_response>\n2\n</tool_response>"),  # missing close tag
        ('<tool_call>{"name": "calculator", "arguments": {"expression": </tool_call>', "could not read a tool call"),
        (call("teleport", to="moon"), "unknown tool 'teleport'"),
        (call("calculator", expression=12), "12 is not of type 'string'"),
        (call("unit_convert", value="ten", from_unit="m", to_unit="ft"), "'ten' is not of type 'number'"),
        (call("lookup", entity="Atlantis", attribute="population"), "no entity named"),
        (call("calculator", expression="9**9**9"), "exponents are limited"),
        (call("search", query="x" * 1_000_000), "the limit is 100000"),
        ("just chatting", "no tool call and no final answer"),
        ("", "no tool call and no final answer"),
    ],
)
def test_bad_input_is_an_error_observation_and_the_episode_goes_on(action, expected):
    env = thinkgym.make(ENV_ID, difficulty=2)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    assert expected in obs and not (terminated or truncated) and reward == 0.0
    obs, *_ = env.step(call("calculator", expression="2*2"))
    assert obs == "<tool_response>\n4\n</tool_response>"


def test_oversized_action_is_refused_with_a_reason():
    env = thinkgym.make(ENV_ID, max_action_chars=1000)
    env.reset(seed=0)
    *_, info = env.step(call("search", query="y" * 5000))
    assert "exceeds the limit" in info["error"]


def test_turn_budget_truncates_with_a_reason():
    env = thinkgym.make(ENV_ID, difficulty=1, max_turns=3)
    env.reset(seed=0)
    for _ in range(2):
        assert env.step("hmm")[3] is False
    obs, reward, terminated, truncated, info = env.step("hmm")
    assert truncated and not terminated and "turn budget" in info["truncation_reason"]
    assert info["reward_components"]["accuracy"] == 0.0


def test_calling_forever_hits_the_call_budget():
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=0)
    truncated = False
    steps = 0
    while not truncated:
        _, _, terminated, truncated, info = env.step(call("calculator", expression=f"{steps}+1") * 3)
        steps += 1
        assert not terminated and steps < 10
    assert "call budget" in info["truncation_reason"] and info["tool_calls_made"] == env.max_calls


# ---- reward components -----------------------------------------------------------------------------------


PLAN = [
    {"tool": "search", "arguments": {"query": "Acme"}, "match": {"query": "Acme"}, "contains": ["query"], "fact": "Ada Lin"},
    {"tool": "lookup", "arguments": {"entity": "Ada Lin", "attribute": "born"}, "match": {"entity": "Ada Lin", "attribute": "born"}, "fact": 1950},
]
PROBLEM = Problem("p", "When was the founder of Acme born?", "1950", {"plan": PLAN})


def result(name, content, ok=True, error=None, **arguments):
    return ToolResult(ToolCall(name, arguments, f"c{len(content)}"), content, ok, error, content if ok else None)


GOOD = [result("search", "1. Acme: founded by Ada Lin.", query="who founded Acme"), result("lookup", "1950", entity="ada lin", attribute="born")]


def test_full_marks_for_the_plan_and_a_grounded_answer():
    reward = score_tool_episode("<answer>1950</answer>", PROBLEM, GOOD)
    assert reward.score == pytest.approx(1.0) and set(reward.components.values()) == {1.0}


def test_validity_counts_parse_failures_and_invalid_calls():
    invalid = result("lookup", "Error: invalid arguments", ok=False, error="invalid_arguments")
    reward = score_tool_episode("<answer>1950</answer>", PROBLEM, [*GOOD, invalid], attempts=4)
    assert reward.components["validity"] == 0.5 and reward.components["efficiency"] < 1 and reward.score < 1


def test_arguments_f1_is_a_multiset_match():
    calls = [r.call for r in GOOD]
    assert argument_f1(calls, PLAN) == 1.0
    assert argument_f1(list(reversed(calls)), PLAN) == 1.0  # order does not matter
    assert argument_f1([calls[0], calls[0]], PLAN) == pytest.approx(0.5)  # a repeat matches one step only
    assert argument_f1([*calls, ToolCall("search", {"query": "junk"}, "x")], PLAN) == pytest.approx(0.8)
    assert argument_f1([ToolCall("lookup", {"entity": "Ada Lin", "attribute": "height"}, "x")], PLAN) == 0.0
    assert argument_f1([], PLAN) == 0.0


def test_subgoals_need_the_facts_in_order_and_session_any_order():
    backwards = [GOOD[1], GOOD[0]]
    reward = score_tool_episode("<answer>1950</answer>", PROBLEM, backwards)
    assert reward.components["session"] == 1.0 and reward.components["subgoals"] == 0.5
    assert subgoal_progress(PLAN, GOOD) == 2 and subgoal_progress(PLAN, GOOD[:1]) == 1


def test_failed_calls_give_no_facts():
    errored = [result("search", "Error: Ada Lin 1950", ok=False, error="exception", query="Acme")]
    reward = score_tool_episode("<answer>1950</answer>", PROBLEM, errored)
    assert reward.components["session"] == 0.0 and reward.components["grounded"] == 0.0


def test_accuracy_numeric_text_and_hedges():
    assert score_tool_episode("<answer>1,950</answer>", PROBLEM, GOOD).components["accuracy"] == 1.0
    assert score_tool_episode("\\boxed{1950}", PROBLEM, GOOD).components["accuracy"] == 1.0
    assert score_tool_episode("<answer>1951</answer>", PROBLEM, GOOD).components["accuracy"] == 0.0
    assert score_tool_episode("<answer>1950 or 1951</answer>", PROBLEM, GOOD).components["accuracy"] == 0.0
    named = Problem("q", "Who founded Acme?", "Ada Lin", {"plan": PLAN[:1]})
    assert score_tool_episode("<answer> ada  lin </answer>", named, GOOD[:1]).components["accuracy"] == 1.0
    assert extract_final_answer("x <answer>a</answer> <answer>b</answer>") == "b"
    assert extract_final_answer("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"


def test_efficiency_penalises_repeats_and_excess_calls():
    repeated = [GOOD[0], GOOD[0], GOOD[1]]
    reward = score_tool_episode("<answer>1950</answer>", PROBLEM, repeated)
    assert reward.info["repeated_calls"] == 1 and reward.components["efficiency"] == pytest.approx(2 / 3)
    assert reward.score < 1.0


# ---- farming attempts ------------------------------------------------------------------------------------


def test_a_right_answer_without_tools_is_not_grounded_and_earns_nothing():
    """Guessing or 'knowing' the answer (or claiming tool output) is not session-verified."""
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=0)
    answer = env.problem.answer
    claim = f"<tool_response>\n{answer}\n</tool_response> The calculator said {answer}. <answer>{answer}</answer>"
    *_, reward, terminated, _, info = env.step(claim)
    assert terminated and info["reward_components"]["accuracy"] == 1.0
    assert info["reward_components"]["grounded"] == 0.0 and reward == 0.0 and "not grounded" in info["reward_info"]["error"]


def test_claimed_tool_results_in_the_action_are_not_facts():
    env = thinkgym.make(ENV_ID, difficulty=2, families="chain")
    env.reset(seed=0)
    fact = env.problem.meta["plan"][0]["fact"]
    _, reward, *_ = env.step(f"<tool_response>{fact}</tool_response> " + call("calculator", expression="1+1"))
    assert reward == 0.0 and env.results[-1].content == "2"


def test_repeating_or_spamming_calls_never_beats_the_oracle():
    oracle_total, _, _ = play_oracle(thinkgym.make(ENV_ID, difficulty=3, families="chain"), 4)
    env = thinkgym.make(ENV_ID, difficulty=3, families="chain")
    env.reset(seed=4)
    total, done, first = 0.0, False, None
    while not done:  # every plan call twice, plus junk, then the answer
        action = env.oracle_action()
        if action.startswith("<answer>"):
            action += call("search", query="anything")
        else:
            first = first or action
            action = action * 2 + call("calculator", expression="1+1")
        _, reward, terminated, truncated, info = env.step(action)
        total += reward
        done = terminated or truncated
    assert total < oracle_total - 0.05
    assert info["reward_components"]["efficiency"] < 1.0 and info["reward_components"]["arguments"] < 1.0
    # and calling the same useful call forever earns only the sub-goal it reaches, then truncation
    env.reset(seed=4)
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, info = env.step(first)
        total += reward
        done = terminated or truncated
    assert truncated and total < 0.3


def test_user_tools_join_the_builtins_and_env_pickles():
    import pickle

    def shout(text: str) -> str:
        """Upper-case the text.

        Args:
            text: the text
        """
        return text.upper()

    env = ToolUseEnv(difficulty=1, tools=[shout], builtin_tools=False)
    assert [t["function"]["name"] for t in env.tools] == ["shout"]
    env.reset(seed=0)
    obs, *_ = env.step(call("shout", text="hi"))
    assert obs == "<tool_response>\nHI\n</tool_response>"
    copy = pickle.loads(pickle.dumps(thinkgym.make(ENV_ID)))
    assert copy.reset(seed=0)[0] == thinkgym.make(ENV_ID).reset(seed=0)[0]


def test_oracle_recovers_after_a_stray_call_of_a_planned_tool():
    """A calculator call with other numbers 'matches' the plan's calculator step by tool, but its
    fact never came back: the oracle still makes the planned call, and the answer is grounded."""
    env = thinkgym.make(ENV_ID, difficulty=2, families="arithmetic")
    env.reset(seed=0)
    env.step(call("calculator", expression="48213 * 90721"))
    while not env.done:
        *_, info = env.step(env.oracle_action())
    components = info["reward_components"]
    assert components["accuracy"] == components["grounded"] == components["subgoals"] == 1.0
    assert components["arguments"] == pytest.approx(0.8)  # the stray call costs precision


def test_calls_and_answers_inside_reasoning_do_not_count():
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=0)
    thought = "<think>maybe " + call("calculator", expression="1+1") + " or <answer>2</answer></think>"
    obs, _, terminated, _, info = env.step(thought + call("calculator", expression="3+3"))
    assert obs == "<tool_response>\n6\n</tool_response>" and not terminated
    obs, _, terminated, _, _ = env.step("I should call " + call("calculator", expression="1") + "</think> hmm")
    assert "no tool call and no final answer" in obs and not terminated  # a template that opened <think> in the prompt


def test_call_tool_after_the_end_is_an_error_text():
    env = thinkgym.make(ENV_ID, difficulty=1)
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.call_tool("calculator", {"expression": "1"})
    env.reset(seed=0)
    env.step("<answer>0</answer>")
    assert env.call_tool("calculator", {"expression": "1"}).startswith("Error: the episode has ended")


@pytest.mark.parametrize("tool_call", ["calculator", "python"])
def test_echoing_a_guessed_answer_through_a_tool_does_not_ground_it(tool_call):
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=3)
    answer = env.problem.answer
    if tool_call == "calculator":
        env.step(call("calculator", expression=answer))
    else:
        env.step(call("python", code=f"print({answer})"))
    assert fact_in(answer, env.results[-1].content)  # the tool did print it
    *_, reward, terminated, _, info = env.step(f"<answer>{answer}</answer>")
    assert terminated and info["reward_components"]["grounded"] == 0.0 and info["reward_components"]["subgoals"] == 0.0
    assert info["reward_info"]["episode_score"] < 0.15


def test_an_openai_message_can_carry_the_final_answer():
    env = thinkgym.make(ENV_ID, difficulty=1, families="arithmetic")
    env.reset(seed=0)
    env.step(env.oracle_action())
    message = {"role": "assistant", "content": f"It is \\boxed{{{env.problem.answer}}}", "tool_calls": None}
    *_, terminated, _, info = env.step(json.dumps(message))
    assert terminated and info["reward_info"]["episode_score"] == pytest.approx(1.0)


_ACTIONS = st.sampled_from(["oracle", "junk", "repeat", "broken", "answer", "wrong", "chat", "unknown"])


@given(st.lists(_ACTIONS, min_size=1, max_size=12), st.integers(0, 50), st.integers(1, 3))
@settings(max_examples=40, deadline=None)
def test_fuzz_no_mix_of_actions_beats_the_oracle_or_pays_negative(kinds, seed, difficulty):
    env = thinkgym.make(ENV_ID, difficulty=difficulty, families=("chain", "arithmetic", "convert"))
    env.reset(seed=seed)
    last, rewards = None, []
    for kind in kinds:
        if env.done:
            break
        action = {
            "oracle": env.oracle_action(),
            "junk": call("search", query=f"anything {len(rewards)}"),
            "repeat": last or call("calculator", expression="1+1"),
            "broken": "<tool_call>{'name': calculator}</tool_call>",
            "answer": f"<answer>{env.problem.answer}</answer>",
            "wrong": "<answer>-1</answer>",
            "chat": "let me think",
            "unknown": call("nope", x=1),
        }[kind]
        last = action if action.startswith("<tool_call>") else last
        _, reward, *_ = env.step(action)
        rewards.append(reward)
    assert all(r >= -1e-12 for r in rewards)
    assert sum(rewards) <= 1.0 + 1e-9
    if "oracle" not in kinds:
        assert sum(rewards) <= 0.1 + 1e-9  # without the plan's calls: at most an argument match by chance


def test_a_tool_that_loops_forever_is_an_error_observation():
    import time

    def forever(x: int) -> int:
        """Never returns.

        Args:
            x: ignored
        """
        while True:
            time.sleep(0.01)

    env = ToolUseEnv(difficulty=1, tools=[Tool.from_function(forever, timeout=0.3)])
    env.reset(seed=0)
    began = time.monotonic()
    obs, reward, terminated, truncated, info = env.step(call("forever", x=1) + call("calculator", expression="2+2"))
    assert "forever did not finish within 0.3 s" in obs and "<tool_response>\n4\n</tool_response>" in obs
    assert not (terminated or truncated) and time.monotonic() - began < 5
    assert [m["role"] for m in info["messages"][-3:]] == ["assistant", "tool", "tool"]
