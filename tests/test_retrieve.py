"""Retrieval: BM25 hits, then the rerank of the best few by sentence coverage and bigrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyze import Analyzer
from bot.engine import Engine
from bot.models import Chunk
from bot.retrieve import Rerank, match_features, rerank, retrieve

AN = Analyzer()
QUESTION = "When did the Widener library of Harvard open?"
QTERMS = AN.terms(QUESTION)
RARE = {AN.term("Widener"), AN.term("open")}


def idf(term: str) -> float:
    # Rare terms carry the question; "library" and "Harvard" are everywhere in this corpus.
    return 5.0 if term in RARE else 0.5


def chunk(i: int, text: str) -> Chunk:
    return Chunk(i, f"doc{i}.txt", None, 0, len(text), 1, text)


# Repeats the common question words; the rare ones are in different sentences.
COMMON = chunk(
    0,
    "Harvard has a library. The Harvard library is the largest library. Widener was a "
    "donor. Harvard libraries open early. Library cards are free at Harvard.",
)
# One sentence holds every question term, in the question's order.
COVERING = chunk(
    1,
    "The Widener library of Harvard opened in 1915. It holds some three million volumes on "
    "fifty miles of shelves. Its reading room is named after a benefactor who died at sea.",
)
NEITHER = chunk(2, "Harvard students read in the library.")


def order(scored, params: Rerank | None = None) -> list[int]:
    return [c.id for c, _ in rerank(scored, QTERMS, AN, idf, params)]


def test_match_features_reward_the_sentence_that_covers_the_rare_terms():
    cov, pair, bigrams = match_features(COVERING.text, QTERMS, AN, idf)
    assert cov == pytest.approx(1.0) and pair == pytest.approx(1.0)
    assert bigrams == pytest.approx(1.0)  # widen-librari, librari-harvard, harvard-open
    cov, pair, bigrams = match_features(COMMON.text, QTERMS, AN, idf)
    # The best sentence has "Harvard", "library" and "open" but not "Widener".
    assert cov == pytest.approx((0.5 + 0.5 + 5.0) / 11.0)
    assert pair > cov  # "Widener was a donor." next to it completes the question
    assert bigrams == pytest.approx(1 / 3)  # only "Harvard library"


def test_covering_sentence_overtakes_a_higher_bm25_score_from_common_terms():
    scored = [(COMMON, 10.0), (COVERING, 8.0), (NEITHER, 7.0)]
    assert order(scored, Rerank(depth=0)) == [0, 1, 2]
    ranked = rerank(scored, QTERMS, AN, idf)
    assert [c.id for c, _ in ranked] == [1, 0, 2]
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(0.8 + 1.0 + 0.25 + 0.5)


def test_a_large_bm25_lead_is_not_overturned():
    assert order([(COMMON, 10.0), (COVERING, 2.0)]) == [0, 1]


def test_only_the_head_is_reordered_and_scores_still_fall_with_rank():
    scored = [(COMMON, 10.0), (NEITHER, 9.0), (COVERING, 8.0)]
    ranked = rerank(scored, QTERMS, AN, idf, Rerank(depth=2))
    assert [c.id for c, _ in ranked] == [0, 2, 1]  # COVERING is past the head: it stays last
    assert ranked[2][1] == pytest.approx(0.8)  # past the head: BM25 relative to the best
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)


def test_ties_keep_the_bm25_order():
    twins = [chunk(i, COVERING.text) for i in (7, 3, 5)]
    assert order([(c, 4.0) for c in twins]) == [7, 3, 5]
    assert order([(c, 4.0) for c in twins], Rerank(coverage=0.0, pairs=0.0, bigrams=0.0)) == [
        7,
        3,
        5,
    ]


def test_no_question_terms_or_no_hits():
    assert rerank([], QTERMS, AN, idf) == []
    assert match_features(COVERING.text, [], AN, idf) == (0.0, 0.0, 0.0)
    scored = [(NEITHER, 2.0), (COVERING, 1.9)]
    assert [c.id for c, _ in rerank(scored, [], AN, idf)] == [2, 1]  # no bonus: BM25 order


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("retrieve")
    corpus = root / "corpus"
    corpus.mkdir()
    for c in (COMMON, COVERING, NEITHER):
        Path(corpus / c.source).write_text(c.text + "\n", encoding="utf-8")
    filler = "Students walk across the yard to lectures and seminars every morning."
    for i in range(3, 9):
        Path(corpus / f"doc{i}.txt").write_text(f"{filler} Item {i}.\n", encoding="utf-8")
    return Engine.open(corpus, root / "index")


def test_retrieve_reranks_a_real_index(engine: Engine):
    bm25 = retrieve(engine.index, engine.analyzer, QUESTION, 3, Rerank(depth=0))
    assert [h.chunk.source for h in bm25][:2] == ["doc0.txt", "doc1.txt"]
    hits = retrieve(engine.index, engine.analyzer, QUESTION, 3)
    assert [h.chunk.source for h in hits][:2] == ["doc1.txt", "doc0.txt"]
    assert [h.rank for h in hits] == list(range(len(hits)))


def test_the_first_hits_do_not_depend_on_k(engine: Engine):
    full = retrieve(engine.index, engine.analyzer, QUESTION, 10)
    for k in range(1, len(full) + 1):
        assert retrieve(engine.index, engine.analyzer, QUESTION, k) == full[:k]


@pytest.mark.parametrize("question", ["", "   ", "the of and?", "zyzzyva quokka"])
def test_questions_without_indexed_terms_have_no_hits(engine: Engine, question: str):
    assert retrieve(engine.index, engine.analyzer, question, 5) == []


def test_no_hits_for_k_zero(engine: Engine):
    assert retrieve(engine.index, engine.analyzer, QUESTION, 0) == []
