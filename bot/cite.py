"""Span offsets → a citation a reader can follow back to the document."""

from __future__ import annotations

from bot.models import Citation, Document


def cite(doc: Document, start: int, end: int) -> Citation:
    if not 0 <= start < end <= len(doc.text):
        raise ValueError(f"span {start}:{end} is outside {doc.source} ({len(doc.text)} chars)")
    heading = doc.section_at(start)
    return Citation(
        source=doc.source,
        title=doc.title,
        section=heading.text if heading else None,
        line=doc.line_of(start),
        start=start,
        end=end,
        quote=doc.text[start:end],
    )
