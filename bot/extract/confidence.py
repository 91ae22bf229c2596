"""How much to trust the best span: a logistic model over what separates questions the corpus
answers from ones it cannot.

The strongest signal is coverage: a question whose rarer terms are missing from the chosen
sentence (or from every retrieved sentence) is usually about something the corpus does not
hold. Type fit and the best span's lead over the runner-up separate "right sentence, wrong span"
cases. Whether the question's topic is what the retrieved text is about (its terms recur in
the top chunk, or name the document's title) tells a corpus that holds the subject from one that
mentions its words in passing. Weights live in ``weights.json`` next to the span weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

from bot.extract.candidates import WordCache
from bot.extract.rank import gather_sentences
from bot.models import Document, Hit

CONFIDENCE_FEATURES = (
    "bias",
    "sent_cov",  # weighted share of question terms in the answer sentence
    "context_cov",  # ... missing there but present in the sentence before it
    "chunk_cov",  # ... in the chunk the sentence came from
    "found",  # share of question terms present in any candidate sentence
    "type_match",
    "margin",  # squashed lead of the best span over the best different span
    "span_score",  # squashed linear score of the best span
    "short_question",  # 1 / number of question terms: few terms are easy to cover by chance
    "names_found",  # share of the question's proper names found in the answer's chunk
    "missing_names",  # proper names of the question found in no candidate sentence
    "global_cov",  # share of the question's corpus idf found in the answer sentence
    "absent",  # share of question terms that no chunk of the corpus contains
    # In a corpus of a few chunks every question term is rare and paraphrases go missing, so
    # coverage means less there: the corpus size moves the bias and the coverage weight.
    "small_corpus",  # 1 / log2(2 + chunks)
    "small_cov",  # small_corpus × sent_cov
    # Bends a linear model cannot make: tried on articles 0-3 vs 4-7 among a few squares and
    # products of the features above, these two withheld the most out-of-corpus questions
    # there at 93.5 % answered (86.0 → 87.3 %).
    "global_cov_sq",  # global_cov²
    "span_type",  # span_score (squashed) × type_match
    # The two below, measured on articles 0-3 vs 4-7 and kept for what they withheld held out
    # (docs/quality.md, Threshold). A question that names what the answer's document (or section) is
    # titled is about it; out-of-corpus questions rarely do (43 % vs 3 % of those questions).
    "topic_match",  # BM25-like match of the question with the top hit's chunk: see below
    "heading_cov",  # share of the question's corpus idf in the answer's title and section
)

# ``topic_match`` saturates a term's count as BM25 does (k1, b) and counts it by the sentences
# of the chunk that hold it: the chunk's words are not split at answer time, its sentences' term
# sets are. A chunk about the question's topic repeats its terms; one that mentions them once
# in passing (the usual out-of-corpus hit) does not. Length is measured in sentences, relative
# to a chunk of 300 tokens (about 8 sentences). Used in its place, the top BM25 score over its
# maximum (Σ idf × (k1 + 1)) or the chunk's BM25 from its word counts withheld less on articles
# 0-3 vs 4-7 (91.0 % and 91.5 % against 92.2 % at 93.5 % answered), and word counts cost a
# tokenisation (0.25 ms a question; this costs 0.07 ms).
_K1 = 1.2
_B = 0.75
_SENTENCES_PER_CHUNK = 8.0


def topic_match(idfs: dict[str, float], sentences: list[frozenset[str]]) -> float:
    """In [0, 1]: Σ idf × saturated count over the question terms ``idfs`` in a chunk of
    ``sentences`` (term sets), relative to every term occurring without bound."""
    total = sum(idfs.values())
    if total <= 0.0 or not sentences:
        return 0.0
    norm = _K1 * (1.0 - _B + _B * len(sentences) / _SENTENCES_PER_CHUNK)
    score = 0.0
    for term, value in idfs.items():
        tf = sum(1 for terms in sentences if term in terms)
        if tf:
            score += value * tf / (tf + norm)
    return score / total


def chunk_sentences(
    hit: Hit, document: Callable[[str], Document], cached: WordCache
) -> list[frozenset[str]]:
    """The term sets of the sentences of ``hit``'s chunk, from the cache the ranker filled."""
    text = document(hit.chunk.source).text
    return [cached.terms(text[s.start : s.end]) for s in gather_sentences([hit], document, 1)]


@cache
def confidence_weights(path: Path | None = None) -> tuple[float, ...]:
    path = path or Path(__file__).with_name("weights.json")
    w = json.loads(path.read_text(encoding="utf-8"))["confidence"]
    return tuple(float(w.get(name, 0.0)) for name in CONFIDENCE_FEATURES)


def confidence_features(
    *,
    sent_cov: float,
    context_cov: float,
    chunk_cov: float,
    found: float,
    type_match: float,
    margin: float,
    span_score: float,
    n_terms: int,
    names_found: float,
    missing_names: int,
    global_cov: float,
    absent: float,
    chunks: int,
    topic: float,
    heading_cov: float,
) -> tuple[float, ...]:
    small = 1.0 / math.log2(2 + chunks)
    # Linear scores are unbounded: squash them so one outlier cannot dominate.
    squashed = math.tanh(span_score / 5.0)
    return (
        1.0,
        sent_cov,
        context_cov,
        chunk_cov,
        found,
        type_match,
        math.tanh(max(0.0, margin)),
        squashed,
        1.0 / max(1, n_terms),
        names_found,
        float(min(missing_names, 3)),
        global_cov,
        absent,
        small,
        small * sent_cov,
        global_cov * global_cov,
        squashed * type_match,
        topic,
        heading_cov,
    )


def confidence(features: tuple[float, ...], weights: tuple[float, ...] | None = None) -> float:
    w = confidence_weights() if weights is None else weights
    z = sum(a * b for a, b in zip(w, features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
