import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sentences import _END, _TERMINAL, _is_abbreviation, split_sentences


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


# ``split_sentences`` as first written, which sliced every logical line again for each physical
# line it might join; the faster form must give the same spans (the extractor quotes them).
def _reference_line_spans(text, start, end):
    spans = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        if spans and pos > spans[-1][1]:
            prev_s, prev_e = spans[-1]
            prev = text[prev_s:prev_e].rstrip()
            cur = text[pos:line_end].lstrip()
            gap = text[prev_e:pos]
            if (
                prev
                and cur
                and gap.count("\n") == 1
                and not prev.endswith(_TERMINAL)
                and re.match(r"[a-z(,;]", cur)
            ):
                spans[-1] = (prev_s, line_end)
                pos = line_end + 1
                continue
        spans.append((pos, line_end))
        pos = line_end + 1
    return spans


def _reference_split_sentences(text, start=0, end=None):
    end = len(text) if end is None else end
    out = []
    for ls, le in _reference_line_spans(text, start, end):
        s = ls
        for m in _END.finditer(text, ls, le):
            dot = m.start()
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            span = text[s : m.end()].strip()
            if span:
                first = s + len(text[s : m.end()]) - len(text[s : m.end()].lstrip())
                out.append((first, first + len(span)))
            s = m.end()
        span = text[s:le].strip()
        if span:
            first = s + len(text[s:le]) - len(text[s:le].lstrip())
            out.append((first, first + len(span)))
    return out


_PIECES = st.sampled_from(
    [
        *"aAbZz09 .!?…:;,()[]\"'”’“‘\n\t\x0b\x0c\r\x1c\x85\xa0\u2028\u3000Àé",
        *["Mr. ", "U.S. ", "e.g. ", "J. ", "etc.", "\n\n", " \n ", "word", "Word", "...", ".\n"],
        *["that.\n.. Feel", "line ends\n  and goes on", "Ends;\n(more", "x\n\u3000y"],
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=60), st.data())
def test_split_sentences_equals_the_reference(pieces, data):
    text = "".join(pieces)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert split_sentences(text) == _reference_split_sentences(text)
    assert split_sentences(text, start, end) == _reference_split_sentences(text, start, end)
