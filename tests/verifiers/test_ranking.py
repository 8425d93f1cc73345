"""Ranked-list rewards: NDCG@k, precision@k, duplicates, unknown items, and list parsing."""

from __future__ import annotations

import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkgym.core import Problem
from thinkgym.verifiers.ranking import (
    RankingVerifier,
    ndcg_at_k,
    normalize_item,
    parse_ranked_list,
    precision_at_k,
)

GOLD = ["Ischemia", "Arrhythmia", "Valve disease", "Infection"]


def _dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def test_perfect_ranking_scores_one() -> None:
    assert ndcg_at_k(GOLD, GOLD) == pytest.approx(1.0)
    assert precision_at_k(GOLD, GOLD) == 1.0


def test_ndcg_matches_the_formula_for_a_swap() -> None:
    predicted = ["Arrhythmia", "Ischemia", "Valve disease", "Infection"]
    rel = {"Ischemia": 4, "Arrhythmia": 3, "Valve disease": 2, "Infection": 1}
    expected = _dcg([2**rel[x] - 1 for x in predicted]) / _dcg([2**rel[x] - 1 for x in GOLD])
    assert ndcg_at_k(predicted, GOLD) == pytest.approx(expected)
    assert ndcg_at_k(predicted, GOLD) < 1.0
    assert precision_at_k(predicted, GOLD) == 1.0  # the same items: precision ignores order


def test_reversed_is_worse_than_one_swap() -> None:
    swap = ["Arrhythmia", "Ischemia", "Valve disease", "Infection"]
    assert ndcg_at_k(list(reversed(GOLD)), GOLD) < ndcg_at_k(swap, GOLD)


def test_duplicates_count_once_and_take_their_rank() -> None:
    spam = ["Ischemia", "ischemia", "ISCHEMIA", "Arrhythmia"]
    honest = ["Ischemia", "Arrhythmia"]
    assert ndcg_at_k(spam, GOLD) < ndcg_at_k(honest, GOLD)
    rel = [15, 7]  # 2**4-1, 2**3-1
    expected = (rel[0] / math.log2(2) + rel[1] / math.log2(5)) / _dcg([15, 7, 3, 1])
    assert ndcg_at_k(spam, GOLD) == pytest.approx(expected)
    assert precision_at_k(spam, GOLD, k=2) == 0.5


def test_unknown_items_earn_nothing_and_push_others_down() -> None:
    with_unknown = ["Gout", "Ischemia", "Arrhythmia", "Valve disease"]
    assert ndcg_at_k(with_unknown, GOLD) < ndcg_at_k(GOLD[:3], GOLD)
    assert ndcg_at_k(["Gout", "Flu"], GOLD) == 0.0
    assert precision_at_k(with_unknown, GOLD) == 0.75


def test_k_cuts_both_lists_and_precision_uses_the_gold_top_k() -> None:
    assert ndcg_at_k(["Ischemia", "Arrhythmia", "Gout"], GOLD, k=2) == pytest.approx(1.0)
    assert precision_at_k(["Ischemia", "Infection"], GOLD, k=2) == 0.5
    assert precision_at_k(GOLD, GOLD[:2], k=5) == 1.0  # denominator min(k, len(gold))
    with pytest.raises(ValueError):
        ndcg_at_k(GOLD, GOLD, k=0)
    with pytest.raises(ValueError):
        ndcg_at_k(GOLD, [])


def test_aliases_and_explicit_relevance() -> None:
    aliases = {"Ischemia": ["myocardial ischemia", "MI"]}
    assert ndcg_at_k(["MI", "Arrhythmia", "Valve disease", "Infection"], GOLD, aliases=aliases) == pytest.approx(1.0)
    flat = ndcg_at_k(["Arrhythmia", "Ischemia"], GOLD, k=2, relevance=[1, 1, 1, 1])
    assert flat == pytest.approx(1.0)  # equal relevance: order within the top 2 does not matter


def test_normalize_item() -> None:
    assert normalize_item("**Valve  Disease.**") == "valve disease"
    assert normalize_item("Ｉｓｃｈｅｍｉａ") == "ischemia"
    with pytest.raises(TypeError):
        normalize_item(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. Ischemia\n2. Arrhythmia\n3. Valve disease", ["Ischemia", "Arrhythmia", "Valve disease"]),
        ("1) a\n2) b", ["a", "b"]),
        ("(1) a\n(2) b", ["a", "b"]),
        ("#1 a\n#2 b", ["a", "b"]),
        ("- a\n- b\n* c\n• d", ["a", "b", "c", "d"]),
        ("Here is my ranking:\n1. **a**\n2. b, because of c", ["a", "b, because of c"]),
        ("a, b, and c", ["a", "b", "c"]),
        ("a; b; c", ["a", "b", "c"]),
        ("a > b > c", ["a", "b", "c"]),
        ("1. a 2. b 3. c", ["a", "b", "c"]),
        ("Ranking:\na\nb", ["a", "b"]),
        ("only one", ["only one"]),
        ("", []),
        ("   \n\n", []),
    ],
)
def test_parse_ranked_list(text: str, expected: list[str]) -> None:
    assert parse_ranked_list(text) == expected


def test_verifier_reads_the_answer_part_and_reports_both_metrics() -> None:
    problem = Problem("r0", "Rank the causes.", GOLD)
    verifier = RankingVerifier(require_think=True)
    completion = "<think>1. Infection\n2. Gout</think>\n1. Ischemia\n2. Arrhythmia\n3. Valve disease\n4. Infection"
    reward = verifier(completion, problem)
    assert reward.score == pytest.approx(1.0)
    assert set(reward.components) == {"ndcg", "precision"}
    only_in_think = verifier("<think>1. Ischemia\n2. Arrhythmia</think>", problem)
    assert only_in_think.score == 0.0 and "no ranked list" in only_in_think.info["error"]
    tagged = RankingVerifier(metric="precision", k=2)("<answer>Arrhythmia, Ischemia</answer>", problem)
    assert tagged.score == 1.0 and tagged.components["ndcg"] < 1.0


def test_verifier_takes_gold_text_aliases_from_meta_and_pickles() -> None:
    problem = Problem("r1", "Rank.", "1. Ischemia\n2. Arrhythmia", {"aliases": {"Ischemia": ["MI"]}})
    verifier = RankingVerifier()
    assert verifier("MI, Arrhythmia", problem).score == pytest.approx(1.0)
    clone = pickle.loads(pickle.dumps(verifier))
    assert clone("Arrhythmia, MI", problem) == verifier("Arrhythmia, MI", problem)
    with pytest.raises(TypeError):
        verifier(None, problem)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RankingVerifier(metric="map")  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(GOLD + ["Gout", "Flu", "ischemia"]), max_size=8), st.integers(1, 6))
def test_scores_stay_in_unit_interval(predicted: list[str], k: int) -> None:
    assert 0.0 <= ndcg_at_k(predicted, GOLD, k) <= 1.0 + 1e-12
    assert 0.0 <= precision_at_k(predicted, GOLD, k) <= 1.0


@given(st.text(max_size=300))
def test_verifier_never_raises_on_model_text(text: str) -> None:
    reward = RankingVerifier()(text, Problem("r2", "Rank.", GOLD))
    assert 0.0 <= reward.score <= 1.0 + 1e-12
