"""Word-level analysis shared by the index (chunk terms) and the extractor (question terms).

BM25 works on words, not BPE pieces: tiktoken only sets chunk budgets. A term is a word
normalised so that spelling variants meet: NFKC, curly apostrophes, case folding, possessives
("CECOT's" → "cecot"), digit grouping ("40,000" → "40000") and a Snowball stem.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

# Words with apostrophes stay one token; numbers keep their grouping and decimals together;
# a run of letters and digits is one token. Each branch decides by its first character and the
# one after its leading run, without lookaheads (the same tokens as the lookahead form in
# tests/test_analyze.py, in about half the time: tokenising is most of the analysis).
#
# The pattern opens with one character class (a letter or a digit) and a lookbehind picks the
# branch, rather than opening with the two branches: ``re`` can then skip the text between words
# with a character-set scan instead of trying both branches at every position, and possessive
# runs (``*+``) keep no backtracking state. The same tokens, a fifth less time.
WORD_PATTERN = re.compile(
    r"[^\W_](?:"
    # Letters first: a digit right after them makes the whole run one token (mp3, H1N1);
    # otherwise a word, apostrophes inside (CECOT's, don’t, café).
    r"(?<=[^\W\d_])[^\W\d_]*+(?:\d[^\W_]*+|(?:['’‘`][^\W\d_]++)*+)"
    # Digits first: a letter right after them makes the whole run one token (5G); otherwise a
    # number with its grouping and decimals (40,000  3.5  2024; full-width ４０，０００ too, which
    # NFKC then makes 40,000).
    r"|\d*+(?:[^\W\d_][^\W_]*+|(?:[.,，．]\d++)*+))"
)
# WORD_PATTERN for ASCII text, token for token: there a letter is [A-Za-z], a digit [0-9] and
# the only apostrophes ' and `. About a third faster, with no Unicode class lookups; the index
# build uses it for ASCII documents (tests/test_analyze.py pins the equality).
ASCII_WORD_PATTERN = re.compile(
    r"[A-Za-z0-9](?:"
    r"(?<=[A-Za-z])[A-Za-z]*+(?:[0-9][A-Za-z0-9]*+|(?:['`][A-Za-z]++)*+)"
    r"|[0-9]*+(?:[A-Za-z][A-Za-z0-9]*+|(?:[.,][0-9]++)*+))",
    re.ASCII,
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")

# Lucene/Snowball-style English stop words, plus the question words that carry no topic.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves s t also many much
    """.split()
)


@dataclass(frozen=True, slots=True)
class Token:
    term: str  # analysed form
    start: int  # offsets of the surface word in the analysed text
    end: int


def normalize_word(word: str) -> str:
    """Surface word → comparable form, before stemming."""
    if word.isascii():
        # NFKC leaves ASCII as it is and casefold is lower there; ` is the one apostrophe.
        w = word.replace("`", "'").lower()
    else:
        w = unicodedata.normalize("NFKC", word).translate(_APOSTROPHES).casefold()
    if w[:1].isdigit():
        if _GROUPED.match(w):
            w = w.replace(",", "")
        return w
    if w.endswith("'s"):
        w = w[:-2]
    elif w.endswith("'"):
        w = w[:-1]
    return w.replace("'", "")


class Analyzer:
    """Text → terms. Stateless apart from a stem cache; safe to share between threads."""

    def __init__(self, *, stem: bool = True, stopwords: frozenset[str] = STOPWORDS) -> None:
        self.stem = stem
        self.stopwords = stopwords
        # PyStemmer's own word cache is off: ``term`` is cached here and the index build keeps
        # every word, so the stemmer only sees new words, and churning its 10k-word cache made
        # each stem ~3x slower.
        stemmer = Stemmer.Stemmer("english", 0)
        # PyStemmer's C call holds the GIL, so threads (Discord handlers) can share one stemmer.
        self._stem = stemmer.stemWord if stem else None
        # Surface words repeat (Zipf), and normalising one costs ~30x a cache hit; lru_cache is
        # thread-safe and bounded, so a long-running bot cannot grow it without limit.
        self.term = lru_cache(maxsize=1 << 19)(self.term_uncached)
        # Retrieval's rerank and then extraction analyse the same sentences of the top chunks.
        self.sentence_terms = lru_cache(maxsize=1 << 14)(self._sentence_terms)

    def term_uncached(self, word: str) -> str | None:
        """Analysed term for one surface word, or None for a stop word (``term`` caches it;
        this is for callers that keep their own cache of every word, like the index build)."""
        w = normalize_word(word)
        if not w or w in self.stopwords:
            return None
        if self._stem is not None and not w[0].isdigit():
            return self._stem(w)
        return w

    def tokens(self, text: str) -> Iterator[Token]:
        """Terms with the offsets of the words they came from."""
        term = self.term
        for m in WORD_PATTERN.finditer(text):
            t = term(m.group())
            if t is not None:
                yield Token(t, m.start(), m.end())

    def terms(self, text: str) -> list[str]:
        # findall, map and filter stay in C: a quarter faster than a loop over match objects,
        # and retrieval and extraction analyse every sentence of the chunks they read. The
        # ASCII pattern gives the same words on ASCII text, faster; a term is never empty, so
        # filter(None) drops just the stop words.
        pattern = ASCII_WORD_PATTERN if text.isascii() else WORD_PATTERN
        return list(filter(None, map(self.term, pattern.findall(text))))

    def _sentence_terms(self, sentence: str) -> tuple[str, ...]:
        """``terms(sentence)`` as a tuple, memoised as ``sentence_terms`` (the last 16k texts:
        sentences and chunks, not whole documents)."""
        return tuple(self.terms(sentence))

    def config(self) -> dict[str, object]:
        """What the persisted index must match: a change forces a rebuild."""
        digest = hashlib.sha1(" ".join(sorted(self.stopwords)).encode()).hexdigest()[:12]
        return {"stem": "snowball-english" if self.stem else None, "stopwords": digest}


def words(text: str) -> Iterator[re.Match[str]]:
    """Surface words of ``text`` (no analysis), for span candidates."""
    return WORD_PATTERN.finditer(text)
