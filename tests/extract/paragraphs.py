"""A tiny in-test index for extractor unit tests: real Documents, one chunk per paragraph,
chunks ranked by how many question terms they share (enough to hand the extractor hits)."""

from __future__ import annotations

import re

from bot.analyze import Analyzer
from bot.models import Chunk, Document, Hit, IndexStats

ANALYZER = Analyzer()


class ParagraphIndex:
    def __init__(self, texts: dict[str, str]) -> None:
        self.docs = {src: Document.create(src, src, text) for src, text in texts.items()}
        self.chunks: list[Chunk] = []
        for src, doc in self.docs.items():
            for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]*)*", doc.text):
                if m.group().strip():
                    c = Chunk(
                        len(self.chunks),
                        src,
                        None,
                        m.start(),
                        m.end(),
                        doc.line_of(m.start()),
                        m.group(),
                    )
                    self.chunks.append(c)
        self.terms = [set(ANALYZER.terms(c.text)) for c in self.chunks]
        self.stats = IndexStats(len(self.docs), len(self.chunks), 0, 0.0)

    def document(self, source: str) -> Document:
        return self.docs[source]

    def text(self, source: str) -> str:
        return self.docs[source].text

    def title(self, source: str) -> str:
        return self.docs[source].title

    def chunk(self, chunk_id: int) -> Chunk:
        return self.chunks[chunk_id]

    def chunk_ids(self, source: str) -> range:
        ids = [c.id for c in self.chunks if c.source == source]
        return range(ids[0], ids[-1] + 1) if ids else range(0)

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        q = set(terms)
        scored = [(i, float(len(q & t))) for i, t in enumerate(self.terms) if q & t]
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:k]

    def doc_freq(self, term: str) -> int:
        return sum(term in t for t in self.terms)

    def hits(self, question: str, k: int = 8) -> list[Hit]:
        found = self.search(ANALYZER.terms(question), k)
        return [Hit(self.chunks[i], s, r) for r, (i, s) in enumerate(found)]
