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
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
# A line that continues a wrapped one: lower case (or "(", ",", ";") after leading whitespace;
# ``\s`` is what ``str.lstrip`` strips.
_CONTINUES_LINE = re.compile(r"\s*[a-z(,;]")
# A span without its surrounding whitespace (``\s`` is what ``str.isspace`` accepts).
_SOLID = re.compile(r"\S(?:.*\S)?", re.DOTALL)
_TERMINAL = tuple(".!?:;…\"”')")


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
    joined line ends with the text of its last physical line), so no logical line is sliced.
    Blank lines hold no sentence and are left out.
    """
    spans: list[tuple[int, int]] = []
    pos = start
    can_continue = False
    find = text.find
    continues = _CONTINUES_LINE.match
    while pos < end:
        nl = find("\n", pos, end)
        line_end = end if nl == -1 else nl
        tail = text[pos:line_end].rstrip()
        if can_continue and continues(text, pos, line_end):
            spans[-1] = (spans[-1][0], line_end)
        elif tail:
            spans.append((pos, line_end))
        can_continue = bool(tail) and not tail.endswith(_TERMINAL)
        pos = line_end + 1
    return spans


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, in order, as offsets into ``text``."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    solid = _SOLID.search
    for ls, le in _line_spans(text, start, end):
        s = ls
        for m in _END.finditer(text, ls, le):
            dot = m.start()
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            span = solid(text, s, m.end())
            if span:
                out.append(span.span())
            s = m.end()
        span = solid(text, s, le)
        if span:
            out.append(span.span())
    return out
