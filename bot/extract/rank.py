"""Score (sentence, span) pairs from the top chunks against the question.

A span is good when its sentence covers the question's rarer terms, its kind fits the question,
it sits near the words the question shares with the sentence, and it does not merely repeat the
question. Each of those is one feature; ``weights.json`` holds the linear weights (trained on
SQuAD articles, see ``bot.extract.train``), so the scorer stays inspectable.
"""

from __future__ import annotations

import heapq
import json
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, pairwise, product
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.analyze import Analyzer
from bot.extract.candidates import (
    NAME_GAP,
    NAME_MIN_CAPS,
    Candidate,
    SentenceWords,
    Word,
    may_hold_name,
    word_cache,
    words_summary,
)
from bot.extract.qtype import (
    DATE,
    MONEY,
    NAME,
    NUMBER,
    PERCENT,
    PERSON,
    PHRASE,
    PLACE,
    QType,
)
from bot.models import Document, Hit
from bot.sentences import ABBREVIATION_LOOKBACK as _ABBREVIATION_LOOKBACK
from bot.sentences import split_sentences


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Sentences further than this from a chunk edge are looked up to finish a cut sentence.
_CONTEXT_CHARS = 1500
# Phrase n-grams are costly; only the best sentences get them. Typed spans come from all.
PHRASE_SENTENCES = 4
WINDOW = 6  # words each side of a span that count as its neighbourhood

_PLACE_CUES = _word_set(
    """
    in at near from to into located based across throughout of
    """
)
_PERSON_CUES = _word_set(
    """
    president king queen emperor dr mr mrs ms sir lord saint st prof professor general
    attorney minister senator governor pope bishop author by director chairman founder
    secretary chancellor prime sultan khan duke prince princess cardinal archbishop colonel
    captain admiral lieutenant mayor chief judge justice reverend emir tsar czar shah
    """
)
# Frequent verb forms that are not stop words: phrase n-grams have no part-of-speech tags, and
# a span running into its sentence's verb ("compound engines came") is rarely an answer.
VERB_WORDS = _word_set(
    """
    came become became becomes begin began begins made make makes took take takes gave give
    gives went go goes held hold holds led lead leads known called use uses used include
    includes included including must may might remain remains remained allow allows allowed
    require requires required define defines defined say said says consider considers
    considered describe describes described provide provides provided find finds found
    build builds built create creates created help helps helped see sees saw seen gain gains
    gained win wins won lose loses lost continue continues continued send sends sent keep
    keeps kept bring brings brought think thinks thought tell tells told grow grows grew
    grown show shows showed shown set sets get gets got put puts run runs ran mean means
    meant seem seems seemed need needs needed want wants wanted appear appears appeared
    """
)
_COPULA = _word_set(
    """
    is was are were be been being called named known as termed
    """
)
# The word right before and right after a span, by class: what a span follows or precedes says
# where a constituent starts and ends ("the", "of", "and", "which" ...), which the stop-word
# features alone lump together.
LEFT_WORDS: dict[str, frozenset[str]] = {
    "left_det": _word_set("the a an its their his her this these that those"),
    "left_prep": _word_set("of in on at by for with from to into as than about over under between"),
    "left_conj": _word_set("and or but nor"),
    "left_rel": _word_set("that which who whom whose where when"),
}
RIGHT_WORDS: dict[str, frozenset[str]] = {
    "right_prep": _word_set("in on at by for with from to into as than about over under between"),
    "right_of": _word_set("of"),
    "right_conj": _word_set("and or but nor"),
    "right_rel": _word_set("that which who whom whose where when"),
    "right_be": _word_set("is was are were be been has have had"),
}
_PERSON_VERBS = _word_set(
    """
    said says told wrote argued stated claimed born died
    """
)

FEATURES = (
    "bias",
    "sent_cov",  # idf-weighted share of question terms in the sentence
    "sent_bigram",  # question bigrams found verbatim in the sentence
    "hit_ratio",  # the chunk's retrieval score / the best chunk's score
    "hit_first",  # the sentence comes from the top chunk
    "type_match",  # span kind fits a typed question (number, date, name ...)
    "typed_q_nomatch",  # typed question, span of another kind
    "in_question",  # share of the span's terms that are question terms
    "near_cov",  # question terms within WINDOW words of the span, idf-weighted
    "near_dist",  # 1 / (1 + words to the nearest question term)
    "prev_match",  # the word right before the span is a question term
    "next_match",  # the word right after the span is a question term
    "length",  # words in the span
    "length_sq",
    "focus",  # the span or its neighbour is the question's focus noun
    "cap_share",  # share of capitalised words
    "place_cue",
    "person_cue",
    "phrase_q_name",  # open question, span is a name
    "phrase_q_typed",  # open question, span is a number or a date
    "phrase_q_len",
    "multiword_name",  # who-question and a name of two or more words
    "has_digit",
    "starts_sentence",
    "left_run",  # question terms in a row right before the span (skipping stop words)
    "right_run",
    "left_stop",  # the span follows a stop word (determiner, preposition): a phrase start
    "left_punct",  # punctuation right before the span
    "right_punct",  # punctuation right after the span, or the sentence end
    "right_stop",
    "verbish_edge",  # first or last word looks like a verb or adverb (-ed, -ing, -ly)
    "same_clause",  # no comma/semicolon between the span and its nearest question term
    "lower_single",  # one lower-case word
    "cuts_name",  # a capitalised word touches the span: it cuts a name in two
    "left_share",  # share of the sentence's question terms that come before the span
    "name_starts_sentence",  # a capitalised run at sentence start may be an ordinary word
    "context_cov",  # question terms missing here but found in the sentence before ("It cost")
    "focus_inside",  # the question's focus noun is inside the span ("what type of engines")
    "verb_share",  # share of the span's words that look like verbs (no tagger: a word list)
    "paren",  # the span opens right after "(" or closes right before ")"
    "between_q",  # question terms within WINDOW words on both sides of the span
    "match_density",  # sentence: question terms / words from the first to the last of them
    "sent_words",  # sentence: its words, capped at 60, / 60 (long sentences cover by chance)
    "prev_copula",  # the word before is a form of "be" or "called"/"named"/"known" + "as"
    "has_unit",  # a number with the noun after it ("two main", "100 different")
    # The word before the span is a determiner, a preposition, a conjunction, a relative word
    # (``LEFT_WORDS``); the word after it a preposition, "of", a conjunction, a relative word,
    # a form of "be" or "have" (``RIGHT_WORDS``).
    *LEFT_WORDS,
    *RIGHT_WORDS,
)
_F = {name: i for i, name in enumerate(FEATURES)}
# Column of each feature, for the row builder (read by name, so FEATURES may be reordered).
_BIAS = _F["bias"]
_SENT_COV = _F["sent_cov"]
_SENT_BIGRAM = _F["sent_bigram"]
_HIT_RATIO = _F["hit_ratio"]
_HIT_FIRST = _F["hit_first"]
_TYPE_MATCH = _F["type_match"]
_TYPED_Q_NOMATCH = _F["typed_q_nomatch"]
_IN_QUESTION = _F["in_question"]
_NEAR_COV = _F["near_cov"]
_NEAR_DIST = _F["near_dist"]
_PREV_MATCH = _F["prev_match"]
_NEXT_MATCH = _F["next_match"]
_LENGTH = _F["length"]
_LENGTH_SQ = _F["length_sq"]
_FOCUS = _F["focus"]
_CAP_SHARE = _F["cap_share"]
_PLACE_CUE = _F["place_cue"]
_PERSON_CUE = _F["person_cue"]
_PHRASE_Q_NAME = _F["phrase_q_name"]
_PHRASE_Q_TYPED = _F["phrase_q_typed"]
_PHRASE_Q_LEN = _F["phrase_q_len"]
_MULTIWORD_NAME = _F["multiword_name"]
_HAS_DIGIT = _F["has_digit"]
_STARTS_SENTENCE = _F["starts_sentence"]
_LEFT_RUN = _F["left_run"]
_RIGHT_RUN = _F["right_run"]
_LEFT_STOP = _F["left_stop"]
_LEFT_PUNCT = _F["left_punct"]
_RIGHT_PUNCT = _F["right_punct"]
_RIGHT_STOP = _F["right_stop"]
_VERBISH_EDGE = _F["verbish_edge"]
_SAME_CLAUSE = _F["same_clause"]
_LOWER_SINGLE = _F["lower_single"]
_CUTS_NAME = _F["cuts_name"]
_LEFT_SHARE = _F["left_share"]
_NAME_STARTS_SENTENCE = _F["name_starts_sentence"]
_CONTEXT_COV = _F["context_cov"]
_FOCUS_INSIDE = _F["focus_inside"]
_VERB_SHARE = _F["verb_share"]
_PAREN = _F["paren"]
_BETWEEN_Q = _F["between_q"]
_MATCH_DENSITY = _F["match_density"]
_SENT_WORDS = _F["sent_words"]
_PREV_COPULA = _F["prev_copula"]
_HAS_UNIT = _F["has_unit"]
_LEFT_LEX = [(_F[name], words) for name, words in LEFT_WORDS.items()]
_RIGHT_LEX = [(_F[name], words) for name, words in RIGHT_WORDS.items()]
_SENT_WORDS_CAP = 60
_TYPED_KINDS = (NUMBER, MONEY, PERCENT, DATE)
# The features ``score_spans`` sets once per sentence (the head of every row of it); the rest
# are set per span by ``span_row``.
_HEAD_FEATURES = frozenset(
    ("bias", "sent_cov", "sent_bigram", "context_cov", "hit_ratio", "hit_first")
)
# What each span feature can be, for the bound ``rank_lazily`` prunes sentences with; the
# question and the sentence narrow some (``_SpanBound``). A feature of ``FEATURES`` that is
# neither here nor in the head turns pruning off (every sentence is scored), so a new feature
# costs speed, never a wrong answer, until its range is declared here.
_SPAN_RANGES: dict[str, tuple[float, float]] = {
    "type_match": (0.0, 1.0),  # the question's compatible kinds: at most its best fit
    "typed_q_nomatch": (0.0, 1.0),  # 0 for an open question
    "in_question": (0.0, 1.0),
    "near_cov": (0.0, 1.0),  # a subset of the sentence's question terms: at most its coverage
    "near_dist": (0.0, 0.5),  # the nearest question term outside a span is a word or more away
    "prev_match": (0.0, 1.0),
    "next_match": (0.0, 1.0),
    "focus": (0.0, 1.0),  # 0 without a focus noun
    "cap_share": (0.0, 1.0),
    "place_cue": (0.0, 1.0),  # where-questions only
    "person_cue": (0.0, 1.0),  # who-questions only
    "phrase_q_name": (0.0, 1.0),  # open questions only
    "phrase_q_typed": (0.0, 1.0),  # open questions only
    "multiword_name": (0.0, 1.0),  # who- and which-name questions only
    "has_digit": (0.0, 1.0),  # 0 in a sentence without digits
    "starts_sentence": (0.0, 1.0),
    "left_run": (0.0, 4.0),  # at most the sentence's question-term words, and 4
    "right_run": (0.0, 4.0),
    "left_stop": (0.0, 1.0),
    "left_punct": (0.0, 1.0),
    "right_punct": (0.0, 1.0),
    "right_stop": (0.0, 1.0),
    "verbish_edge": (0.0, 1.0),
    "same_clause": (0.0, 1.0),
    "lower_single": (0.0, 1.0),
    "cuts_name": (0.0, 1.0),
    "left_share": (0.0, 1.0),
    "name_starts_sentence": (0.0, 1.0),
    "focus_inside": (0.0, 1.0),
    "verb_share": (0.0, 1.0),
    "paren": (0.0, 1.0),
    "between_q": (0.0, 1.0),
    "match_density": (0.0, 1.0),  # per sentence, but bounded here as if per span
    "sent_words": (0.0, 1.0),
    "prev_copula": (0.0, 1.0),
    "has_unit": (0.0, 1.0),
    **{name: (0.0, 1.0) for name in LEFT_WORDS},
    **{name: (0.0, 1.0) for name in RIGHT_WORDS},
}
# Functions of the span's word count n (1 <= n <= the sentence's words), bounded together:
# length = n, length_sq = n * n / 10, phrase_q_len = n for an open question (else 0).
_LENGTH_FEATURES = frozenset(("length", "length_sq", "phrase_q_len"))
# All 0 when a span starts its sentence (``SentenceFeatures.left`` of word 0, and no question
# term before it) ...
_LEFT_GROUP = frozenset(
    (
        "prev_match",
        "place_cue",
        "prev_copula",
        "left_run",
        "left_stop",
        "left_punct",
        "left_share",
        *LEFT_WORDS,
    )
)
# The classes of the word before a span whose features the bound counts once per span: that
# word is at most one of them ("place_cue" is 0 unless the question asks where).
_LEFT_CLASSES = {**LEFT_WORDS, "prev_copula": _COPULA, "place_cue": _PLACE_CUES}
# ... and these 0 unless it does; one span sets at most one of them.
_START_GROUP = frozenset(("starts_sentence", "name_starts_sentence"))
# What a span's kind sets (``_SpanBound._kind``), bounded per kind with the capitals' share.
_KIND_FEATURES = frozenset(("type_match", "typed_q_nomatch", "phrase_q_typed", "cap_share"))
# Set only for a name span: 0 in a sentence without a capitalised word.
_NAME_FEATURES = frozenset(("phrase_q_name", "name_starts_sentence", "multiword_name"))
# Narrowed by the sentence's words: at most its coverage, its question-term words, 0 without a
# digit, without a word holding the focus noun, without a place or person cue word.
_SENTENCE_FEATURES = frozenset(
    ("near_cov", "left_run", "right_run", "has_digit", "focus", "place_cue", "person_cue")
)
# Values of the whole sentence, the same for each of its spans: its word count and how densely
# the question terms sit in it.
_PER_SENTENCE = ("sent_words", "match_density")
# The kinds of span a sentence may hold: (a name, phrases, a typed span).
Kinds = tuple[bool, bool, bool]
_VERBISH = ("ed", "ing", "ly")

_COMPATIBLE: dict[str, dict[str, float]] = {
    NUMBER: {NUMBER: 1.0, MONEY: 0.6, PERCENT: 0.6},
    MONEY: {MONEY: 1.0, NUMBER: 0.4},
    PERCENT: {PERCENT: 1.0, NUMBER: 0.3},
    DATE: {DATE: 1.0},
    PERSON: {NAME: 1.0},
    PLACE: {NAME: 1.0},
    NAME: {NAME: 1.0},
}


class Sentence(NamedTuple):
    # A tuple, not a frozen dataclass: ~90 are made per question, and a frozen dataclass's
    # __init__ sets each field through object.__setattr__ (a hundredth of an answer's time).
    source: str
    start: int
    end: int
    chunk_id: int
    rank: int  # of the hit it came from
    hit_score: float


@dataclass(slots=True)
class Scored:
    sentence: Sentence
    candidate: Candidate
    features: np.ndarray
    score: float
    sent_cov: float  # kept for the confidence model


@dataclass(slots=True)
class Ranking:
    spans: list[Scored]  # best first
    weights: dict[str, float]  # question term → weight
    found: frozenset[str]  # question terms present in any candidate sentence


@cache
def load_weights(path: Path | None = None) -> np.ndarray:
    path = path or Path(__file__).with_name("weights.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    w = data["span"]
    return np.array([float(w.get(name, 0.0)) for name in FEATURES])


@lru_cache(maxsize=4096)
def _window_sentences(window: str, offset: int) -> tuple[tuple[int, int], ...]:
    return tuple(split_sentences(window, offset))


def _split_window(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``split_sentences(text, start, end)``, memoised: the same passages are split again for
    every question about them. The splitter reads up to 20 characters before a full stop (is
    it an abbreviation?), so the key is the window with that much before it."""
    base = max(0, start - _ABBREVIATION_LOOKBACK)
    return [(s + base, e + base) for s, e in _window_sentences(text[base:end], start - base)]


def gather_sentences(
    hits: Sequence[Hit], document: Callable[[str], Document], max_chunks: int
) -> list[Sentence]:
    """Sentences touching the top chunks, each once, in hit order; a sentence cut by a chunk
    edge is completed from the document text."""
    out: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits[:max_chunks]:
        c = hit.chunk
        text = document(c.source).text
        # Sentence splitting needs the whole paragraph around the chunk to see true boundaries.
        ws = text.rfind("\n", max(0, c.start - _CONTEXT_CHARS), c.start) + 1
        if ws == 0 and c.start > _CONTEXT_CHARS:
            ws = c.start - _CONTEXT_CHARS
        we = text.find("\n", c.end, c.end + _CONTEXT_CHARS)
        we = min(len(text), c.end + _CONTEXT_CHARS) if we == -1 else we
        for s, e in _split_window(text, ws, we):
            if e <= c.start or s >= c.end or (c.source, s) in seen:
                continue
            seen.add((c.source, s))
            out.append(Sentence(c.source, s, e, c.id, hit.rank, hit.score))
    return out


def term_weights(
    qterms: Sequence[str], pool: Sequence[set[str]], idf: Callable[[str], float] | None
) -> dict[str, float]:
    """How much each question term counts: the index's idf when it is known, sharpened by how
    rare the term is among the candidate sentences (a term in every candidate cannot choose)."""
    n = len(pool)
    out = {}
    for t in qterms:
        df = sum(1 for terms in pool if t in terms)
        local = math.log(1.0 + (n + 1) / (df + 0.5))
        out[t] = local * (idf(t) if idf is not None else 1.0)
    return out


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(terms))


def _kind_fit(qtype: QType, kind: str) -> float:
    return _COMPATIBLE.get(qtype.kind, {}).get(kind, 0.0)


class _Question:
    """What every span of one question is scored against."""

    __slots__ = (
        "fit",
        "focus",
        "focus_s",
        "kind",
        "multiword",
        "person",
        "place",
        "qterms",
        "total",
        "typed",
        "weights",
    )

    def __init__(self, qtype: QType, qterms: set[str], weights: dict[str, float]) -> None:
        self.kind = qtype.kind
        self.qterms = qterms
        self.weights = weights
        self.total = sum(weights.values()) or 1.0
        self.focus = qtype.focus
        self.focus_s = qtype.focus.rstrip("s") if qtype.focus is not None else None
        self.fit = _COMPATIBLE.get(qtype.kind, {})
        self.typed = qtype.kind != PHRASE
        self.place = qtype.kind == PLACE
        self.person = qtype.kind == PERSON
        self.multiword = qtype.kind in (PERSON, NAME)


class SentenceFeatures:
    """Everything about one (question, sentence) pair that its spans share, computed once per
    sentence instead of once per span: which words are question terms and where, prefix counts
    of question terms, the sentence-level feature values every span row starts from, and the
    features of what lies just before and just after a span (memoised by span edge: the
    n-grams of a sentence share their edges)."""

    __slots__ = ("_left", "_right", "cum_inq", "head", "matched", "n", "place", "qt", "sw", "text")

    def __init__(
        self, q: _Question, text: str, sw: SentenceWords, head: list[float] | None = None
    ) -> None:
        self.text = text
        self.sw = sw
        ws = sw.words
        self.n = len(ws)
        qterms = q.qterms
        self.place = q.place
        self.qt = qt = [w.term if w.term in qterms else None for w in ws]
        self.matched = [k for k, t in enumerate(qt) if t is not None]
        cum = [0]
        c = 0
        for t in qt:
            c += t is not None
            cum.append(c)
        self.cum_inq = cum
        if head is None:
            head = [0.0] * len(FEATURES)
            head[_BIAS] = 1.0
        self.head = head
        self._left: dict[tuple[int, int], tuple] = {}
        self._right: dict[tuple[int, int], tuple] = {}

    def run(self, k: int, step: int) -> float:
        """Question terms met walking from word ``k`` in direction ``step`` before the first
        content word that is not one; stop words are skipped, at most 4 words are read."""
        run = 0
        ws, qt = self.sw.words, self.qt
        for _ in range(4):
            if not 0 <= k < self.n:
                break
            if ws[k].term is not None:
                if qt[k] is None:
                    break
                run += 1
            k += step
        return float(run)

    def left(self, first: int, start: int) -> tuple:
        """Before a span starting at word ``first``, offset ``start``: (prev_match, place_cue,
        left_run, left_stop, left_punct, the word before is a person cue, cuts a name, the
        ``LEFT_WORDS`` columns the word before sets)."""
        key = (first, start)
        got = self._left.get(key)
        if got is None:
            if first > 0:
                k = first - 1
                w = self.sw.words[k]
                low = self.sw.lower[k]
                before = self.text[w.end : start]
                got = (
                    0.0 if self.qt[k] is None else 1.0,
                    1.0 if self.place and low in _PLACE_CUES else 0.0,
                    self.run(k, -1),
                    1.0 if w.term is None else 0.0,
                    1.0 if before.strip(" -") else 0.0,
                    low in _PERSON_CUES,
                    bool(
                        w.cap
                        and first > 1
                        and NAME_GAP.match(before)
                        and low not in _PERSON_CUES  # cutting off a title is not cutting a name
                    ),
                    tuple(col for col, words in _LEFT_LEX if low in words),
                )
            else:
                got = (0.0, 0.0, 0.0, 0.0, 0.0, False, False, ())
            self._left[key] = got
        return got

    def right(self, end: int, stop: int) -> tuple:
        """After a span ending before word ``end``, at offset ``stop``: (next_match, right_run,
        right_stop, right_punct, the word after is a person verb, cuts a name, the
        ``RIGHT_WORDS`` columns the word after sets)."""
        key = (end, stop)
        got = self._right.get(key)
        if got is None:
            if end < self.n:
                w = self.sw.words[end]
                after = self.text[stop : w.start]
                got = (
                    0.0 if self.qt[end] is None else 1.0,
                    self.run(end, 1),
                    1.0 if w.term is None else 0.0,
                    1.0 if after.strip(" -") else 0.0,
                    self.sw.lower[end] in _PERSON_VERBS,
                    bool(w.cap and NAME_GAP.match(after)),
                    tuple(col for col, words in _RIGHT_LEX if self.sw.lower[end] in words),
                )
            else:  # the sentence end counts as punctuation
                got = (0.0, 0.0, 0.0, 1.0, False, False, ())
            self._right[key] = got
        return got


# Sentence words → prefix counts of verb-like words, so ``verb_share`` is a difference, not a
# loop over each span's words (a sentence has hundreds of spans). Keyed by identity: the word
# cache hands the same ``SentenceWords`` back for the same sentence; the entry keeps it alive,
# so an id is never reused while its entry stands.
_VERB_PREFIX: dict[int, tuple[SentenceWords, list[int]]] = {}
_VERB_PREFIX_SIZE = 1 << 12


def _verb_prefix(sw: SentenceWords) -> list[int]:
    got = _VERB_PREFIX.get(id(sw))
    if got is not None and got[0] is sw:
        return got[1]
    cum = [0]
    for word in sw.lower:
        cum.append(cum[-1] + (word in VERB_WORDS or (len(word) > 4 and word.endswith("ed"))))
    if len(_VERB_PREFIX) >= _VERB_PREFIX_SIZE:
        _VERB_PREFIX.clear()
    _VERB_PREFIX[id(sw)] = (sw, cum)
    return cum


def _nearest_outside(matched: list[int], i_f: int, i_l: int, first: int, last: int) -> int | None:
    """Of the question-term words ``matched`` (ascending; ``matched[i_f:i_l]`` are those inside
    the span of words ``first``..``last``), the nearest outside the span; on a tie the one
    before it."""
    at = matched[i_f - 1] if i_f else None
    if i_l < len(matched) and (at is None or matched[i_l] - last < first - at):
        at = matched[i_l]
    return at


def _clause_free(sw: SentenceWords, at: int, first: int, last: int) -> bool:
    """No clause mark between the span of words ``first``..``last`` and the word ``at``."""
    a, b = (at, first) if at < first else (last, at)
    marks = sw.marks
    i = bisect_left(marks, sw.words[a].end) if marks else 0
    return i == len(marks) or marks[i] >= sw.words[b].start


def span_row(q: _Question, sf: SentenceFeatures, c: Candidate) -> list[float] | None:
    """Feature values of one span (``FEATURES`` order), or None when the span only repeats the
    question. Equal to the straightforward per-span computation kept in
    ``tests/extract/reference.py``; this one reads the per-sentence parts from ``sf``."""
    first, last = c.first, c.last
    sw = sf.sw
    end = last + 1
    n_terms = sw.cum_terms[end] - sw.cum_terms[first]
    digits = sw.cum_digits[end] > sw.cum_digits[first]
    if not n_terms and not digits:
        return None
    inq = sf.cum_inq[end] - sf.cum_inq[first]
    if n_terms and inq == n_terms and not digits:
        return None
    f = sf.head.copy()
    low, qt, n = sw.lower, sf.qt, sf.n
    kind = c.kind
    n_words = end - first

    matched = sf.matched
    dist_at = None
    if matched:
        i_f = bisect_left(matched, first)
        i_l = bisect_right(matched, last, i_f)
        i_lo = bisect_left(matched, first - WINDOW, 0, i_f) if i_f else 0
        i_hi = bisect_left(matched, end + WINDOW, i_l)
        if i_lo < i_f or i_l < i_hi:
            near = {qt[k] for k in matched[i_lo:i_f]}
            near.update(qt[k] for k in matched[i_l:i_hi])
            weights = q.weights
            f[_NEAR_COV] = sum(weights.get(t, 0.0) for t in near) / q.total
        dist_at = _nearest_outside(matched, i_f, i_l, first, last)
        if dist_at is not None:
            f[_NEAR_DIST] = 1.0 / (1.0 + (first - dist_at if dist_at < first else dist_at - last))
        n_matched = len(matched) - (i_l - i_f)
        if n_matched:
            f[_LEFT_SHARE] = i_f / n_matched

    fit = q.fit.get(kind, 0.0)
    f[_TYPE_MATCH] = fit
    if q.typed and fit == 0.0:
        f[_TYPED_Q_NOMATCH] = 1.0
    if n_terms:
        f[_IN_QUESTION] = inq / n_terms
    f[_LENGTH] = n_words
    f[_LENGTH_SQ] = n_words * n_words / 10.0
    focus = q.focus
    if focus is not None and (
        focus == c.unit
        or (first > 0 and low[first - 1] == focus)
        or (end < n and low[end] == focus)
        or focus in low[first:end]
        or (c.unit and c.unit.rstrip("s") == q.focus_s)
    ):
        f[_FOCUS] = 1.0
    caps = sw.cum_caps[end] - sw.cum_caps[first]
    f[_CAP_SHARE] = caps / n_words
    (
        f[_PREV_MATCH],
        f[_PLACE_CUE],
        f[_LEFT_RUN],
        f[_LEFT_STOP],
        f[_LEFT_PUNCT],
        person_before,
        cuts_before,
        left_lex,
    ) = sf.left(first, c.start)
    (
        f[_NEXT_MATCH],
        f[_RIGHT_RUN],
        f[_RIGHT_STOP],
        f[_RIGHT_PUNCT],
        person_after,
        cuts_after,
        right_lex,
    ) = sf.right(end, c.end)
    for col in left_lex:
        f[col] = 1.0
    for col in right_lex:
        f[col] = 1.0
    if q.person and (person_before or person_after):
        f[_PERSON_CUE] = 1.0
    if cuts_before or cuts_after:
        f[_CUTS_NAME] = 1.0
    if not q.typed:
        if kind == NAME:
            f[_PHRASE_Q_NAME] = 1.0
        elif kind in _TYPED_KINDS:
            f[_PHRASE_Q_TYPED] = 1.0
        f[_PHRASE_Q_LEN] = n_words
    if q.multiword and kind == NAME and caps >= 2:
        f[_MULTIWORD_NAME] = 1.0
    if digits:
        f[_HAS_DIGIT] = 1.0
    if kind == PHRASE:
        a, b = low[first], low[last]
        if (len(a) > 4 and a.endswith(_VERBISH)) or (len(b) > 4 and b.endswith(_VERBISH)):
            f[_VERBISH_EDGE] = 1.0
    if dist_at is not None and _clause_free(sw, dist_at, first, last):
        f[_SAME_CLAUSE] = 1.0
    if n_words == 1 and not sw.words[first].cap and not digits:
        f[_LOWER_SINGLE] = 1.0
    if first == 0:
        f[_NAME_STARTS_SENTENCE if kind == NAME else _STARTS_SENTENCE] = 1.0
    if focus is not None and focus in low[first:end]:
        f[_FOCUS_INSIDE] = 1.0
    verbs = _verb_prefix(sw)
    f[_VERB_SHARE] = (verbs[end] - verbs[first]) / n_words
    if (first > 0 and "(" in sf.text[sw.words[first - 1].end : c.start]) or (
        end < n and ")" in sf.text[c.end : sw.words[end].start]
    ):
        f[_PAREN] = 1.0
    if matched and i_lo < i_f and i_l < i_hi:
        f[_BETWEEN_Q] = 1.0
    if matched:
        f[_MATCH_DENSITY] = len(matched) / (matched[-1] - matched[0] + 1)
    f[_SENT_WORDS] = min(n, _SENT_WORDS_CAP) / _SENT_WORDS_CAP
    if first > 0 and low[first - 1] in _COPULA:
        f[_PREV_COPULA] = 1.0
    if c.unit:
        f[_HAS_UNIT] = 1.0
    return f


def span_features(
    text: str,
    qtype: QType,
    qterms: set[str],
    weights: dict[str, float],
    ws: Sequence[Word],
    c: Candidate,
    focus_term: str | None,
    matched: list[int] | None = None,
) -> np.ndarray | None:
    """Feature vector of one span, or None when the span only repeats the question; the
    sentence-level features (coverage, bigrams, context, hit) are left 0. ``focus_term``
    overrides ``qtype.focus``; ``matched`` is accepted for compatibility and recomputed."""
    q = _Question(QType(qtype.kind, focus_term, qtype.wh), qterms, weights)
    row = span_row(q, SentenceFeatures(q, text, words_summary(text, ws)), c)
    return None if row is None else np.array(row)


def _scores(feats: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each row's ``row @ w``. One product for all rows sums in another order than a dot
    product per row, which can swap spans whose scores tie exactly (say, two features that
    trade places); the rows within a hair of another are therefore scored again one by one,
    so ties fall as a per-row ``f @ w`` orders them."""
    return np.array(_untie((feats @ w).tolist(), feats.__getitem__, w))


def _untie(scores: list[float], row: Callable[[int], np.ndarray], w: np.ndarray) -> list[float]:
    """``scores`` (of the rows ``row(k)``) with those within a hair of another recomputed
    one row at a time (see ``_scores``). A few hundred scores: plain Python beats numpy's
    per-call cost here."""
    near = set()
    s = sorted(scores)
    for a, b in pairwise(s):
        if abs(b - a) <= 1e-9 * max(1.0, abs(b)):
            near.add(a)
            near.add(b)
    if near:
        for k, x in enumerate(scores):
            if x in near:
                scores[k] = float(row(k) @ w)
    return scores


class _Setup:
    """What every span of one question shares: the sentences of the top chunks, the question
    terms each holds, the term weights, and the per-sentence values the head of a row is made
    of. ``score_spans`` and ``rank_lazily`` build it the same way, so their floats agree."""

    __slots__ = (
        "analyzer",
        "cache",
        "found",
        "heres",
        "q",
        "q_bigrams",
        "sents",
        "strs",
        "texts",
        "top_score",
        "weights",
    )

    def __init__(
        self,
        question_terms: list[str],
        qtype: QType,
        hits: Sequence[Hit],
        document: Callable[[str], Document],
        analyzer: Analyzer,
        max_chunks: int,
        idf: Callable[[str], float] | None,
    ) -> None:
        qterms = set(question_terms)
        self.q_bigrams = _bigrams(question_terms)
        self.sents = sents = gather_sentences(hits, document, max_chunks)
        self.top_score = max(h.score for h in hits) or 1.0
        self.texts = texts = {s.source: document(s.source).text for s in sents}
        self.analyzer = analyzer
        self.cache = cache = word_cache(analyzer)
        # Only the question terms of a sentence matter for weights and coverage, so a sentence
        # that shares none is never split into words.
        # Each sentence's text, sliced once: the term, word and candidate caches are keyed by
        # it, and a string computes its hash once.
        self.strs = strs = [texts[s.source][s.start : s.end] for s in sents]
        self.heres = heres = [qterms & cache.terms(x) for x in strs]
        self.weights = weights = term_weights(sorted(qterms), heres, idf)
        self.found = frozenset().union(*heres) if heres else frozenset()
        self.q = _Question(qtype, qterms, weights)

    def coverage(self, i: int) -> float:
        return sum(self.weights[t] for t in self.heres[i]) / self.q.total

    def words(self, i: int) -> SentenceWords:
        s = self.sents[i]
        return self.cache.words(self.strs[i], s.start)

    def bigram_share(self, sw: SentenceWords) -> float:
        return len(self.q_bigrams & sw.bigrams) / max(1, len(self.q_bigrams))

    def head(self, i: int, cov: float, bigram: float) -> list[float]:
        """The sentence-level values every span row of sentence ``i`` starts from."""
        s = self.sents[i]
        sents, heres, weights = self.sents, self.heres, self.weights
        text = self.texts[s.source]
        ctx = 0.0
        prev = sents[i - 1] if i > 0 else None
        # A pronoun subject ("It cost ...") leaves the topic words in the sentence before.
        if (
            prev is not None
            and prev.source == s.source
            and prev.end <= s.start
            and text[prev.end : s.start].count("\n") <= 1
        ):
            ctx = sum(weights[t] for t in heres[i - 1] - heres[i]) / self.q.total
        head = [0.0] * len(FEATURES)
        head[_BIAS] = 1.0
        head[_SENT_COV] = cov
        head[_SENT_BIGRAM] = bigram
        head[_CONTEXT_COV] = ctx
        head[_HIT_RATIO] = s.hit_score / self.top_score
        head[_HIT_FIRST] = 1.0 if s.rank == 0 else 0.0
        return head

    def candidates(self, i: int, sw: SentenceWords, phrases: bool) -> tuple[Candidate, ...]:
        s = self.sents[i]
        return self.cache.candidates(
            self.texts[s.source], s.start, s.end, sw.words, phrases=phrases, sentence=self.strs[i]
        )


def _phrase_key(cov: float, bigram: float) -> float:
    return -(cov + 0.05 * bigram)


def score_spans(
    question: str,
    qtype: QType,
    hits: Sequence[Hit],
    document: Callable[[str], Document],
    analyzer: Analyzer,
    *,
    max_chunks: int,
    idf: Callable[[str], float] | None = None,
    weights: np.ndarray | None = None,
) -> Ranking:
    """Every admissible span in the sentences of the top chunks, with its feature vector and
    linear score, best first (ties: the shorter span, then the earlier one)."""
    w_vec = load_weights() if weights is None else weights
    q_list = analyzer.terms(question)
    if not q_list or not hits:
        return Ranking([], {}, frozenset())
    setup = _Setup(q_list, qtype, hits, document, analyzer, max_chunks, idf)
    q, sents, heres = setup.q, setup.sents, setup.heres

    covered: list[tuple[int, float, float]] = []  # (sentence, coverage, bigram share)
    for i in range(len(sents)):
        if heres[i]:
            covered.append((i, setup.coverage(i), setup.bigram_share(setup.words(i))))
    # Phrases only from the sentences that best cover the question (cost grows with n-grams);
    # a sentence without question terms scores 0 here and cannot be among them before one with.
    ranked = sorted(covered, key=lambda r: _phrase_key(r[1], r[2]))
    phrase_ok = {r[0] for r in ranked[:PHRASE_SENTENCES]}

    rows: list[list[float]] = []
    owners: list[tuple[Sentence, Candidate, float]] = []
    for i, cov, bigram in covered:
        s = sents[i]
        sw = setup.words(i)
        sf = SentenceFeatures(q, setup.texts[s.source], sw, setup.head(i, cov, bigram))
        for c in setup.candidates(i, sw, i in phrase_ok):
            row = span_row(q, sf, c)
            if row is not None:
                rows.append(row)
                owners.append((s, c, cov))
    if not rows:
        return Ranking([], setup.weights, setup.found)
    m = len(rows)
    feats = np.fromiter(chain.from_iterable(rows), np.float64, m * len(FEATURES))
    feats = feats.reshape(m, len(FEATURES))
    scores = _scores(feats, w_vec)
    lengths = np.array([c.end - c.start for _, c, _ in owners])
    by_length = np.argsort(lengths, kind="stable")
    order = by_length[np.argsort(-scores[by_length], kind="stable")]
    score_list = scores.tolist()
    spans = []
    for k in order.tolist():
        s, c, cov = owners[k]
        spans.append(Scored(s, c, feats[k], score_list[k], cov))
    return Ranking(spans, setup.weights, setup.found)


class _SpanBound:
    """An upper bound of ``w @ row - w @ head`` over every span a sentence can hold: the
    weighted maximum of each span feature over its range, narrowed by what the question and
    the sentence allow. Derived from the loaded weights at run time, so a refit stays exact.
    Called for every candidate sentence, so the per-question part is summed up front."""

    __slots__ = (
        "_blinds",
        "_const",
        "_kind_parts",
        "_kinds",
        "_left_lex",
        "_left_ranked",
        "_left_words",
        "_len",
        "_lengths",
        "_off",
        "_on",
        "_per_sentence",
        "_ranges",
        "_right_lex",
        "_right_ranked",
        "_right_words",
        "_runs",
        "_span_const",
        "_w",
        "_x",
        "usable",
    )

    def __init__(self, w: Sequence[float], q: _Question) -> None:
        self.usable = set(FEATURES) <= _HEAD_FEATURES | set(_SPAN_RANGES) | _LENGTH_FEATURES
        self._w = w
        ranges = {n: r for n, r in _SPAN_RANGES.items() if n in _F}
        # What the question rules out, as ``span_row`` sets these features.
        narrow = {
            "type_match": max(q.fit.values(), default=0.0),
            "typed_q_nomatch": 1.0 if q.typed else 0.0,
            "focus": 1.0 if q.focus is not None else 0.0,
            "place_cue": 1.0 if q.place else 0.0,
            "person_cue": 1.0 if q.person else 0.0,
            "phrase_q_name": 0.0 if q.typed else 1.0,
            "phrase_q_typed": 0.0 if q.typed else 1.0,
            "multiword_name": 1.0 if q.multiword else 0.0,
            "focus_inside": 1.0 if q.focus is not None else 0.0,
        }
        for n, hi in narrow.items():
            if n in ranges:
                ranges[n] = (ranges[n][0], min(ranges[n][1], hi))
        self._ranges = ranges
        varying = _SENTENCE_FEATURES | _LEFT_GROUP | _START_GROUP | _NAME_FEATURES | _KIND_FEATURES
        # Features of the whole sentence: exact once its words are known, so they stay out of
        # the constant part (their weights are negative: bounded by 0 they would loosen every
        # bound).
        self._per_sentence = [(_F[n], w[_F[n]]) for n in _PER_SENTENCE if n in ranges]
        # One word sits before a span and one after it: of the word-class features only the
        # classes of that word can be 1 at once, so the most they add is that of the best word,
        # not the sum over the classes (which loosened bounds enough to double the sentences
        # scored); once the sentence's words are known, only the words it has.
        # The copula and place cues are classes of the word before too (``_LEFT_CLASSES``).
        self._left_words = self._word_classes(_LEFT_CLASSES)
        self._right_words = self._word_classes(RIGHT_WORDS)
        # The same, largest gain first: a sentence's best word is then the first it holds.
        self._left_ranked = sorted(self._left_words.items(), key=lambda x: -x[1])
        self._right_ranked = sorted(self._right_words.items(), key=lambda x: -x[1])
        self._const = sum(
            self._gain(n)
            for n in ranges
            if n not in varying and n not in _PER_SENTENCE and n not in RIGHT_WORDS
        )
        self._on = {n: self._gain(n) for n in varying}
        self._off = {n: self._gain(n, 0.0) for n in varying}
        self._runs = [
            (self._gain("left_run", float(k)), self._gain("right_run", float(k))) for k in range(5)
        ]
        lw = [w[_F[n]] if n in _F else 0.0 for n in ("length", "length_sq", "phrase_q_len")]
        self._len = (lw[0] + (0.0 if q.typed else lw[2]), lw[1] / 10.0)
        self._lengths: dict[int, float] = {}
        self._span_parts(w, q)
        # Per kinds of span a sentence may hold (a name, phrases, a typed span) and whether a
        # name there may have two capitalised words: the most a span's kind adds, with its
        # share of capitals (-inf: no span). A name's words are at least half capitalised
        # (``NAME_MIN_CAPS``).
        caps_any = self._on["cap_share"]
        typed_part = max(self._kind(q, kind) for kind in _TYPED_KINDS) + caps_any
        phrase_part = self._kind(q, PHRASE) + caps_any
        name_part = self._kind(q, NAME) + self._gain("cap_share", lo=NAME_MIN_CAPS)
        self._kind_parts: dict[tuple[bool, bool, bool, bool], float] = {}
        for name, phrases, typed, multi in product((False, True), repeat=4):
            best = typed_part if typed else -math.inf
            if phrases:
                best = max(best, phrase_part)
            if name:
                best = max(best, name_part + (self._on if multi else self._off)["multiword_name"])
            self._kind_parts[name, phrases, typed, multi] = best
        # Before a sentence is split into words, any of them may be there; only how many of
        # its words are question terms is known (``k``, at most 4 count), and which kinds of
        # span it may hold.
        any_word = max(self._right_words.values(), default=0.0) + max(
            self._left_words.values(), default=0.0
        )
        self._blinds = {
            (k, kinds): self._rest(k, kinds, digit=True, multi=True, focus=True, person=True)
            + any_word
            for k in range(5)
            for kinds in product((False, True), repeat=3)
        }

    def _span_parts(self, w: Sequence[float], q: _Question) -> None:
        """What ``spans`` adds up: the weight of each feature it sets exactly, and of the
        words before and after a span, what their classes add together."""
        x = self._x = {n: w[_F[n]] if n in self._ranges else 0.0 for n in FEATURES}
        self._kinds: dict[str, float] = {}
        # The features ``spans`` takes at their range's most (per span, they need the question
        # terms around it: ``span_row``'s costly part).
        self._span_const = sum(
            self._gain(n) for n in ("in_question", "between_q", "paren", "cuts_name")
        )
        left: dict[str, float] = {}
        for col, words in (*LEFT_WORDS.items(), ("prev_copula", _COPULA)):
            for word in words:
                left[word] = left.get(word, 0.0) + x[col]
        if q.place:
            for word in _PLACE_CUES:
                left[word] = left.get(word, 0.0) + x["place_cue"]
        right: dict[str, float] = {}
        for col, words in RIGHT_WORDS.items():
            for word in words:
                right[word] = right.get(word, 0.0) + x[col]
        self._left_lex, self._right_lex = left, right

    def _word_classes(self, classes: dict[str, frozenset[str]]) -> dict[str, float]:
        """Per word of ``classes``: the most the features of its classes add together."""
        present = [n for n in classes if n in self._ranges]
        vocabulary = set().union(*(classes[n] for n in present))
        gains = {
            word: sum(self._gain(n) for n in present if word in classes[n]) for word in vocabulary
        }
        return {word: g for word, g in gains.items() if g > 0.0}

    @staticmethod
    def _first_held(
        ranked: list[tuple[str, float]], words: set[str], low: tuple[str, ...], skip: int
    ) -> float:
        """The largest gain of a word that ``low`` holds besides its word at ``skip`` (0 or
        -1; ``words`` is ``set(low)``): ``ranked`` is largest first, so the first word held is
        the best, and no set is built for ``low`` without that word."""
        for x, g in ranked:
            if x in words and (x != low[skip] or low.count(x) > 1):
                return g
        return 0.0

    def _gain(self, n: str, hi: float | None = None, lo: float | None = None) -> float:
        """The most feature ``n`` can add, its range's upper end lowered to ``hi`` (its lower
        end raised to ``lo``)."""
        r = self._ranges.get(n)
        if r is None:
            return 0.0
        bottom, top = r
        if hi is not None and hi < top:
            top = hi
        if lo is not None and lo > bottom:
            bottom = lo
        wn = self._w[_F[n]]
        return max(wn * bottom, wn * top)

    def lengths(self, n_max: int) -> float:
        """Max over whole n in [1, n_max] of a*n + b*n*n (the length features' share)."""
        a, b = self._len
        top = max(1, n_max)
        if b >= 0.0:  # convex or straight: at an end
            return max(a + b, a * top + b * top * top)
        v = -a / (2.0 * b)
        # Concave: past the vertex's ceiling the maximum stops growing, so few keys.
        top = min(top, max(1, math.ceil(v)))
        got = self._lengths.get(top)
        if got is None:
            ns = {1, top, *(min(max(1, n), top) for n in (math.floor(v), math.ceil(v)))}
            got = self._lengths[top] = max(a * n + b * n * n for n in ns)
        return got

    def __call__(
        self,
        q: _Question,
        cov: float,
        sentence: str,
        sw: SentenceWords | None,
        counts: tuple[int, int],
        kinds: Kinds,
    ) -> float:
        """The bound for ``sentence`` under question ``q`` (of the kind this bound was built
        for), with coverage ``cov``, that may hold the ``kinds`` of span; its words ``sw``,
        once known, narrow it. Before that, ``counts`` (its words that are question terms, its
        words with a term) narrow it a little. -inf when it can hold no span."""
        out = self._gain("near_cov", cov)
        if sw is None:
            k, n_terms = counts
            return (
                out
                + self.lengths(len(sentence))
                + self._blinds[min(4, k), kinds]
                + self._sentence_counted(k, n_terms)
            )
        low = sw.lower
        qterms = q.qterms
        matched = [j for j, x in enumerate(sw.words) if x.term in qterms]
        k = min(4, len(matched))
        out += self._sentence_part(sw, matched)
        caps = sw.cum_caps[-1]
        kinds = (kinds[0] and may_hold_name(sentence, sw), kinds[1], kinds[2])
        f = q.focus_s
        words = set(low)
        return (
            out
            + self.lengths(len(low))
            + self._rest(
                k,
                kinds,
                digit=sw.cum_digits[-1] > 0,
                multi=caps > 1,
                focus=f is not None and any(f in x for x in low),
                person=not words.isdisjoint(_PERSON_CUES) or not words.isdisjoint(_PERSON_VERBS),
            )
            # A word before a span is not the last word, one after it not the first.
            + self._first_held(self._right_ranked, words, low, 0)
            + self._first_held(self._left_ranked, words, low, -1)
        )

    def _kind(self, q: _Question, kind: str) -> float:
        got = self._kinds.get(kind)
        if got is None:
            x = self._x
            fit = q.fit.get(kind, 0.0)
            got = x["type_match"] * fit
            if q.typed:
                got += x["typed_q_nomatch"] if fit == 0.0 else 0.0
            elif kind == NAME:
                got += x["phrase_q_name"]
            elif kind in _TYPED_KINDS:
                got += x["phrase_q_typed"]
            self._kinds[kind] = got
        return got

    def spans(
        self,
        q: _Question,
        cov: float,
        text: str,
        sw: SentenceWords,
        cands: Sequence[Candidate],
    ) -> list[float]:
        """For each of ``cands`` (spans of a sentence of ``text`` with words ``sw`` and
        coverage ``cov``), at least ``w @ row - w @ head`` of its row: what its kind, its words
        and its neighbours make exact as ``span_row`` computes them, the rest at their range's
        most (question terms near it or inside it, parentheses, a cut name: costly here). Far
        tighter than the sentence's bound, and a fraction of a row's cost."""
        x = self._x
        ws, low = sw.words, sw.lower
        n = len(ws)
        qterms = q.qterms
        inq = [wd.term in qterms for wd in ws]
        matched = [j for j, b in enumerate(inq) if b]
        left_run, right_run = self._runs[min(4, len(matched))]
        base = self._gain("near_cov", cov) + self._span_const + self._sentence_part(sw, matched)
        a, b2 = self._len
        cum_caps, cum_digits = sw.cum_caps, sw.cum_digits
        verbs = _verb_prefix(sw)
        focus = q.focus
        x_cap, x_verb, x_digit = x["cap_share"], x["verb_share"], x["has_digit"]
        x_dist, x_share, x_clause = x["near_dist"], x["left_share"], x["same_clause"]
        x_lpunct, x_rpunct = x["left_punct"], x["right_punct"]
        left_lex, right_lex = self._left_lex, self._right_lex
        out = []
        for c in cands:
            first, last = c.first, c.last
            end = last + 1
            nw = end - first
            kind = c.kind
            caps = cum_caps[end] - cum_caps[first]
            digits = cum_digits[end] > cum_digits[first]
            v = base + a * nw + b2 * nw * nw + self._kind(q, kind)
            v += (x_cap * caps + x_verb * (verbs[end] - verbs[first])) / nw
            if digits:
                v += x_digit
            if c.unit:
                v += x["has_unit"]
            if nw == 1 and not ws[first].cap and not digits:
                v += x["lower_single"]
            if q.multiword and kind == NAME and caps >= 2:
                v += x["multiword_name"]
            if kind == PHRASE:
                a0, a1 = low[first], low[last]
                if (len(a0) > 4 and a0.endswith(_VERBISH)) or (
                    len(a1) > 4 and a1.endswith(_VERBISH)
                ):
                    v += x["verbish_edge"]
            if focus is not None:
                inside = focus in low[first:end]
                if inside:
                    v += x["focus_inside"]
                if (
                    inside
                    or focus == c.unit
                    or (first > 0 and low[first - 1] == focus)
                    or (end < n and low[end] == focus)
                    or (c.unit and c.unit.rstrip("s") == q.focus_s)
                ):
                    v += x["focus"]
            if matched:
                i_f = bisect_left(matched, first)
                i_l = bisect_right(matched, last, i_f)
                at = _nearest_outside(matched, i_f, i_l, first, last)
                if at is not None:
                    v += x_dist / (1.0 + (first - at if at < first else at - last))
                    if _clause_free(sw, at, first, last):
                        v += x_clause
                n_matched = len(matched) - (i_l - i_f)
                if n_matched:
                    v += x_share * i_f / n_matched
            person = False
            if first > 0:
                k = first - 1
                word = low[k]
                v += left_lex.get(word, 0.0) + left_run
                if text[ws[k].end : c.start].strip(" -"):
                    v += x_lpunct
                if ws[k].term is None:
                    v += x["left_stop"]
                elif inq[k]:
                    v += x["prev_match"]
                person = q.person and word in _PERSON_CUES
            else:
                v += x["name_starts_sentence" if kind == NAME else "starts_sentence"]
            if end < n:
                word = low[end]
                v += right_lex.get(word, 0.0) + right_run
                if text[c.end : ws[end].start].strip(" -"):
                    v += x_rpunct
                if ws[end].term is None:
                    v += x["right_stop"]
                elif inq[end]:
                    v += x["next_match"]
                person = person or (q.person and word in _PERSON_VERBS)
            else:
                v += x["right_punct"]
            if person:
                v += x["person_cue"]
            out.append(v)
        return out

    def _sentence_part(self, sw: SentenceWords, matched: list[int]) -> float:
        """What the features of the whole sentence (``_PER_SENTENCE``) add."""
        out = 0.0
        for col, wn in self._per_sentence:
            if col == _SENT_WORDS:
                out += wn * (min(len(sw.lower), _SENT_WORDS_CAP) / _SENT_WORDS_CAP)
            elif matched:
                out += wn * (len(matched) / (matched[-1] - matched[0] + 1))
        return out

    def typed_matters(self, name: bool, phrases: bool) -> bool:
        """Whether a sentence that may hold a name (or not) and phrases (or not) has a lower
        bound when it cannot hold a typed span."""
        return (
            self._kind_parts[name, phrases, False, False]
            < self._kind_parts[name, phrases, True, False]
        )

    def _sentence_counted(self, k: int, n_terms: int) -> float:
        """``_sentence_part`` at its most for a sentence with ``k`` question-term words and at
        least ``n_terms`` words: one question-term word makes the density exactly 1."""
        out = 0.0
        for col, wn in self._per_sentence:
            if col == _SENT_WORDS:
                out += max(wn * (min(n_terms, _SENT_WORDS_CAP) / _SENT_WORDS_CAP), wn)
            elif k == 1:
                out += wn
            else:
                out += max(0.0, wn)
        return out

    def _rest(
        self,
        k: int,
        kinds: Kinds,
        *,
        digit: bool,
        multi: bool,
        focus: bool,
        person: bool,
    ) -> float:
        """The bound's part besides coverage and length, for a sentence with ``k`` question-term
        words (at most 4 count) that may hold the ``kinds`` of span and the given kinds of
        words."""
        on, off = self._on, self._off
        left_run, right_run = self._runs[k]
        out = self._const + right_run
        out += (on if digit else off)["has_digit"]
        out += (on if focus else off)["focus"]
        out += (on if person else off)["person_cue"]
        name = kinds[0]
        out += self._kind_parts[(*kinds, multi)]
        # A span at the sentence start has nothing before it; one after it does not start it.
        left = on["prev_match"] + left_run + on["left_stop"] + on["left_punct"] + on["left_share"]
        start = max(on["starts_sentence"], (on if name else off)["name_starts_sentence"])
        return out + max(left, start)


# ``_SpanBound`` reads of the question only what its kind and whether it has a focus noun
# decide (``_Question``: fit, typed, place, person, multiword, focus); the terms and the focus
# word come with each call. So one bound serves every question of a shape.
# Each entry keeps the ranges it was built from: a bound of other ranges is built again.
_BOUNDS: dict[tuple, tuple[dict, _SpanBound]] = {}


def _span_bound(w: list[float], q: _Question) -> _SpanBound:
    key = (tuple(w), q.kind, q.focus is not None)
    got = _BOUNDS.get(key)
    if got is None or got[0] is not _SPAN_RANGES:
        if len(_BOUNDS) >= 64:  # weights are reloaded only in training
            _BOUNDS.clear()
        got = _BOUNDS[key] = (_SPAN_RANGES, _SpanBound(w, q))
    return got[1]


@dataclass(slots=True)
class LazyRanking:
    """``score_spans``' ranking, computed only as far as it is read: ``spans`` yields the spans
    best first, in the same order and with the same values as ``Ranking.spans``."""

    spans: Iterable[Scored]
    weights: dict[str, float]
    found: frozenset[str]


# Bounds and scores are sums of ~40 products; their rounding is some 1e-15 relative, and
# ``_scores`` treats scores within 1e-9 of each other as ties. A sentence is skipped only
# when its bound is this far below the span to be emitted, so neither can change the order.
_PRUNE_MARGIN = 1e-6


class _Pruner:
    """Branch and bound over sentences, then spans: a sentence's bound is its head score plus
    ``_SpanBound``; the heap is worked in falling bound, and the next span of the ranking is
    final once no entry's bound comes within ``_PRUNE_MARGIN`` of it. A sentence is first
    bounded from its terms and the kinds of span its text can hold (none: it is dropped),
    split into words when that bound is reached, bounded again, and when that bound is
    reached its candidates are found and each is bounded on its own (``_SpanBound.spans``); a
    span's row is computed only when its own bound is reached. Most sentences that get that
    far hold no span that could win, and rows are the costly part."""

    def __init__(self, setup: _Setup, w_vec: np.ndarray) -> None:
        self.setup = setup
        self.w_vec = w_vec
        self.w = w = w_vec.tolist()
        q = setup.q
        self.bound = _span_bound(w, q)
        self.head_columns = [_F[n] for n in _HEAD_FEATURES]
        self.covered = [i for i, here in enumerate(setup.heres) if here]
        self.cov = {i: setup.coverage(i) for i in self.covered}
        self.bigram: dict[int, float] = {}  # exact, once known
        # Before a sentence is split into words: its share if every question bigram whose
        # two terms it holds were adjacent in it (0, and exact, when there is none).
        self.bigram_hi: dict[int, float] = {}
        self.words: dict[int, SentenceWords] = {}
        self.cands: dict[int, tuple[Candidate, ...]] = {}
        self.feats: dict[int, SentenceFeatures] = {}
        self.heads: dict[int, list[float]] = {}
        self.exact_head: set[int] = set()
        pairs = setup.q_bigrams
        for i in self.covered:
            here = setup.heres[i]
            both = sum(1 for a, b in pairs if a in here and b in here)
            if both:
                self.bigram_hi[i] = both / max(1, len(pairs))
            else:
                self.bigram[i] = self.bigram_hi[i] = 0.0
        self.phrase_ok = self._phrase_sentences()
        # For the bound before a sentence is split into words: how many of its words are
        # question terms and how many have a term, counted from its terms (which retrieval and
        # the term sets above have just memoised), and the kinds of span it may hold, from its
        # text (whether it may hold a typed span is looked for only where that could matter).
        terms_of, qterms = setup.analyzer.sentence_terms, q.qterms
        typed_matters, may_hold_typed = self.bound.typed_matters, setup.cache.may_hold_typed
        self.counts: dict[int, tuple[int, int]] = {}
        self.kinds: dict[int, Kinds] = {}
        for i in self.covered:
            sentence = setup.strs[i]
            terms = terms_of(sentence)
            self.counts[i] = (sum(map(qterms.__contains__, terms)), len(terms))
            name, phrases = may_hold_name(sentence), i in self.phrase_ok
            typed = not typed_matters(name, phrases) or may_hold_typed(sentence)
            self.kinds[i] = (name, phrases, typed)
        # Per scored span: its feature row, its product with the weights, its owner, and the
        # tie-breaking key of the full ranking (shorter first, then sentence and candidate
        # order, which is the order score_spans builds its rows in).
        self.rows: list[np.ndarray] = []
        self.raw: list[float] = []
        self.owners: list[tuple[Sentence, Candidate, float]] = []
        self.keys: list[tuple[int, int, int]] = []
        self.scores: list[float] = []
        self.order: list[int] = []
        self.done: set[int] = set()
        self.emitted: list[Scored] = []
        self.dirty = False
        self.heap: list[tuple[float, int, int]] = []
        if not self.bound.usable:
            for i in self.covered:  # an undeclared feature: score everything
                self._visit(i)
            return
        for i in self.covered:
            self._push(i)

    def _words(self, i: int) -> SentenceWords:
        sw = self.words.get(i)
        if sw is None:
            sw = self.words[i] = self.setup.words(i)
            if i not in self.bigram:
                self.bigram[i] = self.setup.bigram_share(sw)
        return sw

    def _phrase_sentences(self) -> set[int]:
        """``score_spans``' phrase sentences (the best ``PHRASE_SENTENCES`` by coverage and
        bigram share, ties to the earlier), splitting into words only the sentences whose
        unknown bigram share could still put them among those."""
        hi = {i: self.cov[i] + 0.05 * self.bigram_hi[i] for i in self.covered}
        known: list[tuple[float, int]] = []
        for i in sorted(self.covered, key=lambda i: (-hi[i], i)):
            if len(known) >= PHRASE_SENTENCES:
                known.sort()
                # Strictly below the last of them even at its largest: neither it nor any
                # later one (smaller maxima) can enter, not even by a tie.
                if -known[PHRASE_SENTENCES - 1][0] > hi[i] + 1e-12:
                    break
            if i not in self.bigram:
                self._words(i)
            known.append((_phrase_key(self.cov[i], self.bigram[i]), i))
        known.sort()
        return {i for _, i in known[:PHRASE_SENTENCES]}

    def _head(self, i: int) -> list[float]:
        """The head of sentence ``i``'s rows; until its bigram share is known, with the end
        of that share's range the weight favours."""
        head = self.heads.get(i)
        bigram = self.bigram.get(i)
        if head is None:
            if bigram is None:
                hi = self.bigram_hi[i] if self.w[_SENT_BIGRAM] > 0.0 else 0.0
                head = self.heads[i] = self.setup.head(i, self.cov[i], hi)
            else:
                head = self.heads[i] = self.setup.head(i, self.cov[i], bigram)
                self.exact_head.add(i)
        elif bigram is not None and i not in self.exact_head:
            head[_SENT_BIGRAM] = bigram
            self.exact_head.add(i)
        return head

    def sentence_bound(self, i: int) -> float:
        """At least the score of every span of sentence ``i``: from its term set alone, or
        from its words once it has been split into them."""
        w, head = self.w, self._head(i)
        base = sum(w[j] * head[j] for j in self.head_columns)
        return base + self.bound(
            self.setup.q,
            self.cov[i],
            self.setup.strs[i],
            self.words.get(i),
            self.counts[i],
            self.kinds[i],
        )

    def _push(self, i: int) -> None:
        # Stage 1: to be split into words and bounded again; stage 2: to have its candidates
        # found and bounded one by one (stage 3: to be scored).
        stage = 1 if i not in self.words else 2
        bound = self.sentence_bound(i)
        if bound > -math.inf:  # else it holds no span
            heapq.heappush(self.heap, (-bound, i, stage))

    def _expand(self, i: int) -> None:
        setup, w = self.setup, self.w
        sw = self._words(i)
        cands = self.cands[i] = setup.candidates(i, sw, i in self.phrase_ok)
        head = self._head(i)  # exact: the words give the bigram share
        base = sum(w[j] * head[j] for j in self.head_columns)
        heap = self.heap
        text = setup.texts[setup.sents[i].source]
        for k, v in enumerate(self.bound.spans(setup.q, self.cov[i], text, sw, cands)):
            heapq.heappush(heap, (-(base + v), i, 3, k))

    def _score(self, i: int, k: int) -> None:
        setup = self.setup
        sf = self.feats.get(i)
        if sf is None:
            s = setup.sents[i]
            sf = SentenceFeatures(setup.q, setup.texts[s.source], self.words[i], self._head(i))
            self.feats[i] = sf
        c = self.cands[i][k]
        row = span_row(setup.q, sf, c)
        if row is not None:
            vec = np.array(row)
            self.rows.append(vec)
            self.raw.append(float(vec @ self.w_vec))
            self.owners.append((setup.sents[i], c, self.cov[i]))
            self.keys.append((c.end - c.start, i, k))
            self.dirty = True

    def _visit(self, i: int) -> None:
        setup = self.setup
        sw = self._words(i)
        cov = self.cov[i]
        s = setup.sents[i]
        sf = SentenceFeatures(setup.q, setup.texts[s.source], sw, self._head(i))
        rows = []
        for k, c in enumerate(setup.candidates(i, sw, i in self.phrase_ok)):
            row = span_row(setup.q, sf, c)
            if row is not None:
                rows.append(row)
                self.owners.append((s, c, cov))
                self.keys.append((c.end - c.start, i, k))
        if rows:
            m = len(rows)
            block = np.fromiter(chain.from_iterable(rows), np.float64, m * len(FEATURES))
            block = block.reshape(m, len(FEATURES))
            self.rows.extend(block)
            self.raw.extend((block @ self.w_vec).tolist())
            self.dirty = True

    def _rescore(self) -> None:
        # Products from different blocks may differ from score_spans' in the last bit; only
        # near ties could notice, and those are recomputed row by row as there.
        self.scores = _untie(list(self.raw), self.rows.__getitem__, self.w_vec)
        neg = [-x for x in self.scores]
        ranked = sorted(zip(neg, self.keys, range(len(neg)), strict=True))
        self.order = [k for _, _, k in ranked]
        self.dirty = False

    def _peek(self) -> int | None:
        for k in self.order:
            if k not in self.done:
                return k
        return None

    def next(self) -> Scored | None:
        while True:
            if self.dirty:
                self._rescore()
            best = self._peek()
            floor = None
            if best is not None:
                top = self.scores[best]
                floor = top - _PRUNE_MARGIN * max(1.0, abs(top))
            heap = self.heap
            while heap and (floor is None or -heap[0][0] >= floor):
                item = heapq.heappop(heap)
                i, stage = item[1], item[2]
                if stage == 1:
                    self._words(i)
                    self._push(i)
                elif stage == 2:
                    self._expand(i)
                else:
                    self._score(i, item[3])
                    if floor is None and self.dirty:
                        break  # a first score to prune against
            if not self.dirty:
                break
        if best is None:
            return None
        self.done.add(best)
        s, c, cov = self.owners[best]
        return Scored(s, c, self.rows[best], self.scores[best], cov)

    def __iter__(self) -> Iterator[Scored]:
        k = 0
        while True:
            if k == len(self.emitted):
                nxt = self.next()
                if nxt is None:
                    return
                self.emitted.append(nxt)
            yield self.emitted[k]
            k += 1


def rank_lazily(
    question: str,
    qtype: QType,
    hits: Sequence[Hit],
    document: Callable[[str], Document],
    analyzer: Analyzer,
    *,
    max_chunks: int,
    idf: Callable[[str], float] | None = None,
    weights: np.ndarray | None = None,
) -> LazyRanking:
    """``score_spans``, but a sentence is split into words and its spans are scored only when
    the spans read so far could still be beaten by one of it; reading the first few spans
    then costs a fraction of the whole ranking. Iterating ``spans`` to the end gives every
    span ``score_spans`` gives, in its order."""
    w_vec = load_weights() if weights is None else weights
    q_list = analyzer.terms(question)
    if not q_list or not hits:
        return LazyRanking((), {}, frozenset())
    setup = _Setup(q_list, qtype, hits, document, analyzer, max_chunks, idf)
    return LazyRanking(_Pruner(setup, w_vec), setup.weights, setup.found)


__all__ = [
    "FEATURES",
    "LazyRanking",
    "Ranking",
    "Scored",
    "Sentence",
    "SentenceFeatures",
    "gather_sentences",
    "load_weights",
    "rank_lazily",
    "score_spans",
    "span_features",
    "span_row",
]
