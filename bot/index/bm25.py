"""BM25 scoring: one IDF, the rank-bm25 reference that uses it, and the fast path's arithmetic.

The fast path precomputes each posting's contribution with exactly the float64 expression and
operation order of ``rank_bm25.BM25Okapi.get_scores``, and adds contributions per query term in
query order, so its scores are bit-identical to the reference's, not merely close.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import rank_bm25


@dataclass(frozen=True, slots=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    include_headings: bool = True  # index the title and section text with each chunk

    def config(self) -> dict[str, object]:
        return {"k1": self.k1, "b": self.b, "include_headings": self.include_headings}


def idf(n: int, total: int) -> float:
    """Lucene's IDF: positive for any document frequency ``n`` out of ``total``.

    BM25Okapi's ``log((N - n + 0.5) / (n + 0.5))`` is zero at n = N/2 and negative above, so on a
    corpus of a few chunks the one term that matters would score nothing.
    """
    return math.log(1.0 + (total - n + 0.5) / (n + 0.5))


def memo_idf(doc_freq: Callable[[str], int], total: int) -> Callable[[str], float]:
    """Term → ``idf``, memoised: for the life of one question, whose terms are looked up again
    for every chunk and sentence."""
    memo: dict[str, float] = {}

    def term_idf(term: str) -> float:
        value = memo.get(term)
        if value is None:
            value = memo[term] = idf(doc_freq(term), total)
        return value

    return term_idf


class LuceneBM25(rank_bm25.BM25Okapi):
    """rank-bm25's BM25Okapi with Lucene's IDF: the reference the fast path must equal."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {word: idf(freq, self.corpus_size) for word, freq in nd.items()}
        self.average_idf = sum(self.idf.values()) / len(self.idf) if self.idf else 0.0


def idf_array(doc_freq: np.ndarray, total: int) -> np.ndarray:
    """``idf`` per term, computed with ``math.log`` so it equals the reference bit for bit
    (numpy's vectorised log may differ in the last place). Document frequencies repeat (most
    terms are rare), so each distinct one is computed once."""
    values, inverse = np.unique(np.asarray(doc_freq), return_inverse=True)
    per_value = np.fromiter(
        (idf(n, total) for n in values.tolist()), dtype=np.float64, count=len(values)
    )
    return per_value[inverse.reshape(-1)]


def avg_length(lengths: np.ndarray) -> float:
    """rank-bm25's ``avgdl``: integer total over integer count, as a Python float."""
    return int(lengths.sum(dtype=np.int64)) / len(lengths) if len(lengths) else 0.0


def posting_weights(
    term_idf: np.ndarray,
    tf: np.ndarray,
    chunk: np.ndarray,
    chunk_len: np.ndarray,
    avgdl: float,
    params: BM25Params,
) -> np.ndarray:
    """Each posting's score contribution; ``term_idf``, ``tf`` and ``chunk`` are given per
    posting, ``chunk_len`` per chunk.

    Written as rank-bm25 writes it: ``idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)))``
    with ``b * dl / avgdl`` evaluated left to right. The length norm is computed once per chunk
    and the rest in place: the same operations on the same values, so the same floats, in
    less of the build's serial tail.
    """
    k1, b = params.k1, params.b
    if not len(tf):  # avgdl is 0 when no chunk has a term: no norm to compute
        return np.zeros(0, dtype=np.float64)
    norm = ((1 - b) + (b * chunk_len.astype(np.float64)) / avgdl)[chunk]
    tf = tf.astype(np.float64)
    norm *= k1
    norm += tf
    tf *= k1 + 1
    tf /= norm
    tf *= term_idf
    return tf


def top_k(
    scores: np.ndarray, k: int, postings: Sequence[np.ndarray] | None = None
) -> list[tuple[int, float]]:
    """The ``k`` best positive scores as (id, score), score descending then id ascending.

    Ties at the k-th score are resolved by id, the order a stable sort of the reference gives.
    ``postings``, the id arrays ``scores`` was accumulated from, let it skip the ids no posting
    holds without reading every score (``_contenders``).
    """
    if k <= 0:
        return []
    ids = np.flatnonzero(scores > 0) if postings is None else _contenders(scores, k, postings)
    if len(ids) == 0:
        return []
    vals = scores[ids]
    if len(ids) > k:
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        keep = vals >= kth
        ids, vals = ids[keep], vals[keep]
    order = np.lexsort((ids, -vals))[:k]
    # tolist() converts in C; a per-element int()/float() is slow for a large k.
    return list(zip(ids[order].tolist(), vals[order].tolist(), strict=True))


_SAMPLE = 50


def _contenders(scores: np.ndarray, k: int, postings: Sequence[np.ndarray]) -> np.ndarray:
    """The ids of ``postings`` (each array without repeats) whose score is positive and could
    be among the ``k`` best: a superset of the ``k`` best and of every tie with the
    k-th. The k-th best score of a sample of distinct ids is at most the k-th best of all, so
    nothing below it can be among them; comparing the postings' scores with it replaces a scan
    of every chunk's score (a query's postings are a few percent of the chunks) and leaves a
    few hundred ids to partition instead of thousands."""
    longest = max(postings, key=len)
    floor = 0.0
    # The k-th best of a sample of 50 × k ids sits near the best 2 % of the longest postings, so
    # about that share of them is kept; a smaller sample keeps more, a larger one costs more.
    stride = len(longest) // (_SAMPLE * k)
    if stride >= 2:
        sample = scores[longest[::stride]]
        floor = float(np.partition(sample, len(sample) - k)[len(sample) - k])
    ids = postings[0] if len(postings) == 1 else np.concatenate(postings)
    vals = scores[ids]
    ids = ids[vals >= floor if floor > 0.0 else vals > 0.0]
    if len(postings) > 1:  # a chunk in several postings is there once for each
        ids.sort()
        ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
    return ids


def accumulate(n_chunks: int, postings: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Score array from (chunk ids, weights) per query term, added in query order."""
    scores = np.zeros(n_chunks, dtype=np.float64)
    for ids, weights in postings:
        # Chunk ids within one term's postings are unique, so buffered fancy-index add is exact.
        scores[ids] += weights
    return scores
