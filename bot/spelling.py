"""Question words typed wrong ("capasity", "goverment"): a question term that no chunk contains
is replaced by the closest index term, if one is close enough.

Close means at most one edit for a term of 5-8 characters and two from 9 on (an edit: a letter
inserted, deleted, changed, or two neighbours swapped — optimal string alignment); shorter
terms are left alone, since most four-letter strings are one edit from some word. Among the
closest terms the one in most chunks wins. Terms are compared after analysis (stems), so a
corrected word must be misspelt in its stem, where nearly all typos are.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA


def max_edits(term: str) -> int:
    n = len(term)
    if n < 5 or term.isdigit():
        return 0
    return 1 if n < 9 else 2


class Speller:
    """Closest terms of one index's vocabulary; terms bucketed by length on first use."""

    def __init__(self, vocabulary: Sequence[str], doc_freq: Callable[[str], int]) -> None:
        self._vocabulary = vocabulary
        self._doc_freq = doc_freq
        self._by_length: dict[int, list[str]] | None = None
        self._lock = threading.Lock()
        # Retrieval and the reader's evidence ask for the same words; a scan of a large
        # vocabulary takes milliseconds.
        self.correct = lru_cache(maxsize=4096)(self._correct)

    def _buckets(self) -> dict[int, list[str]]:
        with self._lock:
            if self._by_length is None:
                by_length: dict[int, list[str]] = defaultdict(list)
                for t in self._vocabulary:
                    by_length[len(t)].append(t)
                self._by_length = dict(by_length)
            return self._by_length

    def _correct(self, term: str) -> str | None:
        """The index term ``term`` was most likely meant as, or None."""
        edits = max_edits(term)
        if not edits:
            return None
        buckets = self._buckets()
        best: tuple[int, int, str] | None = None  # (distance, -doc freq, term)
        for n in range(len(term) - edits, len(term) + edits + 1):
            for cand, dist, _ in process.extract(
                term, buckets.get(n, ()), scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                key = (int(dist), -self._doc_freq(cand), cand)
                if best is None or key < best:
                    best = key
        return best[2] if best is not None else None


class _Vocabulary:
    def vocabulary(self) -> Sequence[str]: ...
    def doc_freq(self, term: str) -> int: ...


_spellers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_spellers_lock = threading.Lock()


def speller_for(index: _Vocabulary) -> Speller:
    """One speller per index generation, dropped with it."""
    with _spellers_lock:
        speller = _spellers.get(index)
        if speller is None:
            speller = _spellers[index] = Speller(index.vocabulary(), index.doc_freq)
        return speller


def corrected(index: _Vocabulary, terms: Sequence[str]) -> list[tuple[str, str]]:
    """(typed, meant) for each question term no chunk contains that has a close index term."""
    out = []
    for t in dict.fromkeys(terms):
        if index.doc_freq(t) == 0:
            meant = speller_for(index).correct(t)
            if meant is not None:
                out.append((t, meant))
    return out
