"""Typed, frozen data objects passed between the stages of the pipeline.

ingest → Document → chunk → Chunk → index/retrieve → Hit → extract → Answer (with Citation).
All character offsets refer to ``Document.text``, the document's extracted text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple


class Heading(NamedTuple):
    """A section heading: ``text`` is ``document.text[start:end]`` stripped of markup. A named
    tuple: a cited document's headings (up to ~1,500 in a long manual) are rebuilt from the
    index for every answer."""

    start: int
    end: int
    level: int
    text: str


_start = attrgetter("start")


@dataclass(frozen=True, slots=True)
class Document:
    source: str  # path relative to the corpus folder, with forward slashes
    title: str
    text: str
    headings: tuple[Heading, ...] = ()
    # Offsets where each line starts, ascending; derived from ``text`` once so lookups are a
    # bisect. A document loaded from the index gets a read-only array: a long manual has tens
    # of thousands of lines, and a tuple of 40,000 ints took 1.5 ms to build (the copy, 0.2).
    line_starts: Sequence[int] = field(default=(), repr=False, compare=False)

    @classmethod
    def create(
        cls, source: str, title: str, text: str, headings: tuple[Heading, ...] = ()
    ) -> Document:
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        ordered = tuple(sorted(headings, key=lambda h: h.start))
        return cls(source, title, text, ordered, tuple(starts))

    def line_of(self, offset: int) -> int:
        """1-based line number of the character at ``offset``."""
        return bisect_right(self.line_starts, offset) if len(self.line_starts) else 1

    def section_at(self, offset: int) -> Heading | None:
        """The nearest heading that starts at or before ``offset``."""
        if not self.headings:
            return None
        i = bisect_right(self.headings, offset, key=_start) - 1
        return self.headings[i] if i >= 0 else None


@dataclass(frozen=True, slots=True)
class Chunk:
    id: int  # position in the index
    source: str
    section: str | None
    start: int
    end: int
    line: int  # 1-based line of ``start``
    text: str  # == document.text[start:end]
    n_tokens: int = 0  # tiktoken tokens


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int  # 0-based


@dataclass(frozen=True, slots=True)
class Citation:
    source: str
    title: str
    section: str | None
    line: int
    start: int
    end: int
    quote: str  # == document.text[start:end]


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answered: bool
    answer: str | None
    sentence: str | None
    # Offset of ``sentence`` in the cited document, so a renderer can place the span inside it.
    sentence_start: int | None
    confidence: float
    citations: tuple[Citation, ...]
    sources: tuple[Hit, ...]
    took_ms: float = 0.0
    explanation: Explanation | None = None  # only when asked for (``Engine.ask(explain=True)``)

    @property
    def span_in_sentence(self) -> tuple[int, int] | None:
        """(start, end) of the answer span relative to ``sentence``."""
        if not self.citations or self.sentence_start is None:
            return None
        c = self.citations[0]
        return c.start - self.sentence_start, c.end - self.sentence_start


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One word of the question as the analyzer saw it."""

    word: str  # as typed
    term: str  # the analysed (normalised, stemmed) term the index is searched with
    found: bool  # in at least one of the chunks handed to the extractor
    corrected: str | None = None  # the index term a misspelt word was matched to


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an answer was given or withheld, for a reader who wants to check it.

    Generic over the answering component: ``score`` and ``runner_up_score`` are on the span
    scorer's own scale (comparable with each other, not across components); ``no_answer_score``
    is None when the component has none; the decision compares ``Answer.confidence`` with
    ``threshold``.
    """

    terms: tuple[QueryTerm, ...]
    chunks: tuple[Hit, ...]  # the chunks the answer was looked for in, best first
    score: float | None  # of the chosen span; None when no span was found
    runner_up: str | None  # the best span that is not the answer (nor inside it)
    runner_up_score: float | None
    no_answer_score: float | None
    threshold: float


@dataclass(frozen=True, slots=True)
class Extraction:
    """The extractor's best span, before the abstention decision and citation."""

    source: str
    start: int  # answer span in the document text
    end: int
    sentence_start: int  # the sentence that contains the span
    sentence_end: int
    confidence: float  # in [0, 1]
    answer_type: str  # e.g. "number", "date", "person", "place", "phrase"
    chunk_id: int  # the hit the sentence came from
    # For explanations: the span scorer's score of this span, and of the best different span.
    score: float = 0.0
    runner_up: str | None = None
    runner_up_score: float | None = None
    no_answer_score: float | None = None  # the lexical ranker has no no-answer score


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int
    chunks: int
    tokens: int  # tiktoken tokens over all chunks
    built_at: float  # Unix time of the last change


@dataclass(frozen=True, slots=True)
class UpdateReport:
    stats: IndexStats
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: int = 0
    skipped: tuple[tuple[str, str], ...] = ()  # (source, reason)
    # Files of formats that are not read, counted by suffix ("" for none), in suffix order.
    unsupported: tuple[tuple[str, int], ...] = ()
    seconds: float = 0.0
    rebuilt_because: str | None = None  # set when an unusable index was thrown away
    # The generation the counts are relative to (None: there was none), so that a process still
    # holding an older one can tell (``Engine.refresh``).
    previous: str | None = None

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_because)
