import os

import pytest

from bot.ingest import CorpusFile, UnreadableFile, read_document
from tests.ingest.conftest import FIXTURES


def seed():
    path = FIXTURES / "seed.txt"
    st = path.stat()
    return read_document(CorpusFile("seed.txt", path, st.st_size, st.st_mtime_ns))


def test_txt_text_is_exactly_what_python_reads():
    doc = seed()
    assert doc.text == (FIXTURES / "seed.txt").read_text(encoding="utf-8")
    assert doc.source == "seed.txt"


def test_seed_title_is_the_stem_because_the_first_line_is_long():
    assert seed().title == "seed"


def test_seed_headings():
    doc = seed()
    assert [(h.text, h.level) for h in doc.headings] == [
        ("Bukele’s Proposal", 2),
        ("What is the CECOT?", 2),
        ("Is It Legal to Send U.S. Citizens to El Salvador?", 2),
    ]
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.text


def test_short_first_line_is_the_title(read):
    doc = read(
        "notes.txt", "Release Notes\nThis release fixes the importer and adds two options.\n"
    )
    assert doc.title == "Release Notes"


def test_universal_newlines_match_read_text(read, tmp_path):
    raw = "Line one.\r\nLine two.\rLine three.\n"
    doc = read("crlf.txt", raw)
    assert doc.text == (tmp_path / "crlf.txt").read_text(encoding="utf-8")
    assert doc.text == "Line one.\nLine two.\nLine three.\n"
    assert doc.line_of(doc.text.index("three")) == 3


def test_bom_is_dropped(read):
    doc = read("bom.txt", b"\xef\xbb\xbfHello there, this is a file with a byte order mark.")
    assert doc.text.startswith("Hello")


def test_latin1_fallback(read):
    doc = read("old.txt", "Café crème, naïve façade – déjà vu.".encode("cp1252"))
    assert doc.text == "Café crème, naïve façade – déjà vu."


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (it holds NUL bytes)"),
        (b"text with a \x00 nul byte in it", "binary file (it holds NUL bytes)"),
        (bytes(range(1, 32)) * 40, "binary file (it holds control characters)"),
    ],
)
def test_binary_is_unreadable(read, data, reason):
    with pytest.raises(UnreadableFile) as err:
        read("blob.txt", data)
    assert err.value.reason == reason
    assert err.value.source == "blob.txt"
    assert str(err.value) == reason


@pytest.mark.parametrize("data", [b"", b"   \n\t\n  ", b"\xef\xbb\xbf\n"])
def test_empty_is_unreadable(read, data):
    with pytest.raises(UnreadableFile) as err:
        read("empty.md", data)
    assert err.value.reason == "empty file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("hidden words", encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(UnreadableFile, match="permission denied"):
            read_document(CorpusFile("secret.txt", path, 12, 0))
    finally:
        path.chmod(0o644)


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFile):
        read_document(CorpusFile("gone.txt", tmp_path / "gone.txt", 1, 0))


def test_endoftext_marker_is_plain_text(read):
    doc = read("tok.txt", "A file that mentions <|endoftext|> in its body text.")
    assert "<|endoftext|>" in doc.text


MD = """---
title: front matter
---
# Getting *Started* #

Intro paragraph with words.

```python
# not a heading
print("x")
```

~~~
## also not a heading
~~~

Setext Title
============

Some text here.

Sub Section
-----------

    # indented code, not a heading

## [Linked](https://example.com) heading ##
- a list item
---
Trailing text.
"""


def test_markdown_headings_and_raw_text(read):
    doc = read("guide.md", MD)
    assert doc.text == MD
    got = [(doc.text[h.start : h.end], h.text, h.level) for h in doc.headings]
    assert got == [
        ("Getting *Started*", "Getting Started", 1),
        ("Setext Title", "Setext Title", 1),
        ("Sub Section", "Sub Section", 2),
        ("[Linked](https://example.com) heading", "Linked heading", 2),
    ]
    assert doc.title == "Getting Started"


def test_markdown_without_headings_uses_first_short_line(read):
    doc = read("plain.markdown", "Shopping list\n\nEggs, milk and bread for the weekend.\n")
    assert doc.title == "Shopping list"
    assert doc.headings == ()


def test_markdown_title_prefers_level_one(read):
    doc = read("x.md", "## Preface\n\ntext\n\n# The Book\n\nmore text\n")
    assert doc.title == "The Book"


def test_unclosed_fence_hides_the_rest(read):
    doc = read("x.md", "# Top\n```\n# inside\n")
    assert [h.text for h in doc.headings] == ["Top"]


def test_unreadable_reason_is_one_line():
    err = UnreadableFile("a.pdf", "broken\nPDF:  bad   xref")
    assert (err.source, err.reason, str(err)) == (
        "a.pdf",
        "broken PDF: bad xref",
        "broken PDF: bad xref",
    )
