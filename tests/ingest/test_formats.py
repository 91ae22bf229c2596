"""reStructuredText and Word documents, and heading permalink marks (issue #17, section 4)."""

from __future__ import annotations

import io

import docx
import pytest

from bot.ingest import UnreadableFile
from bot.ingest.headings import strip_permalink

RST = """\
=============
 Ferry Guide
=============

The harbour ferry serves the islands all year.

Timetable
=========

The ferry leaves at *nine* o'clock.

Winter ``service``
------------------

Fewer crossings run in winter.

----

Tickets
=======

Sold on board.

    Indented text
    =============

Not a heading
=
"""


def test_rst_headings_without_their_adornment_lines(read):
    doc = read("guide.rst", RST)
    assert doc.text == RST
    got = [(h.text, h.level, doc.text[h.start : h.end]) for h in doc.headings]
    assert got == [
        ("Ferry Guide", 1, "Ferry Guide"),
        ("Timetable", 2, "Timetable"),
        ("Winter service", 3, "Winter ``service``"),
        ("Tickets", 2, "Tickets"),
    ]
    assert doc.title == "Ferry Guide"
    # The section of a sentence is its heading, never an underline.
    offset = doc.text.index("Fewer crossings")
    assert doc.section_at(offset).text == "Winter service"


def _docx_bytes() -> bytes:
    d = docx.Document()
    d.core_properties.title = ""
    d.add_heading("Ferry Guide", level=0)  # the Title style
    d.add_paragraph("The harbour ferry serves the islands all year.")
    d.add_heading("Timetable", level=1)
    d.add_paragraph("The ferry leaves at nine o'clock.")
    table = d.add_table(rows=2, cols=2)
    for r, row in enumerate([("Day", "Departures"), ("Monday", "3")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_heading("Winter ¶", level=2)
    d.add_paragraph("Fewer crossings run in winter.")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_docx_text_tables_and_heading_styles(read):
    doc = read("guide.docx", _docx_bytes())
    assert doc.text.split("\n") == [
        "Ferry Guide",
        "The harbour ferry serves the islands all year.",
        "Timetable",
        "The ferry leaves at nine o'clock.",
        "Day\tDepartures",
        "Monday\t3",
        "Winter ¶",
        "Fewer crossings run in winter.",
    ]
    got = [(h.text, h.level, doc.text[h.start : h.end]) for h in doc.headings]
    assert got == [
        ("Ferry Guide", 1, "Ferry Guide"),
        ("Timetable", 1, "Timetable"),
        ("Winter", 2, "Winter ¶"),
    ]
    assert doc.title == "Ferry Guide"


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"plain text, not a docx"])
def test_a_broken_docx_is_skipped_with_its_reason(read, data):
    with pytest.raises(UnreadableFile, match=r"not a Word \.docx file"):
        read("broken.docx", data)


SPHINX = """<html><head><title>Guide</title></head><body>
<h1>Ferry Guide<a class="headerlink" href="#ferry-guide" title="Link to this heading">¶</a></h1>
<p>The harbour ferry serves the islands all year.</p>
<h2 id="t">Timetable <a class="headerlink" href="#t">#</a></h2>
<p>The ferry leaves at nine o'clock.</p>
<h2>Tickets ¶</h2>
<p>Sold on board.</p>
<h3>C#</h3><p>A language.</p>
</body></html>"""


def test_permalink_marks_are_not_part_of_section_names(read):
    doc = read("guide.html", SPHINX)
    assert [h.text for h in doc.headings] == ["Ferry Guide", "Timetable", "Tickets", "C#"]
    assert "¶" not in doc.text.split("Tickets")[0]  # the headerlink anchors are not text
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.text
    md = read("guide.md", "# Ferry Guide ¶\n\nText here.\n\n## Timetable #\n\nMore.\n")
    assert [h.text for h in md.headings] == ["Ferry Guide", "Timetable"]


@pytest.mark.parametrize(
    ("text", "name"),
    [("Install¶", "Install"), ("Install ¶", "Install"), ("Usage #", "Usage"), ("C#", "C#"),
     ("F# ¶", "F#"), ("¶", "¶"), ("Links 🔗", "Links")],
)  # fmt: skip
def test_strip_permalink(text, name):
    assert strip_permalink(text) == name


def test_a_docx_that_expands_beyond_reason_is_not_parsed(read, monkeypatch):
    import zipfile

    from bot.ingest import readers

    monkeypatch.setattr(readers, "_MAX_DOCX_EXPANDED", 1048576)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (3 * 1048576))
    assert len(out.getvalue()) < 20_000
    with pytest.raises(UnreadableFile, match="Word file expands to 3 MB"):
        read("bomb.docx", out.getvalue())
