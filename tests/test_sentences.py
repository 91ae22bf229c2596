import itertools
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sentences import _FLAG_LIMIT, code_points, split_sentences, split_sentences_many

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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


# Characters that reach every rule of the splitter: terminators, closing and opening quotes,
# abbreviations and initials, wrapped lines (lower case, "(", ",", ";" after a line break),
# whitespace that str.isspace knows but a space test might not, and non-ASCII letters.
_TRICKY = st.sampled_from(
    [
        *"aAbZz09 .!?…:;,()[]\"'”’“‘\n\t\x0b\x0c\r\x1c\x85\xa0\u2028\u3000Àé",
        *["Mr. ", "U.S. ", "e.g. ", "J. ", "etc.", "\n\n", " \n ", "word", "Word", "...", ".\n"],
        *["that.\n.. Feel", "no.\n.", "a\n. B", "Dr.\nSmith"],
    ]
)


@st.composite
def text_and_ranges(draw):
    text = "".join(draw(st.lists(_TRICKY, max_size=60)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *cuts, len(text)] if draw(st.booleans()) else cuts
    ranges = [(s, e) for s, e in itertools.pairwise(bounds) if draw(st.booleans()) or s == e]
    return text, ranges


@settings(max_examples=3000, deadline=None)
@given(text_and_ranges())
def test_split_sentences_many_is_split_sentences_per_range(case):
    text, ranges = case
    want = [split_sentences(text, s, e) for s, e in ranges]
    assert split_sentences_many(text, ranges) == want
    assert split_sentences_many(text, ranges, code_points(text)) == want


def test_every_space_character_is_below_the_table_limit():
    spaces = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert max(spaces) < _FLAG_LIMIT


def test_split_sentences_many_reads_a_word_before_a_line_break_as_before_the_dot():
    # ``$`` also matches before a final line break, so "that." counts as a dotted word before
    # the ".." that opens the next line, and the line does not start a sentence there.
    text = "Do that.\n.. Feel free. To add.\n"
    assert [text[s:e] for s, e in split_sentences(text)] == ["Do that.", ".. Feel free.", "To add."]
    assert split_sentences_many(text, [(0, len(text))]) == [split_sentences(text)]


def test_split_sentences_many_on_documents():
    for path in sorted(FIXTURES.glob("*.txt")) + sorted(FIXTURES.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        third = len(text) // 3
        ranges = [(0, third), (third, 2 * third), (2 * third + 1, len(text))]
        assert split_sentences_many(text, ranges) == [
            split_sentences(text, s, e) for s, e in ranges
        ]
