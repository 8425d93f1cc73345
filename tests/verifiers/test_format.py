"""Format rewards: the strict R1 rules, the tag-count variant, and the answer-part helper."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.core import Problem, Reward
from thinkgym.verifiers.format import (
    AnswerSection,
    FormatVerifier,
    ThinkFormat,
    answer_part,
    check_format,
    tag_count_score,
)

TAGGED = ThinkFormat(answer_tag="answer")
PROBLEM = Problem("p0", "What is 6*7?", "42")


@pytest.mark.parametrize(
    "completion",
    [
        "<think>6*7 is 42</think>The answer is 42.",
        "  \n<think>\nreason\n</think>\n\n\\boxed{42}",
        "<think></think>42",  # empty thinking is allowed (Qwen3's non-thinking mode emits it)
    ],
)
def test_strict_accepts_well_formed_free_answer(completion: str) -> None:
    assert check_format(completion).ok
    assert FormatVerifier()(completion, PROBLEM).score == 1.0


@pytest.mark.parametrize(
    ("completion", "reason"),
    [
        ("The answer is 42", "expected one"),
        ("<think>reason</think>", "no answer"),
        ("<think>reason</think>   \n ", "no answer"),
        ("preamble <think>reason</think> 42", "must start with"),
        ("<think>a<think>b</think>c</think> 42", "expected one"),
        ("<think>a</think> 42 <think>again</think> 43", "expected one"),
        ("</think>42<think>", "must start with"),
        ("<think>unclosed 42", "expected one"),
    ],
)
def test_strict_rejects_malformed_free_answer(completion: str, reason: str) -> None:
    check = check_format(completion)
    assert not check.ok and reason in check.reason
    reward = FormatVerifier()(completion, PROBLEM)
    assert reward.score == 0.0 and reason in reward.info["error"]
    assert reward.components == {"format": 0.0}


@pytest.mark.parametrize(
    "completion",
    ["<think>r</think><answer>42</answer>", "<think>r</think>\n<answer> 42 </answer>\n"],
)
def test_strict_accepts_answer_block(completion: str) -> None:
    check = check_format(completion, TAGGED)
    assert check.ok and check.answer == "42" and check.thinking == "r"


@pytest.mark.parametrize(
    "completion",
    [
        "<think>r</think>42",  # no answer block
        "<think>r</think><answer>42</answer> trailing words",  # something after the answer
        "<think>r</think>so <answer>42</answer>",  # text between think and answer
        "<think>r</think><answer>42</answer><answer>43</answer>",  # second answer block
        "<think>r<answer>41</answer></think><answer>42</answer>",  # answer block inside think
        "<think>r</think><answer>  </answer>",  # empty answer
        "<think>r</think><answer>4<answer>2</answer>",  # nested
        "<answer>42</answer><think>r</think>",  # wrong order
    ],
)
def test_strict_rejects_malformed_answer_block(completion: str) -> None:
    assert not check_format(completion, TAGGED).ok
    assert FormatVerifier(TAGGED)(completion, PROBLEM).score == 0.0


def test_tags_are_configurable() -> None:
    fmt = ThinkFormat(think_tag="reasoning", answer_tag="final")
    good = "<reasoning>x</reasoning><final>1</final>"
    assert check_format(good, fmt).ok
    assert not check_format("<think>x</think><answer>1</answer>", fmt).ok
    assert check_format(fmt.render("x", "1"), fmt).ok
    with pytest.raises(ValueError):
        ThinkFormat(think_tag="bad tag")
    with pytest.raises(ValueError):
        ThinkFormat(think_tag="t", answer_tag="t")


def test_partial_counts_tags_that_occur_once() -> None:
    assert tag_count_score("no tags", TAGGED) == 0.0
    assert tag_count_score("<think>x</think> 42", TAGGED) == 0.5
    assert tag_count_score("<think>x</think><answer>1", TAGGED) == 0.75
    assert tag_count_score("<think><think>x</think><answer>1</answer>", TAGGED) == 0.75
    partial = FormatVerifier(TAGGED, mode="partial")
    assert partial("<think>x</think> 42", PROBLEM).score == 0.5
    assert partial("<think>x</think><answer>1</answer>", PROBLEM).score == 1.0


@given(st.text(max_size=200), st.text(max_size=50))
def test_well_formed_completion_scores_one_in_both_modes(thinking: str, answer: str) -> None:
    fmt = TAGGED
    completion = fmt.render(thinking, answer)
    clean = not any(tag in thinking + answer for tag in ("<think>", "</think>", "<answer>", "</answer>"))
    if clean and answer.strip():
        assert FormatVerifier(fmt)(completion, PROBLEM).score == 1.0
    if FormatVerifier(fmt)(completion, PROBLEM).score == 1.0:
        assert FormatVerifier(fmt, mode="partial")(completion, PROBLEM).score == 1.0


@given(st.text(alphabet=st.sampled_from(list("<>/thinkaswer x\n")), max_size=80))
def test_never_raises_and_partial_bounds_strict(text: str) -> None:
    for fmt in (ThinkFormat(), TAGGED):
        strict = FormatVerifier(fmt)(text, PROBLEM)
        partial = FormatVerifier(fmt, mode="partial")(text, PROBLEM)
        assert strict.score in (0.0, 1.0)
        assert 0.0 <= partial.score <= 1.0
        if strict.score == 1.0:
            assert partial.score == 1.0


def test_answer_part_never_returns_thinking() -> None:
    assert answer_part("<think>the answer is 5</think> It is 7.") == " It is 7."
    assert answer_part("<think>the answer is 5") == ""  # unclosed: nothing to extract
    assert answer_part("\\boxed{5}") == ""  # think required, none given
    assert answer_part("\\boxed{5}", require_think=False) == "\\boxed{5}"
    assert answer_part("42 <think>5", require_think=False) == "42 "
    assert answer_part("<think>a</think>7<think>\\boxed{5}") == "7"
    assert answer_part("<think>a</think>1</think>2") == "2"
    assert answer_part("<think>a</think><answer>3</answer>") == "<answer>3</answer>"


def _boxed_five(completion: str, problem: Problem) -> Reward:
    return Reward(1.0 if "5" in completion else 0.0, {"accuracy": 1.0 if "5" in completion else 0.0})


def test_answer_section_hides_thinking_from_the_inner_verifier() -> None:
    section = AnswerSection(_boxed_five)
    assert section("<think>maybe 5</think> 7", PROBLEM).score == 0.0
    assert section("<think>maybe 7</think> 5", PROBLEM).score == 1.0
    empty = section("<think>5", PROBLEM)
    assert empty.score == 0.0 and "no answer" in empty.info["error"]
    assert AnswerSection(_boxed_five, require_think=False)("5", PROBLEM).score == 1.0


def test_verifiers_pickle_and_reject_bad_types() -> None:
    for verifier in (FormatVerifier(TAGGED, mode="partial"), AnswerSection(_boxed_five, TAGGED)):
        clone = pickle.loads(pickle.dumps(verifier))
        text = "<think>x</think><answer>5</answer>"
        assert clone(text, PROBLEM) == verifier(text, PROBLEM)
    with pytest.raises(TypeError):
        FormatVerifier()(b"<think>", PROBLEM)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AnswerSection("not callable")
    with pytest.raises(ValueError):
        FormatVerifier(mode="lenient")  # type: ignore[arg-type]


def test_instruction_names_the_tags() -> None:
    text = TAGGED.instruction("the final answer in \\boxed{}")
    assert "<think>" in text and "<answer>" in text and "\\boxed{}" in text


def test_with_format_reward_composes_accuracy_and_format_the_one_way_the_answer_envs_do():
    from thinkgym.core import Problem
    from thinkgym.verifiers import MathVerifier
    from thinkgym.verifiers.format import AnswerSection, ThinkFormat, with_format_reward

    fmt = ThinkFormat()
    problem = Problem("p", "6*7?", "42")
    accuracy = AnswerSection(MathVerifier(), fmt)
    plain = with_format_reward(accuracy, fmt, accuracy_weight=0.9, format_weight=0.1)
    gated = with_format_reward(accuracy, fmt, gate=True)
    alone = with_format_reward(AnswerSection(MathVerifier(), fmt, require_think=False), fmt, think=False)
    good = "<think>6*7 = 42</think> \\boxed{42}"
    assert plain(good, problem).score == 1.0 and set(plain(good, problem).components) >= {"accuracy", "format"}
    assert plain("<think>so 41</think> \\boxed{41}", problem).score == pytest.approx(0.1)
    assert gated("\\boxed{42} <think>x</think>", problem).components["accuracy"] == 0.0  # format failed: gated
    assert alone("\\boxed{42}", problem).score == 1.0 and "format" not in alone("\\boxed{42}", problem).components
