"""Extraction reads documents through ``document_cache``: their text and title, each document
once per question, never the whole ``document`` with its headings and line starts."""

from __future__ import annotations

from bot.extract import document_cache
from bot.models import Document
from tests.extract.paragraphs import ParagraphIndex


class CountingIndex(ParagraphIndex):
    """Counts what extraction asks of the index."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__(texts)
        self.calls: list[tuple[str, str]] = []

    def document(self, source: str) -> Document:
        self.calls.append(("document", source))
        return super().document(source)

    def text(self, source: str) -> str:
        self.calls.append(("text", source))
        return super().text(source)

    def title(self, source: str) -> str:
        self.calls.append(("title", source))
        return super().title(source)


def test_ranking_documents_hold_the_text_and_title_read_once():
    index = CountingIndex({"a.txt": "First line.\nSecond line.\n", "b.txt": "Other text.\n"})
    document = document_cache(index)
    for _ in range(3):
        for source in ("a.txt", "b.txt"):
            doc, full = document(source), index.docs[source]
            assert (doc.source, doc.title, doc.text) == (full.source, full.title, full.text)
    assert sorted(index.calls) == [
        ("text", "a.txt"),
        ("text", "b.txt"),
        ("title", "a.txt"),
        ("title", "b.txt"),
    ]
