"""The on-disk index: generations of JSON metadata and memory-mapped numpy arrays.

Layout of ``index_dir``::

    CURRENT          name of the live generation (replaced atomically)
    lock             flock'ed by ``update`` so two processes never write at once
    gen-000042/      one complete, never-modified index

A generation holds (C chunks, D documents, V terms, P postings):

    meta.json        format version, analyzer/chunker/BM25 config, counts, stats
    files.json       per-file fingerprint (size, mtime_ns, sha1) and skipped files
    sources.json     document sources, sorted (document index = position)
    vocab.json       terms, sorted (term id = position)
    sections.json    distinct section headings (chunk section = position, -1 for none)
    doc_chunks.npy   int64 (D+1): chunk id range of each document
    doc_lines.npy    int64 (D+1): range of each document's line starts in lines.npy
    lines.npy        int64: ``Document.line_starts`` of every document, concatenated
    doc_bytes.npy    int64 (D+1): byte range of each document in texts.bin
    texts.bin        extracted texts, UTF-8, concatenated
    docmeta.bin      one JSON object per document (title, headings), concatenated
    docmeta_off.npy  int64 (D+1)
    chunks.npy       int64 (C, 9): doc, start, end, byte start, byte end, line, section,
                     tiktoken tokens, BM25 length
    indptr.npy       int64 (V+1): CSR by term
    post_chunk.npy   int32 (P)
    post_tf.npy      int32 (P)
    post_weight.npy  float64 (P): each posting's precomputed BM25 contribution
    manifest.json    size and blake2b of every file above, and a check of its own content
    verified.json    the files' stats when their hashes were last found right (optional)

No pickle: everything is JSON or ``.npy`` (loaded with ``allow_pickle=False``).

Damage is found, not served: a generation's files are hashed against the manifest when it is
first loaded, and again whenever a file's stat (inode, size, mtime, ctime) differs from the one
recorded in verified.json, so later loads of the same files skip the hashing; every load checks
the bounds of the offsets and postings, and text that does not decode is an ``IndexUnusable``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bot.analyze import Analyzer
from bot.chunk import Chunker
from bot.index.bm25 import BM25Params, accumulate, avg_length, idf_array, posting_weights, top_k
from bot.index.build import AnalysedDoc, Failed, Unchanged, analyse_files
from bot.ingest import DEFAULT_MAX_FILE_BYTES, TOO_LARGE, Refused, too_large_reason, walk_corpus
from bot.models import Chunk, Document, Heading, IndexStats, UpdateReport

FORMAT_VERSION = 3  # 3: manifest.json
_T = TypeVar("_T")
_GEN = re.compile(r"^gen-(\d{6,})$")
# Columns of chunks.npy.
DOC, START, END, BSTART, BEND, LINE, SECTION, TOKENS, LENGTH = range(9)
_ARRAYS = (
    "doc_chunks",
    "doc_lines",
    "lines",
    "doc_bytes",
    "docmeta_off",
    "chunks",
    "indptr",
    "post_chunk",
    "post_tf",
    "post_weight",
)
DOCUMENT_CACHE = 64
# How docmeta.bin's JSON object of a document begins (``Index.title``).
_TITLE_FIRST = '{"title":"'


class IndexUnusable(Exception):
    """The index on disk cannot be used (missing, corrupt, or built with other settings)."""


class _CannotLock(Exception):
    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class IndexWriteError(Exception):
    """The index folder cannot be written (read-only, full, no permission); the live generation
    on disk is left as it was. The message names the folder: for logs and the terminal."""


MANIFEST = "manifest.json"
VERIFIED = "verified.json"


def _unlisted(name: str) -> bool:
    """Not covered by the manifest: the manifest itself and the record of its last verification
    (with the temporary file it is written through)."""
    return name == MANIFEST or name.startswith(VERIFIED)


def _file_hash(path: Path) -> str:
    # blake2b: in hashlib (no new dependency), and faster than sha256 without SHA extensions.
    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def _manifest_check(files: dict[str, Any]) -> str:
    """A hash of the manifest's entries as parsed, so that damage to manifest.json itself is
    found, not only damage to the files it lists."""
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def _stat_key(st: os.stat_result) -> list[int]:
    # ctime cannot be set from user space: any write, or a utime() putting mtime back, moves it.
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _file_stats(gen: Path, names: Iterable[str]) -> dict[str, list[int]]:
    stats = {}
    for name in sorted(names):
        try:
            stats[name] = _stat_key(os.stat(gen / name))
        except FileNotFoundError:
            raise IndexUnusable(f"missing {name}") from None
    return stats


def _read_manifest(gen: Path) -> tuple[dict[str, list[Any]], str]:
    data = _read_json(gen / MANIFEST)
    try:
        files, check = data["files"], data["check"]
        ok = isinstance(files, dict) and all(
            isinstance(v, list) and len(v) == 2 and type(v[0]) is int and isinstance(v[1], str)
            for v in files.values()
        )
    except (KeyError, TypeError):
        ok = False
    if not ok or _manifest_check(files) != check:
        raise IndexUnusable(f"corrupt {MANIFEST}")
    return files, check


def _verify_generation(gen: Path) -> tuple[dict[str, list[Any]], str]:
    """Raise IndexUnusable unless every file of ``gen`` is the one its manifest describes.
    Files are hashed only when a stat differs from the record of the last verification, which
    is then written anew (where the folder can be written). The manifest's entries and check."""
    files, check = _read_manifest(gen)
    try:
        stats = _file_stats(gen, files)
        record: Any = None
        with contextlib.suppress(IndexUnusable):
            record = _read_json(gen / VERIFIED)
        if record == {"check": check, "files": stats}:
            return files, check
        for name, (size, digest) in sorted(files.items()):
            if stats[name][1] != size:
                raise IndexUnusable(f"corrupt {name}: {stats[name][1]} bytes, not {size}")
            if _file_hash(gen / name) != digest:
                raise IndexUnusable(f"corrupt {name}: checksum mismatch")
    except OSError as exc:
        raise IndexUnusable(f"cannot read {gen.name}: {exc.strerror or exc}") from None
    _record_verified(gen, check, stats)
    return files, check


def _record_verified(gen: Path, check: str, stats: dict[str, list[int]]) -> None:
    """Note that ``gen``'s files, with the stats they have now, match the manifest. Best effort:
    a generation in a folder that cannot be written is hashed at every load instead."""
    tmp = gen / f"{VERIFIED}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        tmp.write_text(json.dumps({"check": check, "files": stats}), encoding="utf-8")
        os.replace(tmp, gen / VERIFIED)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _forget_verified(gen: Path) -> None:
    """Make the next load hash ``gen`` again (damage found that the stats did not show)."""
    with contextlib.suppress(OSError):
        (gen / VERIFIED).unlink()


# -- reading -------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexUnusable(f"missing {path.name}") from None
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"corrupt {path.name}: {exc}") from None


def _load_array(gen: Path, name: str) -> np.ndarray:
    path = gen / f"{name}.npy"
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise IndexUnusable(f"missing {path.name}") from None
    except Exception as exc:
        # numpy parses the header with ast and tokenize: damaged bytes there raise SyntaxError,
        # tokenize.TokenError and others besides ValueError, OSError and EOFError.
        raise IndexUnusable(f"corrupt {path.name}: {exc!r}") from None


def _map_file(path: Path) -> mmap.mmap | bytes:
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return b""
            # The mapping keeps the inode alive after a newer generation deletes this one.
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise IndexUnusable(f"missing {path.name}") from None
    except OSError as exc:
        raise IndexUnusable(f"cannot read {path.name}: {exc}") from None


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise IndexUnusable(f"inconsistent index: {what}")


class Index:
    """An immutable snapshot of one generation; safe to use from many threads at once."""

    def __init__(self, gen: Path, settings: dict[str, Any]) -> None:
        meta = _read_json(gen / "meta.json")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise IndexUnusable(f"index format {found}, this version reads {FORMAT_VERSION}")
        for key, want in settings.items():
            if meta.get(key) != want:
                raise IndexUnusable(f"{key} settings changed")
        self.manifest, self.manifest_check = _verify_generation(gen)
        try:
            counts = {
                k: int(meta["counts"][k])
                for k in ("documents", "chunks", "terms", "postings", "lines")
            }
            s = meta["stats"]
            self.stats = IndexStats(
                int(s["documents"]), int(s["chunks"]), int(s["tokens"]), float(s["built_at"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexUnusable(f"corrupt meta.json: {exc!r}") from None
        self.path = gen
        self.damaged = False  # set when damage is found while answering (``_damaged``)
        self._sources: list[str] = _read_json(gen / "sources.json")
        vocab: list[str] = _read_json(gen / "vocab.json")
        self._sections: list[str] = _read_json(gen / "sections.json")
        arrays = {name: _load_array(gen, name) for name in _ARRAYS}
        d, c, v, p = counts["documents"], counts["chunks"], counts["terms"], counts["postings"]
        shapes = {
            "doc_chunks": ((d + 1,), np.int64),
            "doc_lines": ((d + 1,), np.int64),
            "lines": ((counts["lines"],), np.int64),
            "doc_bytes": ((d + 1,), np.int64),
            "docmeta_off": ((d + 1,), np.int64),
            "chunks": ((c, 9), np.int64),
            "indptr": ((v + 1,), np.int64),
            "post_chunk": ((p,), np.int32),
            "post_tf": ((p,), np.int32),
            "post_weight": ((p,), np.float64),
        }
        for name, (shape, dtype) in shapes.items():
            a = arrays[name]
            _expect(a.shape == shape and a.dtype == dtype, f"{name}.npy has shape {a.shape}")
        _expect(isinstance(self._sources, list) and len(self._sources) == d, "sources.json length")
        _expect(all(isinstance(x, str) for x in self._sources), "sources.json entries")
        _expect(isinstance(vocab, list) and len(vocab) == v, "vocab.json length")
        _expect(isinstance(self._sections, list), "sections.json")
        _expect(all(isinstance(x, str) for x in self._sections), "sections.json entries")
        # Plain ndarray views of the same maps: indexing an np.memmap runs its Python-level
        # __getitem__ and __array_finalize__, some hundred times per answer.
        arrays = {name: np.asarray(a) for name, a in arrays.items()}
        self._doc_chunks = arrays["doc_chunks"]
        self._doc_lines = arrays["doc_lines"]
        self._lines = arrays["lines"]
        self._doc_bytes = arrays["doc_bytes"]
        self._docmeta_off = arrays["docmeta_off"]
        self._chunks = arrays["chunks"]
        self._indptr = arrays["indptr"]
        self._post_chunk = arrays["post_chunk"]
        self._post_tf = arrays["post_tf"]
        self._post_weight = arrays["post_weight"]
        self._texts = _map_file(gen / "texts.bin")
        self._docmeta = _map_file(gen / "docmeta.bin")
        # Mapped now, read only if asked (``fingerprints``): a writer deletes this folder once it
        # switches to a newer generation, and the map keeps the file readable after that.
        self._files = _map_file(gen / "files.json")
        self._check_bounds(p, counts["lines"])
        self._vocab = {t: i for i, t in enumerate(vocab)}
        self._terms: Sequence[str] = vocab
        self._doc_index = {s: i for i, s in enumerate(self._sources)}
        self._cache: OrderedDict[str, Document] = OrderedDict()
        self._texts_cache: OrderedDict[str, str] = OrderedDict()
        self._cache_lock = threading.Lock()

    def _check_bounds(self, postings: int, lines: int) -> None:
        """Every offset and id a query follows points inside what it indexes: a damaged file
        whose stat did not change (so was not hashed again) fails here rather than reading out of
        range. Vectorised and linear; the largest, post_chunk, is one min/max pass."""
        n_chunks, n_sections = self.stats.chunks, len(self._sections)
        for name, a, end in (
            ("indptr", self._indptr, postings),
            ("doc_chunks", self._doc_chunks, n_chunks),
            ("doc_lines", self._doc_lines, lines),
            ("doc_bytes", self._doc_bytes, len(self._texts)),
            ("docmeta_off", self._docmeta_off, len(self._docmeta)),
        ):
            _expect(int(a[0]) == 0 and int(a[-1]) == end, f"{name} bounds")
            _expect(bool(np.all(a[1:] >= a[:-1])), f"{name} order")
        if n_chunks:
            ch = self._chunks
            docs = ch[:, DOC]
            doc_of = np.repeat(np.arange(len(self._sources)), np.diff(self._doc_chunks))
            _expect(np.array_equal(docs, doc_of), "chunk documents")
            size = (self._doc_bytes[1:] - self._doc_bytes[:-1])[docs]
            _expect(
                bool(np.all((ch[:, BSTART] >= 0) & (ch[:, BSTART] <= ch[:, BEND]))), "chunk bytes"
            )
            _expect(bool(np.all(ch[:, BEND] <= size)), "chunk bytes")
            _expect(
                bool(np.all((ch[:, START] >= 0) & (ch[:, START] <= ch[:, END]))), "chunk offsets"
            )
            _expect(
                bool(np.all((ch[:, SECTION] >= -1) & (ch[:, SECTION] < n_sections))), "sections"
            )
            _expect(bool(np.all(ch[:, LINE] >= 1)), "chunk lines")
        if postings:
            pc = self._post_chunk
            _expect(int(pc.min()) >= 0 and int(pc.max()) < n_chunks, "posting chunk ids")
        if lines:
            _expect(int(self._lines.min()) >= 0, "line starts")

    def _damaged(self, name: str, exc: Exception) -> IndexUnusable:
        """What to raise for damage found while answering: the stats did not show it, so the
        next load hashes the generation again (and an update then rebuilds it)."""
        self.damaged = True
        _forget_verified(self.path)
        return IndexUnusable(f"corrupt {name}: {exc}")

    def _decode(self, data: bytes, name: str) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._damaged(name, exc) from None

    # -- queries ---------------------------------------------------------------------------------
    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """(chunk id, score) of the ``k`` best chunks, score descending then id ascending;
        only chunks that share a term with the query."""
        n = self.stats.chunks
        if k <= 0 or n == 0:
            return []
        postings = []
        for term in terms:  # in query order, duplicates included, as rank-bm25 adds them
            t = self._vocab.get(term)
            if t is None:
                continue
            lo, hi = int(self._indptr[t]), int(self._indptr[t + 1])
            postings.append((self._post_chunk[lo:hi], self._post_weight[lo:hi]))
        if not postings:
            return []
        return top_k(accumulate(n, postings), k, [ids for ids, _ in postings])

    def chunk(self, chunk_id: int) -> Chunk:
        if not 0 <= chunk_id < self.stats.chunks:
            raise IndexError(f"chunk {chunk_id} not in index of {self.stats.chunks} chunks")
        row = self._chunks[chunk_id].tolist()
        d = row[DOC]
        base = int(self._doc_bytes[d])
        text = self._decode(self._texts[base + row[BSTART] : base + row[BEND]], "texts.bin")
        section = row[SECTION]
        return Chunk(
            id=chunk_id,
            source=self._sources[d],
            section=self._sections[section] if section >= 0 else None,
            start=row[START],
            end=row[END],
            line=row[LINE],
            text=text,
            n_tokens=row[TOKENS],
        )

    def document(self, source: str) -> Document:
        return self._cached(self._cache, source, self._load_document)

    def text(self, source: str) -> str:
        """The document's extracted text alone. Extraction reads nothing else of the documents
        it ranks, and decoding their headings and line starts (``document``) would cost more
        than the text; only the cited document needs those."""
        return self._cached(self._texts_cache, source, self._load_text)

    def _cached(self, cache: OrderedDict[str, _T], source: str, load: Callable[[int], _T]) -> _T:
        """``load(document number)`` of ``source`` through ``cache``, the last
        ``DOCUMENT_CACHE`` of them kept. Loading runs outside the lock; two threads asking for
        the same document at once both load it, and the later one is kept."""
        with self._cache_lock:
            value = cache.get(source)
            if value is not None:
                cache.move_to_end(source)
                return value
        d = self._doc_index.get(source)
        if d is None:
            raise KeyError(source)
        value = load(d)
        with self._cache_lock:
            cache[source] = value
            while len(cache) > DOCUMENT_CACHE:
                cache.popitem(last=False)
        return value

    def _load_text(self, d: int) -> str:
        lo, hi = int(self._doc_bytes[d]), int(self._doc_bytes[d + 1])
        return self._decode(self._texts[lo:hi], "texts.bin")

    def _load_document(self, d: int) -> Document:
        source = self._sources[d]
        mlo, mhi = int(self._docmeta_off[d]), int(self._docmeta_off[d + 1])
        try:
            meta = json.loads(self._decode(self._docmeta[mlo:mhi], "docmeta.bin"))
            headings = tuple(map(Heading._make, meta["headings"]))
            title = meta["title"]
        except (ValueError, TypeError, KeyError) as exc:
            raise self._damaged("docmeta.bin", exc) from None
        llo, lhi = int(self._doc_lines[d]), int(self._doc_lines[d + 1])
        # Line starts were stored at build time: rescanning a long text costs milliseconds. A
        # copy, so that the document does not hold this generation's mapped file open.
        lines = np.array(self._lines[llo:lhi])
        lines.flags.writeable = False
        return Document(source, title, self.text(source), headings, lines)

    def title(self, source: str) -> str:
        """The document's title, read from the front of its metadata (``_NewDocs.add`` writes
        it first) without decoding the headings after it."""
        d = self._doc_index.get(source)
        if d is None:
            raise KeyError(source)
        lo, hi = int(self._docmeta_off[d]), int(self._docmeta_off[d + 1])
        meta = self._decode(self._docmeta[lo:hi], "docmeta.bin")
        try:
            if meta.startswith(_TITLE_FIRST):
                return json.decoder.scanstring(meta, len(_TITLE_FIRST))[0]
            return json.loads(meta)["title"]
        except (ValueError, TypeError, KeyError) as exc:
            raise self._damaged("docmeta.bin", exc) from None

    def doc_freq(self, term: str) -> int:
        """Number of chunks that contain ``term`` (0 if none)."""
        t = self._vocab.get(term)
        return 0 if t is None else int(self._indptr[t + 1] - self._indptr[t])

    def sources(self) -> list[str]:
        return list(self._sources)

    def chunk_ids(self, source: str) -> range:
        d = self._doc_index.get(source)
        if d is None:
            raise KeyError(source)
        return range(int(self._doc_chunks[d]), int(self._doc_chunks[d + 1]))

    def vocabulary(self) -> Sequence[str]:
        """Every term of the index, in term-id order."""
        return self._terms

    def vocabulary_size(self) -> int:
        return len(self._vocab)

    def fingerprints(self) -> dict[str, str]:
        """source -> SHA-1 of the file each document was read from."""
        try:
            data = json.loads(bytes(self._files))
            return {s: str(fp[2]) for s, fp in data["files"].items()}
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise IndexUnusable(f"corrupt files.json: {exc!r}") from None


# -- writing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Fingerprint:
    size: int
    mtime_ns: int
    sha1: str


@dataclass(slots=True)
class _Skipped:
    size: int
    mtime_ns: int
    reason: str


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, obj: Any) -> None:
    _write_bytes(path, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _write_array(path: Path, a: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(a), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexStore:
    def __init__(
        self,
        index_dir: Path,
        *,
        analyzer: Analyzer,
        chunker: Chunker,
        params: BM25Params,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.max_file_bytes = max_file_bytes  # larger corpus files are skipped
        self.analyzer = analyzer
        self.chunker = chunker
        self.params = params
        self.workers: int | None = None  # None: one per core
        self.timings: dict[str, float] = {}  # seconds per stage of the last update (bench)
        # The last generation opened: load() after update() hands it out instead of mapping the
        # same files again (a large index takes seconds to open). Keyed by its files' identity,
        # so a generation rebuilt or damaged under the same name is opened (and checked) afresh.
        self._opened: tuple[tuple[Any, ...], Index] | None = None

    def _open(self, gen: Path) -> Index:
        try:
            key = (
                gen,
                *sorted(
                    (e.name, e.inode(), st.st_size, st.st_mtime_ns)
                    for e in os.scandir(gen)
                    # The record of verification is written by opening: not part of the identity.
                    if not e.name.startswith(VERIFIED)
                    for st in (e.stat(),)
                ),
            )
        except OSError as exc:
            raise IndexUnusable(f"cannot read {gen.name}: {exc}") from None
        if self._opened is not None and self._opened[0] == key and not self._opened[1].damaged:
            return self._opened[1]
        index = Index(gen, self._settings())
        self._opened = (key, index)
        return index

    def _settings(self) -> dict[str, Any]:
        # Round-tripped through JSON so a freshly built dict compares equal to a loaded one.
        return json.loads(
            json.dumps(
                {
                    "analyzer": self.analyzer.config(),
                    "chunker": self.chunker.config(),
                    "params": self.params.config(),
                }
            )
        )

    def _current(self) -> Path | None:
        pointer = self.index_dir / "CURRENT"
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexUnusable(f"cannot read CURRENT: {exc}") from None
        if not _GEN.match(name):
            raise IndexUnusable(f"CURRENT names no generation: {name[:40]!r}")
        return self.index_dir / name

    def live_mark(self) -> tuple[int, int, int] | None:
        """Identity of the CURRENT pointer (inode, mtime, size), None if there is none: one
        stat. ``_switch`` replaces the file, so every switch of generation, by any process,
        changes it (an inode freed by an earlier switch could come back, but not within the
        same timestamp tick: writing a generation takes longer)."""
        try:
            st = os.stat(self.index_dir / "CURRENT")
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def live_generation(self) -> str | None:
        """Name of the live generation on disk (None if there is none)."""
        gen = self._current()
        return None if gen is None else gen.name

    def load(self) -> Index:
        """The live generation; raises IndexUnusable if there is none or it cannot be used."""
        for attempt in range(3):
            gen = self._current()
            if gen is None:
                raise IndexUnusable(f"no index in {self.index_dir}")
            try:
                return self._open(gen)
            except IndexUnusable:
                # An update may have switched generations and deleted this one meanwhile.
                if attempt == 2 or self._current() == gen:
                    raise
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            lock = open(self.index_dir / "lock", "a+b")  # noqa: SIM115 - closed by the with
        except OSError as exc:
            raise _CannotLock(exc) from None
        with lock as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def update(
        self,
        corpus: Path,
        *,
        progress: Callable[[int, int], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> UpdateReport:
        """Bring the index in line with ``corpus``, re-reading only files whose stat changed.

        Raises IndexWriteError when the index must change and its folder cannot be written (the
        live generation is left as it was); in a folder that cannot be written, a live generation
        that matches the corpus is used as it is, without the lock."""
        try:
            with self._locked():
                try:
                    return self._update(Path(corpus), progress, warn or (lambda _msg: None))
                except OSError as exc:
                    # Reading the corpus reports its own errors (CorpusError, a skipped file):
                    # what is left is writing the new generation.
                    raise IndexWriteError(
                        f"cannot write the index in {self.index_dir}: {exc.strerror or exc}"
                    ) from None
        except _CannotLock as e:
            return self._check_unwritable(Path(corpus), e.error)

    def _check_unwritable(self, corpus: Path, error: OSError) -> UpdateReport:
        """The report of an update that need not write, or IndexWriteError: for an index folder
        where not even the lock can be taken (a read-only mount, another user's folder)."""
        t0 = time.perf_counter()
        why = f"the index folder {self.index_dir} cannot be written ({error.strerror or error})"
        scan = walk_corpus(corpus)
        files = scan.files
        try:
            gen = self._current()
            if gen is None:
                raise IndexWriteError(f"no index can be built: {why}")
            old = self._open(gen)
            old_files, old_skipped = _read_files_json(gen)
            _expect(sorted(old_files) == old._sources, "files.json does not match sources")
        except IndexUnusable as exc:
            raise IndexWriteError(f"the index cannot be used ({exc}) nor rebuilt: {why}") from None
        seen = {f.source for f in files}
        listed = seen | {r.source for r in scan.refused}  # refused files keep their skip reason
        stale = [
            f.source
            for f in files
            if not any(
                k is not None and (k.size, k.mtime_ns) == (f.size, f.mtime_ns)
                for k in (old_files.get(f.source), old_skipped.get(f.source))
            )
        ]
        stale += [s for s in old_files if s not in seen]
        if stale:
            n = len(stale)
            raise IndexWriteError(
                f"{n} changed file{'s' * (n != 1)} in the corpus cannot be indexed: {why}"
            )
        return UpdateReport(
            stats=old.stats,
            added=(),
            changed=(),
            removed=(),
            unchanged=len(old_files),
            skipped=tuple(sorted((s, k.reason) for s, k in old_skipped.items() if s in listed)),
            seconds=time.perf_counter() - t0,
            rebuilt_because=None,
            previous=gen.name,
            unsupported=tuple(scan.unsupported.items()),
        )

    def _update(
        self,
        corpus: Path,
        progress: Callable[[int, int], None] | None,
        warn: Callable[[str], None],
    ) -> UpdateReport:
        t0 = time.perf_counter()
        scan = walk_corpus(corpus)
        limit = self.max_file_bytes
        files = [f for f in scan.files if f.size <= limit]
        refused = scan.refused + [
            Refused(f.source, f.size, f.mtime_ns, too_large_reason(f.size, limit))
            for f in scan.files
            if f.size > limit
        ]
        self.timings = {"scan": time.perf_counter() - t0}
        old: Index | None = None
        old_files: dict[str, _Fingerprint] = {}
        old_skipped: dict[str, _Skipped] = {}
        rebuilt_because = None
        try:
            gen = self._current()
            if gen is not None:
                old = self._open(gen)
                old_files, old_skipped = _read_files_json(gen)
                _expect(sorted(old_files) == old._sources, "files.json does not match sources")
        except IndexUnusable as exc:
            rebuilt_because = str(exc)
            warn(f"rebuilding the index: {rebuilt_because}")
            old, old_files, old_skipped = None, {}, {}

        jobs = []
        kept: dict[str, _Fingerprint] = {}
        still_skipped: dict[str, _Skipped] = {}
        for r in refused:
            sk = _Skipped(r.size, r.mtime_ns, r.reason)
            if old_skipped.get(r.source) != sk:  # warned once, until it changes
                warn(f"skipped {r.source}: {r.reason}")
            still_skipped[r.source] = sk
        for f in files:
            fp = old_files.get(f.source)
            if fp is not None and fp.size == f.size and fp.mtime_ns == f.mtime_ns:
                kept[f.source] = fp
                continue
            sk = old_skipped.get(f.source)
            # A file skipped for its size is read once the limit allows it.
            if (
                sk is not None
                and sk.size == f.size
                and sk.mtime_ns == f.mtime_ns
                and not sk.reason.startswith(TOO_LARGE)
            ):
                still_skipped[f.source] = sk
                continue
            jobs.append((f, fp.sha1 if fp is not None else None))

        current = {f.source for f in files}
        removed = sorted(s for s in old_files if s not in current)
        added: list[str] = []
        changed: list[str] = []
        restat = False
        # A generation folder is only created when there is something to read or write.
        new_gen = self._next_generation() if jobs else None
        new_docs = _NewDocs(new_gen)
        try:
            for outcome in analyse_files(
                jobs,
                chunker=self.chunker,
                analyzer=self.analyzer,
                include_headings=self.params.include_headings,
                spool_dir=new_gen,
                progress=progress,
                workers=self.workers,
                max_file_bytes=limit,
            ):
                if isinstance(outcome, Unchanged):
                    kept[outcome.source] = _Fingerprint(
                        outcome.size, outcome.mtime_ns, old_files[outcome.source].sha1
                    )
                    restat = True
                elif isinstance(outcome, Failed):
                    warn(f"skipped {outcome.source}: {outcome.reason}")
                    still_skipped[outcome.source] = _Skipped(
                        outcome.size, outcome.mtime_ns, outcome.reason
                    )
                    if outcome.source in old_files:
                        removed.append(outcome.source)
                else:
                    (changed if outcome.source in old_files else added).append(outcome.source)
                    new_docs.add(outcome)
        except BaseException:
            new_docs.discard()
            if new_gen is not None:
                shutil.rmtree(new_gen, ignore_errors=True)
            raise
        removed.sort()
        self.timings["analyse"] = time.perf_counter() - t0 - self.timings["scan"]
        for i, stage in enumerate(("read_cpu", "chunk_cpu", "terms_cpu")):
            self.timings[stage] = new_docs.cpu[i]
        skipped = tuple(sorted((s, k.reason) for s, k in still_skipped.items()))

        def report(stats: IndexStats) -> UpdateReport:
            return UpdateReport(
                stats=stats,
                added=tuple(added),
                changed=tuple(changed),
                removed=tuple(removed),
                unchanged=len(kept),
                skipped=skipped,
                unsupported=tuple(scan.unsupported.items()),
                seconds=time.perf_counter() - t0,
                rebuilt_because=rebuilt_because,
                previous=None if old is None else old.path.name,
            )

        content_same = old is not None and not (added or changed or removed)
        if content_same and not restat and still_skipped == old_skipped:
            assert old is not None
            new_docs.discard()
            if new_gen is not None:
                shutil.rmtree(new_gen, ignore_errors=True)
            return report(old.stats)
        fingerprints = {**kept, **new_docs.fingerprints}
        try:
            if new_gen is None:
                new_gen = new_docs.gen = self._next_generation()
            if content_same:
                assert old is not None
                stats = old.stats
                new_docs.discard()
                _link_generation(old.path, new_gen)
            else:
                stats = _write_generation(
                    new_gen,
                    old,
                    set(kept),
                    new_docs,
                    self._settings(),
                    self.params,
                )
            _write_files_json(new_gen, fingerprints, still_skipped)
            _write_manifest(new_gen, old.manifest if content_same and old is not None else None)
            _fsync_dir(new_gen)
            self._switch(new_gen)
        except BaseException:
            # A full disk, most likely: the live generation stays as it was, and so does the disk.
            new_docs.discard()
            if new_gen is not None and self._live_name() != new_gen.name:
                shutil.rmtree(new_gen, ignore_errors=True)
            raise
        self._drop_others(new_gen)
        # Its files were hashed as written; their stats are final now that older generations,
        # which may share inodes with it (``_link_generation``), are gone.
        files, check = _read_manifest(new_gen)
        _record_verified(new_gen, check, _file_stats(new_gen, files))
        self.timings["write"] = (
            time.perf_counter() - t0 - self.timings["scan"] - self.timings["analyse"]
        )
        return report(stats)

    def _next_generation(self) -> Path:
        numbers = [int(m.group(1)) for p in self.index_dir.iterdir() if (m := _GEN.match(p.name))]
        gen = self.index_dir / f"gen-{max(numbers, default=0) + 1:06d}"
        gen.mkdir()
        return gen

    def _live_name(self) -> str | None:
        with contextlib.suppress(OSError):
            return (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        return None

    def _switch(self, gen: Path) -> None:
        tmp = self.index_dir / "CURRENT.tmp"
        try:
            _write_bytes(tmp, gen.name.encode())
            os.replace(tmp, self.index_dir / "CURRENT")
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(self.index_dir)

    def _drop_others(self, gen: Path) -> None:
        # Readers of older generations keep their mmaps (and so the inodes) alive.
        for p in self.index_dir.iterdir():
            if _GEN.match(p.name) and p != gen:
                shutil.rmtree(p, ignore_errors=True)


def _read_files_json(gen: Path) -> tuple[dict[str, _Fingerprint], dict[str, _Skipped]]:
    data = _read_json(gen / "files.json")
    try:
        files = {s: _Fingerprint(int(a), int(b), str(c)) for s, (a, b, c) in data["files"].items()}
        skipped = {s: _Skipped(int(a), int(b), str(c)) for s, (a, b, c) in data["skipped"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexUnusable(f"corrupt files.json: {exc!r}") from None
    return files, skipped


def _write_files_json(
    gen: Path, files: dict[str, _Fingerprint], skipped: dict[str, _Skipped]
) -> None:
    _write_json(
        gen / "files.json",
        {
            "files": {s: [f.size, f.mtime_ns, f.sha1] for s, f in sorted(files.items())},
            "skipped": {s: [k.size, k.mtime_ns, k.reason] for s, k in sorted(skipped.items())},
        },
    )


def _write_manifest(gen: Path, reuse: dict[str, list[Any]] | None = None) -> None:
    """Size and hash of every file of ``gen``, read back from disk (from the page cache, just
    written); the entries of ``reuse`` are taken for files hard-linked from a generation that
    was verified when it was opened."""
    files: dict[str, list[Any]] = {}
    for p in sorted(gen.iterdir()):
        if _unlisted(p.name):
            continue
        known = (reuse or {}).get(p.name)
        files[p.name] = (
            known if known and p.name != "files.json" else [p.stat().st_size, _file_hash(p)]
        )
    _write_json(gen / MANIFEST, {"files": files, "check": _manifest_check(files)})


def _link_generation(old: Path, new: Path) -> None:
    """A generation with the same content: files are never modified, so hard links suffice."""
    for p in old.iterdir():
        if p.name != "files.json" and not _unlisted(p.name):
            os.link(p, new / p.name)


@dataclass(slots=True)
class _NewDoc:
    chunks: np.ndarray  # int64 (n, 7) as in AnalysedDoc
    sections: np.ndarray  # int64: section id per chunk, -1 for none
    postings: tuple[int, int]  # range in _NewDocs.post_*
    line_starts: np.ndarray  # int64
    text: tuple[str, int, int]  # spool file and byte range, as in AnalysedDoc
    meta: tuple[str, int, int]


class _Growing:
    """An int32 array appended to in place, its capacity doubled as needed."""

    def __init__(self) -> None:
        self._data = np.zeros(1024, dtype=np.int32)
        self.size = 0

    def extend(self, values: list[int] | np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=np.int32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    @property
    def array(self) -> np.ndarray:
        return self._data[: self.size]


class _NewDocs:
    """Analysed documents, held compactly until the merge: terms as ids into one shared
    vocabulary (not a string list per document) and texts left in the spool files the workers
    wrote to the new generation's folder, so a full build does not hold every document's text
    and terms as Python objects."""

    def __init__(self, gen: Path | None) -> None:
        self.gen = gen
        self.docs: dict[str, _NewDoc] = {}
        self.fingerprints: dict[str, _Fingerprint] = {}
        self.terms: dict[str, int] = {}
        self._origins: dict[tuple[int, int], _Growing] = {}
        self.sections: dict[str, int] = {}
        self.cpu = [0.0, 0.0, 0.0]
        # Postings of all documents in order of arrival, each document's by term, then chunk:
        # one array each rather than three per document, so a full build uses them as they are.
        self.post_term = _Growing()  # term id here
        self.post_chunk = _Growing()  # chunk index within the document
        self.post_tf = _Growing()

    def add(self, d: AnalysedDoc) -> None:
        terms = self.terms
        # The worker's ids -> ids here; only the terms it numbered since its last document are
        # new to the map (another worker may have sent the same term already).
        known = self._origins.get(d.origin)
        if known is None:
            known = self._origins[d.origin] = _Growing()
        known.extend([terms.setdefault(t, len(terms)) for t in d.terms])
        post_term = known.array[d.post_term]
        first = self.post_term.size
        self.post_term.extend(post_term)
        self.post_chunk.extend(d.post_chunk)
        self.post_tf.extend(d.post_tf)
        sections = self.sections
        self.docs[d.source] = _NewDoc(
            chunks=d.chunks,
            sections=np.array(
                [-1 if s is None else sections.setdefault(s, len(sections)) for s in d.sections],
                dtype=np.int64,
            ),
            postings=(first, self.post_term.size),
            line_starts=d.line_starts,
            text=d.text,
            meta=d.meta,
        )
        self.fingerprints[d.source] = _Fingerprint(d.size, d.mtime_ns, d.sha1)
        for i, c in enumerate(d.cpu):
            self.cpu[i] += c

    def discard(self) -> None:
        if self.gen is not None:
            for p in self.gen.glob("*.spool"):
                p.unlink(missing_ok=True)


def _spooled(spools: dict[str, mmap.mmap | bytes], gen: Path, name: str, lo: int, hi: int) -> bytes:
    spool = spools.get(name)
    if spool is None:
        spool = spools[name] = _map_file(gen / name)
    return spool[lo:hi]


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative int32 keys, as two stable passes
    over 16-bit halves (low, then high): numpy radix-sorts 16-bit keys, and two such passes
    took about two thirds of the time of one stable int32 sort on 9 M postings."""
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return low[np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")]


def _placed(values: np.ndarray, place: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[place] = values
    return out


def _places_by_term(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each posting goes in (term, chunk) order, and the terms in that order, for postings
    in chunk order within runs of one term (``_NewDocs.post_term`` of documents in chunk
    order). The runs are sorted rather than the postings: a third as many on the 200k corpus.
    Few and int32 temporaries: a fresh page costs more than the arithmetic on it."""
    n = len(terms)
    run_start = np.empty(n, dtype=bool)
    run_start[:1] = True
    np.not_equal(terms[1:], terms[:-1], out=run_start[1:])
    starts = np.flatnonzero(run_start).astype(np.int32)
    del run_start
    sizes = np.diff(starts, append=np.int32(n))
    order = _stable_order(terms[starts])
    sorted_sizes = sizes[order]
    first = np.empty(len(starts), dtype=np.int32)
    first[order] = np.cumsum(sorted_sizes, dtype=np.int32) - sorted_sizes
    place = np.repeat(first - starts, sizes)
    place += np.arange(n, dtype=np.int32)
    return place, np.repeat(terms[starts[order]], sorted_sizes)


def _write_texts(
    gen: Path, sources: list[str], old: Index | None, old_doc_of: np.ndarray, new: _NewDocs
) -> int:
    """Texts, document metadata and line starts in source order, and their offsets; returns the
    number of line starts."""
    n_docs = len(sources)
    doc_bytes = np.zeros(n_docs + 1, dtype=np.int64)
    docmeta_off = np.zeros(n_docs + 1, dtype=np.int64)
    doc_lines = np.zeros(n_docs + 1, dtype=np.int64)
    line_parts: list[np.ndarray] = []
    spools: dict[str, mmap.mmap | bytes] = {}
    with open(gen / "texts.bin", "wb") as ft, open(gen / "docmeta.bin", "wb") as fm:
        for i, s in enumerate(sources):
            d = new.docs.get(s)
            if d is None:
                assert old is not None
                od = int(old_doc_of[i])
                text = old._texts[int(old._doc_bytes[od]) : int(old._doc_bytes[od + 1])]
                meta = old._docmeta[int(old._docmeta_off[od]) : int(old._docmeta_off[od + 1])]
                lines = old._lines[int(old._doc_lines[od]) : int(old._doc_lines[od + 1])]
            else:
                text, meta = (_spooled(spools, gen, *d.text), _spooled(spools, gen, *d.meta))
                lines = d.line_starts
            ft.write(text)
            fm.write(meta)
            line_parts.append(np.asarray(lines))
            doc_bytes[i + 1] = doc_bytes[i] + len(text)
            docmeta_off[i + 1] = docmeta_off[i] + len(meta)
            doc_lines[i + 1] = doc_lines[i] + len(lines)
        for f in (ft, fm):
            f.flush()
            os.fsync(f.fileno())
    for spool in spools.values():
        if isinstance(spool, mmap.mmap):
            spool.close()
    all_lines = np.concatenate(line_parts) if line_parts else np.zeros(0, np.int64)
    _write_array(gen / "doc_bytes.npy", doc_bytes)
    _write_array(gen / "docmeta_off.npy", docmeta_off)
    _write_array(gen / "doc_lines.npy", doc_lines)
    _write_array(gen / "lines.npy", all_lines.astype(np.int64, copy=False))
    return len(all_lines)


def _write_generation(
    gen: Path,
    old: Index | None,
    keep: set[str],
    new: _NewDocs,
    settings: dict[str, Any],
    params: BM25Params,
) -> IndexStats:
    """Merge the kept documents of ``old`` (carried over as stored: no re-reading or
    re-tokenising, only renumbered) with the ``new`` ones, recompute the weights, write ``gen``."""
    sources = sorted(keep | new.docs.keys())
    n_docs = len(sources)

    # Chunk id ranges in the new numbering.
    doc_sizes = np.zeros(n_docs, dtype=np.int64)
    old_doc_of = np.full(n_docs, -1, dtype=np.int64)  # new doc index -> old doc index
    for i, s in enumerate(sources):
        d = new.docs.get(s)
        if d is not None:
            doc_sizes[i] = len(d.chunks)
        else:
            assert old is not None
            od = old._doc_index[s]
            doc_sizes[i] = int(old._doc_chunks[od + 1] - old._doc_chunks[od])
            old_doc_of[i] = od
    doc_chunks = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(doc_sizes, out=doc_chunks[1:])
    n_chunks = int(doc_chunks[-1])

    # The texts are copied on another thread meanwhile: most of that copy is system calls,
    # which release the GIL, and the merge is mostly numpy, so on two cores the copy leaves
    # the serial tail (the pool is done: the cores are free). Leaving the block waits for the
    # copy, on an error too: the caller then removes the folder it writes to.
    with ThreadPoolExecutor(1) as copier:
        texts = copier.submit(_write_texts, gen, sources, old, old_doc_of, new)
        # The chunk table; sections of carried-over chunks join the new documents' section ids.
        section_ids = new.sections
        chunks = np.zeros((n_chunks, 9), dtype=np.int64)
        old_chunk_to_new = None
        if old is not None and old.stats.chunks:
            old_chunk_to_new = np.full(old.stats.chunks, -1, dtype=np.int64)
            for i in np.flatnonzero(old_doc_of >= 0):
                od = int(old_doc_of[i])
                lo, hi = int(old._doc_chunks[od]), int(old._doc_chunks[od + 1])
                old_chunk_to_new[lo:hi] = np.arange(doc_chunks[i], doc_chunks[i + 1])
            kept_old = np.flatnonzero(old_chunk_to_new >= 0)
            rows = np.asarray(old._chunks[kept_old])
            old_sec_map = np.full(len(old._sections) + 1, -1, dtype=np.int64)  # [-1]: no section
            for sec in np.unique(rows[:, SECTION]):
                if sec >= 0:
                    name = old._sections[int(sec)]
                    old_sec_map[sec] = section_ids.setdefault(name, len(section_ids))
            rows[:, SECTION] = old_sec_map[rows[:, SECTION]]
            rows[:, DOC] = np.searchsorted(doc_chunks, old_chunk_to_new[kept_old], side="right") - 1
            chunks[old_chunk_to_new[kept_old]] = rows
            del rows
        for i, s in enumerate(sources):
            d = new.docs.get(s)
            if d is None:
                continue
            block = chunks[int(doc_chunks[i]) : int(doc_chunks[i + 1])]
            block[:, DOC] = i
            block[:, [START, END, BSTART, BEND, LINE, TOKENS, LENGTH]] = d.chunks
            block[:, SECTION] = d.sections

        # Vocabulary: terms of the new documents and the terms kept documents still use, sorted.
        new_terms = list(new.terms)  # provisional id -> term
        parts_term: list[np.ndarray] = []
        parts_chunk: list[np.ndarray] = []
        parts_tf: list[np.ndarray] = []
        if old_chunk_to_new is not None and old is not None:
            old_vocab = [""] * len(old._vocab)
            for t, i in old._vocab.items():
                old_vocab[i] = t
            old_terms = np.repeat(
                np.arange(len(old_vocab), dtype=np.int32), np.diff(np.asarray(old._indptr))
            )
            post_chunk = old_chunk_to_new[np.asarray(old._post_chunk)]
            live = post_chunk >= 0
            old_terms = old_terms[live]
            used = np.flatnonzero(np.bincount(old_terms, minlength=len(old_vocab)))
            vocab = sorted(set(new_terms).union(old_vocab[i] for i in used))
            term_id = {t: i for i, t in enumerate(vocab)}
            old_term_to_new = np.array([term_id.get(t, -1) for t in old_vocab], dtype=np.int32)
            parts_term.append(old_term_to_new[old_terms])
            parts_chunk.append(post_chunk[live].astype(np.int32))
            parts_tf.append(np.asarray(old._post_tf)[live])
            del old_terms, post_chunk, live
        else:
            vocab = sorted(new_terms)
            term_id = {t: i for i, t in enumerate(vocab)}
        provisional = np.fromiter(
            (term_id[t] for t in new_terms), dtype=np.int32, count=len(new_terms)
        )
        # Postings in (term, chunk) order: CSR by term.
        if not keep and list(new.docs) == sources:
            # Only new documents, which arrived in source order and so in chunk order.
            place, terms = _places_by_term(provisional[new.post_term.array])
            per_doc = [hi - lo for lo, hi in (d.postings for d in new.docs.values())]
            post_chunk = np.repeat(doc_chunks[:-1].astype(np.int32), per_doc)
            post_chunk += new.post_chunk.array
            post_chunk, post_tf = _placed(post_chunk, place), _placed(new.post_tf.array, place)
            del place
        else:
            # Sorted by (term, chunk); carried-over postings come first, renumbered.
            for i, s in enumerate(sources):
                d = new.docs.get(s)
                if d is None or d.postings[0] == d.postings[1]:
                    continue
                lo, hi = d.postings
                parts_term.append(provisional[new.post_term.array[lo:hi]])
                parts_chunk.append(new.post_chunk.array[lo:hi] + np.int32(doc_chunks[i]))
                parts_tf.append(new.post_tf.array[lo:hi])
            terms = np.concatenate(parts_term) if parts_term else np.zeros(0, np.int32)
            post_chunk = np.concatenate(parts_chunk) if parts_chunk else np.zeros(0, np.int32)
            post_tf = np.concatenate(parts_tf) if parts_tf else np.zeros(0, np.int32)
            del parts_term, parts_chunk, parts_tf
            order = np.argsort(terms.astype(np.int64) * max(n_chunks, 1) + post_chunk)
            terms, post_chunk, post_tf = terms[order], post_chunk[order], post_tf[order]
            del order
        doc_freq = np.bincount(terms, minlength=len(vocab))
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=indptr[1:])
        lengths = chunks[:, LENGTH]
        avgdl = avg_length(lengths)
        weights = posting_weights(
            idf_array(doc_freq, n_chunks)[terms], post_tf, post_chunk, lengths, avgdl, params
        )
        del terms
        n_lines = texts.result()
    new.discard()

    stats = IndexStats(
        documents=n_docs,
        chunks=n_chunks,
        tokens=int(chunks[:, TOKENS].sum()),
        built_at=time.time(),
    )
    _write_array(gen / "doc_chunks.npy", doc_chunks)
    _write_array(gen / "chunks.npy", chunks)
    _write_array(gen / "indptr.npy", indptr)
    _write_array(gen / "post_chunk.npy", post_chunk.astype(np.int32, copy=False))
    _write_array(gen / "post_tf.npy", post_tf.astype(np.int32, copy=False))
    _write_array(gen / "post_weight.npy", weights)
    _write_json(gen / "sources.json", sources)
    _write_json(gen / "vocab.json", vocab)
    sections = [""] * len(section_ids)
    for name, i in section_ids.items():
        sections[i] = name
    _write_json(gen / "sections.json", sections)
    _write_json(
        gen / "meta.json",
        {
            "format": FORMAT_VERSION,
            **settings,
            "counts": {
                "documents": n_docs,
                "chunks": n_chunks,
                "terms": len(vocab),
                "postings": len(post_chunk),
                "lines": n_lines,
            },
            "stats": {
                "documents": stats.documents,
                "chunks": stats.chunks,
                "tokens": stats.tokens,
                "built_at": stats.built_at,
            },
        },
    )
    return stats
