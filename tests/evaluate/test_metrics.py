import pytest

from bot.evaluate.metrics import (
    best_over,
    exact_match,
    f1,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
)


def test_official_normalisation():
    assert normalize_answer("The  Nobel-Prize!") == "nobelprize"
    assert normalize_answer("an apple, a pear") == "apple pear"


def test_exact_match_and_f1():
    assert exact_match("the Nobel Prize", "Nobel Prize") == 1.0
    assert exact_match("Nobel", "Nobel Prize") == 0.0
    assert f1("Nobel", "Nobel Prize") == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert f1("Peace", "Nobel Prize") == 0.0
    assert f1("", "") == 1.0 and f1("x", "") == 0.0


def test_best_over_golds():
    assert best_over(f1, "40,000", ["40,000 inmates", "40,000"]) == 1.0
    assert best_over(f1, "x", []) == 0.0


def test_ndcg_and_recall():
    rel = {"a": 1, "b": 1}
    assert ndcg_at_k(["a", "b", "c"], rel) == pytest.approx(1.0)
    # one relevant at rank 2 of two relevant: (1/log2 3) / (1 + 1/log2 3)
    assert ndcg_at_k(["c", "a"], rel) == pytest.approx((1 / 1.5849625) / (1 + 1 / 1.5849625))
    assert ndcg_at_k(["c"], rel) == 0.0
    assert recall_at_k(["a", "c"], rel, 100) == 0.5
    assert recall_at_k(["c", "a"], rel, 1) == 0.0


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert percentile([], 50) == 0.0
