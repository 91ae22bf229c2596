"""Reading, chunking and analysing corpus files into per-document posting lists.

This is the expensive part of an index update (tokenizers and stemmers run over every word), so
it runs in a pool of worker processes when there are many files to read and more than one core.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bot.analyze import WORD_PATTERN, Analyzer
from bot.chunk import Chunker
from bot.ingest import CorpusFile, UnreadableFile, read_document
from bot.models import Chunk, Document, Heading

# Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 32


@dataclass(slots=True)
class AnalysedDoc:
    """One document with its chunks and the term counts of each chunk."""

    source: str
    size: int
    mtime_ns: int
    sha1: str
    title: str
    text: str
    headings: tuple[Heading, ...]
    # Per chunk, in order: char start, char end, byte start, byte end (UTF-8, relative to the
    # document's text), 1-based line, tiktoken tokens, number of BM25 terms.
    chunks: np.ndarray  # int64, shape (n_chunks, 7)
    sections: list[str | None]
    terms: list[str]  # the document's own vocabulary, sorted
    post_chunk: np.ndarray  # int32: chunk index within the document
    post_term: np.ndarray  # int32: index into ``terms``
    post_tf: np.ndarray  # int32
    line_starts: np.ndarray  # int64: ``Document.line_starts``, stored so loading skips the scan
    cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)  # seconds reading, chunking, analysing


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The file's stat changed but its bytes did not."""

    source: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Failed:
    source: str
    size: int
    mtime_ns: int
    reason: str


Outcome = AnalysedDoc | Unchanged | Failed


class TermCounter:
    """Counts a text's analysed terms; equal to ``Counter(analyzer.terms(text))``, but each
    distinct surface word is analysed once and the per-word loops run in C (``findall``,
    ``Counter`` over ``map``), which matters at tens of millions of words."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._term = analyzer.term
        self._cache: dict[str, str] = {}  # surface word -> term, "" for a stop word

    def count(self, text: str) -> Counter[str]:
        cache = self._cache
        # findall on the analyzer's own pattern is ~40% faster than iterating matches, and it
        # sees exactly the words ``Analyzer.terms`` sees.
        found = WORD_PATTERN.findall(text)
        for word in set(found).difference(cache):
            cache[word] = self._term(word) or ""
        counts = Counter(map(cache.__getitem__, found))
        counts.pop("", None)
        return counts


def byte_offsets(text: str, offsets: Sequence[int]) -> list[int]:
    """UTF-8 byte offset of each character offset, so a chunk can be decoded on its own."""
    if text.isascii():
        return list(offsets)
    out: dict[int, int] = {}
    pos = nbytes = 0
    for off in sorted(set(offsets)):
        nbytes += len(text[pos:off].encode("utf-8"))
        pos = off
        out[off] = nbytes
    return [out[o] for o in offsets]


def analyse_document(
    doc: Document, chunks: list[Chunk], counter: TermCounter, include_headings: bool
) -> tuple[np.ndarray, list[str | None], list[str], np.ndarray, np.ndarray, np.ndarray]:
    title_terms = counter.count(doc.title) if include_headings else Counter()
    section_terms: dict[str, Counter[str]] = {}
    keys: list[str] = []
    tfs: list[int] = []
    per_chunk: list[int] = []  # postings per chunk
    lengths: list[int] = []  # terms per chunk (BM25 document length)
    for c in chunks:
        counts = counter.count(c.text)
        if include_headings:
            counts.update(title_terms)
            if c.section:
                sec = section_terms.get(c.section)
                if sec is None:
                    sec = section_terms[c.section] = counter.count(c.section)
                counts.update(sec)
        keys.extend(counts)
        values = counts.values()
        tfs.extend(values)
        per_chunk.append(len(counts))
        lengths.append(sum(values))
    vocab = sorted(set(keys))
    term_id = {t: i for i, t in enumerate(vocab)}
    p_term = np.fromiter(map(term_id.__getitem__, keys), dtype=np.int32, count=len(keys))
    p_chunk = np.repeat(np.arange(len(chunks), dtype=np.int32), per_chunk)
    starts = [c.start for c in chunks]
    ends = [c.end for c in chunks]
    table = np.array(
        [
            starts,
            ends,
            byte_offsets(doc.text, starts),
            byte_offsets(doc.text, ends),
            [c.line for c in chunks],
            [c.n_tokens for c in chunks],
            lengths,
        ],
        dtype=np.int64,
    ).T.reshape(len(chunks), 7)
    return (
        table,
        [c.section for c in chunks],
        vocab,
        p_chunk,
        p_term,
        np.array(tfs, dtype=np.int32),
    )


def chunk_terms(
    analyzer: Analyzer, title: str, section: str | None, text: str, include_headings: bool
) -> list[str]:
    """A chunk's terms the plain way (title, section, text), for the reference scorer."""
    if not include_headings:
        return analyzer.terms(text)
    return analyzer.terms(title) + analyzer.terms(section or "") + analyzer.terms(text)


class _Worker:
    def __init__(self, chunker: Chunker, analyzer: Analyzer, include_headings: bool) -> None:
        self.chunker = chunker
        self.counter = TermCounter(analyzer)
        self.include_headings = include_headings

    def __call__(self, job: tuple[CorpusFile, str | None]) -> Outcome:
        file, old_sha1 = job
        try:
            with open(file.path, "rb") as f:
                sha1 = hashlib.sha1(f.read()).hexdigest()
        except OSError as exc:
            return Failed(file.source, file.size, file.mtime_ns, exc.strerror or str(exc))
        if sha1 == old_sha1:
            return Unchanged(file.source, file.size, file.mtime_ns)
        t0 = time.process_time()
        try:
            doc = read_document(file)
        except UnreadableFile as exc:
            return Failed(file.source, file.size, file.mtime_ns, exc.reason)
        t1 = time.process_time()
        chunks = self.chunker.chunk(doc)
        t2 = time.process_time()
        table, sections, vocab, p_chunk, p_term, p_tf = analyse_document(
            doc, chunks, self.counter, self.include_headings
        )
        t3 = time.process_time()
        return AnalysedDoc(
            source=file.source,
            size=file.size,
            mtime_ns=file.mtime_ns,
            sha1=sha1,
            title=doc.title,
            text=doc.text,
            headings=doc.headings,
            chunks=table,
            sections=sections,
            terms=vocab,
            post_chunk=p_chunk,
            post_term=p_term,
            post_tf=p_tf,
            line_starts=np.array(doc.line_starts, dtype=np.int64),
            cpu=(t1 - t0, t2 - t1, t3 - t2),
        )


_worker: _Worker | None = None


def _init_worker(worker: _Worker) -> None:
    global _worker
    _worker = worker


def _run(job: tuple[CorpusFile, str | None]) -> Outcome:
    assert _worker is not None
    return _worker(job)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def analyse_files(
    jobs: Sequence[tuple[CorpusFile, str | None]],
    *,
    chunker: Chunker,
    analyzer: Analyzer,
    include_headings: bool,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Iterator[Outcome]:
    """Outcomes for ``jobs`` (file, sha1 it had when last indexed), in order."""
    worker = _Worker(chunker, analyzer, include_headings)
    total = len(jobs)
    workers = default_workers() if workers is None else workers
    if progress:
        progress(0, total)
    if workers <= 1 or total < PARALLEL_MIN_FILES or "fork" not in _start_methods():
        for i, job in enumerate(jobs, 1):
            yield worker(job)
            if progress:
                progress(i, total)
        return
    # fork: workers inherit the analyzer and chunker (with their caches) without pickling them.
    ctx = multiprocessing.get_context("fork")
    chunksize = max(1, min(64, total // (workers * 16)))
    with ctx.Pool(workers, initializer=_init_worker, initargs=(worker,)) as pool:
        for i, outcome in enumerate(pool.imap(_run, jobs, chunksize=chunksize), 1):
            yield outcome
            if progress:
                progress(i, total)


def _start_methods() -> list[str]:
    return multiprocessing.get_all_start_methods()
