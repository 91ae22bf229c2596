"""Heading detection: markdown syntax, and a heuristic for plain text (and PDF text).

Plain text has no markup, so a heading is recognised by shape: a short standalone line that does
not read like a sentence (no closing period, mostly capitalised words or a short question),
followed by a longer paragraph line. The rules are deliberately conservative: a missed heading
only coarsens sections, while a false one splits a paragraph's chunk and mislabels citations.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from bot.models import Heading

PLAIN_TEXT_LEVEL = 2  # level 1 is left for the document title

_MAX_CHARS = 90
_LINE_BLOCK = 1 << 20  # characters of a text split into lines at a time
_MAX_WORDS = 12
_MIN_TITLE_CASE = 0.75
# Words that stay lowercase in title case, so they do not count against it.
_MINOR_WORDS = frozenset(
    """
    a an the and or nor but so yet of to in on at by for with from as into onto upon via vs per
    than over off out up is are was were be de la le du del von van
    """.split()
)
_BULLET = re.compile(r"^(?:[-*+•◦▪‣–—>|]|\(?[a-z0-9]{1,3}\))(?:\s|$)")
_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.)\s+")
_LINK_OR_HANDLE = re.compile(r"https?://|www\.|\.(?:com|org|net|gov|edu|io)/|@\w|\S+@\S+\.\w")
_NOT_A_HEADING_END = tuple(".,;:…-–—([{/\\")
_OPENING_QUOTES = tuple("\"'“‘«„")
# One character class first (not a repeat), so ``re`` skips whitespace with a charset scan.
_WORD = re.compile(r"\S\S*+")
_ALNUM = re.compile(r"[^\W_]")
_EDGE_PUNCT = "\"'“”‘’«»()[]{}¿¡*_"


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every line, without its newline."""
    pos = 0
    n = len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        end = n if nl == -1 else nl
        yield pos, end
        if nl == -1:
            return
        pos = nl + 1


def _title_case_ratio(words: list[str]) -> float:
    significant = 0
    capitalised = 0
    for i, raw in enumerate(words):
        word = raw.strip(_EDGE_PUNCT)
        # The first alphanumeric character; ``[^\W_]`` is exactly ``str.isalnum``.
        first = _ALNUM.search(word)
        if first is None:
            continue
        if i > 0 and word.lower() in _MINOR_WORDS:
            continue
        significant += 1
        # Digits and scripts without case (CJK, Arabic, ...) do not count against title case.
        if not first.group().islower():
            capitalised += 1
    return capitalised / significant if significant else 0.0


def looks_like_heading(line: str) -> bool:
    """Shape test for one stripped line, ignoring its neighbours."""
    if not line or len(line) > _MAX_CHARS or line[0].islower():
        # A lowercase start cannot carry a section number, so the body would start lowercase:
        # the cheapest rejection of wrapped prose, tested before any regex.
        return False
    if line.endswith(_NOT_A_HEADING_END) or line.startswith(_OPENING_QUOTES):
        return False
    if _BULLET.match(line):
        return False
    # Every link or handle holds one of these; the regex (no literal prefix, so tried at every
    # position) runs only on the few lines that do.
    if ("." in line or "@" in line or "http" in line) and _LINK_OR_HANDLE.search(line):
        return False
    body = _SECTION_NUMBER.sub("", line, count=1)
    if not body or not body[0].isalnum() or body[0].islower():
        return False
    words = _WORD.findall(body)
    if not words or len(words) > _MAX_WORDS:
        return False
    letters = sum(map(str.isalpha, body))
    if letters < 2 or letters < 0.5 * (len(body) - sum(map(str.isspace, body))):
        return False
    if body.endswith("?") and len(words) <= 10:
        return True  # "What is the CECOT?" - questions head FAQ-style sections
    if body.endswith("!"):
        return False
    if body.count(",") > 1 or ". " in body:  # lists and sentences, not titles
        return False
    return _title_case_ratio(words) >= _MIN_TITLE_CASE


def _line_blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """``text.split("\n")`` a block of about ``_LINE_BLOCK`` characters at a time, with the
    offset of each block's first line: a long text's lines are never all held at once."""
    pos, n = 0, len(text)
    while True:
        end = text.find("\n", pos + _LINE_BLOCK) if pos + _LINE_BLOCK < n else -1
        yield pos, (text[pos:] if end == -1 else text[pos:end]).split("\n")
        if end == -1:
            return
        pos = end + 1


def plain_text_headings(text: str) -> tuple[Heading, ...]:
    """Headings of unmarked text: heading-shaped lines followed by a longer paragraph line."""
    out: list[Heading] = []
    # A heading needs every test below to pass; the cheap ones on its neighbours run first, so
    # the shape test runs on few lines (most lines of prose are not followed by a longer one).
    # Each non-empty line waits in ``pending`` (with its offset and the line before it) until
    # the next non-empty line is known.
    pending: tuple[str, int, str] | None = None
    prev = ""  # the stripped line before the current one
    for pos, raw_lines in _line_blocks(text):
        for raw in raw_lines:
            line = raw.strip()
            if line:
                if pending is not None:
                    heading = _plain_heading(*pending, line)
                    if heading is not None:
                        out.append(heading)
                if len(line) <= _MAX_CHARS and not line[0].islower():
                    pending = (line, pos + len(raw) - len(raw.lstrip()), prev)
                else:
                    pending = None  # the first, cheapest rejections of ``looks_like_heading``
            prev = line
            pos += len(raw) + 1
    return tuple(out)


def _plain_heading(line: str, start: int, prev: str, nxt: str) -> Heading | None:
    """``line`` as a heading, given the line before it and the next non-empty line, or None."""
    if len(nxt) <= len(line):
        return None
    if prev and prev.endswith((",", "-", "–", "(", "&")):
        return None  # the line continues a wrapped sentence
    if len(_WORD.findall(nxt)) < 4 or not looks_like_heading(line):
        return None
    if looks_like_heading(nxt) and not nxt.endswith((".", "!", "?", ":")):
        return None  # a run of short lines (an address, a poem, a table) is not a section start
    if prev and looks_like_heading(prev):
        return None  # the end of a run of short lines (an address, a table of contents)
    return Heading(start, start + len(line), PLAIN_TEXT_LEVEL, line)


# --- markdown -----------------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_OR_BLOCK = re.compile(r"^ {0,3}(?:[-*+>]\s|\d{1,9}[.)]\s|#|<|\|)")
_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE_MARKS = re.compile(r"(\*\*|__|\*|_|`|~~)(?=\S)(.+?)(?<=\S)\1")


def strip_inline_markdown(text: str) -> str:
    """Heading text as read: links reduced to their label, emphasis and code marks dropped."""
    text = _INLINE_LINK.sub(r"\1", text)
    prev = None
    while prev != text:
        prev = text
        text = _INLINE_MARKS.sub(r"\2", text)
    return text.strip()


def markdown_headings(text: str) -> tuple[Heading, ...]:
    """ATX (``# Title``) and setext (``Title`` over ``===``/``---``) headings, outside fences."""
    out: list[Heading] = []
    fence: str | None = None
    prev: tuple[int, int] | None = None  # the previous line, if it can be a setext heading
    prev_is_paragraph_start = False
    lines = list(_lines(text))
    i = 0
    # YAML front matter is metadata, not a setext heading over a "---" line.
    if lines and text[lines[0][0] : lines[0][1]].rstrip() == "---":
        for j in range(1, len(lines)):
            if text[lines[j][0] : lines[j][1]].rstrip() in ("---", "..."):
                i = j + 1
                break
    blank_before = True
    while i < len(lines):
        s, e = lines[i]
        line = text[s:e]
        i += 1
        m = _FENCE.match(line)
        if fence is not None:
            closes = m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if closes and not line[m.end() :].strip():
                fence = None
            prev, blank_before = None, False
            continue
        if m and not (m.group(1)[0] == "`" and "`" in line[m.end() :]):
            fence = m.group(1)
            prev, blank_before = None, False
            continue
        if not line.strip():
            prev, blank_before = None, True
            continue
        m = _ATX.match(line)
        if m:
            content_start = s + m.end()
            rest = text[content_start:e]
            closing = _ATX_CLOSING.search(rest)
            if closing:
                rest = rest[: closing.start()]
            rest = rest.rstrip()
            if rest:
                out.append(
                    Heading(
                        content_start,
                        content_start + len(rest),
                        len(m.group(1)),
                        strip_permalink(strip_inline_markdown(rest)),
                    )
                )
            prev, blank_before = None, False
            continue
        m = _SETEXT.match(line)
        if m and prev is not None and prev_is_paragraph_start:
            ps, pe = prev
            raw = text[ps:pe]
            lead = len(raw) - len(raw.lstrip())
            content = raw.strip()
            out.append(
                Heading(
                    ps + lead,
                    ps + lead + len(content),
                    1 if m.group(1)[0] == "=" else 2,
                    strip_permalink(strip_inline_markdown(content)),
                )
            )
            prev, blank_before = None, False
            continue
        # Only a one-line paragraph becomes a setext heading here; a multi-line one would make a
        # heading text with line breaks, which citations cannot show on one line.
        indented_code = line.startswith("    ") and blank_before
        can_head = not indented_code and not _LIST_OR_BLOCK.match(line)
        prev_is_paragraph_start = can_head and (blank_before or prev is None)
        prev = (s, e) if can_head else None
        blank_before = False
    return tuple(out)


# --- permalink marks ------------------------------------------------------------------------

# Documentation generators end each heading with a link to itself: Sphinx and mkdocs write "¶",
# others "#", "§" or a link emoji. It is not part of the section's name.
# "#" only after a space, so "C#" keeps its name.
_PERMALINK = re.compile(r"(?:[ \t\u00a0]*[¶§\U0001f517]|[ \t\u00a0]+#)+[ \t\u00a0]*$")


def strip_permalink(text: str) -> str:
    """``text`` without a trailing permalink mark (``Install ¶`` → ``Install``); a heading that
    is nothing but the mark is kept as it is."""
    stripped = _PERMALINK.sub("", text)
    return stripped if stripped.strip() else text


# --- reStructuredText -----------------------------------------------------------------------

# Any printable non-alphanumeric ASCII character may adorn a reST section title.
_ADORNMENT = re.compile(r"""([!-/:-@\[-`{-~])\1*[ \t]*$""")
_RST_ROLE = re.compile(r":[\w.+-]+:`([^`]*)`")
_RST_LINK = re.compile(r"`([^`<]*?)\s*<[^>]*>`__?")
_RST_MARKS = re.compile(r"(``|\*\*|\*|`)(?=\S)(.+?)(?<=\S)\1_{0,2}")


def strip_inline_rst(text: str) -> str:
    """Heading text as read: roles, links, emphasis and literals reduced to their words."""
    text = _RST_LINK.sub(r"\1", _RST_ROLE.sub(r"\1", text))
    text = _RST_MARKS.sub(r"\2", text)
    return " ".join(text.split())


def _adornment(line: str) -> str | None:
    """The character of an adornment line (``=====``), or None."""
    m = _ADORNMENT.match(line)
    return m.group(1) if m and len(line.rstrip()) >= 2 else None


def rst_headings(text: str) -> tuple[Heading, ...]:
    """Section titles of reStructuredText: a title line under an optional overline and over an
    underline of one repeated punctuation character, at least as long as the title. Levels
    follow the order in which each adornment style first appears, as docutils assigns them;
    the adornment lines are not part of the heading."""
    raw = text.split("\n")
    starts = [0, *itertools.accumulate(len(r) + 1 for r in raw)]
    styles: list[tuple[str, bool]] = []
    out: list[Heading] = []
    i = 0
    while i + 1 < len(raw):
        line = raw[i]
        over = _adornment(line)
        if (
            over is not None
            and i + 2 < len(raw)
            and raw[i + 1].strip()
            and _adornment(raw[i + 2]) == over
            and len(raw[i + 2].rstrip()) == len(line.rstrip())
            and len(raw[i + 1].strip()) <= len(line.rstrip())
        ):
            title_line, style, after = i + 1, (over, True), i + 3
        elif (
            line.strip()
            and not line[0].isspace()
            and over is None
            and (i == 0 or not raw[i - 1].strip())
            and (under := _adornment(raw[i + 1])) is not None
            and len(raw[i + 1].rstrip()) >= min(len(line.rstrip()), 4)
        ):
            title_line, style, after = i, (under, False), i + 2
        else:
            i += 1
            continue
        if style not in styles:
            styles.append(style)
        content = raw[title_line]
        lead = len(content) - len(content.lstrip())
        start = starts[title_line] + lead
        name = strip_permalink(strip_inline_rst(content))
        if name:
            out.append(Heading(start, start + len(content.strip()), styles.index(style) + 1, name))
        i = after
    return tuple(out)
