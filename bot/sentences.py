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
_CONTINUES = re.compile(r"[a-z(,;]")
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
    """Split [start, end) into logical lines, joining hard-wrapped continuation lines."""
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        if spans and pos > spans[-1][1]:
            prev_s, prev_e = spans[-1]
            prev = text[prev_s:prev_e].rstrip()
            cur = text[pos:line_end].lstrip()
            gap = text[prev_e:pos]
            if (
                prev
                and cur
                and gap.count("\n") == 1
                and not prev.endswith(_TERMINAL)
                and _CONTINUES.match(cur)
            ):
                spans[-1] = (prev_s, line_end)
                pos = line_end + 1
                continue
        spans.append((pos, line_end))
        pos = line_end + 1
    return spans


def _trim(text: str, s: int, e: int) -> tuple[int, int] | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if s < e else None


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, in order, as offsets into ``text``."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    for ls, le in _line_spans(text, start, end):
        s = ls
        for m in _END.finditer(text, ls, le):
            dot = m.start()
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            span = _trim(text, s, m.end())
            if span:
                out.append(span)
            s = m.end()
        span = _trim(text, s, le)
        if span:
            out.append(span)
    return out
