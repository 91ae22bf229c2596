"""The extractor's fast path against the straightforward computation it replaced
(``tests/extract/reference.py``): the same candidates, the same feature values for every span and
the same ranking, on generated sentences, questions and documents."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.extract import corpus_idf, document_cache
from bot.extract.candidates import (
    NAME_MIN_CAPS,
    _analyse,
    candidates,
    may_hold_name,
    sentence_words,
    word_cache,
    words_summary,
)
from bot.extract.features import span_features
from bot.extract.qtype import NAME, PHRASE, question_type
from bot.extract.rank import score_spans
from tests.extract import reference as ref
from tests.extract.paragraphs import ANALYZER, ParagraphIndex

# Words chosen to exercise every pattern and feature: numbers of each shape, money, percent,
# months and dates, spelled numbers (and words that merely contain one), names with joiners and
# titles, cue words, stop words, verb-like edges, possessives, and non-ASCII case folding.
_VOCAB = [
    *"the a of in at to and is was by from near said born".split(),
    *"President Dr King Maria van der Berg University Leeds Port Varn Oslo Peru’s CECOT's".split(),
    *"harbour lighthouse museum inmates residents prison capacity crew trophy town".split(),
    *"built dredged running quickly designed opened holds receives".split(),
    *"40,000 1887 3.5 12 300 2,000 1756–1763 1990s 19th 2024 5G".split(),
    *"$115 £40,000 €3 US$5 A$2 million billion dollars euros 35% percent per cent".split(),
    *"March May Jan. July December AD BC century first twenty-first".split(),
    *"one two eighteen twenty-one hundred thousand dozen someone often money done".split(),
    *"ſix İstanbul café naïve Straße ΚΑΛΗ KELVIN ﬁve".split(),
    *", ; : ( ) - – . & ' \"".split(),
]
_SEPARATORS = [" ", " ", " ", " ", "", "-", ", ", "  ", "\u00a0", "'"]


@st.composite
def sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=18))
    seps = draw(st.lists(st.sampled_from(_SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True)).strip() or "x"


@st.composite
def questions(draw: st.DrawFn) -> str:
    wh = draw(
        st.sampled_from(
            ["Who", "When", "How many", "How much", "Where", "What", "Which city", "In what year"]
        )
    )
    rest = draw(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=6))
    return wh + " " + " ".join(rest) + "?"


@st.composite
def documents(draw: st.DrawFn) -> str:
    paras = draw(st.lists(st.lists(sentences(), min_size=1, max_size=5), min_size=1, max_size=6))
    ends = draw(st.lists(st.sampled_from([". ", "! ", "? ", ".\n", "; "]), min_size=1, max_size=4))
    return "\n\n".join(
        "".join(s + ends[i % len(ends)] for i, s in enumerate(p)).strip() for p in paras
    )


def _cands(text, start, end, ws, phrases):
    return [tuple(c) for c in candidates(text, start, end, ws, phrases=phrases)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences(), st.sampled_from(["", "x", "7", "$", "A ", "On 3 ", "ab,"]), st.booleans())
def test_candidates_match_the_full_regex_scan(sentence, prefix, phrases):
    # A prefix puts the sentence at an offset, after a character that lookbehinds and word
    # boundaries see.
    text = prefix + sentence + " end"
    start, end = len(prefix), len(prefix) + len(sentence)
    ws = sentence_words(text, start, end, ANALYZER)
    assert list(ws) == ref.sentence_words(text, start, end, ANALYZER)
    assert _cands(text, start, end, ws, phrases) == [
        tuple(c) for c in ref.candidates(text, start, end, list(ws), phrases=phrases)
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences(), st.sampled_from(["", "x", "7", "$", "A ", "On 3 ", "ab,"]), st.booleans())
def test_cached_candidates_match_candidates(sentence, prefix, phrases):
    text = prefix + sentence + " end"
    start, end = len(prefix), len(prefix) + len(sentence)
    cache = word_cache(ANALYZER)
    ws = sentence_words(text, start, end, ANALYZER)
    want = [tuple(c) for c in candidates(text, start, end, ws, phrases=phrases)]
    for _ in range(2):  # computed, then from the cache
        got = cache.candidates(text, start, end, ws, phrases=phrases)
        assert [tuple(c) for c in got] == want


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences(), st.integers(0, 50))
def test_cached_analysis_matches_a_summary_of_the_words(sentence, offset):
    text = " " * offset + sentence
    got = _analyse(ANALYZER, sentence, offset)
    words = ref.sentence_words(text, offset, len(text), ANALYZER)
    assert got == words_summary(text, words, offset, len(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences(), questions())
def test_span_features_match_the_per_span_reference(sentence, question):
    qtype = question_type(question)
    qterms = set(ANALYZER.terms(question))
    if not qterms:
        return
    weights = {t: 1.0 + 0.37 * i for i, t in enumerate(sorted(qterms))}
    ws = ref.sentence_words(sentence, 0, len(sentence), ANALYZER)
    for c in ref.candidates(sentence, 0, len(sentence), ws):
        want = ref.span_features(sentence, qtype, qterms, weights, ws, c, qtype.focus)
        got = span_features(sentence, qtype, qterms, weights, ws, c, qtype.focus)
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert np.array_equal(got, want)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), questions())
def test_ranking_matches_the_reference(text, question):
    index = ParagraphIndex({"d.txt": text})
    hits = index.hits(question)
    qtype = question_type(question)
    args = (question, qtype, hits, document_cache(index), ANALYZER)
    want = ref.score_spans(*args, max_chunks=8, idf=corpus_idf(index))
    got = score_spans(*args, max_chunks=8, idf=corpus_idf(index))
    assert got.weights == want.weights
    assert got.found == want.found
    assert len(got.spans) == len(want.spans)
    for g, w in zip(got.spans, want.spans, strict=True):
        assert (g.sentence, tuple(g.candidate)) == (w.sentence, tuple(w.candidate))
        # The same floats, not just close ones: coverage is summed over sets built the same
        # way, so an exact tie between two spans falls the same way too.
        assert np.array_equal(g.features, w.features)
        assert g.sent_cov == w.sent_cov
        assert abs(g.score - w.score) <= 1e-9


# Fewer words, so that joiners fall between capitals and ordinals before "century" often.
_KIND_VOCAB = [
    *"Maria van der Berg Bank of the West It The In first fourth century twenty one".split(),
    *"one's ſix KELVIN March May 5 1990s men built ’s dozen".split(),
]


@st.composite
def kind_sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_KIND_VOCAB), min_size=1, max_size=10))
    seps = draw(st.lists(st.sampled_from(_SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True)).strip() or "x"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sentences(), kind_sentences()), st.sampled_from(["", "x", "7", "$", "A ", "ab,"]))
def test_what_the_bounds_assume_of_a_sentences_candidates(sentence, prefix):
    # ``rank_lazily`` drops a sentence whose candidates these say cannot exist, and bounds a
    # name's share of capitals from below.
    text = prefix + sentence + " end"
    start, end = len(prefix), len(prefix) + len(sentence)
    sw = word_cache(ANALYZER).words(sentence, start)
    found = candidates(text, start, end, sw.words, phrases=False)
    if any(c.kind not in (NAME, PHRASE) for c in found):
        assert word_cache(ANALYZER).may_hold_typed(sentence)
    # From the words, or from the text alone (which may say yes where the words say no).
    assert may_hold_name(sentence, sw) <= may_hold_name(sentence)
    names = [c for c in found if c.kind == NAME]
    if names:
        assert may_hold_name(sentence, sw)
    for c in names:
        caps = sw.cum_caps[c.last + 1] - sw.cum_caps[c.first]
        assert caps / (c.last - c.first + 1) >= NAME_MIN_CAPS
