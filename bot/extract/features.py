"""A span's feature row: what makes a (sentence, span) pair a good answer to a question.

A span is good when its sentence covers the question's rarer terms, its kind fits the question,
it sits near the words the question shares with the sentence, and it does not merely repeat the
question. Each of those is one feature of ``FEATURES``; ``weights.json`` holds their linear
weights (fitted on SQuAD articles by ``bot.evaluate.train``), so the scorer stays inspectable.
``SentenceFeatures`` computes what a sentence's spans share once; ``span_row`` the rest.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from bot.extract.candidates import NAME_GAP, Candidate, SentenceWords, Word, words_summary
from bot.extract.qtype import DATE, MONEY, NAME, NUMBER, PERCENT, PERSON, PHRASE, PLACE, QType


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


WINDOW = 6  # words each side of a span that count as its neighbourhood

PLACE_CUES = _word_set(
    """
    in at near from to into located based across throughout of
    """
)
PERSON_CUES = _word_set(
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
COPULA = _word_set(
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
PERSON_VERBS = _word_set(
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
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}
# Column of each feature, for the row builder (read by name, so FEATURES may be reordered).
_BIAS = FEATURE_INDEX["bias"]
_SENT_COV = FEATURE_INDEX["sent_cov"]
_SENT_BIGRAM = FEATURE_INDEX["sent_bigram"]
_HIT_RATIO = FEATURE_INDEX["hit_ratio"]
_HIT_FIRST = FEATURE_INDEX["hit_first"]
_TYPE_MATCH = FEATURE_INDEX["type_match"]
_TYPED_Q_NOMATCH = FEATURE_INDEX["typed_q_nomatch"]
_IN_QUESTION = FEATURE_INDEX["in_question"]
_NEAR_COV = FEATURE_INDEX["near_cov"]
_NEAR_DIST = FEATURE_INDEX["near_dist"]
_PREV_MATCH = FEATURE_INDEX["prev_match"]
_NEXT_MATCH = FEATURE_INDEX["next_match"]
_LENGTH = FEATURE_INDEX["length"]
_LENGTH_SQ = FEATURE_INDEX["length_sq"]
_FOCUS = FEATURE_INDEX["focus"]
_CAP_SHARE = FEATURE_INDEX["cap_share"]
_PLACE_CUE = FEATURE_INDEX["place_cue"]
_PERSON_CUE = FEATURE_INDEX["person_cue"]
_PHRASE_Q_NAME = FEATURE_INDEX["phrase_q_name"]
_PHRASE_Q_TYPED = FEATURE_INDEX["phrase_q_typed"]
_PHRASE_Q_LEN = FEATURE_INDEX["phrase_q_len"]
_MULTIWORD_NAME = FEATURE_INDEX["multiword_name"]
_HAS_DIGIT = FEATURE_INDEX["has_digit"]
_STARTS_SENTENCE = FEATURE_INDEX["starts_sentence"]
_LEFT_RUN = FEATURE_INDEX["left_run"]
_RIGHT_RUN = FEATURE_INDEX["right_run"]
_LEFT_STOP = FEATURE_INDEX["left_stop"]
_LEFT_PUNCT = FEATURE_INDEX["left_punct"]
_RIGHT_PUNCT = FEATURE_INDEX["right_punct"]
_RIGHT_STOP = FEATURE_INDEX["right_stop"]
_VERBISH_EDGE = FEATURE_INDEX["verbish_edge"]
_SAME_CLAUSE = FEATURE_INDEX["same_clause"]
_LOWER_SINGLE = FEATURE_INDEX["lower_single"]
_CUTS_NAME = FEATURE_INDEX["cuts_name"]
_LEFT_SHARE = FEATURE_INDEX["left_share"]
_NAME_STARTS_SENTENCE = FEATURE_INDEX["name_starts_sentence"]
_CONTEXT_COV = FEATURE_INDEX["context_cov"]
_FOCUS_INSIDE = FEATURE_INDEX["focus_inside"]
_VERB_SHARE = FEATURE_INDEX["verb_share"]
_PAREN = FEATURE_INDEX["paren"]
_BETWEEN_Q = FEATURE_INDEX["between_q"]
_MATCH_DENSITY = FEATURE_INDEX["match_density"]
_SENT_WORDS = FEATURE_INDEX["sent_words"]
_PREV_COPULA = FEATURE_INDEX["prev_copula"]
_HAS_UNIT = FEATURE_INDEX["has_unit"]
_LEFT_LEX = [(FEATURE_INDEX[name], words) for name, words in LEFT_WORDS.items()]
_RIGHT_LEX = [(FEATURE_INDEX[name], words) for name, words in RIGHT_WORDS.items()]
SENT_WORDS_CAP = 60
TYPED_KINDS = (NUMBER, MONEY, PERCENT, DATE)

VERBISH = ("ed", "ing", "ly")

_COMPATIBLE: dict[str, dict[str, float]] = {
    NUMBER: {NUMBER: 1.0, MONEY: 0.6, PERCENT: 0.6},
    MONEY: {MONEY: 1.0, NUMBER: 0.4},
    PERCENT: {PERCENT: 1.0, NUMBER: 0.3},
    DATE: {DATE: 1.0},
    PERSON: {NAME: 1.0},
    PLACE: {NAME: 1.0},
    NAME: {NAME: 1.0},
}


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


def bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(terms))


def _kind_fit(qtype: QType, kind: str) -> float:
    return _COMPATIBLE.get(qtype.kind, {}).get(kind, 0.0)


class QuestionContext:
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
        self, q: QuestionContext, text: str, sw: SentenceWords, head: list[float] | None = None
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
                    1.0 if self.place and low in PLACE_CUES else 0.0,
                    self.run(k, -1),
                    1.0 if w.term is None else 0.0,
                    1.0 if before.strip(" -") else 0.0,
                    low in PERSON_CUES,
                    bool(
                        w.cap
                        and first > 1
                        and NAME_GAP.match(before)
                        and low not in PERSON_CUES  # cutting off a title is not cutting a name
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
                    self.sw.lower[end] in PERSON_VERBS,
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


def verb_prefix(sw: SentenceWords) -> list[int]:
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


def nearest_outside(matched: list[int], i_f: int, i_l: int, first: int, last: int) -> int | None:
    """Of the question-term words ``matched`` (ascending; ``matched[i_f:i_l]`` are those inside
    the span of words ``first``..``last``), the nearest outside the span; on a tie the one
    before it."""
    at = matched[i_f - 1] if i_f else None
    if i_l < len(matched) and (at is None or matched[i_l] - last < first - at):
        at = matched[i_l]
    return at


def clause_free(sw: SentenceWords, at: int, first: int, last: int) -> bool:
    """No clause mark between the span of words ``first``..``last`` and the word ``at``."""
    a, b = (at, first) if at < first else (last, at)
    marks = sw.marks
    i = bisect_left(marks, sw.words[a].end) if marks else 0
    return i == len(marks) or marks[i] >= sw.words[b].start


def span_row(q: QuestionContext, sf: SentenceFeatures, c: Candidate) -> list[float] | None:
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
        dist_at = nearest_outside(matched, i_f, i_l, first, last)
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
        elif kind in TYPED_KINDS:
            f[_PHRASE_Q_TYPED] = 1.0
        f[_PHRASE_Q_LEN] = n_words
    if q.multiword and kind == NAME and caps >= 2:
        f[_MULTIWORD_NAME] = 1.0
    if digits:
        f[_HAS_DIGIT] = 1.0
    if kind == PHRASE:
        a, b = low[first], low[last]
        if (len(a) > 4 and a.endswith(VERBISH)) or (len(b) > 4 and b.endswith(VERBISH)):
            f[_VERBISH_EDGE] = 1.0
    if dist_at is not None and clause_free(sw, dist_at, first, last):
        f[_SAME_CLAUSE] = 1.0
    if n_words == 1 and not sw.words[first].cap and not digits:
        f[_LOWER_SINGLE] = 1.0
    if first == 0:
        f[_NAME_STARTS_SENTENCE if kind == NAME else _STARTS_SENTENCE] = 1.0
    if focus is not None and focus in low[first:end]:
        f[_FOCUS_INSIDE] = 1.0
    verbs = verb_prefix(sw)
    f[_VERB_SHARE] = (verbs[end] - verbs[first]) / n_words
    if (first > 0 and "(" in sf.text[sw.words[first - 1].end : c.start]) or (
        end < n and ")" in sf.text[c.end : sw.words[end].start]
    ):
        f[_PAREN] = 1.0
    if matched and i_lo < i_f and i_l < i_hi:
        f[_BETWEEN_Q] = 1.0
    if matched:
        f[_MATCH_DENSITY] = len(matched) / (matched[-1] - matched[0] + 1)
    f[_SENT_WORDS] = min(n, SENT_WORDS_CAP) / SENT_WORDS_CAP
    if first > 0 and low[first - 1] in COPULA:
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
    q = QuestionContext(QType(qtype.kind, focus_term, qtype.wh), qterms, weights)
    row = span_row(q, SentenceFeatures(q, text, words_summary(text, ws)), c)
    return None if row is None else np.array(row)
