"""A long document is counted a block at a time (bounded memory) with the same results as the
whole-text computation, and its chunks are the same."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.chunk as chunk_module
from bot.chunk import Chunker, _SpanCounter, _token_bytes, encoding
from bot.index import build
from bot.models import Document

PIECES = ["The ferry", " leaves", " at 9:30", ".\n", "\n\n", "  ", "Ünïcödé", " 漢字", "😀",
          " 40,000", "—", "'s", "\t", " x", "1st", "?!", " A. B.", "http://a.b/c"]  # fmt: skip


def _reference(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Anchors (character offsets) and their token indices from one encoding of the text."""
    enc = encoding()
    tokens = np.array(enc.encode_ordinary(text), dtype=np.int64)
    widths = _token_bytes(enc)[tokens]
    token_starts = np.cumsum(widths) - widths
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    classes = chunk_module._CHAR_CLASS[np.minimum(codes, 0x80)]
    pairs = classes[:-1] * chunk_module._N_CLASSES + classes[1:]
    anchors = np.flatnonzero(chunk_module._ANCHOR_PAIR[pairs]) + 1
    char_bytes = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000), out=char_bytes[1:])
    return anchors, np.searchsorted(token_starts, char_bytes[anchors])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=120), st.sampled_from([7, 16, 64]))
def test_blockwise_counter_equals_the_whole_text_computation(pieces, block):
    text = "".join(pieces)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(chunk_module, "_BLOCK", block)
        mp.setattr(chunk_module, "_LIST_ANCHORS", 3)  # the array path of ``count`` too
        counter = _SpanCounter(Chunker(20, 4), text)
        anchors, anchor_token = _reference(text)
        assert counter.anchors.tolist() == anchors.tolist()
        assert counter.anchor_token.tolist() == anchor_token.tolist()
        enc = encoding()
        for s in range(0, len(text), 5):
            for e in range(s + 1, len(text) + 1, 7):
                assert counter.count(s, e) == len(enc.encode_ordinary(text[s:e]))
        assert build.byte_offsets(text, [0, len(text)]) == [0, len(text.encode())]


def test_long_document_chunks_and_byte_offsets_match_the_small_path(monkeypatch):
    text = "".join(PIECES * 300)
    doc = Document.create("d.txt", "d", text)
    small = Chunker(50, 10).plan(doc)
    monkeypatch.setattr(chunk_module, "_BLOCK", 97)
    monkeypatch.setattr(chunk_module, "_LIST_ANCHORS", 10)
    monkeypatch.setattr(chunk_module, "_SPAN_BLOCK", 13)
    long = Chunker(50, 10).plan(doc)
    assert (long.starts, long.ends, long.tokens) == (small.starts, small.ends, small.tokens)
    expected = build.byte_offsets(text, small.starts)
    monkeypatch.setattr(build, "_WORD_BATCH_CHARS", 100)
    assert build.byte_offsets(text, small.starts) == expected
