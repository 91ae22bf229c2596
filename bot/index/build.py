"""Reading, chunking and analysing corpus files into per-document posting lists.

This is the expensive part of an index update (tokenizers and stemmers run over every word), so
it runs in a pool of worker processes when there are many files to read and more than one core.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bot.analyze import ASCII_WORD_PATTERN, WORD_PATTERN, Analyzer
from bot.chunk import Chunker, ChunkPlan
from bot.ingest import CorpusFile, UnreadableFile, read_corpus_file, read_document
from bot.models import Document

# Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 32
# Characters of a document whose words are held as strings at once (``analyse_document``).
_WORD_BATCH_CHARS = 1 << 20
# Chunks whose postings are counted at once (``analyse_document``).
_CHUNK_BLOCK = 4096


@dataclass(slots=True)
class AnalysedDoc:
    """One document with its chunks and the term counts of each chunk."""

    source: str
    size: int
    mtime_ns: int
    sha1: str
    # The UTF-8 text and the metadata JSON (``document_meta``) as (spool file, start, end): the
    # process that analysed the document wrote them to its own spool file in the spool folder,
    # so the texts, most of an index's bytes, neither cross a pipe nor pass through the main
    # process until they are copied into the generation.
    text: tuple[str, int, int]
    meta: tuple[str, int, int]
    # Per chunk, in order: char start, char end, byte start, byte end (UTF-8, relative to the
    # document's text), 1-based line, tiktoken tokens, number of BM25 terms.
    chunks: np.ndarray  # int64, shape (n_chunks, 7)
    sections: list[str | None]
    # Term ids are numbered by the process that analysed the document (``origin``), first seen
    # first; ``terms`` are the ones it numbered since its previous document. Sending each term
    # once per worker, not once per document, spares pickling and looking up its string again.
    origin: tuple[int, int]
    terms: list[str]
    # Postings ordered by term id, then chunk.
    post_chunk: np.ndarray  # int32: chunk index within the document
    post_term: np.ndarray  # int32: term id in the numbering of ``origin``
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


class TermIds:
    """Surface words to term ids, each distinct surface word analysed once per process.

    Ids are this process's own (first seen, first numbered); the main process learns each term
    once, from ``take_new``, and maps the ids of every worker into one numbering. Equal to
    ``analyzer.term`` word by word, with -1 for a stop word.
    """

    def __init__(self, analyzer: Analyzer) -> None:
        # Each distinct word is analysed once here and kept in ``_word_ids``, so the analyzer's
        # LRU cache would never hit: going around it saves its bookkeeping on every new word.
        self._term = analyzer.term_uncached
        self._word_ids: dict[str, int] = {}
        self._term_ids: dict[str, int] = {}
        self.terms: list[str] = []
        self._sent = 0

    @property
    def origin(self) -> tuple[int, int]:
        """Which numbering the ids are in: a forked worker's copy is another numbering."""
        return os.getpid(), id(self)

    def take_new(self) -> list[str]:
        """The terms numbered since the last call, in id order."""
        new = self.terms[self._sent :]
        self._sent = len(self.terms)
        return new

    def of(self, words: list[str]) -> np.ndarray:
        word_ids = self._word_ids
        # Known words are looked up in C; -2 marks the few seen for the first time.
        out = np.fromiter(
            map(word_ids.get, words, itertools.repeat(-2)), dtype=np.int64, count=len(words)
        )
        unknown = np.flatnonzero(out == -2)
        if len(unknown):
            missing = [words[k] for k in unknown.tolist()]
            # Each new word once, numbered in order of first occurrence; then all occurrences
            # are filled in one assignment rather than one array store each.
            for word in dict.fromkeys(missing):
                word_ids[word] = self._id(word)
            out[unknown] = list(map(word_ids.__getitem__, missing))
        return out

    def _id(self, word: str) -> int:
        term = self._term(word)
        if term is None:
            return -1
        tid = self._term_ids.get(term)
        if tid is None:
            tid = self._term_ids[term] = len(self.terms)
            self.terms.append(term)
        return tid


def byte_offsets(text: str, offsets: Sequence[int]) -> list[int]:
    """UTF-8 byte offset of each character offset, so a chunk can be decoded on its own."""
    if text.isascii():
        return list(offsets)
    if len(text) <= _WORD_BATCH_CHARS:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        width = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
        before = np.zeros(len(codes) + 1, dtype=np.int64)
        np.cumsum(width, out=before[1:])
        return before[np.asarray(offsets, dtype=np.int64)].tolist()
    # A long text: the bytes between consecutive offsets, so no array is as long as the text
    # (per character, the arrays above take 20 bytes).
    out = [0] * len(offsets)
    pos = size = 0
    for i in sorted(range(len(offsets)), key=offsets.__getitem__):
        o = offsets[i]
        if o > pos:
            size += len(text[pos:o].encode("utf-8", "surrogatepass"))
            pos = o
        out[i] = size
    return out


def analyse_document(
    doc: Document, plan: ChunkPlan, ids: TermIds, include_headings: bool
) -> tuple[np.ndarray, list[str | None], np.ndarray, np.ndarray, np.ndarray]:
    """Chunk table, sections and postings (chunk, term id of ``ids``, tf) of one document, the
    postings ordered by term id, then chunk.

    Each chunk's terms are counted as ``Counter(analyzer.terms(...))`` of its title, section and
    text would count them, but words are found once per sentence unit rather than once per
    (overlapping) chunk, and counted with one sort over the whole document.
    """
    text = doc.text
    n = len(plan.starts)
    findall = (ASCII_WORD_PATTERN if text.isascii() else WORD_PATTERN).findall
    # Units are separated by whitespace, which no word crosses, so a chunk's words are its
    # units' words in order; where a cut fell inside a word (an over-long sentence split with no
    # space to cut at) the chunk is searched on its own. Words become ids a batch of units at a
    # time: a long document's words as strings would take ten times its size in memory. Term
    # ids fit 32 bits (-1 for a stop word).
    id_parts: list[np.ndarray] = []
    per_unit_counts = np.empty(len(plan.units), dtype=np.int64)
    done = 0
    while done < len(plan.units):
        batch: list[str] = []
        chars = 0
        k = done
        while k < len(plan.units) and chars < _WORD_BATCH_CHARS:
            s, e = plan.units[k]
            found = findall(text, s, e)
            per_unit_counts[k] = len(found)
            batch.extend(found)
            chars += e - s
            k += 1
        id_parts.append(ids.of(batch).astype(np.int32))
        done = k
    bounds = np.zeros(len(plan.units) + 1, dtype=np.int64)
    np.cumsum(per_unit_counts, out=bounds[1:])
    n_words = int(bounds[-1])
    first = np.array(plan.first, dtype=np.int64)
    last = np.array(plan.last, dtype=np.int64)
    lo, hi = bounds[first], bounds[last + 1]
    unit_starts = np.array([u[0] for u in plan.units], dtype=np.int64)
    unit_ends = np.array([u[1] for u in plan.units], dtype=np.int64)
    touching = np.zeros(len(plan.units) + 1, dtype=np.int64)
    np.cumsum(unit_starts[1:] <= unit_ends[:-1], out=touching[2:])
    extras: list[str] = []
    for k in np.flatnonzero(touching[last + 1] - touching[first + 1]).tolist():
        extra = findall(text, plan.starts[k], plan.ends[k])
        lo[k], hi[k] = n_words + len(extras), n_words + len(extras) + len(extra)
        extras.extend(extra)
    if extras:
        id_parts.append(ids.of(extras).astype(np.int32))
    word_ids = np.concatenate(id_parts or [np.zeros(0, np.int32)])
    del id_parts
    sizes = hi - lo
    title = ids.of(WORD_PATTERN.findall(doc.title)) if include_headings else None
    section_ids: dict[str, np.ndarray] = {}
    width = max(n, 1)
    term_parts: list[np.ndarray] = []
    chunk_parts: list[np.ndarray] = []
    tf_parts: list[np.ndarray] = []
    lengths = np.zeros(n, dtype=np.int64)
    # A block of chunks at a time, so the postings being counted (a chunk's words, with the
    # overlap between chunks) never take memory in proportion to the whole document.
    for b0 in range(0, n, _CHUNK_BLOCK):
        b1 = min(n, b0 + _CHUNK_BLOCK)
        block = np.arange(b0, b1, dtype=np.int64)
        bsizes = sizes[b0:b1]
        offset = np.repeat(lo[b0:b1] - (np.cumsum(bsizes) - bsizes), bsizes)
        offset += np.arange(int(bsizes.sum()), dtype=np.int64)
        parts_term = [word_ids[offset]]
        parts_chunk = [np.repeat(block, bsizes)]
        del offset
        if title is not None:
            if len(title):
                parts_term.append(np.tile(title, b1 - b0))
                parts_chunk.append(np.repeat(block, len(title)))
            for k in range(b0, b1):
                section = plan.sections[k]
                if not section:
                    continue
                sec = section_ids.get(section)
                if sec is None:
                    sec = section_ids[section] = ids.of(WORD_PATTERN.findall(section))
                if len(sec):
                    parts_term.append(sec)
                    parts_chunk.append(np.full(len(sec), k, dtype=np.int64))
        term_of = np.concatenate(parts_term).astype(np.int64)
        chunk_of = np.concatenate(parts_chunk)
        kept = term_of >= 0
        term_of, chunk_of = term_of[kept], chunk_of[kept]
        keys, tfs = np.unique(term_of * width + chunk_of, return_counts=True)
        term_parts.append((keys // width).astype(np.int32))
        chunk_parts.append((keys % width).astype(np.int32))
        tf_parts.append(tfs.astype(np.int32))
        lengths[b0:b1] = np.bincount(chunk_of - b0, minlength=b1 - b0)
    del word_ids
    post_term = _concatenate(term_parts)
    post_chunk = _concatenate(chunk_parts)
    post_tf = _concatenate(tf_parts)
    # Term-major, as the index stores postings: a document's postings form one run per term,
    # and a full build sorts those runs rather than every posting (``_places_by_term``). Each
    # block is ordered by term, then chunk, and the blocks by chunk, so a stable sort by term
    # orders them all.
    if n > _CHUNK_BLOCK:
        order = np.argsort(post_term, kind="stable")
        post_term = post_term[order]
        post_chunk = post_chunk[order]
        post_tf = post_tf[order]
        del order
    starts = np.array(plan.starts, dtype=np.int64)
    ends = np.array(plan.ends, dtype=np.int64)
    line_starts = np.array(doc.line_starts or (0,), dtype=np.int64)
    table = np.empty((n, 7), dtype=np.int64)
    table[:, 0] = starts
    table[:, 1] = ends
    table[:, 2] = byte_offsets(text, plan.starts)
    table[:, 3] = byte_offsets(text, plan.ends)
    table[:, 4] = np.searchsorted(line_starts, starts, side="right")  # Document.line_of
    table[:, 5] = plan.tokens
    table[:, 6] = lengths
    return table, list(plan.sections), post_chunk, post_term, post_tf


def _concatenate(parts: list[np.ndarray]) -> np.ndarray:
    """One int32 array of ``parts``, emptying the list as it goes: a long document's parts
    and their concatenation are never both held whole."""
    out = np.empty(sum(map(len, parts)), dtype=np.int32)
    pos = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        out[pos : pos + len(part)] = part
        pos += len(part)
    return out


def document_meta(doc: Document) -> bytes:
    """What docmeta.bin stores of a document: its title first (``Index.title`` reads it from
    the front), then its headings."""
    return json.dumps(
        {"title": doc.title, "headings": [[h.start, h.end, h.level, h.text] for h in doc.headings]},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def chunk_terms(
    analyzer: Analyzer, title: str, section: str | None, text: str, include_headings: bool
) -> list[str]:
    """A chunk's terms the plain way (title, section, text), for the reference scorer."""
    if not include_headings:
        return analyzer.terms(text)
    return analyzer.terms(title) + analyzer.terms(section or "") + analyzer.terms(text)


class _Spool:
    """The spool file of one process: texts and metadata appended, each document flushed before
    its result is sent, since a worker process ends with ``os._exit`` (no Python buffers are
    flushed) and the main process reads the file without waiting for it."""

    def __init__(self, folder: Path) -> None:
        self.name = f"texts-{os.getpid()}.spool"
        self.pid = os.getpid()
        self._file: BinaryIO = open(folder / self.name, "wb")  # noqa: SIM115 - see close()
        self._pos = 0

    def append(self, text: bytes, meta: bytes) -> tuple[tuple[str, int, int], tuple[str, int, int]]:
        self._file.write(text)
        self._file.write(meta)
        self._file.flush()
        start = self._pos
        self._pos += len(text) + len(meta)
        return (self.name, start, start + len(text)), (self.name, start + len(text), self._pos)

    def close(self) -> None:
        self._file.close()


class _Worker:
    def __init__(
        self,
        chunker: Chunker,
        analyzer: Analyzer,
        include_headings: bool,
        spool_dir: Path | None,
        max_file_bytes: int | None = None,
    ) -> None:
        self.chunker = chunker
        self.max_file_bytes = max_file_bytes
        self.ids = TermIds(analyzer)
        self.include_headings = include_headings
        self.spool_dir = spool_dir
        self._spool: _Spool | None = None

    def spool(self) -> _Spool:
        # A forked worker inherits this object: it must not write to its parent's file.
        if self._spool is None or self._spool.pid != os.getpid():
            assert self.spool_dir is not None, "a spool folder is needed to analyse files"
            self._spool = _Spool(self.spool_dir)
        return self._spool

    def close(self) -> None:
        if self._spool is not None and self._spool.pid == os.getpid():
            self._spool.close()

    def __call__(self, job: tuple[CorpusFile, str | None]) -> Outcome:
        file, old_sha1 = job
        try:
            # Opened beneath the corpus folder and checked on the descriptor: never a link,
            # a FIFO or a device put there since the scan, never more than the size limit.
            data = read_corpus_file(file, self.max_file_bytes)
        except UnreadableFile as exc:
            return Failed(file.source, file.size, file.mtime_ns, exc.reason)
        sha1 = hashlib.sha1(data).hexdigest()
        if sha1 == old_sha1:
            return Unchanged(file.source, file.size, file.mtime_ns)
        t0 = time.process_time()
        try:
            doc = read_document(file, data)
        except UnreadableFile as exc:
            return Failed(file.source, file.size, file.mtime_ns, exc.reason)
        del data  # the text holds it now; a long file's bytes need not stay beside it
        t1 = time.process_time()
        plan = self.chunker.plan(doc)
        t2 = time.process_time()
        table, sections, p_chunk, p_term, p_tf = analyse_document(
            doc, plan, self.ids, self.include_headings
        )
        t3 = time.process_time()
        text, meta = self.spool().append(doc.text.encode("utf-8"), document_meta(doc))
        return AnalysedDoc(
            source=file.source,
            size=file.size,
            mtime_ns=file.mtime_ns,
            sha1=sha1,
            text=text,
            meta=meta,
            chunks=table,
            sections=sections,
            origin=self.ids.origin,
            terms=self.ids.take_new(),
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
    spool_dir: Path | None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    max_file_bytes: int | None = None,
) -> Iterator[Outcome]:
    """Outcomes for ``jobs`` (file, sha1 it had when last indexed), in order; the texts of
    analysed documents are left in spool files in ``spool_dir`` (``AnalysedDoc.text``), which
    may be None only when there are no jobs."""
    worker = _Worker(chunker, analyzer, include_headings, spool_dir, max_file_bytes)
    total = len(jobs)
    workers = default_workers() if workers is None else workers
    if progress:
        progress(0, total)
    if workers <= 1 or total < PARALLEL_MIN_FILES or "fork" not in _start_methods():
        try:
            for i, job in enumerate(jobs, 1):
                yield worker(job)
                if progress:
                    progress(i, total)
        finally:
            worker.close()
        return
    # fork: workers inherit the analyzer and chunker (with their caches) without pickling them.
    # Not multiprocessing.Pool: its worker-handler thread wakes up whenever a result is waiting
    # in the pipe and polls every worker, busy-looping in the main process (about 0.7 CPU s of a
    # 200k build, taken from the workers' two cores) while results are being received.
    ctx = multiprocessing.get_context("fork")
    chunksize = max(1, min(64, total // (workers * 16)))
    pool = ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=(worker,))
    try:
        for i, outcome in enumerate(pool.map(_run, jobs, chunksize=chunksize), 1):
            yield outcome
            if progress:
                progress(i, total)
    finally:
        # Stopped early (an error, or the caller gave up): drop the files not yet started.
        pool.shutdown(cancel_futures=True)


def _start_methods() -> list[str]:
    return multiprocessing.get_all_start_methods()
