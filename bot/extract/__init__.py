"""Extractive answers: the question's expected answer type, typed span candidates from the
sentences of the top chunks, a linear span scorer and a confidence for abstaining.

``extract`` returns the best span with its confidence; the engine withholds it below
``MIN_CONFIDENCE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Protocol

from bot.analyze import Analyzer, words
from bot.extract.candidates import word_cache
from bot.extract.confidence import chunk_sentences, confidence, confidence_features, topic_match
from bot.extract.features import FEATURES
from bot.extract.qtype import question_type
from bot.extract.rank import rank_lazily
from bot.index.bm25 import idf, memo_idf
from bot.models import Chunk, Document, Extraction, Hit, IndexStats

# Fitted with the weights (``python -m bot.evaluate.train``): the confidence that keeps 93.5% of
# in-corpus SQuAD tuning questions answered in ``citebot eval``, which shows the whole curve.
MIN_CONFIDENCE: float = float(
    json.loads((Path(__file__).with_name("weights.json")).read_text(encoding="utf-8")).get(
        "threshold", 0.5
    )
)
# Chunks whose sentences are read; retrieval hands over ``EngineOptions.candidates`` hits.
MAX_CHUNKS = 8

_STRIP = " \t\r\n.,;:!?\"'“”‘’()[]{}«»—–-…*•·/\\|"
_TYPE_MATCH = FEATURES.index("type_match")
_CONTEXT_COV = FEATURES.index("context_cov")


class DocumentSource(Protocol):
    # Extraction reads a document's text and title only; ``Index.document`` also decodes its
    # headings and line starts, which only the cited document needs (``Engine`` loads those).
    def text(self, source: str) -> str: ...
    def title(self, source: str) -> str: ...
    def chunk(self, chunk_id: int) -> Chunk: ...


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim whitespace and punctuation from both ends (a currency sign or % stays)."""
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    return start, end


def document_cache(index: DocumentSource) -> Callable[[str], Document]:
    """Source → its text and title as a Document, memoised for one question. Decoding the
    headings and line starts of every ranked document was a tenth of an answer's time."""
    docs: dict[str, Document] = {}

    def document(source: str) -> Document:
        doc = docs.get(source)
        if doc is None:
            doc = docs[source] = Document(source, index.title(source), index.text(source))
        return doc

    return document


class Searchable(DocumentSource, Protocol):
    stats: IndexStats

    def doc_freq(self, term: str) -> int: ...


def corpus_idf(index: Searchable) -> Callable[[str], float]:
    """Term → the BM25 idf the index scores with, memoised for one question."""
    return memo_idf(index.doc_freq, index.stats.chunks)


def _absent_idf(index: Searchable) -> float:
    """The idf of a term no chunk contains: the largest idf the index can give."""
    return idf(0, index.stats.chunks)


def idf_absent(value: float, index: Searchable) -> bool:
    """True when ``value`` is the idf of a term no chunk contains."""
    return value >= _absent_idf(index) - 1e-9


def question_names(question: str, analyzer: Analyzer) -> set[str]:
    """Terms of the capitalised words of the question after its first word: the proper names
    it is about, which a corpus that can answer it must contain."""
    out = set()
    for i, m in enumerate(words(question)):
        w = m.group()
        if i > 0 and w[:1].isupper():
            t = analyzer.term(w)
            if t is not None:
                out.add(t)
    return out


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def best_span(
    question: str, hits: list[Hit], index: Searchable, analyzer: Analyzer
) -> tuple[Extraction, tuple[float, ...]] | None:
    """The best span and the confidence model's features for it (training reads these)."""
    if not hits:
        return None
    qtype = question_type(question)
    document = document_cache(index)
    idf = corpus_idf(index)
    # Only the best span and the runner-up are read: the lazy ranking scores just the
    # sentences that could hold them.
    ranking = rank_lazily(question, qtype, hits, document, analyzer, max_chunks=MAX_CHUNKS, idf=idf)
    top = None
    for s in islice(ranking.spans, 50):
        text = document(s.sentence.source).text
        start, end = strip_span(text, s.candidate.start, s.candidate.end)
        if start < end:
            top, answer = s, _norm(text[start:end])
            break
    if top is None:
        return None
    runner_up = runner_up_text = None
    for s in islice(ranking.spans, 1, 200):
        raw = document(s.sentence.source).text[s.candidate.start : s.candidate.end]
        other = _norm(raw)
        if other not in answer and answer not in other:
            runner_up, runner_up_text = s, " ".join(raw.strip(_STRIP).split())
            break
    weights = ranking.weights
    total = sum(weights.values()) or 1.0
    chunk = next(h.chunk for h in hits if h.chunk.id == top.sentence.chunk_id)
    # The same sets ``analyzer.terms`` gives, from the cache the ranker filled.
    cached = word_cache(analyzer)
    chunk_terms = cached.terms(chunk.text)
    names = question_names(question, analyzer)
    sentence_terms = cached.terms(
        document(top.sentence.source).text[top.sentence.start : top.sentence.end]
    )
    idfs = {t: idf(t) for t in weights}
    idf_total = sum(idfs.values()) or 1.0
    heading = cached.terms(document(chunk.source).title) | cached.terms(chunk.section or "")
    features = confidence_features(
        sent_cov=top.sent_cov,
        context_cov=float(top.features[_CONTEXT_COV]),
        chunk_cov=sum(w for t, w in weights.items() if t in chunk_terms) / total,
        found=len(ranking.found) / max(1, len(weights)),
        type_match=float(top.features[_TYPE_MATCH]),
        margin=top.score - runner_up.score if runner_up is not None else 1.0,
        span_score=top.score,
        n_terms=len(weights),
        names_found=len(names & chunk_terms) / len(names) if names else 1.0,
        missing_names=len(names - ranking.found),
        global_cov=sum(v for t, v in idfs.items() if t in sentence_terms) / idf_total,
        absent=sum(1 for t in weights if idf_absent(idfs[t], index)) / max(1, len(weights)),
        chunks=index.stats.chunks,
        topic=topic_match(idfs, chunk_sentences(hits[0], document, cached)),
        heading_cov=sum(v for t, v in idfs.items() if t in heading) / idf_total,
    )
    found = Extraction(
        source=top.sentence.source,
        start=start,
        end=end,
        sentence_start=top.sentence.start,
        sentence_end=top.sentence.end,
        confidence=confidence(features),
        answer_type=qtype.kind,
        chunk_id=top.sentence.chunk_id,
        score=top.score,
        runner_up=runner_up_text,
        runner_up_score=runner_up.score if runner_up is not None else None,
    )
    return found, features


def extract(
    question: str, hits: list[Hit], index: Searchable, analyzer: Analyzer
) -> Extraction | None:
    """The best answer span for ``question`` among the sentences of ``hits``, or None when no
    sentence shares a term with the question."""
    best = best_span(question, hits, index, analyzer)
    return best[0] if best is not None else None


__all__ = ["MAX_CHUNKS", "MIN_CONFIDENCE", "best_span", "document_cache", "extract", "strip_span"]
