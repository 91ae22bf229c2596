"""Rank (sentence, span) pairs from the top chunks against the question.

``score_spans`` scores every admissible span (training and tests read it whole);
``rank_lazily`` yields the same ranking best first, scoring only as far as it is read, by
branch and bound over sentences (``bot.extract.bound``). The features are in
``bot.extract.features``, their weights in ``weights.json``.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.analyze import Analyzer
from bot.extract.bound import HEAD_FEATURES, Kinds, span_bound
from bot.extract.candidates import Candidate, SentenceWords, may_hold_name, word_cache
from bot.extract.features import (
    FEATURE_INDEX,
    FEATURES,
    QuestionContext,
    SentenceFeatures,
    bigrams,
    span_row,
    term_weights,
)
from bot.extract.qtype import QType
from bot.models import Document, Hit
from bot.sentences import ABBREVIATION_LOOKBACK as _ABBREVIATION_LOOKBACK
from bot.sentences import split_sentences

# The head of a row: what ``score_spans`` sets once per sentence.
_BIAS = FEATURE_INDEX["bias"]
_SENT_COV = FEATURE_INDEX["sent_cov"]
_SENT_BIGRAM = FEATURE_INDEX["sent_bigram"]
_CONTEXT_COV = FEATURE_INDEX["context_cov"]
_HIT_RATIO = FEATURE_INDEX["hit_ratio"]
_HIT_FIRST = FEATURE_INDEX["hit_first"]

# Sentences further than this from a chunk edge are looked up to finish a cut sentence.
_CONTEXT_CHARS = 1500
# Phrase n-grams are costly; only the best sentences get them. Typed spans come from all.
PHRASE_SENTENCES = 4


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
        self.q_bigrams = bigrams(question_terms)
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
        self.q = QuestionContext(qtype, qterms, weights)

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
        self.bound = span_bound(w, q)
        self.head_columns = [FEATURE_INDEX[n] for n in HEAD_FEATURES]
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
    "LazyRanking",
    "Ranking",
    "Scored",
    "Sentence",
    "gather_sentences",
    "load_weights",
    "rank_lazily",
    "score_spans",
]
