import math

import pytest

from bot.extract.confidence import CONFIDENCE_FEATURES, confidence, confidence_features

_ARGS = dict(
    sent_cov=0.8,
    context_cov=0.0,
    chunk_cov=0.9,
    found=1.0,
    type_match=0.6,
    margin=0.5,
    span_score=2.5,
    n_terms=4,
    names_found=1.0,
    missing_names=0,
    global_cov=0.7,
    absent=0.0,
    chunks=120,
)


def test_features_follow_the_names():
    f = dict(zip(CONFIDENCE_FEATURES, confidence_features(**_ARGS), strict=True))
    assert f["bias"] == 1.0
    assert f["global_cov_sq"] == pytest.approx(0.49)
    assert f["span_type"] == pytest.approx(math.tanh(0.5) * 0.6)
    assert f["span_score"] == pytest.approx(math.tanh(0.5))


def test_squares_and_products_stay_bounded():
    """The squashed span score keeps the product in [-1, 1] however large the linear score."""
    for score in (-1e6, -3.0, 0.0, 40.0, 1e6):
        row = confidence_features(**{**_ARGS, "span_score": score})
        f = dict(zip(CONFIDENCE_FEATURES, row, strict=True))
        assert -1.0 <= f["span_type"] <= 1.0
        assert 0.0 <= f["global_cov_sq"] <= 1.0
        assert 0.0 <= confidence(row) <= 1.0
