"""An upper bound on the score of every span a sentence can hold, for the lazy ranking.

``rank_lazily`` scores sentences in falling bound and stops once the next bound is below the
span it is about to emit, so a bound that is ever too low changes answers. Each feature's range
is declared here (``SPAN_RANGES``) and narrowed by what the question and the sentence allow.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import product

from bot.extract.candidates import NAME_MIN_CAPS, Candidate, SentenceWords, may_hold_name
from bot.extract.features import (
    COPULA,
    FEATURE_INDEX,
    FEATURES,
    LEFT_WORDS,
    PERSON_CUES,
    PERSON_VERBS,
    PLACE_CUES,
    RIGHT_WORDS,
    SENT_WORDS_CAP,
    TYPED_KINDS,
    VERBISH,
    QuestionContext,
    clause_free,
    nearest_outside,
    verb_prefix,
)
from bot.extract.qtype import NAME, PHRASE

_SENT_WORDS = FEATURE_INDEX["sent_words"]

# The features ``score_spans`` sets once per sentence (the head of every row of it); the rest
# are set per span by ``span_row``.
HEAD_FEATURES = frozenset(
    ("bias", "sent_cov", "sent_bigram", "context_cov", "hit_ratio", "hit_first")
)
# What each span feature can be, for the bound ``rank_lazily`` prunes sentences with; the
# question and the sentence narrow some (``_SpanBound``). A feature of ``FEATURES`` that is
# neither here nor in the head turns pruning off (every sentence is scored), so a new feature
# costs speed, never a wrong answer, until its range is declared here.
SPAN_RANGES: dict[str, tuple[float, float]] = {
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
_LEFT_CLASSES = {**LEFT_WORDS, "prev_copula": COPULA, "place_cue": PLACE_CUES}
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

    def __init__(self, w: Sequence[float], q: QuestionContext) -> None:
        self.usable = set(FEATURES) <= HEAD_FEATURES | set(SPAN_RANGES) | _LENGTH_FEATURES
        self._w = w
        ranges = {n: r for n, r in SPAN_RANGES.items() if n in FEATURE_INDEX}
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
        self._per_sentence = [
            (FEATURE_INDEX[n], w[FEATURE_INDEX[n]]) for n in _PER_SENTENCE if n in ranges
        ]
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
        lw = [
            w[FEATURE_INDEX[n]] if n in FEATURE_INDEX else 0.0
            for n in ("length", "length_sq", "phrase_q_len")
        ]
        self._len = (lw[0] + (0.0 if q.typed else lw[2]), lw[1] / 10.0)
        self._lengths: dict[int, float] = {}
        self._span_parts(w, q)
        # Per kinds of span a sentence may hold (a name, phrases, a typed span) and whether a
        # name there may have two capitalised words: the most a span's kind adds, with its
        # share of capitals (-inf: no span). A name's words are at least half capitalised
        # (``NAME_MIN_CAPS``).
        caps_any = self._on["cap_share"]
        typed_part = max(self._kind(q, kind) for kind in TYPED_KINDS) + caps_any
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

    def _span_parts(self, w: Sequence[float], q: QuestionContext) -> None:
        """What ``spans`` adds up: the weight of each feature it sets exactly, and of the
        words before and after a span, what their classes add together."""
        x = self._x = {n: w[FEATURE_INDEX[n]] if n in self._ranges else 0.0 for n in FEATURES}
        self._kinds: dict[str, float] = {}
        # The features ``spans`` takes at their range's most (per span, they need the question
        # terms around it: ``span_row``'s costly part).
        self._span_const = sum(
            self._gain(n) for n in ("in_question", "between_q", "paren", "cuts_name")
        )
        left: dict[str, float] = {}
        for col, words in (*LEFT_WORDS.items(), ("prev_copula", COPULA)):
            for word in words:
                left[word] = left.get(word, 0.0) + x[col]
        if q.place:
            for word in PLACE_CUES:
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
        wn = self._w[FEATURE_INDEX[n]]
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
        q: QuestionContext,
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
                person=not words.isdisjoint(PERSON_CUES) or not words.isdisjoint(PERSON_VERBS),
            )
            # A word before a span is not the last word, one after it not the first.
            + self._first_held(self._right_ranked, words, low, 0)
            + self._first_held(self._left_ranked, words, low, -1)
        )

    def _kind(self, q: QuestionContext, kind: str) -> float:
        got = self._kinds.get(kind)
        if got is None:
            x = self._x
            fit = q.fit.get(kind, 0.0)
            got = x["type_match"] * fit
            if q.typed:
                got += x["typed_q_nomatch"] if fit == 0.0 else 0.0
            elif kind == NAME:
                got += x["phrase_q_name"]
            elif kind in TYPED_KINDS:
                got += x["phrase_q_typed"]
            self._kinds[kind] = got
        return got

    def spans(
        self,
        q: QuestionContext,
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
        verbs = verb_prefix(sw)
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
                if (len(a0) > 4 and a0.endswith(VERBISH)) or (len(a1) > 4 and a1.endswith(VERBISH)):
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
                at = nearest_outside(matched, i_f, i_l, first, last)
                if at is not None:
                    v += x_dist / (1.0 + (first - at if at < first else at - last))
                    if clause_free(sw, at, first, last):
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
                person = q.person and word in PERSON_CUES
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
                person = person or (q.person and word in PERSON_VERBS)
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
                out += wn * (min(len(sw.lower), SENT_WORDS_CAP) / SENT_WORDS_CAP)
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
                out += max(wn * (min(n_terms, SENT_WORDS_CAP) / SENT_WORDS_CAP), wn)
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
# decide (``QuestionContext``: fit, typed, place, person, multiword, focus); the terms and the focus
# word come with each call. So one bound serves every question of a shape.
# Each entry keeps the ranges it was built from: a bound of other ranges is built again.
_BOUNDS: dict[tuple, tuple[dict, _SpanBound]] = {}


def span_bound(w: list[float], q: QuestionContext) -> _SpanBound:
    key = (tuple(w), q.kind, q.focus is not None)
    got = _BOUNDS.get(key)
    if got is None or got[0] is not SPAN_RANGES:
        if len(_BOUNDS) >= 64:  # weights are reloaded only in training
            _BOUNDS.clear()
        got = _BOUNDS[key] = (SPAN_RANGES, _SpanBound(w, q))
    return got[1]
