"""Estimators against hand-computed values and brute-force enumeration of small cases."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.benchmarks.metrics import (
    bootstrap_ci,
    maj_at_k,
    majority_correct,
    pass_at_k,
    summarize,
    wilson_interval,
)


def brute_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """Share of all k-subsets of n samples (the first c correct) that hold a correct sample."""
    subsets = list(itertools.combinations(range(n), k))
    hits = sum(1 for s in subsets if any(i < c for i in s))
    return Fraction(hits, len(subsets))


def test_pass_at_k_hand_computed():
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # pass@1 is the plain success rate
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # n=4, c=1, k=3: 1 - C(3,3)/C(4,3) = 3/4
    assert pass_at_k(4, 1, 3) == pytest.approx(0.75)
    assert pass_at_k(3, 0, 2) == 0.0
    assert pass_at_k(3, 2, 2) == 1.0  # n - c < k: every pair holds a correct sample
    assert pass_at_k(1, 1, 1) == 1.0


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_matches_enumeration(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(brute_pass_at_k(n, c, k)), abs=1e-12)


def test_pass_at_k_is_stable_for_large_n():
    # C(2000, 1000) overflows floats; the product form stays exact to ~1e-12
    n, c, k = 2000, 3, 1000
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-10)
    assert 0.0 <= pass_at_k(10_000, 1, 5000) <= 1.0


@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_pass_at_k_exact_rational(args):
    n, c, k = args
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-12)


def test_pass_at_k_rejects_bad_input():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
    with pytest.raises(TypeError):
        pass_at_k(3.0, 1, 1)  # type: ignore[arg-type]


def test_majority_vote_hand_computed():
    # two wrong "7" beat one correct
    assert majority_correct(["7", "7", "5"], [False, False, True]) == 0.0
    # correct answers vote together however written
    assert majority_correct(["1/2", "0.5", "7"], [True, True, False]) == 1.0
    # a tie between one correct and one wrong answer is a coin flip
    assert majority_correct(["5", "7"], [True, False]) == 0.5
    # three-way tie with one correct
    assert majority_correct(["5", "7", "8"], [True, False, False]) == pytest.approx(1 / 3)
    # samples without an answer do not vote
    assert majority_correct([None, None, "5"], [False, False, True]) == 1.0
    assert majority_correct([None, None], [False, False]) == 0.0


def brute_maj_at_k(answers, correct, k):
    subsets = list(itertools.combinations(range(len(answers)), k))
    return sum(
        majority_correct([answers[i] for i in s], [correct[i] for i in s]) for s in subsets
    ) / len(subsets)


def test_maj_at_k_hand_computed():
    answers = ["5", "7", "7"]
    correct = [True, False, False]
    # k=1: each sample alone -> 1/3; k=2: subsets {5,7},{5,7},{7,7} -> 0.5, 0.5, 0 -> 1/3
    assert maj_at_k(answers, correct, 1) == pytest.approx(1 / 3)
    assert maj_at_k(answers, correct, 2) == pytest.approx(1 / 3)
    assert maj_at_k(answers, correct, 3) == 0.0


@given(
    st.lists(st.sampled_from(["a", "b", "c", None, "gold"]), min_size=1, max_size=7),
    st.data(),
)
def test_maj_at_k_matches_enumeration(answers, data):
    correct = [a == "gold" for a in answers]
    k = data.draw(st.integers(1, len(answers)))
    assert maj_at_k(answers, correct, k) == pytest.approx(
        brute_maj_at_k(answers, correct, k), abs=1e-12
    )


def test_maj_at_k_sampled_path_is_close_to_exact():
    rng = np.random.default_rng(1)
    answers = [str(x) for x in rng.integers(0, 3, size=16)]
    correct = [a == "0" for a in answers]
    exact = brute_maj_at_k(answers, correct, 8)  # C(16, 8) = 12870 subsets
    sampled = maj_at_k(answers, correct, 8, max_subsets=1000, seed=0)
    assert sampled == pytest.approx(exact, abs=0.05)
    assert maj_at_k(answers, correct, 8, max_subsets=1000, seed=0) == sampled  # seeded


def test_wilson_hand_computed():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-4)
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


def test_bootstrap_is_seeded_and_covers_the_mean():
    values = np.random.default_rng(0).normal(5.0, 1.0, size=200)
    a = bootstrap_ci(values)
    assert a == bootstrap_ci(values)
    se = values.std(ddof=1) / math.sqrt(values.size)
    assert a[0] < values.mean() < a[1]
    assert (a[1] - a[0]) == pytest.approx(2 * 1.96 * se, rel=0.15)


def _sample(
    env, pi, s, reward, correct, answer=None, error=None, fmt=None, text="x", finish="stop"
):
    return {
        "key": f"{env}|{pi}|{s}", "env": env, "problem_index": pi, "sample": s, "reward": reward,
        "correct": correct, "extracted_answer": answer, "error": error, "completion": text,
        "components": {} if fmt is None else {"format": fmt}, "finish_reasons": [finish],
    }  # fmt: skip


def test_summarize_env_numbers():
    samples = [
        # problem 0: 2 of 3 correct; problem 1: 0 of 3; one failed sample on problem 1
        _sample("e", 0, 0, 1.0, True, "4", fmt=1.0, text="aaaa"),
        _sample("e", 0, 1, 1.0, True, "4", fmt=1.0, text="aa"),
        _sample("e", 0, 2, 0.0, False, "5", fmt=0.0, text="aaaaaa", finish="length"),
        _sample("e", 1, 0, 0.0, False, "9", fmt=1.0),
        _sample("e", 1, 1, 0.0, False, "9", fmt=1.0),
        _sample("e", 1, 2, 0.0, False, None, error="HTTP 503 after 3 retries"),
        _sample("e", 1, 3, 0.0, False, "8", fmt=1.0),
    ]
    summary = summarize(samples)
    env = summary["envs"]["e"]
    assert env["failed"] == 1 and env["samples_scored"] == 6
    assert env["accuracy"]["value"] == pytest.approx((2 / 3 + 0) / 2)
    assert env["pass_at_k"]["2"]["value"] == pytest.approx((pass_at_k(3, 2, 2) + 0) / 2)
    assert env["pass_at_k"]["3"]["value"] == pytest.approx(0.5)
    assert env["maj_at_k"]["2"]["value"] == pytest.approx(
        (brute_maj_at_k(["4", "4", "5"], [1, 1, 0], 2) + 0) / 2
    )
    assert env["format_rate"]["value"] == pytest.approx((2 / 3 + 1) / 2)
    assert env["truncation_rate"]["value"] == pytest.approx((1 / 3 + 0) / 2)
    assert env["completion_chars"]["mean"] == pytest.approx((4 + 2 + 6 + 1 + 1 + 1) / 6)
    assert env["failure_reasons"] == {"HTTP 503 after 3 retries": 1}
    for est in (env["accuracy"], env["mean_reward"], env["pass_at_k"]["1"]):
        assert est["lo"] <= est["value"] <= est["hi"]


def test_single_sample_accuracy_uses_wilson_and_overall_is_macro():
    samples = [_sample("a", i, 0, 1.0, True) for i in range(10)]
    samples += [_sample("b", i, 0, 0.0, False) for i in range(30)]
    summary = summarize(samples)
    acc = summary["envs"]["a"]["accuracy"]
    assert (
        acc["method"] == "wilson"
        and acc["hi"] == 1.0
        and acc["lo"] == pytest.approx(0.7225, abs=1e-4)
    )
    assert summary["overall"]["accuracy"]["value"] == pytest.approx(
        0.5
    )  # mean of envs, not of samples


def test_votes_use_the_completion_only_for_envs_that_extract_nothing():
    paths = ["RRD", "RRD ", "DDR", "RDR"]
    path_samples = [
        {
            **_sample("path", 0, i, 10.0 * (t == "RDR"), t == "RDR", None, text=t),
            "answer_found": False,
        }
        for i, t in enumerate(paths)
    ]
    # two identical wrong paths outvote the one right path
    assert summarize(path_samples)["envs"]["path"]["maj_at_k"]["4"]["value"] == 0.0
    math_samples = [
        {**_sample("math", 0, 0, 0.0, False, None, text="no answer here"), "answer_found": False},
        {**_sample("math", 0, 1, 0.0, False, None, text="still nothing"), "answer_found": False},
        {
            **_sample("math", 0, 2, 1.0, True, "4", text="<think>2+2</think> \\boxed{4}"),
            "answer_found": True,
        },
    ]
    # samples without an extracted answer do not vote, so the one answer wins
    assert summarize(math_samples)["envs"]["math"]["maj_at_k"]["3"]["value"] == 1.0


def test_all_zero_proportions_keep_an_honest_interval():
    # 30 problems x 4 samples, none solved: the bootstrap would say [0, 0]; Wilson over problems
    samples = [_sample("z", i, s, 0.0, False, "7") for i in range(30) for s in range(4)]
    acc = summarize(samples)["envs"]["z"]["accuracy"]
    assert acc["value"] == 0.0 and acc["method"] == "wilson"
    assert acc["hi"] == pytest.approx(wilson_interval(0, 30)[1]) and acc["hi"] > 0.1


def test_a_problem_drawn_twice_is_one_problem_not_two_independent_ones():
    """Issue 14: a suite cycling a small dataset must not count the repeats as independent problems."""

    def rec(pi, s, pid, correct):
        return {**_sample("d", pi, s, float(correct), correct, str(int(correct))), "problem_id": pid}

    # problems a, b, c; a drawn again at index 3 and b at index 4 (two samples each)
    samples = [rec(0, 0, "a", True), rec(0, 1, "a", True), rec(1, 0, "b", False), rec(1, 1, "b", True),
               rec(2, 0, "c", False), rec(2, 1, "c", False), rec(3, 0, "a", True), rec(3, 1, "a", False),
               rec(4, 0, "b", False), rec(4, 1, "b", False)]  # fmt: skip
    env = summarize(samples)["envs"]["d"]
    assert env["problems"] == 3 and env["samples_per_problem"] == 4
    assert env["accuracy"]["value"] == pytest.approx((3 / 4 + 1 / 4 + 0) / 3)
    assert env["accuracy"]["n"] == 3  # the interval's unit: three problems, not five
    assert env["pass_at_k"]["2"]["value"] == pytest.approx((pass_at_k(4, 3, 2) + pass_at_k(4, 1, 2) + 0) / 3)
    # one problem played n times (the classic maze): each episode stays its own unit
    maze = [{**_sample("m", i, 0, float(i % 2), bool(i % 2)), "problem_id": "maze/classic"} for i in range(10)]
    single = summarize(maze)["envs"]["m"]
    assert single["problems"] == 10 and single["accuracy"]["n"] == 10


def test_identical_samples_are_counted_per_drawn_problem():
    from thinkgym.benchmarks.metrics import identical_sample_problems, identical_samples_warning

    same = [_sample("e", 0, s, 0.0, False, text="same") for s in range(3)]
    varied = [_sample("e", 1, s, 0.0, False, text=f"t{s}") for s in range(3)]
    failed_aside = [_sample("e", 2, 0, 0.0, False, text="z"), _sample("e", 2, 1, 0.0, False, error="HTTP 500", text="")]
    assert identical_sample_problems(same + varied + failed_aside) == 1
    assert identical_samples_warning(1, 2, 0.8).startswith("1 of 2 problem(s) got the same text")
    assert identical_samples_warning(1, 2, 0.0) is None and identical_samples_warning(1, 2, None) is None
    assert identical_samples_warning(0, 2, 1.0) is None
