"""The span features added after the speed work: each one's value on a sentence where it is
known, and each one within the range reported for the scorer's speed-up."""

import pytest

from bot.extract.candidates import sentence_words
from bot.extract.features import FEATURE_INDEX as _F
from bot.extract.features import LEFT_WORDS, RIGHT_WORDS, span_features
from bot.extract.qtype import question_type
from tests.extract import reference as ref
from tests.extract.paragraphs import ANALYZER

# [min, max] of each added feature.
RANGES = {
    "focus_inside": (0.0, 1.0),
    "verb_share": (0.0, 1.0),
    "paren": (0.0, 1.0),
    "between_q": (0.0, 1.0),
    "match_density": (0.0, 1.0),
    "sent_words": (0.0, 1.0),
    "prev_copula": (0.0, 1.0),
    "has_unit": (0.0, 1.0),
    **{name: (0.0, 1.0) for name in (*LEFT_WORDS, *RIGHT_WORDS)},
}


def _rows(sentence: str, question: str) -> dict[str, list]:
    """Span text → its feature rows (one per candidate kind, as "300 sailors" is both a
    number with its unit and a phrase)."""
    qtype = question_type(question)
    qterms = set(ANALYZER.terms(question))
    weights = {t: 1.0 for t in qterms}
    ws = sentence_words(sentence, 0, len(sentence), ANALYZER)
    out = {}
    for c in ref.candidates(sentence, 0, len(sentence), ws):
        f = span_features(sentence, qtype, qterms, weights, ws, c, qtype.focus)
        if f is not None:
            out.setdefault(sentence[c.start : c.end], []).append(f)
    return out


def test_added_features_are_in_their_ranges():
    rows = _rows(
        "The engine (a compound design) came into wide use in 1880, when 300 sailors "
        "were known as stokers in the long forgotten harbour of Port Varn.",
        "What type of engine came into use in the harbour?",
    )
    assert rows
    for f in (f for fs in rows.values() for f in fs):
        for name, (lo, hi) in RANGES.items():
            assert lo <= f[_F[name]] <= hi, name


def test_added_feature_values():
    sentence = "The engine (a compound design) came into wide use in 1880 with 300 sailors aboard."
    rows = _rows(sentence, "What type of design came into use with the sailors?")
    assert rows["compound design"][0][_F["focus_inside"]] == 1.0
    assert rows["compound"][0][_F["focus_inside"]] == 0.0
    assert rows["compound design"][0][_F["paren"]] == 1.0  # closes right before ")"
    assert rows["wide use"][0][_F["paren"]] == 0.0
    assert sorted(f[_F["has_unit"]] for f in rows["300 sailors"]) == [0.0, 1.0]
    assert rows["1880"][0][_F["has_unit"]] == 0.0
    # "wide" sits between "came"/"use" (question terms) on both sides.
    assert rows["wide"][0][_F["between_q"]] == 1.0
    n_words = len(sentence_words(sentence, 0, len(sentence), ANALYZER))
    assert rows["1880"][0][_F["sent_words"]] == pytest.approx(n_words / 60)


def test_verb_share_and_copula():
    rows = _rows(
        "Such cycles are known as Rankine cycles and engines used them widely.",
        "What are such cycles known as?",
    )
    assert rows["Rankine cycles"][0][_F["prev_copula"]] == 1.0  # after "as"
    assert rows["engines"][0][_F["prev_copula"]] == 0.0
    assert rows["engines used"][0][_F["verb_share"]] == pytest.approx(0.5)
    assert rows["engines"][0][_F["verb_share"]] == 0.0


def test_word_class_features():
    """The class of the word before and after a span; a sentence edge sets none of them."""
    sentence = "Drafted by the council of elders, the charter which Paul signed was kept at Ulm."
    question = "Who signed the charter?"
    rows = _rows(sentence, question)
    council = rows["council of elders"][0]
    assert council[_F["left_det"]] == 1.0  # after "the"
    assert council[_F["left_prep"]] == 0.0
    assert rows["council"][0][_F["right_of"]] == 1.0
    paul = rows["Paul"][0]
    assert paul[_F["left_rel"]] == 1.0  # after "which"
    assert rows["kept"][0][_F["left_prep"]] == 0.0
    assert rows["Ulm"][0][_F["left_prep"]] == 1.0  # after "at"
    # After a form of "be": a subject ends there.
    signed = [f for text, fs in rows.items() for f in fs if text.endswith("signed")]
    assert signed and all(f[_F["right_be"]] == 1.0 for f in signed)
    drafted = rows["Drafted"][0]
    for name in (*LEFT_WORDS, *RIGHT_WORDS):
        if name != "right_prep":
            assert drafted[_F[name]] == 0.0, name
    assert drafted[_F["right_prep"]] == 1.0  # "by"
    assert all(rows["Ulm"][0][_F[name]] == 0.0 for name in RIGHT_WORDS)  # the sentence end


def test_word_classes_agree_with_the_reference():
    sentence = "Drafted by the council of elders, the charter which Paul signed was kept at Ulm."
    question = "Who signed the charter?"
    qtype = question_type(question)
    qterms = set(ANALYZER.terms(question))
    weights = {t: 1.0 for t in qterms}
    ws = sentence_words(sentence, 0, len(sentence), ANALYZER)
    names = [_F[n] for n in (*LEFT_WORDS, *RIGHT_WORDS)]
    seen = 0
    for c in ref.candidates(sentence, 0, len(sentence), ws):
        fast = span_features(sentence, qtype, qterms, weights, ws, c, qtype.focus)
        slow = ref.span_features(sentence, qtype, qterms, weights, list(ws), c, qtype.focus)
        assert (fast is None) == (slow is None)
        if fast is not None:
            assert fast[names].tolist() == slow[names].tolist()
            seen += fast[names].sum() > 0
    assert seen
