import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.analyze import Analyzer
from bot.extract.candidates import (
    _NUMERIC_START,
    NAME_MIN_CAPS,
    candidates,
    may_hold_name,
    sentence_words,
    word_cache,
)
from bot.extract.qtype import DATE, MONEY, NAME, NUMBER, PERCENT

A = Analyzer()


def spans(text, kind=None, phrases=False):
    ws = sentence_words(text, 0, len(text), A)
    return {
        text[c.start : c.end]
        for c in candidates(text, 0, len(text), ws, phrases=phrases)
        if kind is None or c.kind == kind
    }


def test_money_keeps_currency_and_scale():
    found = spans("The bridge cost $2.5 billion and 300 million euros to finish.", MONEY)
    assert found == {"$2.5 billion", "300 million euros"}


def test_number_with_and_without_its_unit():
    found = spans("The hall seats 12,000 spectators on two tiers.", NUMBER)
    assert {"12,000", "12,000 spectators", "two", "two tiers"} <= found


def test_number_inside_money_is_not_a_second_number():
    assert "115" not in spans("It cost $115 million.", NUMBER)


def test_percent():
    assert spans("Turnout rose to 61.5% while 20 percent abstained.", PERCENT) == {
        "61.5%",
        "20 percent",
    }


def test_dates_of_several_shapes():
    t = (
        "The charter of 3 May 1791 followed the war of 1756–1763; in the 1990s and by "
        "March 12, 2004 the 19th century buildings were gone by July."
    )
    found = spans(t, DATE)
    assert {"3 May 1791", "1756–1763", "1990s", "March 12, 2004", "19th century", "July"} <= found


def test_grouped_number_is_not_a_year():
    assert "2,000" not in spans("About 2,000 people came.", DATE)


def test_names_with_joiners_and_without_titles():
    found = spans("Yesterday Governor Maria van der Berg visited the University of Leeds.", NAME)
    assert {"Maria van der Berg", "University of Leeds"} <= found


def test_possessive_is_left_out_of_a_name():
    found = spans("It is Peru’s largest port.", NAME)
    assert "Peru" in found and "Peru’s" not in found


def test_phrases_do_not_cross_clause_words():
    found = spans("The basic unit is a commune.", phrases=True)
    assert "commune" in found
    assert not any(" is " in f for f in found)


@given(st.text(alphabet=st.sampled_from("0123456789$£€¥₹USACD xyz.,\n"), max_size=60))
def test_numeric_starts_are_those_of_the_plain_alternation(text):
    plain = re.compile(r"\d|[$£€¥₹]|US\$|[AC]\$")
    want = [m.start() for m in plain.finditer(text)]
    assert [m.start() for m in _NUMERIC_START.finditer(text)] == want
    assert [m.start() for m in _NUMERIC_START.finditer(text, 3, 40)] == [
        m.start() for m in plain.finditer(text, 3, 40)
    ]


@pytest.mark.parametrize(
    ("sentence", "typed", "name"),
    [
        ("The function returns a value.", False, False),
        ("It was built in the first century by Romans.", True, True),
        ("built in the fourth century", True, False),
        ("In 1990s", True, False),  # a capitalised stop word alone starts no name
        ("Romans built it", False, True),
        ("twenty-one men crossed.", True, False),
        ("the one's left", True, False),  # an apostrophe: the pattern is searched
        ("ſix men", True, False),  # ſ is s to a case-blind match
        ("opened in March", True, True),
        ("costs 40 dollars", True, False),
        ("someone often done", False, False),
    ],
)
def test_which_kinds_a_sentence_may_hold(sentence, typed, name):
    sw = word_cache(A).words(sentence, 0)
    assert word_cache(A).may_hold_typed(sentence) is typed
    assert may_hold_name(sentence, sw) is name
    assert may_hold_name(sentence) >= name
    kinds = {c.kind for c in candidates(sentence, 0, len(sentence), sw.words, phrases=False)}
    assert bool(kinds - {NAME}) <= typed and (NAME in kinds) <= name


def test_a_name_is_at_least_half_capitalised_and_can_be_just_half():
    text = "Maria van der Berg met the Bank of the West and Anna de la Cruz."
    sw = word_cache(A).words(text, 0)
    shares = [
        (sw.cum_caps[c.last + 1] - sw.cum_caps[c.first]) / (c.last - c.first + 1)
        for c in candidates(text, 0, len(text), sw.words, phrases=False)
        if c.kind == NAME
    ]
    assert min(shares) == NAME_MIN_CAPS
