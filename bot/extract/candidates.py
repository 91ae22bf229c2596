"""Typed answer candidates inside one sentence: quantities, money, percentages, dates, names
and short phrases, as offsets into the document text.

Typed patterns come first because a regex knows that "$115 million" or "February 4, 2025" is one
unit; generic phrases are word n-grams that neither start nor end on a stop word, which is a
cheap stand-in for the constituents a parser would give.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache, partial
from itertools import pairwise
from typing import NamedTuple

from bot.analyze import ASCII_WORD_PATTERN, STOPWORDS, WORD_PATTERN, Analyzer
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
# Months that name a date alone ("in March"); "May" does so too rarely.
_MONTH_NAMES = (
    "January February March April June July August September October November December".split()
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
            rf"|\b(?:{'|'.join(_MONTH_NAMES)})\b",
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
_MONEY_RE, _PERCENT_RE, _DATE_RE, _NUMBER_RE = (p for _, p in _PATTERNS)
# Where a typed match can begin (see ``_typed_matches``): every money, percent and digit-number
# alternative starts with a digit or a currency sign; every date alternative without the word
# "century" starts with a digit, a month (J F M A S O N D) or AD/BC.
# Where money, a percentage or a digit number can begin: a digit, a currency sign, US$, A$ or C$.
# Written to open with one character class, so ``re`` skips to candidates by a charset scan
# (the plain alternation ``\d|[$£€¥₹]|US\$|[AC]\$`` tries each branch at every position: 2x
# slower; tests/extract/test_candidates.py pins the same starts).
_NUMERIC_START = re.compile(r"[\d$£€¥₹AUC](?:(?<=U)S\$|(?<=[AC])\$|(?<=[^AUC]))")
_DATE_START = re.compile(r"[\dJFMASONDB]")
_NUMBER_WORD_START = re.compile("|".join(_NUMBER_WORDS))
# Every typed match holds a digit, "century", a month's full name or a number word (in any
# case): a sentence without one holds no typed candidate (the ranker's bounds read this).
_TYPED_HINT = re.compile(
    rf"\d|(?-i:century|{'|'.join(_MONTH_NAMES)})|" + "|".join(_NUMBER_WORDS),
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# ``_TYPED_HINT`` without its digits, for lower-cased ASCII text (where case is one to one).
_TYPED_WORD = re.compile(
    "century|" + "|".join(m.lower() for m in _MONTH_NAMES) + "|" + "|".join(_NUMBER_WORDS)
)
_TYPED_WORDS = frozenset(["century", *(m.lower() for m in _MONTH_NAMES), *_NUMBER_WORDS])
_CLAUSE_MARK = re.compile(r"[,;:()]")
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
# The least share of capitalised words in a name candidate: at most two joiners sit between two
# capitalised words, and a name has at most ``MAX_NAME_WORDS`` words ("Bank of the West").
NAME_MIN_CAPS = 0.5


class Word(NamedTuple):
    start: int
    end: int
    text: str
    term: str | None  # analysed term; None for stop words
    cap: bool  # starts with a capital letter


class Candidate(NamedTuple):
    start: int  # offsets in the document text
    end: int
    kind: str
    first: int  # index of its first and last word in the sentence's word list
    last: int
    unit: str | None = None  # the noun after a number ("inmates")


class SentenceWords(NamedTuple):
    """One sentence's words and what the ranker reads from them that does not depend on the
    question, computed once per sentence (and cached: the same passages come back)."""

    words: tuple[Word, ...]
    lower: tuple[str, ...]  # each word lower-cased
    # Prefix counts over the words (entry k counts words before k), so a span's count is a
    # difference: words with a term (not stop words), capitalised words, words with a digit.
    cum_terms: tuple[int, ...]
    cum_caps: tuple[int, ...]
    cum_digits: tuple[int, ...]
    bigrams: frozenset[tuple[str, str]]  # adjacent terms, stop words skipped
    marks: tuple[int, ...]  # document offsets of the clause marks , ; : ( ) in the sentence


# ``Word(...)`` runs the namedtuple's Python ``__new__``; this builds the same tuple in C.
_new_word = partial(tuple.__new__, Word)


def _analyse(analyzer: Analyzer, sentence: str, start: int) -> SentenceWords:
    term = analyzer.term
    # The ASCII pattern gives the same words as ``words`` on ASCII text, faster (almost every
    # sentence is ASCII; tests/test_analyze.py pins the equality).
    pattern = ASCII_WORD_PATTERN if sentence.isascii() else WORD_PATTERN
    ws = []
    cum_terms = [0]
    cum_caps = [0]
    cum_digits = [0]
    nt = nc = nd = 0
    for m in pattern.finditer(sentence):
        w = m.group()
        t = term(w)
        cap = w[0].isupper()  # words are never empty
        s, e = m.span()
        ws.append(_new_word((start + s, start + e, w, t, cap)))
        if t is not None:
            nt += 1
        if cap:
            nc += 1
        if not w.isalpha() and any(ch.isdigit() for ch in w):
            nd += 1
        cum_terms.append(nt)
        cum_caps.append(nc)
        cum_digits.append(nd)
    terms = [w.term for w in ws if w.term is not None]
    return SentenceWords(
        tuple(ws),
        tuple(w.text.lower() for w in ws),
        tuple(cum_terms),
        tuple(cum_caps),
        tuple(cum_digits),
        frozenset(pairwise(terms)),
        tuple(start + m.start() for m in _CLAUSE_MARK.finditer(sentence)),
    )


def words_summary(
    text: str, ws: Sequence[Word], start: int | None = None, end: int | None = None
) -> SentenceWords:
    """``SentenceWords`` for the words ``ws`` of the sentence ``text[start:end]`` (the cache
    builds it in the same pass); without bounds, clause marks are looked for from the first
    word to the last, the only place a feature reads them."""
    cum_terms, cum_caps, cum_digits = [0], [0], [0]
    for w in ws:
        cum_terms.append(cum_terms[-1] + (w.term is not None))
        cum_caps.append(cum_caps[-1] + w.cap)
        cum_digits.append(cum_digits[-1] + any(ch.isdigit() for ch in w.text))
    terms = [w.term for w in ws if w.term is not None]
    if start is None:
        start = ws[0].start if ws else 0
    if end is None:
        end = ws[-1].end if ws else 0
    return SentenceWords(
        tuple(ws),
        tuple(w.text.lower() for w in ws),
        tuple(cum_terms),
        tuple(cum_caps),
        tuple(cum_digits),
        frozenset(pairwise(terms)),
        tuple(m.start() for m in _CLAUSE_MARK.finditer(text, start, end)),
    )


class WordCache:
    """Per analyzer: sentence → its analysed words, its set of terms and its candidates.
    Analysis is most of the extractor's work on a passage it has not seen; a chat server sees
    the same passages again and again. All are bounded LRU caches, safe to share between
    threads."""

    # Entries: a sentence's words with its candidates run to a few kB, a term set to well under
    # one; these bounds keep the caches to some tens of MB.
    def __init__(
        self, analyzer: Analyzer, words: int = 1 << 13, terms: int = 1 << 14, spans: int = 1 << 12
    ) -> None:
        self._size = spans
        self._candidates: OrderedDict[tuple, tuple[Candidate, ...]] = OrderedDict()
        self._lock = threading.Lock()

        # Keyed by the offset too: the words carry document offsets.
        @lru_cache(maxsize=words)
        def sentence_words(sentence: str, start: int) -> SentenceWords:
            return _analyse(analyzer, sentence, start)

        # Only the set: every retrieved sentence needs it, few need their words. Built by adding
        # the terms in text order, as a set comprehension over the words would: the ranker sums
        # weights in the order of sets made from it, so the same layout gives the same floats
        # (putting None in and taking it out would make the layout vary from run to run). The
        # analyzer's memo holds the sentences retrieval's rerank has just analysed.
        @lru_cache(maxsize=terms)
        def sentence_terms(sentence: str) -> frozenset[str]:
            return frozenset(analyzer.sentence_terms(sentence))

        self.words = sentence_words
        self.terms = sentence_terms
        # The terms of the words a typed match without a digit starts with (``may_hold_typed``
        # reads a sentence's term set for them); None when the analyzer drops one as a stop word.
        typed_terms = {analyzer.term(w) for w in _TYPED_WORDS}
        self._typed_terms = None if None in typed_terms else frozenset(typed_terms)

    def may_hold_typed(self, sentence: str) -> bool:
        """False when no typed pattern can match inside ``sentence``. Without a digit, a typed
        match begins with a word of ``_TYPED_WORDS`` in any case: in ASCII text without an
        apostrophe that is a whole word, whose term the sentence's (memoised) term set holds;
        other ASCII text is searched lower-cased, the rest with the case-blind pattern."""
        if _DIGIT.search(sentence) is not None:
            return True
        if not sentence.isascii():
            return _TYPED_HINT.search(sentence) is not None
        if self._typed_terms is None or "'" in sentence or "`" in sentence:
            return _TYPED_WORD.search(sentence.lower()) is not None
        return not self.terms(sentence).isdisjoint(self._typed_terms)

    def candidates(
        self,
        text: str,
        start: int,
        end: int,
        ws: Sequence[Word],
        *,
        phrases: bool,
        sentence: str | None = None,
    ) -> tuple[Candidate, ...]:
        """``candidates(text, start, end, ws, phrases=phrases)`` for the words ``ws`` of
        ``text[start:end]`` from this cache, memoised. The patterns look one character
        behind the sentence (word boundaries, "not after a digit"), so that character is part
        of the key. ``sentence``, when given, is ``text[start:end]`` already sliced (and
        hashed)."""
        if sentence is None:
            sentence = text[start:end]
        key = (sentence, text[start - 1 : start] if start else "", start, phrases)
        with self._lock:
            got = self._candidates.get(key)
            if got is not None:
                self._candidates.move_to_end(key)
                return got
        # The typed patterns' scan is most of the work, and most sentences hold no typed span.
        typed = self.may_hold_typed(sentence)
        got = tuple(candidates(text, start, end, ws, phrases=phrases, typed=typed))
        with self._lock:
            self._candidates[key] = got
            if len(self._candidates) > self._size:
                self._candidates.popitem(last=False)
        return got


_WORD_CACHES: weakref.WeakKeyDictionary[Analyzer, WordCache] = weakref.WeakKeyDictionary()


def word_cache(analyzer: Analyzer) -> WordCache:
    cache = _WORD_CACHES.get(analyzer)
    if cache is None:
        cache = _WORD_CACHES[analyzer] = WordCache(analyzer)
    return cache


def sentence_words(text: str, start: int, end: int, analyzer: Analyzer) -> tuple[Word, ...]:
    """The words of the sentence ``text[start:end]`` with document offsets (shared: do not
    mutate)."""
    return word_cache(analyzer).words(text[start:end], start).words


def _word_range(ws: Sequence[Word], start: int, end: int) -> tuple[int, int] | None:
    first = last = None
    for i, w in enumerate(ws):
        if w.end > start and w.start < end:
            if first is None:
                first = i
            last = i
    if first is None or last is None:
        return None
    return first, last


def _match_at(
    pattern: re.Pattern[str], text: str, starts: Iterable[int], end: int
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text, start, end)`` when every match starts at one of ``starts``
    (ascending): the same matches, tried only where one can begin. None of the patterns
    matches the empty string, so a match's end is where the next may start."""
    pos = -1
    for p in starts:
        if p >= pos:
            m = pattern.match(text, p, end)
            if m is not None:
                yield m
                pos = m.end()


def _typed_matches(text: str, start: int, end: int) -> Iterator[tuple[str, re.Match[str]]]:
    """What ``pattern.finditer(text, start, end)`` gives for each typed pattern, in order.

    A full scan costs ~100 µs a sentence and is most of candidate generation, yet matches can
    only begin at a few places: money, percentages and digit numbers at a digit or a currency
    sign, dates at a digit or one of the capitals that begin a month, AD or BC (or anywhere
    when "century" may follow an ordinal word), number words where one is spelled (found in the
    lower-cased text; non-ASCII text, where case folding is not one to one, gets the full
    scan)."""
    anchors = [m.start() for m in _NUMERIC_START.finditer(text, start, end)]
    if anchors:
        for m in _match_at(_MONEY_RE, text, anchors, end):
            yield MONEY, m
        for m in _match_at(_PERCENT_RE, text, anchors, end):
            yield PERCENT, m
    sentence = text[start:end]
    if "century" in sentence:
        dates: Iterable[re.Match[str]] = _DATE_RE.finditer(text, start, end)
    else:
        starts = [m.start() for m in _DATE_START.finditer(text, start, end)]
        dates = _match_at(_DATE_RE, text, starts, end)
    for m in dates:
        yield DATE, m
    if sentence.isascii():
        spelled = [start + m.start() for m in _NUMBER_WORD_START.finditer(sentence.lower())]
        at = sorted(anchors + spelled) if spelled else anchors
        numbers: Iterable[re.Match[str]] = _match_at(_NUMBER_RE, text, at, end)
    else:
        numbers = _NUMBER_RE.finditer(text, start, end)
    for m in numbers:
        yield NUMBER, m


def may_hold_name(sentence: str, sw: SentenceWords | None = None) -> bool:
    """False when ``sentence`` (its words ``sw``, when known) holds no name candidate: one
    starts at a capitalised word that is not a stop word."""
    if sw is not None:
        caps = sw.cum_caps[-1]
        return caps > 1 or (caps == 1 and not (sw.words[0].cap and sw.lower[0] in STOPWORDS))
    # No upper-case letter after the first character: only a first word can be capitalised.
    if not sentence[1:].islower():
        return True
    first = WORD_PATTERN.match(sentence)
    return (
        first is not None and first.group()[0].isupper() and first.group().lower() not in STOPWORDS
    )


def _typed(text: str, start: int, end: int, ws: Sequence[Word]) -> list[Candidate]:
    out: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    for kind, m in _typed_matches(text, start, end):
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


def _names(text: str, ws: Sequence[Word]) -> list[Candidate]:
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


def _phrases(text: str, ws: Sequence[Word]) -> list[Candidate]:
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
    text: str,
    start: int,
    end: int,
    ws: Sequence[Word],
    *,
    phrases: bool = True,
    typed: bool = True,
) -> list[Candidate]:
    """All candidates in the sentence ``text[start:end]`` (``ws`` are its words); one span may
    appear under several kinds, the ranker decides which reading fits the question.
    ``typed=False`` skips the typed patterns, for a caller that knows none can match
    (``WordCache.may_hold_typed``)."""
    out = (_typed(text, start, end, ws) if typed else []) + _names(text, ws)
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
