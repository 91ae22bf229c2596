"""Sentence boundaries as character spans, shared by the chunker and the extractor.

Spans never include surrounding whitespace, so ``text[start:end]`` is the sentence as quoted.
A line break ends a sentence (headings, bullets and one-paragraph-per-line text), except where a
hard-wrapped line visibly continues: no closing punctuation and the next line starts lowercase.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

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


# -- many ranges of one document at once (the chunker) ---------------------------------------------

# Every character ``str.isspace`` accepts, and every character ``_END`` names, is below this code
# point (tests/test_sentences.py checks the spaces).
_FLAG_LIMIT = 0x3001
_SPACE, _TERM, _CLOSE, _OPEN, _CAP, _CONT, _ENDS_LINE = (1 << k for k in range(7))


@functools.cache
def _flag_table() -> np.ndarray:
    """Character classes of ``_END``, ``_CONTINUES``, ``_TERMINAL`` and ``str.isspace``, as bits
    of one byte per code point; code points at or above the limit are in none of them."""
    table = np.zeros(_FLAG_LIMIT + 1, dtype=np.uint8)
    for c in range(_FLAG_LIMIT):
        if chr(c).isspace():
            table[c] |= _SPACE
    classes = {
        _TERM: ".!?…",
        _CLOSE: "\"'”’)]",
        _OPEN: "\"'“‘([",
        _CAP: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        + "".join(map(chr, [*range(0xC0, 0xD7), *range(0xD8, 0xDF)])),
        _CONT: "abcdefghijklmnopqrstuvwxyz(,;",
        _ENDS_LINE: "".join(_TERMINAL),
    }
    for bit, chars in classes.items():
        for ch in chars:
            table[ord(ch)] |= bit
    return table


def code_points(text: str) -> np.ndarray:
    """The code point of every character: one byte each for ASCII text, which is the usual
    case and four times smaller."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _next_at(positions: np.ndarray, at: np.ndarray, none: int) -> np.ndarray:
    """The first of ``positions`` (sorted) at or after each of ``at``, or ``none``."""
    k = np.searchsorted(positions, at)
    if not len(positions):
        return np.full(len(k), none, dtype=np.int64)
    return np.where(k < len(positions), positions[np.minimum(k, len(positions) - 1)], none)


def _abbreviations(text: str, codes: np.ndarray, dots: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """For each of ``runs``, whether it is one of ``dots`` and ``_is_abbreviation`` holds there.

    ``_WORD_BEFORE`` searched up to a dot finds the leftmost letter, within the lookback, from
    which only letters and dots lead to the dot - or to a line break just before the dot, where
    ``$`` matches too. Only the words short enough to be in ``_ABBREVIATIONS`` are looked up as
    strings.
    """
    found = np.zeros(len(runs), dtype=bool)
    if not len(dots):
        return found
    window = np.maximum(dots - ABBREVIATION_LOOKBACK, 0)
    dots = dots - ((dots > 0) & (codes[np.maximum(dots - 1, 0)] == ord("\n")))
    folded = codes | 0x20
    letter = (folded >= ord("a")) & (folded <= ord("z"))
    period = codes == ord(".")
    breaks = np.flatnonzero(~(letter | period))
    letters = np.flatnonzero(letter)
    periods = np.flatnonzero(period)
    k = np.searchsorted(breaks, dots)
    run_start = np.where(k > 0, breaks[np.maximum(k - 1, 0)] + 1, 0) if len(breaks) else 0
    lo = np.maximum(run_start, window)
    j = np.searchsorted(letters, lo)
    word = (
        np.where(j < len(letters), letters[np.minimum(j, max(len(letters) - 1, 0))], dots)
        if len(letters)
        else dots
    )
    word = np.minimum(word, dots)  # no letter before the dot: no match
    length = dots - word
    dotted = np.searchsorted(periods, dots) - np.searchsorted(periods, word) > 0
    initial = (
        (length == 1)
        & (codes[np.maximum(dots - 1, 0)] >= ord("A"))
        & (codes[np.maximum(dots - 1, 0)] <= ord("Z"))
    )
    hit = (length > 0) & (dotted | initial)
    longest = max(map(len, _ABBREVIATIONS))
    for i in np.flatnonzero((length > 1) & (length <= longest) & ~hit).tolist():
        w, d = int(word[i]), int(dots[i])
        hit[i] = text[w:d].lower() in _ABBREVIATIONS
    found[np.searchsorted(runs, dots)] = hit
    return found


def split_sentences_many(
    text: str, ranges: Sequence[tuple[int, int]], codes: np.ndarray | None = None
) -> list[list[tuple[int, int]]]:
    """``[split_sentences(text, s, e) for s, e in ranges]``, exactly, for ranges in order that do
    not overlap, with the per-character work done in numpy for the whole text at once.

    ``split_sentences`` ends a sentence at every line break that does not join a wrapped line
    and at every ``_END`` match (not after an abbreviation) inside a logical line, then trims
    whitespace. Here ``_END`` is matched over each whole range, from character classes: a match
    starts at the first of a run of terminators, takes the closing marks after the run and needs
    whitespace and then a sentence opening; backtracking cannot help it, since giving back a
    character leaves a terminator or closing mark, not whitespace, after the match. Matching a
    whole range rather than each line only adds matches at the end of a logical line, where the
    lookahead sees the next line; they end a sentence where the line break ends it anyway, and
    what lies between is whitespace, which trimming drops. ``codes`` is ``code_points(text)``.
    """
    if not ranges:
        return []
    if codes is None:
        codes = code_points(text)
    n_text = len(codes)
    table = _flag_table()
    flags = table[codes] if codes.dtype == np.uint8 else table[np.minimum(codes, _FLAG_LIMIT)]
    solid = np.flatnonzero((flags & _SPACE) == 0)
    bounds = np.array(ranges, dtype=np.int64).reshape(-1, 2)
    range_start, range_end = bounds[:, 0], bounds[:, 1]

    def clip(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The positions inside some range, with that range's start and end."""
        r = np.searchsorted(range_end, positions, side="right")
        r = np.minimum(r, len(bounds) - 1)
        inside = (positions >= range_start[r]) & (positions < range_end[r])
        return positions[inside], range_start[r[inside]], range_end[r[inside]]

    # Line breaks. One joins two lines when the line before it (within the range) has text that
    # does not end like a sentence, and the line after it starts in lower case.
    newlines = np.flatnonzero(codes == ord("\n"))
    previous = np.append(-1, newlines[:-1])
    following = np.append(newlines[1:], n_text)
    breaks, lo_r, hi_r = clip(newlines)
    if len(breaks):
        k = np.searchsorted(newlines, breaks)
        line_start = np.maximum(previous[k] + 1, lo_r)
        line_end = np.minimum(following[k], hi_r)
        nxt = _next_at(solid, breaks, n_text)
        j = np.searchsorted(solid, breaks)
        last = np.where(j > 0, solid[np.maximum(j - 1, 0)], -1) if len(solid) else j - 1
        joined = (
            (last >= line_start)
            & (nxt < line_end)
            & ((flags[np.maximum(last, 0)] & _ENDS_LINE) == 0)
            & ((flags[np.minimum(nxt, n_text - 1)] & _CONT) != 0)
        )
        breaks = breaks[~joined]

    # _END: each run of terminators (a run cut by a range's start begins at that start).
    term = (flags & _TERM) != 0
    first = np.flatnonzero(term & ~np.append(False, term[:-1]))
    cut = range_start[(range_start > 0) & (range_start < n_text)]
    cut = cut[term[cut] & term[cut - 1]]
    runs, lo_r, hi_r = clip(np.unique(np.append(first, cut)) if len(cut) else first)
    stops = np.minimum(_next_at(np.flatnonzero(~term), runs, n_text), hi_r)
    stops = np.minimum(_next_at(np.flatnonzero((flags & _CLOSE) == 0), stops, n_text), hi_r)
    opening = _next_at(solid, stops, n_text)
    at = flags[np.minimum(opening, n_text - 1)]
    then = flags[np.minimum(opening + 1, n_text - 1)]
    ok = (
        (stops < hi_r)
        & (opening > stops)
        & (opening < hi_r)
        & (((at & _CAP) != 0) | (((at & _OPEN) != 0) & (opening + 1 < hi_r) & ((then & _CAP) != 0)))
    )
    runs, stops = runs[ok], stops[ok]
    if len(runs):
        stops = stops[~_abbreviations(text, codes, runs[codes[runs] == ord(".")], runs)]

    # A piece ends at a line break, after a terminator or at a range's end; the next starts after
    # a line break, after a terminator or at the next range's start.
    ends = np.concatenate((breaks, stops, range_end[:-1]))
    nexts = np.concatenate((breaks + 1, stops, range_start[1:]))
    order = np.lexsort((nexts, ends))
    ends = np.append(ends[order], range_end[-1])
    nexts = np.append(range_start[0], nexts[order])
    lo = np.searchsorted(solid, nexts)
    hi = np.searchsorted(solid, ends)
    keep_piece = lo < hi
    lo, hi, nexts = lo[keep_piece], hi[keep_piece], nexts[keep_piece]
    spans = list(zip(solid[lo].tolist(), (solid[hi - 1] + 1).tolist(), strict=True))
    per_range = np.bincount(
        np.searchsorted(range_start, nexts, side="right") - 1, minlength=len(bounds)
    ).tolist()
    out: list[list[tuple[int, int]]] = []
    done = 0
    for n in per_range:
        out.append(spans[done : done + n])
        done += n
    return out
