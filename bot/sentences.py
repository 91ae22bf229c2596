"""Sentence boundaries as character spans, shared by the chunker and the extractor.

Spans never include surrounding whitespace, so ``text[start:end]`` is the sentence as quoted.
A line break ends a sentence (headings, bullets and one-paragraph-per-line text), except where a
hard-wrapped line visibly continues: no closing punctuation and the next line starts lowercase.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt vs etc eg ie inc ltd co corp no nos fig figs vol pp ed eds
    al approx dept est jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sgt rev
    gov sen rep pres univ ave blvd cf ca op
    """.split()
)
# A terminator, closing quotes/brackets, whitespace, then something that can open a sentence.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
# ``_END`` with the whitespace after it consumed: the terminator ends where group 1 does. The
# pattern opens with a plain character class (not a repeat or a group) so that ``re`` skips
# to the next terminator with a character-set scan instead of trying a match at every position.
_END_GAP = re.compile(r"[.!?…]([.!?…]*+[\"'”’)\]]*+)\s++(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
# A line that continues a wrapped one starts with one of these after its indentation.
_CONTINUATION_START = frozenset("abcdefghijklmnopqrstuvwxyz(,;")
# The text of one physical line without its surrounding whitespace (``\s`` is what
# ``str.isspace`` accepts, so what ``str.strip`` strips).
_LINE_TEXT = re.compile(r"\S(?:[^\n]*\S)?")
_TERMINAL = tuple(".!?:;…\"”')")
_TERMINAL_CHARS = frozenset(_TERMINAL)


# How far before a full stop ``split_sentences`` reads (callers that cache by window use it).
ABBREVIATION_LOOKBACK = 20


def _is_abbreviation(text: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(text, max(0, dot - ABBREVIATION_LOOKBACK), dot)
    if not m:
        return False
    word = m.group(1)
    if "." in word:  # dotted acronym: U.S. e.g. a.m.
        return True
    if len(word) == 1 and word.isupper():  # an initial: "J. Smith"
        return True
    return word.lower() in _ABBREVIATIONS


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split [start, end) into logical lines with text, joining hard-wrapped continuation lines.

    A line joins the one before when that one has text not ending like a sentence and this one
    starts, after any indentation, in lower case. Only the physical line before matters (a
    joined line ends with the text of its last physical line). Blank lines hold no sentence and
    are left out, and each span is trimmed of surrounding whitespace: one regex match per line
    finds its text, so no line is sliced.
    """
    spans: list[tuple[int, int]] = []
    count = text.count
    prev_end = -1  # end of the previous line's text, if that line may continue
    for m in _LINE_TEXT.finditer(text, start, end):
        s, e = m.span()
        # The line just before (one line break between) continues into this one.
        if prev_end >= 0 and text[s] in _CONTINUATION_START and count("\n", prev_end, s) == 1:
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
        prev_end = -1 if text[e - 1] in _TERMINAL_CHARS else e
    return spans


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, in order, as offsets into ``text``."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    append = out.append
    search = _END_GAP.search
    # Lines are trimmed and a sentence end is followed by the whitespace the match consumed, so
    # every sentence is already trimmed: it starts where the gap ends and ends at the terminator.
    # Most lines hold no sentence end, so each line is searched once rather than iterated.
    for ls, le in _line_spans(text, start, end):
        s = ls
        m = search(text, ls, le)
        while m is not None:
            dot = m.start()
            if text[dot] != "." or not _is_abbreviation(text, dot):
                append((s, m.end(1)))
                s = m.end()
            m = search(text, m.end(), le)
        append((s, le))
    return out
