"""Question → ranked chunks: BM25, then a rerank of the best few by how well they match.

BM25 sums term scores over the whole chunk, so a chunk that repeats the question's common words
("university", "war") can outscore the one whose single sentence holds every rare term of the
question. The rerank looks at what BM25 cannot: whether one sentence of the chunk covers the
question (idf-weighted) and whether the question's word pairs occur in the chunk as pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.analyze import Analyzer
from bot.index import Index, memo_idf
from bot.models import Chunk, Hit
from bot.sentences import split_sentences
from bot.spelling import corrected


@dataclass(frozen=True, slots=True)
class Rerank:
    """How the best ``depth`` BM25 hits are reordered; weights 0 (or depth 0) keep BM25 order.

    A hit's rerank score is ``bm25 / best_bm25 + coverage × sentence coverage + pairs × pair
    coverage + bigrams × bigram share``. Only the head moves, so a chunk BM25 ranks past
    ``depth`` never comes forward however well it matches.
    """

    # Chosen on SQuAD articles 0-7 (gold paragraph @1), under SciFact nDCG@10 >= 0.69: a deeper
    # head or larger bonuses won little more there and cost SciFact, whose claims rarely sit in
    # one sentence of the relevant abstract.
    depth: int = 3
    coverage: float = 1.0
    pairs: float = 0.25  # the same coverage by two adjacent sentences (a pronoun's antecedent)
    bigrams: float = 0.5


RERANK = Rerank()


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(terms))


def match_features(
    chunk_text: str, qterms: Sequence[str], analyzer: Analyzer, term_idf: Callable[[str], float]
) -> tuple[float, float, float]:
    """Each in [0, 1]: the idf-weighted share of the question terms in the chunk's best-covering
    sentence, the same for its best pair of adjacent sentences, and the share of the question's
    term bigrams found as bigrams in the chunk."""
    weights = {t: term_idf(t) for t in qterms}
    total = sum(weights.values())
    if total <= 0.0:
        return 0.0, 0.0, 0.0

    def cover(terms: set[str]) -> float:
        return sum(weights[t] for t in weights.keys() & terms) / total

    best = pair = 0.0
    previous: set[str] = set()
    chunk_terms: list[str] = []
    for s, e in split_sentences(chunk_text):
        terms = analyzer.sentence_terms(chunk_text[s:e])
        chunk_terms += terms
        here = set(terms)
        best = max(best, cover(here))
        pair = max(pair, cover(here | previous))
        previous = here
    q_bigrams = _bigrams(qterms)
    # Bigrams across a sentence boundary count too: the index has no notion of sentences either.
    share = len(q_bigrams & _bigrams(chunk_terms)) / len(q_bigrams) if q_bigrams else 0.0
    return best, pair, share


def rerank(
    scored: Sequence[tuple[Chunk, float]],
    qterms: Sequence[str],
    analyzer: Analyzer,
    term_idf: Callable[[str], float],
    params: Rerank | None = None,
) -> list[tuple[Chunk, float]]:
    """``scored`` (best BM25 first) with its first ``params.depth`` entries reordered by the
    rerank score, which also replaces their score; later entries keep ``bm25 / best_bm25``, so
    scores still fall with rank and stay comparable across the cut."""
    params = params or RERANK
    if not scored:
        return []
    best = scored[0][1]
    if best <= 0.0:
        return list(scored)
    head = []
    for pos, (chunk, score) in enumerate(scored[: params.depth]):
        cov, pair, bigram = match_features(chunk.text, qterms, analyzer, term_idf)
        value = score / best + params.coverage * cov + params.pairs * pair + params.bigrams * bigram
        head.append((-value, pos, chunk, value))
    head.sort()  # position breaks ties, so equal scores keep BM25's order (score, then chunk id)
    return [(c, v) for _, _, c, v in head] + [(c, s / best) for c, s in scored[params.depth :]]


def question_terms(index: Index, analyzer: Analyzer, question: str) -> list[str]:
    """The question's terms, a misspelt one replaced by the index term it was meant as."""
    terms = analyzer.terms(question)
    fixes = dict(corrected(index, terms))
    return [fixes.get(t, t) for t in terms] if fixes else terms


def retrieve(
    index: Index, analyzer: Analyzer, question: str, k: int, params: Rerank | None = None
) -> list[Hit]:
    """The ``k`` best chunks for ``question``; chunks sharing no term are never hits.

    ``Hit.score`` is the rerank score (BM25 relative to the best hit, plus the match bonuses),
    not the raw BM25 score: the extractor reads scores as "how good is this chunk relative to
    the best", and that must agree with the order it is handed.
    """
    params = params or RERANK
    terms = question_terms(index, analyzer, question)
    if not terms or k <= 0:
        return []
    # Always rerank the same head, so the first k hits do not depend on k.
    found = index.search(terms, max(k, params.depth))
    term_idf = memo_idf(index.doc_freq, index.stats.chunks)
    ranked = rerank([(index.chunk(i), s) for i, s in found], terms, analyzer, term_idf, params)
    return [Hit(chunk, score, rank) for rank, (chunk, score) in enumerate(ranked[:k])]
