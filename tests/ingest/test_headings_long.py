"""Plain-text headings of a long text are found a block of lines at a time, exactly as over
the whole list of lines (the reference below is the earlier, whole-list implementation)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.ingest.headings as headings_module
from bot.ingest.headings import (
    _MAX_CHARS,
    _WORD,
    PLAIN_TEXT_LEVEL,
    Heading,
    looks_like_heading,
    plain_text_headings,
)


def reference_headings(text: str) -> tuple[Heading, ...]:
    """Headings of unmarked text: heading-shaped lines followed by a longer paragraph line."""
    raw = text.split("\n")  # the lines of ``_lines``, without their line breaks
    stripped = [line.strip() for line in raw]
    # A heading needs every test below to pass; the cheap ones on its neighbours run first, so
    # the shape test runs on few lines (most lines of prose are not followed by a longer one).
    following = [""] * len(stripped)  # the next non-empty line after each line
    nxt = ""
    for i in range(len(stripped) - 1, -1, -1):
        following[i] = nxt
        if stripped[i]:
            nxt = stripped[i]
    line_starts: list[int] | None = None
    out: list[Heading] = []
    for i, line in enumerate(stripped):
        if not line or len(line) > _MAX_CHARS or line[0].islower():
            continue  # the first, cheapest rejections of ``looks_like_heading``
        nxt = following[i]
        if len(nxt) <= len(line):
            continue
        prev = stripped[i - 1] if i > 0 else ""
        if prev and prev.endswith((",", "-", "–", "(", "&")):
            continue  # the line continues a wrapped sentence
        if len(_WORD.findall(nxt)) < 4 or not looks_like_heading(line):
            continue
        if looks_like_heading(nxt) and not nxt.endswith((".", "!", "?", ":")):
            continue  # a run of short lines (an address, a poem, a table) is not a section start
        if prev and looks_like_heading(prev):
            continue  # the end of a run of short lines (an address, a table of contents)
        if line_starts is None:
            line_starts = [0, *itertools.accumulate(len(r) + 1 for r in raw)]
        start = line_starts[i] + len(raw[i]) - len(raw[i].lstrip())
        out.append(Heading(start, start + len(line), PLAIN_TEXT_LEVEL, line))
    return tuple(out)


LINES = ["Harbour Timetable", "The ferry leaves at nine o'clock from the northern pier today.",
         "", "  What Is the Ferry?", "lower case line", "A Wrapped,", "Tickets and Prices",
         "Short", "1. Introduction", "   ", "Sold on board by the crew, in cash or by card.",
         "x" * 95, "Main Street 5", "Contact Us"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=60), st.sampled_from([1, 5, 40, 1 << 20]))
def test_block_wise_headings_equal_the_whole_list(lines, block):
    text = "\n".join(lines)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(headings_module, "_LINE_BLOCK", block)
        assert plain_text_headings(text) == reference_headings(text)
