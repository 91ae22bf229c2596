"""Contract details (issue #18, item 8): offsets with a byte order mark, UTF-16 and UTF-32
files, full-width numbers, and the true reason a file is skipped."""

from __future__ import annotations

import codecs

import pytest

from bot.engine import Engine
from bot.ingest import UnreadableFile

SENTENCE = "The ferry leaves at nine o'clock from the northern pier every morning."
BODY = f"Harbour Timetable\n\n{SENTENCE}\nTickets are sold on board.\n"


def test_offsets_of_a_file_with_a_utf8_bom_count_from_after_the_mark(tmp_path):
    """The README's promise: a .txt file's text as Python reads it, the mark stripped."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = corpus / "bom.txt"
    path.write_bytes(codecs.BOM_UTF8 + BODY.encode("utf-8"))
    engine = Engine.open(corpus, tmp_path / "index")
    answer = engine.ask("when does the ferry leave")
    assert answer.answered
    [c] = answer.citations
    text = path.read_bytes().decode("utf-8-sig")  # what the README says the offsets index
    assert text[c.start : c.end] == c.quote == answer.answer
    assert path.read_text(encoding="utf-8")[c.start : c.end] != c.quote  # BOM not counted
    assert engine.index.document("bom.txt").text == BODY


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_are_read(read, codec):
    data = BODY.encode(codec)
    if codec.endswith(("-le", "-be")):  # no byte order mark: told by its zero bytes
        assert not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    doc = read("wide.txt", data)
    assert doc.text == BODY
    assert doc.title == "Harbour Timetable"


def test_utf16_with_a_bom_is_answered_with_exact_offsets(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.md").write_bytes(BODY.encode("utf-16"))
    answer = Engine.open(corpus, tmp_path / "index").ask("when does the ferry leave")
    [c] = answer.citations
    assert BODY[c.start : c.end] == c.quote


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"caf\xc3 \x81 and more text", "not UTF-8 (byte 0xc3 at offset 3), nor cp1252 text"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8a\x00", "invalid UTF-16 text (bad bytes at offset 2)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\x00", "binary file (it holds NUL bytes)"),
    ],
)
def test_unreadable_files_are_named_with_the_true_reason(read, data, reason):
    with pytest.raises(UnreadableFile) as err:
        read("x.txt", data)
    assert err.value.reason == reason


def test_full_width_numbers_are_found_by_plain_digits(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "prison.txt").write_text(
        "The prison has a capacity of ４０，０００ inmates.\nIt opened in 2023.\n",
        encoding="utf-8",
    )
    (corpus / "other.txt").write_text("The museum has a capacity of 300 visitors.\n")
    hits = Engine.open(corpus, tmp_path / "index").ask("capacity 40000").sources
    assert hits[0].chunk.source == "prison.txt"
