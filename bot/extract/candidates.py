"""Typed answer candidates inside one sentence: quantities, money, percentages, dates, names
and short phrases, as offsets into the document text.

Typed patterns come first because a regex knows that "$115 million" or "February 4, 2025" is one
unit; generic phrases are word n-grams that neither start nor end on a stop word, which is a
cheap stand-in for the constituents a parser would give.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.analyze import STOPWORDS, Analyzer, words
from bot.extract.qtype import DATE, MONEY, NAME, NUMBER, PERCENT, PHRASE


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:\s(?:hundred|thousand|million|billion|trillion)\b|\s?(?:bn|m)\b)"
_NUMBER_WORDS = sorted(
    _word_set(
        """
        one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
        sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
        ninety hundred thousand million billion dozen
        """
    )
)
_ORDINAL = (
    r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
    r"|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth"
    r"|eighteenth|nineteenth|twentieth|twenty-first)"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        MONEY,
        re.compile(
            rf"(?:US\$|A\$|C\$|\$|£|€|¥|₹)\s?(?:{_NUM}){_SCALE}?"
            rf"|(?:{_NUM})(?:\s(?:hundred|thousand|million|billion|trillion))?\s"
            r"(?:dollars|pounds|euros|yen|francs|marks|guilders|livres|rupees|yuan|pesos"
            r"|crowns|shillings|pence|cents)\b"
        ),
    ),
    (PERCENT, re.compile(rf"(?:{_NUM})\s?(?:%|percent\b|per cent\b)")),
    (
        DATE,
        re.compile(
            rf"\b{_MONTH}\.?\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?\b"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?{_MONTH}(?:,?\s\d{{4}})?\b"
            rf"|\b{_MONTH}(?:,?\s\d{{4}})\b"
            r"|\b\d{1,4}\s?(?:BC|AD|BCE|CE)\b|\b(?:AD|BC)\s\d{1,4}\b"
            r"|\b\d{4}\s?[–-]\s?\d{2,4}\b"
            rf"|\b{_ORDINAL}[\s-]century\b"
            r"|\b(?:1\d|20)\d0s\b"
            r"|(?<![\d,.$£€])\b(?:1[0-9]\d\d|20\d\d)\b(?![,.]\d)"
            r"|\b(?:January|February|March|April|June|July|August|September|October|November"
            r"|December)\b",
        ),
    ),
    (
        NUMBER,
        re.compile(
            rf"(?<![\d,.])(?:{_NUM}){_SCALE}?(?![\d])"
            rf"|\b(?:{'|'.join(_NUMBER_WORDS)})(?:[\s-](?:{'|'.join(_NUMBER_WORDS)}|and))*\b",
            re.IGNORECASE,
        ),
    ),
]
_UNIT_WORD = re.compile(r"[-\s]([a-z][a-z]+)\b")
# Lower-case words that may sit inside a proper name: "University of Warsaw", "Vincent van Gogh".
_NAME_JOINERS = _word_set(
    """
    of de da van von der del la le du di bin ibn al the and
    """
)
NAME_GAP = re.compile(r"^(?:\s|-|\.\s?|\s&\s)$")
_PHRASE_GAP = re.compile(r"^(?:\s|-|–|/|')$")
_POSSESSIVE = ("'s", "’s")
MAX_PHRASE_WORDS = 7
# Stop words a phrase may contain inside: they join noun phrases ("Museum of the Polish Army");
# any other (is, was, that ...) means the n-gram spans a clause, not a constituent.
_PHRASE_JOINERS = _word_set(
    """
    of and the a an in for on to with de 's
    """
)
MAX_NAME_WORDS = 6


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str
    term: str | None  # analysed term; None for stop words
    cap: bool  # starts with a capital letter


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int  # offsets in the document text
    end: int
    kind: str
    first: int  # index of its first and last word in the sentence's word list
    last: int
    unit: str | None = None  # the noun after a number ("inmates")


def sentence_words(text: str, start: int, end: int, analyzer: Analyzer) -> list[Word]:
    return [
        Word(start + s, start + e, w, t, cap)
        for s, e, w, t, cap in _cached_words(analyzer)(text[start:end])
    ]


_WORD_CACHES: weakref.WeakKeyDictionary[Analyzer, Callable[[str], tuple]] = (
    weakref.WeakKeyDictionary()
)


def _cached_words(analyzer: Analyzer) -> Callable[[str], tuple]:
    """Per analyzer, sentence text → its analysed words; the same sentences come back for
    every question about the same passage, and analysis dominates the extractor's time."""
    fn = _WORD_CACHES.get(analyzer)
    if fn is None:

        @lru_cache(maxsize=1 << 15)
        def fn(sentence: str) -> tuple:
            return tuple(
                (m.start(), m.end(), m.group(), analyzer.term(m.group()), m.group()[:1].isupper())
                for m in words(sentence)
            )

        _WORD_CACHES[analyzer] = fn
    return fn


def _word_range(ws: list[Word], start: int, end: int) -> tuple[int, int] | None:
    first = last = None
    for i, w in enumerate(ws):
        if w.end > start and w.start < end:
            if first is None:
                first = i
            last = i
    if first is None or last is None:
        return None
    return first, last


def _typed(text: str, start: int, end: int, ws: list[Word]) -> list[Candidate]:
    out: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text, start, end):
            s, e = m.start(), m.end()
            if kind == NUMBER and any(ts <= s and e <= te for ts, te in taken):
                continue  # "115" inside "$115 million" is not a second answer
            r = _word_range(ws, s, e)
            if r is None:
                continue
            if kind != NUMBER:
                taken.append((s, e))
            out.append(Candidate(s, e, kind, r[0], r[1]))
            if kind == NUMBER:
                u = _UNIT_WORD.match(text, e, end)
                if u and u.group(1) not in STOPWORDS:
                    ue = u.end()
                    ur = _word_range(ws, s, ue)
                    if ur is not None:
                        out.append(Candidate(s, ue, NUMBER, ur[0], ur[1], u.group(1)))
    return out


def _names(text: str, ws: list[Word]) -> list[Candidate]:
    """Runs of capitalised words (with joiners inside), and their sub-runs, as name candidates.

    Sub-runs matter because titles glue onto names: "President Nayib Bukele" must also offer
    "Nayib Bukele"."""
    out: list[Candidate] = []
    n = len(ws)
    i = 0
    while i < n:
        w = ws[i]
        if not w.cap or w.text.lower() in STOPWORDS or w.text[0].isdigit():
            i += 1
            continue
        j = i
        while j + 1 < n:
            if ws[j].text.endswith(_POSSESSIVE):
                break
            gap = text[ws[j].end : ws[j + 1].start]
            if not NAME_GAP.match(gap):
                break
            nxt = ws[j + 1]
            if nxt.cap and not nxt.text[0].isdigit():
                j += 1
                continue
            # Joiners ("of", "van der") count only when a capitalised word follows them.
            k = j + 1
            while k < n and k - j <= 2 and ws[k].text in _NAME_JOINERS:
                if not NAME_GAP.match(text[ws[k - 1].end : ws[k].start]):
                    break
                k += 1
            if (
                k > j + 1
                and k < n
                and ws[k].cap
                and NAME_GAP.match(text[ws[k - 1].end : ws[k].start])
            ):
                j = k
                continue
            break
        caps = [k for k in range(i, j + 1) if ws[k].cap]
        for a in caps:
            for b in caps:
                if b < a or b - a + 1 > MAX_NAME_WORDS:
                    continue
                if ws[a].text.lower() in STOPWORDS:
                    continue
                e = ws[b].end
                if ws[b].text.endswith(_POSSESSIVE):
                    e -= 2
                out.append(Candidate(ws[a].start, e, NAME, a, b))
        i = j + 1
    return out


def _phrases(text: str, ws: list[Word]) -> list[Candidate]:
    out: list[Candidate] = []
    n = len(ws)
    for a in range(n):
        if ws[a].term is None and not ws[a].text[0].isdigit():
            continue
        for b in range(a, min(n, a + MAX_PHRASE_WORDS)):
            if b > a and not _PHRASE_GAP.match(text[ws[b - 1].end : ws[b].start]):
                break
            if ws[b].term is None and not ws[b].text[0].isdigit():
                if ws[b].text.lower() not in _PHRASE_JOINERS:
                    break
                continue
            e = ws[b].end
            if ws[b].text.endswith(_POSSESSIVE):
                e -= 2
            out.append(Candidate(ws[a].start, e, PHRASE, a, b))
    return out


def candidates(
    text: str, start: int, end: int, ws: list[Word], *, phrases: bool = True
) -> list[Candidate]:
    """All candidates in the sentence ``text[start:end]`` (``ws`` are its words); one span may
    appear under several kinds, the ranker decides which reading fits the question."""
    out = _typed(text, start, end, ws) + _names(text, ws)
    if phrases:
        out += _phrases(text, ws)
    seen: set[tuple[int, int, str]] = set()
    unique = []
    for c in out:
        key = (c.start, c.end, c.kind)
        if key not in seen and c.start < c.end:
            seen.add(key)
            unique.append(c)
    return unique
