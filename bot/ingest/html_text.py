"""Readable text from HTML with the standard library parser, keeping heading offsets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.ingest.headings import strip_permalink
from bot.models import Heading

# Content that is never read as part of the page.
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object"})
_BLOCK = frozenset(
    """
    address article aside blockquote body br caption dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main nav ol p pre
    section summary table tbody td tfoot th thead tr ul
    """.split()
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_WHITESPACE = re.compile(r"\s+")


def _is_permalink(attrs: list[tuple[str, str | None]]) -> bool:
    return any(name == "class" and "headerlink" in (value or "").split() for name, value in attrs)


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.pending_break = False
        self.pending_space = False
        self.skip_depth = 0
        self.in_head = False
        self.in_title = False
        self.title_parts: list[str] = []
        self.pre_depth = 0
        self.permalink_depth = 0  # open <a class="headerlink"> elements, skipped
        self.open_heading: tuple[int, int | None] | None = None  # (level, start offset)
        self.headings: list[Heading] = []

    # -- output ---------------------------------------------------------------------------
    def _write(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def _text(self, s: str) -> None:
        if not s:
            return
        if self.pre_depth:
            # Preformatted text keeps its spacing; only trailing blanks of each line go.
            pieces = s.split("\n")
            for i, piece in enumerate(pieces):
                if i:
                    self._break()
                self._emit(piece.rstrip() if i < len(pieces) - 1 else piece)
            return
        if s[0].isspace():
            self.pending_space = True
        words = _WHITESPACE.sub(" ", s).strip()
        if words:
            self._emit(words)
            if s[-1].isspace():
                self.pending_space = True

    def _emit(self, s: str) -> None:
        if not s:
            return
        if self.length:
            if self.pending_break:
                self._write("\n")
            elif self.pending_space:
                self._write(" ")
        self.pending_break = self.pending_space = False
        if self.open_heading is not None and self.open_heading[1] is None:
            self.open_heading = (self.open_heading[0], self.length)
        self._write(s)

    def _break(self) -> None:
        self.pending_break = True
        self.pending_space = False

    # -- parser callbacks ----------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "a" and _is_permalink(attrs):
            # Sphinx's and mkdocs' "¶" after each heading: a link to itself, not text.
            self.permalink_depth += 1
            self.skip_depth += 1
            return
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            self.in_head = False
        elif tag == "title":
            self.in_title = True
        if tag == "pre":
            self.pre_depth += 1
        if tag in _BLOCK:
            self._break()
            if tag != "html":
                self.in_head = False  # sloppy pages start their body without closing <head>
        if tag in _HEADINGS and not self.skip_depth:
            self._close_heading()
            self.open_heading = (_HEADINGS[tag], None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP or (tag == "a" and self.permalink_depth):
            if tag == "a":
                self.permalink_depth -= 1
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "head":
            self.in_head = False
        elif tag == "title":
            self.in_title = False
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag in _HEADINGS:
            self._close_heading()
        if tag in _BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.skip_depth or self.in_head:
            return
        self._text(data)

    def _close_heading(self) -> None:
        if self.open_heading is None:
            return
        level, start = self.open_heading
        self.open_heading = None
        if start is None:
            return
        text = "".join(self.parts)[start:] if len(self.parts) < 64 else self._tail(start)
        stripped = strip_permalink(text.rstrip())
        if stripped:
            self.headings.append(Heading(start, start + len(stripped), level, stripped))

    def _tail(self, start: int) -> str:
        # Collect parts backwards until ``start``: headings are short, the document may not be.
        out: list[str] = []
        pos = self.length
        for part in reversed(self.parts):
            out.append(part)
            pos -= len(part)
            if pos <= start:
                break
        return "".join(reversed(out))[start - pos :]


def extract_html(markup: str) -> tuple[str, str, tuple[Heading, ...]]:
    """(text, title, headings) of an HTML page; title is "" when the page has none."""
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    parser._close_heading()
    text = "".join(parser.parts)
    title = _WHITESPACE.sub(" ", "".join(parser.title_parts)).strip()
    headings = tuple(h for h in parser.headings if text[h.start : h.end] == h.text)
    return text, title, headings
