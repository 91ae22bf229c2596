import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.headings import (
    PLAIN_TEXT_LEVEL,
    looks_like_heading,
    markdown_headings,
    plain_text_headings,
)
from bot.models import Heading

PARAGRAPH = "This paragraph explains the topic in enough words to be a real paragraph line."


@pytest.mark.parametrize(
    "line",
    [
        "Installation",
        "Frequently Asked Questions",
        "Chapter 3: The Return",
        "How to Install the App on Windows",
        "What does the warranty cover?",
        "2.1 Scope and Purpose",
        "Terrorism Confinement Center (CECOT)",
        "RESULTS AND DISCUSSION",
        "Bukele’s Proposal",
    ],
)
def test_heading_shapes(line):
    assert looks_like_heading(line)
    text = f"Intro line that is a sentence.\n{line}\n{PARAGRAPH}\n"
    (h,) = plain_text_headings(text)
    assert (h.text, h.level) == (line, 2)
    assert text[h.start : h.end] == line


@pytest.mark.parametrize(
    "line",
    [
        "We sold the house and moved to the coast last year.",
        "The meeting ended early",
        "- First Item In The List",
        "* Another Bullet",
        "• Bullet Point",
        "— Jane Doe (@janedoe) March 3, 2024",
        "See More at https://Example.com/Page",
        "Read This… pic.twitter.com/AbC123",
        "Contact Us: Info@Example.Org",
        "“Quoted Words Here”",
        "Apples, Pears, Plums, Figs",
        "Notes:",
        "Wow!",
        "12345 67890",
        "a lowercase start",
        "An Extremely Long Line That Keeps Going With Capitalised Words Well Past Any Reasonable "
        "Heading Length",
    ],
)
def test_not_heading_shapes(line):
    assert not looks_like_heading(line)
    assert plain_text_headings(f"Intro line that is a sentence.\n{line}\n{PARAGRAPH}\n") == ()


def test_heading_needs_a_longer_paragraph_after_it():
    assert plain_text_headings("Installation\nRun it.\n") == ()
    assert plain_text_headings("Installation\n") == ()


def test_runs_of_short_lines_are_not_headings():
    text = "John Smith\n42 Harbour Road\nPort Town\n" + PARAGRAPH
    assert plain_text_headings(text) == ()


def test_wrapped_sentence_continuation_is_not_a_heading():
    text = "The list of places we visited includes the old mill,\nThe Harbour Bridge\n" + PARAGRAPH
    assert plain_text_headings(text) == ()


def test_blank_lines_between_heading_and_paragraph():
    text = "\n\n  Getting Started  \n\n" + PARAGRAPH
    (h,) = plain_text_headings(text)
    assert text[h.start : h.end] == "Getting Started"


def test_markdown_setext_needs_a_one_line_paragraph():
    text = "first line of a paragraph\nsecond line\n---\n\nAlone\n===\n"
    assert [h.text for h in markdown_headings(text)] == ["Alone"]


def test_markdown_hash_without_space_is_not_a_heading():
    assert markdown_headings("#hashtag\n#5 on the list\n") == ()
    assert [h.level for h in markdown_headings("###### Six\n####### Seven\n")] == [6]


# --- plain_text_headings against a line-by-line reference -----------------------------------


def _reference_plain_text_headings(text: str) -> tuple[Heading, ...]:
    """The rules of ``plain_text_headings`` applied line by line, the slow obvious way."""
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    stripped = [text[s:e].strip() for s, e in lines]
    out = []
    for i, line in enumerate(stripped):
        if not looks_like_heading(line):
            continue
        nxt = next((stripped[j] for j in range(i + 1, len(stripped)) if stripped[j]), "")
        if len(nxt) <= len(line) or len(nxt.split()) < 4:
            continue
        if looks_like_heading(nxt) and not nxt.endswith((".", "!", "?", ":")):
            continue
        prev = stripped[i - 1] if i > 0 else ""
        if prev and (prev.endswith((",", "-", "–", "(", "&")) or looks_like_heading(prev)):
            continue
        s, e = lines[i]
        start = s + len(text[s:e]) - len(text[s:e].lstrip())
        out.append(Heading(start, start + len(line), 2, line))
    return tuple(out)


_line = st.one_of(
    st.sampled_from(
        [
            "Installation",
            "  Frequently Asked Questions ",
            "2.1 Scope and Purpose",
            "What does it cover?",
            "RESULTS",
            "- Bullet Item",
            "\u00a0Indented Title\t",
            "",
            "   ",
            "Hello, World, Again",
            PARAGRAPH,
            "and a wrapped continuation of the previous sentence, going on.",
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs",), max_codepoint=0x3000), max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_line, max_size=14))
def test_plain_text_headings_match_line_by_line_reference(lines):
    text = "\n".join(lines)
    assert plain_text_headings(text) == _reference_plain_text_headings(text)


def _reference_plain_text_headings(text: str) -> tuple[Heading, ...]:
    """The detector before its tests were reordered for speed: every heading-shaped line first,
    then its neighbours."""
    raw = text.split("\n")
    stripped = [line.strip() for line in raw]
    candidates = [i for i, line in enumerate(stripped) if looks_like_heading(line)]
    line_starts = [0, *itertools.accumulate(len(line) + 1 for line in raw)]
    out = []
    for i in candidates:
        line = stripped[i]
        nxt = next((stripped[j] for j in range(i + 1, len(stripped)) if stripped[j]), "")
        if len(nxt) <= len(line) or len(re.findall(r"[^\s]+", nxt)) < 4:
            continue
        if looks_like_heading(nxt) and not nxt.endswith((".", "!", "?", ":")):
            continue
        prev = stripped[i - 1] if i > 0 else ""
        if prev and prev.endswith((",", "-", "–", "(", "&")):
            continue
        if prev and looks_like_heading(prev):
            continue
        start = line_starts[i] + len(raw[i]) - len(raw[i].lstrip())
        out.append(Heading(start, start + len(line), PLAIN_TEXT_LEVEL, line))
    return tuple(out)


_LINES = st.sampled_from(
    [
        "",
        "   ",
        "Introduction",
        "  The Second Part  ",
        "What is the CECOT?",
        "1.2 Getting Started",
        "Dear Sir,",
        "Main Street 12 -",
        "a lowercase line that goes on for a while here",
        "This paragraph line is long enough to follow a heading, with words.",
        "Short line.",
        "Another Title Case Line Here",
        "— dash bullet",
        "See https://example.com for More",
        "Four words follow here.",
        "Ends with colon:",
        "x" * 95,
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINES, max_size=14), st.sampled_from(["\n", "\n\n", " \n"]))
def test_plain_text_headings_equal_the_reference(lines, sep):
    text = sep.join(lines)
    assert plain_text_headings(text) == _reference_plain_text_headings(text)


def test_plain_text_headings_equal_the_reference_on_fixtures():
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    for path in sorted(fixtures.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert plain_text_headings(text) == _reference_plain_text_headings(text)
