import math

import pytest

from bot.extract.confidence import (
    CONFIDENCE_FEATURES,
    confidence,
    confidence_features,
    topic_match,
)

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
    topic=0.4,
    heading_cov=0.5,
)


def test_features_follow_the_names():
    f = dict(zip(CONFIDENCE_FEATURES, confidence_features(**_ARGS), strict=True))
    assert f["bias"] == 1.0
    assert f["global_cov_sq"] == pytest.approx(0.49)
    assert f["span_type"] == pytest.approx(math.tanh(0.5) * 0.6)
    assert f["span_score"] == pytest.approx(math.tanh(0.5))
    assert f["topic_match"] == 0.4


def test_squares_and_products_stay_bounded():
    """The squashed span score keeps the product in [-1, 1] however large the linear score."""
    for score in (-1e6, -3.0, 0.0, 40.0, 1e6):
        row = confidence_features(**{**_ARGS, "span_score": score})
        f = dict(zip(CONFIDENCE_FEATURES, row, strict=True))
        assert -1.0 <= f["span_type"] <= 1.0
        assert 0.0 <= f["global_cov_sq"] <= 1.0
        assert 0.0 <= confidence(row) <= 1.0


_IDFS = {"keld": 3.0, "pass": 1.0}


def test_topic_match_rises_with_repetition_and_saturates():
    """A chunk that keeps returning to the question's terms is about them; one mention in
    passing counts less, and each term's share is bounded however often it recurs."""
    other = frozenset({"road"})
    once = [frozenset({"keld", "pass"})] + [other] * 7
    thrice = [frozenset({"keld", "pass"})] * 3 + [other] * 5
    always = [frozenset({"keld", "pass"})] * 8
    assert 0.0 < topic_match(_IDFS, once) < topic_match(_IDFS, thrice) < topic_match(_IDFS, always)
    assert topic_match(_IDFS, always) < 1.0


def test_topic_match_weighs_terms_by_idf():
    rare = [frozenset({"keld"})] + [frozenset()] * 7
    common = [frozenset({"pass"})] + [frozenset()] * 7
    assert topic_match(_IDFS, rare) == pytest.approx(3 * topic_match(_IDFS, common))


def test_topic_match_discounts_long_chunks():
    """The same mentions in a chunk of more sentences are a smaller part of it."""
    short = [frozenset({"keld"})] * 2 + [frozenset()] * 2
    long = [frozenset({"keld"})] * 2 + [frozenset()] * 14
    assert topic_match(_IDFS, short) > topic_match(_IDFS, long)


def test_topic_match_without_terms_or_sentences_is_zero():
    assert topic_match({}, [frozenset({"keld"})]) == 0.0
    assert topic_match(_IDFS, []) == 0.0
    assert topic_match(_IDFS, [frozenset({"road"})]) == 0.0


def test_best_span_reads_topic_and_heading_from_the_hits():
    """``topic_match`` reads the top hit's chunk sentence by sentence; ``heading_cov`` the
    title of the answer's document (``ParagraphIndex`` titles a document by its source)."""
    from bot.extract import best_span, corpus_idf
    from tests.extract.paragraphs import ANALYZER, ParagraphIndex

    index = ParagraphIndex(
        {
            "lighthouse.txt": "The lighthouse was lit in 1902. The lighthouse keeper lived in it.",
            "harbour.txt": "The harbour was dredged in 1887.",
        }
    )

    def features(question):
        got = best_span(question, index.hits(question), index, ANALYZER)
        assert got is not None
        return dict(zip(CONFIDENCE_FEATURES, got[1], strict=True))

    idf = corpus_idf(index)
    idfs = {t: idf(t) for t in ("lighthous", "lit")}
    lit = features("When was the lighthouse lit?")
    sentences = [
        frozenset({"lighthous", "lit", "1902"}),
        frozenset({"lighthous", "keeper", "live"}),
    ]
    assert lit["topic_match"] == pytest.approx(topic_match(idfs, sentences))
    # Only "lighthouse" is in the title.
    assert lit["heading_cov"] == pytest.approx(idfs["lighthous"] / sum(idfs.values()))
    assert features("When was the harbour dredged?")["heading_cov"] > 0.0
    assert features("When was the keeper born?")["heading_cov"] == 0.0
