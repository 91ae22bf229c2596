from hypothesis import given
from hypothesis import strategies as st

from bot.sentences import split_sentences


def texts(spans, text):
    return [text[s:e] for s, e in spans]


def test_abbreviations_and_initials_do_not_end_sentences():
    t = "Former U.S. President Trump met Dr. Smith. J. R. R. Tolkien wrote it! Did he? Yes."
    assert texts(split_sentences(t), t) == [
        "Former U.S. President Trump met Dr. Smith.",
        "J. R. R. Tolkien wrote it!",
        "Did he?",
        "Yes.",
    ]


def test_line_breaks_end_headings_and_bullets():
    t = "What is the CECOT?\nThe prison is big.\n- first point\n- second point"
    assert texts(split_sentences(t), t) == [
        "What is the CECOT?",
        "The prison is big.",
        "- first point",
        "- second point",
    ]


def test_hard_wrapped_lines_are_joined():
    t = "This sentence was wrapped\nat a fixed width by an editor. Next one."
    assert texts(split_sentences(t), t) == [
        "This sentence was wrapped\nat a fixed width by an editor.",
        "Next one.",
    ]


def test_closing_quotes_stay_with_their_sentence():
    t = "He said, “I would do it.” Experts disagree."
    assert texts(split_sentences(t), t) == ["He said, “I would do it.”", "Experts disagree."]


def test_range_is_respected():
    t = "One. Two. Three."
    assert texts(split_sentences(t, 5, 9), t) == ["Two."]


@given(st.text(alphabet=st.sampled_from(list("ab .?!\n\t“”'U.S")), max_size=200))
def test_spans_are_ordered_trimmed_and_disjoint(t):
    last = 0
    for s, e in split_sentences(t):
        assert last <= s < e <= len(t)
        assert t[s:e] == t[s:e].strip()
        last = e
