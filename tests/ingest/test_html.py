import pytest

from bot.ingest import UnreadableFile

PAGE = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>  Tide   Tables &amp; Notes </title>
<style>body { color: red; }</style>
<script>var x = "<h1>fake</h1>";</script>
</head>
<body>
<nav><a href="/">Home</a></nav>
<h1>Harbour   <em>Guide</em></h1>
<p>Boats leave at 6&nbsp;am &mdash; weather permitting.
   Fees are &lt;10&euro;.</p>
<h2>Opening Hours</h2>
<ul><li>Monday</li><li>Tuesday</li></ul>
<p>Closed on <b>Sundays</b>.<br>Call ahead.</p>
<noscript>Enable JavaScript</noscript>
<pre>
  code  block
</pre>
</body></html>
"""


def test_html_text_headings_and_title(read):
    doc = read("page.html", PAGE)
    assert "fake" not in doc.text
    assert "color" not in doc.text
    assert "JavaScript" not in doc.text
    assert "Tide" not in doc.text  # the title is not body text
    assert doc.title == "Tide Tables & Notes"
    assert "Harbour Guide" in doc.text
    assert "Boats leave at 6 am — weather permitting. Fees are <10€." in doc.text
    assert "Monday\nTuesday" in doc.text
    assert "Closed on Sundays.\nCall ahead." in doc.text
    assert "  code  block" in doc.text
    assert "  " not in doc.text.replace("  code  block", "")
    assert [(h.text, h.level) for h in doc.headings] == [
        ("Harbour Guide", 1),
        ("Opening Hours", 2),
    ]
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.text
        assert doc.text[h.start - 1] == "\n"


def test_title_falls_back_to_first_h1_then_stem(read):
    assert read("a.htm", "<h1>Main Topic</h1><p>Body text.</p>").title == "Main Topic"
    assert read("b.htm", "<p>Only a paragraph.</p>").title == "b"


def test_declared_legacy_charset(read):
    data = '<meta charset="windows-1252"><p>Crème brûlée</p>'.encode("cp1252")
    assert read("c.html", data).text == "Crème brûlée"


def test_html_without_text_is_unreadable(read):
    with pytest.raises(UnreadableFile):
        read("d.html", "<html><head><script>x()</script></head><body></body></html>")


def test_binary_html_is_unreadable(read):
    with pytest.raises(UnreadableFile, match="binary"):
        read("e.html", b"\x00\x01\x02<html>" * 20)


def test_malformed_markup_still_reads(read):
    doc = read("f.html", "<p>Unclosed <b>bold <i>and</p> <h2>Tail</h2><p>end text here")
    assert "Unclosed bold and" in doc.text
    assert [h.text for h in doc.headings] == ["Tail"]


def test_unclosed_head_does_not_hide_the_body(read):
    doc = read("g.html", "<html><head><title>T</title><p>Visible body text.</p>")
    assert doc.text == "Visible body text."
