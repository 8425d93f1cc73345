"""Composite verifiers: weighted sums, gates, hierarchies; components, errors and pickling."""

from __future__ import annotations

import pickle

import pytest

from thinkgym.core import Problem, Reward
from thinkgym.verifiers.compose import FunctionVerifier, Gate, Hierarchy, WeightedSum
from thinkgym.verifiers.format import AnswerSection, FormatVerifier

PROBLEM = Problem("p0", "What is 6*7?", "42")


def contains_gold(completion: str, problem: Problem) -> Reward:
    ok = str(problem.answer) in completion
    return Reward(float(ok), {"accuracy": float(ok)}, {"extracted": completion.strip()[-10:]})


def length_bonus(completion: str, problem: Problem) -> float:
    return min(len(completion), 100) / 100


def always_true(completion: str, problem: Problem) -> bool:
    return True


def broken(completion: str, problem: Problem) -> Reward:
    raise RuntimeError("bug in a user verifier")


def returns_garbage(completion: str, problem: Problem) -> object:
    return "yes"


GOOD = "<think>6*7 = 42</think> 42"
GOOD_FORMAT_WRONG = "<think>6*7 = 41</think> 41"
BAD_FORMAT_RIGHT = "42"


def test_weighted_sum_scores_and_keeps_every_part() -> None:
    rubric = WeightedSum(
        {"format": FormatVerifier(), "accuracy": AnswerSection(contains_gold)},
        weights={"format": 0.2, "accuracy": 0.8},
    )
    assert rubric(GOOD, PROBLEM).score == pytest.approx(1.0)
    reward = rubric(GOOD_FORMAT_WRONG, PROBLEM)
    assert reward.score == pytest.approx(0.2)
    assert reward.components == {"format": 1.0, "accuracy": 0.0}
    assert reward.info["parts"]["accuracy"]["extracted"] == "41"
    bad = rubric(BAD_FORMAT_RIGHT, PROBLEM)
    assert bad.score == 0.0  # no think block: the answer part is empty and format fails
    assert "format" in bad.info["error"] and "accuracy" in bad.info["error"]


def test_weighted_sum_normalize_defaults_and_validation() -> None:
    rubric = WeightedSum({"a": always_true, "b": length_bonus}, weights={"a": 3.0}, normalize=True)
    assert rubric.weights == {"a": 3.0, "b": 1.0}
    assert rubric("x" * 100, PROBLEM).score == pytest.approx(1.0)
    assert rubric("x" * 50, PROBLEM).score == pytest.approx((3.0 + 0.5) / 4.0)
    with pytest.raises(ValueError):
        WeightedSum({})
    with pytest.raises(ValueError):
        WeightedSum({"a": always_true}, weights={"b": 1.0})
    with pytest.raises(ValueError):
        WeightedSum({"a": always_true}, weights={"a": 0.0}, normalize=True)
    with pytest.raises(TypeError):
        WeightedSum({"a": 3})


def test_gate_blocks_accuracy_until_format_passes() -> None:
    calls: list[str] = []

    def spy(completion: str, problem: Problem) -> Reward:
        calls.append(completion)
        return contains_gold(completion, problem)

    gate = Gate(FormatVerifier(), spy)
    blocked = gate(BAD_FORMAT_RIGHT, PROBLEM)
    assert blocked.score == 0.0 and blocked.info["gated"] is True
    assert blocked.components == {"format": 0.0, "accuracy": 0.0}
    assert "format gate failed" in blocked.info["error"]
    assert calls == []  # the gated verifier is not even run
    passed = gate(GOOD, PROBLEM)
    assert passed.score == 1.0 and passed.components == {"format": 1.0, "accuracy": 1.0}
    assert gate(GOOD_FORMAT_WRONG, PROBLEM).score == 0.0
    soft = Gate(FormatVerifier(mode="partial"), contains_gold, threshold=0.5, fail_score=-1.0)
    assert soft("no tags 42", PROBLEM).score == -1.0
    assert soft("<think> 42", PROBLEM).score == 1.0  # one of two tags: 0.5 reaches the threshold


def test_format_plus_gated_accuracy_is_the_usual_r1_reward() -> None:
    fmt = FormatVerifier()
    rubric = WeightedSum(
        {"format": fmt, "accuracy": Gate(fmt, AnswerSection(contains_gold), gate_name="gate", then_name="acc")},
        weights={"format": 0.1, "accuracy": 0.9},
    )
    assert rubric(GOOD, PROBLEM).score == pytest.approx(1.0)
    assert rubric(GOOD_FORMAT_WRONG, PROBLEM).score == pytest.approx(0.1)
    components = rubric(GOOD, PROBLEM).components
    assert components["accuracy"] == 1.0 and components["accuracy.gate"] == 1.0 and components["accuracy.acc"] == 1.0


def test_hierarchy_gives_credit_in_order() -> None:
    stages = Hierarchy(
        [
            ("format", FormatVerifier(), 1.0),
            ("accuracy", AnswerSection(contains_gold), 2.0),
            ("length", length_bonus, 1.0, 0.0),
        ]
    )
    full = stages(GOOD, PROBLEM)
    assert full.info["reached"] == ["format", "accuracy", "length"]
    assert full.score == pytest.approx((1.0 + 2.0 + min(len(GOOD), 100) / 100) / 4.0)
    wrong = stages(GOOD_FORMAT_WRONG, PROBLEM)
    assert wrong.info["reached"] == ["format"]
    assert wrong.score == pytest.approx(1.0 / 4.0)
    assert wrong.components["length"] == 0.0  # not run: later goals cannot be farmed
    assert "accuracy" in wrong.info["error"]
    none = stages(BAD_FORMAT_RIGHT, PROBLEM)
    assert none.score == 0.0 and none.info["reached"] == []
    with pytest.raises(ValueError):
        Hierarchy([("a", always_true), ("a", always_true)])
    with pytest.raises(TypeError):
        Hierarchy([("a",)])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        Hierarchy([])


def test_children_that_misbehave_score_zero_with_a_reason() -> None:
    rubric = WeightedSum({"ok": always_true, "broken": broken, "garbage": returns_garbage})
    reward = rubric("anything", PROBLEM)
    assert reward.score == 1.0
    assert "RuntimeError" in reward.info["parts"]["broken"]["error"]
    assert "str" in reward.info["parts"]["garbage"]["error"]
    assert FunctionVerifier(length_bonus, name="length")("x" * 10, PROBLEM).components == {"length": 0.1}


def test_composites_pickle_and_nest() -> None:
    inner = WeightedSum({"format": FormatVerifier(), "accuracy": AnswerSection(contains_gold)})
    outer = Hierarchy([("gate", Gate(FormatVerifier(), inner, then_name="sum")), ("len", FunctionVerifier(length_bonus))])
    clone = pickle.loads(pickle.dumps(outer))
    assert clone(GOOD, PROBLEM) == outer(GOOD, PROBLEM)
    assert "gate.sum.accuracy" in outer(GOOD, PROBLEM).components
    assert set(outer.children()) == {"gate", "len"}
    assert "WeightedSum" in repr(inner)


def test_wrong_completion_type_raises() -> None:
    for rubric in (WeightedSum({"a": always_true}), Gate(always_true, always_true, gate_name="g"), Hierarchy([("a", always_true)])):
        with pytest.raises(TypeError):
            rubric(["not", "text"], PROBLEM)  # type: ignore[arg-type]


def test_every_lazy_export_resolves() -> None:
    import thinkgym.verifiers as verifiers

    for name in verifiers.__all__:
        assert getattr(verifiers, name) is not None, name
    assert "WeightedSum" in dir(verifiers)
    with pytest.raises(AttributeError):
        verifiers.NoSuchVerifier  # noqa: B018
