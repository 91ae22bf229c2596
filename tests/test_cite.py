import pytest

from bot.cite import cite
from bot.models import Document, Heading


def test_citation_quotes_exactly_the_span():
    text = "Title line\nWhat is it?\nIt holds 40,000 inmates."
    h = Heading(11, 22, 2, "What is it?")
    doc = Document.create("d.txt", "d", text, (h,))
    start = text.index("40,000")
    c = cite(doc, start, start + len("40,000 inmates"))
    assert c.quote == "40,000 inmates" == text[c.start : c.end]
    assert (c.line, c.section, c.source) == (3, "What is it?", "d.txt")


def test_span_outside_the_document_is_refused():
    with pytest.raises(ValueError):
        cite(Document.create("d.txt", "d", "short"), 2, 10)
