"""Question → ranked chunks."""

from __future__ import annotations

from bot.analyze import Analyzer
from bot.index import Index
from bot.models import Hit


def retrieve(index: Index, analyzer: Analyzer, question: str, k: int) -> list[Hit]:
    """The ``k`` best-scoring chunks for ``question``; chunks sharing no term are never hits."""
    terms = analyzer.terms(question)
    if not terms or k <= 0:
        return []
    return [
        Hit(index.chunk(chunk_id), score, rank)
        for rank, (chunk_id, score) in enumerate(index.search(terms, k))
    ]
