import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analyze import ASCII_WORD_PATTERN, WORD_PATTERN, Analyzer, normalize_word

# The word pattern as first written, one lookahead pair per word; ``WORD_PATTERN`` is a faster
# form that must find exactly the same tokens, since the index and the extractor both use it.
LOOKAHEAD_WORD_PATTERN = re.compile(
    r"(?=[^\W_]*\d)(?=[^\W_]*[^\W\d_])[^\W_]+"  # mixed letters and digits: 5G, mp3, H1N1
    r"|\d+(?:[.,，．]\d+)*"  # 40,000  3.5  2024  ４０，０００
    r"|[^\W\d_]+(?:['’‘`][^\W\d_]+)*",  # CECOT's  don’t  café
)
# Letters, digits of several scripts, joiners, the underscore (a \w that is no word character),
# numeric symbols that count as letters here (² ½), and separators.
_TRICKY = "aZé_ßİſ09٣²½０９'’‘`.,，．- \t\n"


def test_curly_apostrophe_possessive_and_case_meet():
    a = Analyzer()
    assert a.terms("CECOT’s") == a.terms("cecot's") == a.terms("CECOT") == ["cecot"]


def test_grouped_numbers_match_plain_numbers():
    a = Analyzer()
    assert a.terms("40,000") == a.terms("40000") == ["40000"]
    assert a.terms("3.5") == ["3.5"]
    # A comma that is not digit grouping keeps the parts apart rather than inventing a number.
    assert normalize_word("1,5") == "1,5"


def test_full_width_numbers_are_one_number():
    a = Analyzer()
    assert a.terms("４０，０００") == a.terms("40000") == a.terms("40,000") == ["40000"]
    assert a.terms("３．５") == a.terms("3.5") == ["3.5"]
    assert [t.term for t in a.tokens("capacity ４０，０００ inmates")][1] == "40000"


def test_stems_and_stopwords():
    a = Analyzer()
    assert a.terms("What is the capacity of the prisons?") == a.terms("capacities prison")
    assert a.terms("the of and") == []


def test_mixed_alphanumerics_stay_whole():
    assert Analyzer().terms("5G mp3 H1N1") == ["5g", "mp3", "h1n1"]


def test_token_offsets_point_at_surface_words():
    text = "  Bukele’s  proposal: 40,000 inmates"
    for tok in Analyzer().tokens(text):
        assert text[tok.start : tok.end].strip() == text[tok.start : tok.end]
        assert Analyzer().term(text[tok.start : tok.end]) == tok.term


def test_unstemmed_analyzer_and_config_differ():
    a, b = Analyzer(), Analyzer(stem=False)
    assert b.terms("prisoners") == ["prisoners"]
    assert a.config() != b.config()


def _spans(pattern, text):
    return [m.span() for m in pattern.finditer(text)]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_TRICKY, max_size=30) | st.text(max_size=30))
def test_word_pattern_finds_the_tokens_of_the_lookahead_form(text):
    assert _spans(WORD_PATTERN, text) == _spans(LOOKAHEAD_WORD_PATTERN, text)


@settings(max_examples=3000)
@given(
    st.text(alphabet="aZqz09_'`.,-:; \t\n\x7f\x00", max_size=40)
    | st.text(alphabet=st.characters(max_codepoint=127), max_size=40)
)
def test_ascii_word_pattern_finds_the_tokens_of_word_pattern_in_ascii_text(text):
    assert _spans(ASCII_WORD_PATTERN, text) == _spans(WORD_PATTERN, text)
    assert ASCII_WORD_PATTERN.findall(text) == WORD_PATTERN.findall(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab’'.,5 \nÉé-", max_size=40))
def test_terms_and_their_memo_are_the_tokens_terms(text):
    a = Analyzer()
    expected = [t.term for t in a.tokens(text)]
    assert a.terms(text) == expected
    assert a.sentence_terms(text) == tuple(expected)
    assert a.sentence_terms(text) is a.sentence_terms(text)  # memoised
