"""Score (sentence, span) pairs from the top chunks against the question.

A span is good when its sentence covers the question's rarer terms, its kind fits the question,
it sits near the words the question shares with the sentence, and it does not merely repeat the
question. Each of those is one feature; ``weights.json`` holds the linear weights (trained on
SQuAD articles, see ``bot.extract.train``), so the scorer stays inspectable.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, pairwise
from pathlib import Path

import numpy as np

from bot.analyze import Analyzer
from bot.extract.candidates import (
    NAME_GAP,
    Candidate,
    SentenceWords,
    Word,
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
_SENT_WORDS_CAP = 60
_TYPED_KINDS = (NUMBER, MONEY, PERCENT, DATE)
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


@dataclass(frozen=True, slots=True)
class Sentence:
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
        left_run, left_stop, left_punct, the word before is a person cue, cuts a name)."""
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
                )
            else:
                got = (0.0, 0.0, 0.0, 0.0, 0.0, False, False)
            self._left[key] = got
        return got

    def right(self, end: int, stop: int) -> tuple:
        """After a span ending before word ``end``, at offset ``stop``: (next_match, right_run,
        right_stop, right_punct, the word after is a person verb, cuts a name)."""
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
                )
            else:  # the sentence end counts as punctuation
                got = (0.0, 0.0, 0.0, 1.0, False, False)
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
        # The nearest question term outside the span; on a tie the one before it.
        dist = None
        if i_f > 0:
            dist_at = matched[i_f - 1]
            dist = first - dist_at
        if i_l < len(matched) and (dist is None or matched[i_l] - last < dist):
            dist_at = matched[i_l]
            dist = dist_at - last
        if dist is not None:
            f[_NEAR_DIST] = 1.0 / (1.0 + dist)
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
    ) = sf.left(first, c.start)
    (
        f[_NEXT_MATCH],
        f[_RIGHT_RUN],
        f[_RIGHT_STOP],
        f[_RIGHT_PUNCT],
        person_after,
        cuts_after,
    ) = sf.right(end, c.end)
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
    if dist_at is not None:
        # No clause mark between the span and its nearest question term.
        ws = sw.words
        a, b = (dist_at, first) if dist_at < first else (last, dist_at)
        marks = sw.marks
        i = bisect_left(marks, ws[a].end) if marks else 0
        if i == len(marks) or marks[i] >= ws[b].start:
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
    scores = feats @ w
    if len(scores) > 1:
        s = np.sort(scores)
        close = np.abs(np.diff(s)) <= 1e-9 * np.maximum(1.0, np.abs(s[1:]))
        if close.any():
            near = np.zeros(len(s), dtype=bool)
            near[1:] |= close
            near[:-1] |= close
            for k in np.flatnonzero(np.isin(scores, s[near])).tolist():
                scores[k] = float(feats[k] @ w)
    return scores


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
    qterms = set(q_list)
    if not qterms or not hits:
        return Ranking([], {}, frozenset())
    q_bigrams = _bigrams(q_list)
    sents = gather_sentences(hits, document, max_chunks)
    top_score = max(h.score for h in hits) or 1.0
    texts = {s.source: document(s.source).text for s in sents}
    cache = word_cache(analyzer)
    # Only the question terms of a sentence matter for weights and coverage, so a sentence that
    # shares none is never split into words.
    heres = [qterms & cache.terms(texts[s.source][s.start : s.end]) for s in sents]
    weights = term_weights(sorted(qterms), heres, idf)
    q = _Question(qtype, qterms, weights)

    covered: list[tuple[int, float, float]] = []  # (sentence, coverage, bigram share)
    for i, s in enumerate(sents):
        if heres[i]:
            cov = sum(weights[t] for t in heres[i]) / q.total
            sw = cache.words(texts[s.source][s.start : s.end], s.start)
            bigram = len(q_bigrams & sw.bigrams) / max(1, len(q_bigrams))
            covered.append((i, cov, bigram))
    # Phrases only from the sentences that best cover the question (cost grows with n-grams);
    # a sentence without question terms scores 0 here and cannot be among them before one with.
    ranked = sorted(covered, key=lambda r: -(r[1] + 0.05 * r[2]))
    phrase_ok = {r[0] for r in ranked[:PHRASE_SENTENCES]}

    rows: list[list[float]] = []
    owners: list[tuple[Sentence, Candidate, float]] = []
    for i, cov, bigram in covered:
        s = sents[i]
        text = texts[s.source]
        ctx = 0.0
        prev = sents[i - 1] if i > 0 else None
        # A pronoun subject ("It cost ...") leaves the topic words in the sentence before.
        if (
            prev is not None
            and prev.source == s.source
            and prev.end <= s.start
            and text[prev.end : s.start].count("\n") <= 1
        ):
            ctx = sum(weights[t] for t in heres[i - 1] - heres[i]) / q.total
        head = [0.0] * len(FEATURES)
        head[_BIAS] = 1.0
        head[_SENT_COV] = cov
        head[_SENT_BIGRAM] = bigram
        head[_CONTEXT_COV] = ctx
        head[_HIT_RATIO] = s.hit_score / top_score
        head[_HIT_FIRST] = 1.0 if s.rank == 0 else 0.0
        sw = cache.words(text[s.start : s.end], s.start)
        sf = SentenceFeatures(q, text, sw, head)
        for c in cache.candidates(text, s.start, s.end, sw.words, phrases=i in phrase_ok):
            row = span_row(q, sf, c)
            if row is not None:
                rows.append(row)
                owners.append((s, c, cov))
    found = frozenset().union(*heres) if heres else frozenset()
    if not rows:
        return Ranking([], weights, found)
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
    return Ranking(spans, weights, found)


__all__ = [
    "FEATURES",
    "Ranking",
    "Scored",
    "Sentence",
    "SentenceFeatures",
    "gather_sentences",
    "load_weights",
    "score_spans",
    "span_features",
    "span_row",
]
