import math
import random

import numpy as np
import pytest
import rank_bm25

from bot.analyze import Analyzer
from bot.index import BM25Params, LuceneBM25, idf
from bot.index.bm25 import accumulate, top_k
from bot.index.build import chunk_terms
from bot.models import Document
from tests.index.conftest import WORDS, write_doc


def reference(index, analyzer, params):
    docs = {s: index.document(s) for s in index.sources()}
    corpus = []
    for cid in range(index.stats.chunks):
        c = index.chunk(cid)
        corpus.append(
            chunk_terms(analyzer, docs[c.source].title, c.section, c.text, params.include_headings)
        )
    return LuceneBM25(corpus, k1=params.k1, b=params.b)


def reference_top(bm25, terms, k):
    scores = bm25.get_scores(terms)
    order = np.argsort(-scores, kind="stable")
    return [(int(i), float(scores[i])) for i in order[:k] if scores[i] > 0]


def test_idf_is_lucene_and_positive():
    assert idf(1, 10) == math.log(1 + 9.5 / 1.5)
    assert all(idf(n, 10) > 0 for n in range(11))
    okapi = rank_bm25.BM25Okapi([["a", "b"], ["a"]])
    assert okapi.idf["a"] <= 0 < LuceneBM25([["a", "b"], ["a"]]).idf["a"]


def test_fast_path_equals_reference_bit_for_bit(make_store, corpus):
    rng = random.Random(7)
    for i in range(40):
        write_doc(corpus / f"d{i:02d}.md", rng, sections=4, sentences=14)
    store = make_store(chunk_tokens=30)
    store.update(corpus)
    index = store.load()
    assert index.stats.chunks > 1000
    analyzer = Analyzer()
    bm25 = reference(index, analyzer, store.params)
    queries = [[rng.choice(WORDS) for _ in range(rng.randint(1, 5))] for _ in range(60)]
    queries += [["lorum", "lorum", "ipex"], ["unknownterm", "ipum"], ["unknownterm"]]
    for terms in queries:
        for k in (1, 10, 50):
            assert index.search(terms, k) == reference_top(bm25, terms, k), (terms, k)


def test_params_and_no_headings_match_reference(make_store, corpus):
    rng = random.Random(3)
    for i in range(5):
        write_doc(corpus / f"d{i}.md", rng)
    params = BM25Params(k1=1.7, b=0.3, include_headings=False)
    store = make_store(params=params)
    store.update(corpus)
    index = store.load()
    bm25 = reference(index, Analyzer(), params)
    for terms in (["section"], ["title", "lorum"], ["conex", "amis", "conex"]):
        assert index.search(terms, 20) == reference_top(bm25, terms, 20)
    # Without headings, the title's words are only found in the chunk that holds the title line.
    assert len(index.search(["titl"], 1000)) == 5 < index.stats.chunks


def test_headings_are_indexed_with_every_chunk(make_store, corpus):
    write_doc(corpus / "d.md", random.Random(1))
    store = make_store()
    store.update(corpus)
    index = store.load()
    assert index.stats.chunks > 2
    assert len(index.search(["titl"], 1000)) == index.stats.chunks


def test_term_in_every_chunk_still_scores(make_store, corpus):
    (corpus / "one.txt").write_text("Capacity matters. " * 200, encoding="utf-8")
    store = make_store(chunk_tokens=20)
    store.update(corpus)
    index = store.load()
    assert index.stats.chunks > 3
    hits = index.search(Analyzer().terms("capacity"), 100)
    assert len(hits) == index.stats.chunks
    assert all(score > 0 for _, score in hits)


def test_top_k_ties_break_by_id():
    scores = np.array([0.0, 2.0, 1.0, 2.0, 2.0, 0.5])
    assert top_k(scores, 2) == [(1, 2.0), (3, 2.0)]
    assert top_k(scores, 10) == [(1, 2.0), (3, 2.0), (4, 2.0), (2, 1.0), (5, 0.5)]
    assert top_k(scores, 0) == []
    assert top_k(np.zeros(3), 3) == []


@pytest.mark.parametrize("seed", range(4))
def test_top_k_from_postings_is_top_k_of_every_score(seed):
    # Scores rounded to a few values so that ties at the k-th are common; postings overlap, one
    # repeats (a repeated query term), and the long one takes the sampling path.
    rng = np.random.default_rng(seed)
    n = 50_000
    postings = [np.sort(rng.choice(n, size, replace=False)) for size in (20_000, 3_000, 40)]
    postings.append(postings[1])
    weighted = [(ids, np.round(rng.uniform(0.1, 3.0, len(ids)), 1)) for ids in postings]
    scores = accumulate(n, weighted)
    for k in (1, 3, 10, 100, 5_000, 30_000):
        assert top_k(scores, k, postings) == top_k(scores, k), k
    assert top_k(scores, 10, postings[2:3]) != top_k(scores, 10)  # it reads what it is given


def test_accumulate_adds_duplicates():
    ids = np.array([0, 2], dtype=np.int32)
    w = np.array([0.5, 1.5])
    assert accumulate(3, [(ids, w), (ids, w)]).tolist() == [1.0, 0.0, 3.0]


def test_chunk_terms_joins_title_section_text():
    a = Analyzer()
    doc = Document.create("x.md", "Prisons", "Capacity of CECOT")
    assert chunk_terms(a, doc.title, "Sizes", doc.text, True) == [
        "prison",
        "size",
        "capac",
        "cecot",
    ]
    assert chunk_terms(a, doc.title, "Sizes", doc.text, False) == ["capac", "cecot"]
