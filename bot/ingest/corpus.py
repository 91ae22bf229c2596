"""Finding the supported files of a corpus folder, and reading them without leaving it.

The corpus is served to everyone who can ask the bot, so nothing outside the folder may be read:
a symbolic link that leads outside it (or to a hidden file) is refused at the scan, and each file
is opened again beneath the folder's real path one component at a time without following any
link, then checked on the open descriptor, so a file swapped for a link, a FIFO or a device
between the scan and the read is never read and never waited on.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.ingest.errors import CorpusError, UnreadableFile

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf", ".docx"}
)

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

OUTSIDE_LINK = "symbolic link to a place outside the corpus folder"
HIDDEN_LINK = "symbolic link to a hidden file or folder"
BROKEN_LINK = "broken symbolic link"
NOT_REGULAR = "not a regular file"
# The reason a file over the size limit is skipped starts with this: such a file is read again
# once the limit allows it, while other skipped files wait for a change of their own.
TOO_LARGE = "larger than the limit"

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


@dataclass(frozen=True, slots=True)
class CorpusFile:
    source: str  # path relative to the corpus folder, forward slashes
    path: Path  # the file's real path (a link inside the corpus is resolved)
    size: int
    mtime_ns: int
    # The corpus folder's real path: the file is opened beneath it without following any link.
    # None (a file named directly, as tests and tools do) checks the last component only.
    root: Path | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A corpus entry that is never read (a link leading out, a FIFO, a file over the limit);
    the stat is the entry's own (``lstat``), so the warning is given again only on a change."""

    source: str
    size: int
    mtime_ns: int
    reason: str


@dataclass(frozen=True, slots=True)
class CorpusScan:
    files: list[CorpusFile]
    refused: list[Refused] = field(default_factory=list)
    # Regular files of a format that is not read, by lowercased suffix ("" for none).
    unsupported: dict[str, int] = field(default_factory=dict)


def too_large_reason(size: int, limit: int) -> str:
    return f"{TOO_LARGE} ({_mb(size)} MB; CITEBOT_MAX_FILE_MB is {_mb(limit)})"


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f}".removesuffix(".0")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_corpus(corpus: Path) -> CorpusScan:
    """Supported files under ``corpus``, recursively and sorted by source, with what was refused
    and the count of unsupported files by suffix.

    Hidden files and folders (``.git``, ``.env``, ``.citebot``, ...) are not looked at. A link to
    a file inside the folder is read as that file; a link to a folder inside it is not walked
    again (its files are found under their own path, and no loop can form). Raises CorpusError
    when the folder itself is missing or unreadable; unreadable subfolders are skipped so that
    one bad folder does not hide the rest of the corpus.
    """
    corpus = Path(corpus)
    if not corpus.exists():
        raise CorpusError(f"corpus folder not found: {corpus}")
    if not corpus.is_dir():
        raise CorpusError(f"corpus path is not a folder: {corpus}")
    try:
        with os.scandir(corpus):
            pass
    except OSError as exc:
        raise CorpusError(f"cannot read corpus folder {corpus}: {exc.strerror or exc}") from exc

    root_str = os.path.realpath(corpus)
    root = Path(root_str)
    found: list[CorpusFile] = []
    refused: list[Refused] = []
    unsupported: Counter[str] = Counter()
    # Paths are joined as strings and stat'ed once: pathlib's parsing was most of a large
    # corpus's scan, which every update runs before any file is read.
    stack = [(root_str, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            source = prefix + name
            suffix = os.path.splitext(name)[1].lower()
            try:
                if entry.is_symlink():
                    link = entry.stat(follow_symlinks=False)
                    target = os.path.realpath(entry.path)
                    reason = None
                    if not _inside(target, root_str):
                        reason = OUTSIDE_LINK
                    elif any(p.startswith(".") for p in Path(target).relative_to(root).parts):
                        reason = HIDDEN_LINK
                    else:
                        try:
                            st = os.stat(target)
                        except OSError:
                            reason = BROKEN_LINK
                    if reason is not None:
                        refused.append(Refused(source, link.st_size, link.st_mtime_ns, reason))
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        continue  # walked under its own path
                    path = target
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, source + "/"))
                    continue
                else:
                    if suffix not in SUPPORTED_SUFFIXES:
                        if entry.is_file(follow_symlinks=False):
                            unsupported[suffix] += 1
                        continue
                    st = entry.stat(follow_symlinks=False)
                    path = entry.path
            except OSError:
                continue  # vanished meanwhile
            if suffix not in SUPPORTED_SUFFIXES:
                if stat.S_ISREG(st.st_mode):
                    unsupported[suffix] += 1
                continue
            if not stat.S_ISREG(st.st_mode):
                refused.append(Refused(source, st.st_size, st.st_mtime_ns, NOT_REGULAR))
                continue
            found.append(CorpusFile(source, Path(path), st.st_size, st.st_mtime_ns, root))
    found.sort(key=lambda f: f.source)
    refused.sort(key=lambda r: r.source)
    return CorpusScan(found, refused, dict(sorted(unsupported.items())))


def scan_corpus(corpus: Path) -> list[CorpusFile]:
    """The supported files of ``walk_corpus``."""
    return walk_corpus(corpus).files


def _open_beneath(file: CorpusFile) -> int:
    """A descriptor of ``file`` opened without following a link at any component beneath its
    root (``O_NOFOLLOW``), and without waiting on a FIFO or device (``O_NONBLOCK``)."""
    final = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC
    if file.root is None:
        return os.open(file.path, final)
    parts = file.path.relative_to(file.root).parts
    fd = os.open(file.root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return os.open(parts[-1], final, dir_fd=fd)
    finally:
        os.close(fd)


def read_corpus_file(file: CorpusFile, max_bytes: int | None = None) -> bytes:
    """The bytes of ``file``, read only if it is still a regular file inside the corpus and at
    most ``max_bytes`` long. Raises UnreadableFile with the reason."""
    try:
        fd = _open_beneath(file)
    except OSError as exc:
        raise UnreadableFile(file.source, _open_error(exc)) from exc
    with open(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile(file.source, NOT_REGULAR)
        if max_bytes is not None and st.st_size > max_bytes:
            raise UnreadableFile(file.source, too_large_reason(st.st_size, max_bytes))
        try:
            # The size fstat gave, and one byte more to see whether it grew since.
            data = f.read(st.st_size + 1)
            if len(data) > st.st_size:
                data += f.read() if max_bytes is None else f.read(max_bytes + 1 - len(data))
        except OSError as exc:
            raise UnreadableFile(file.source, f"cannot read: {exc.strerror or exc}") from exc
    if max_bytes is not None and len(data) > max_bytes:  # it grew since the fstat
        raise UnreadableFile(file.source, too_large_reason(len(data), max_bytes))
    return data


def _open_error(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file disappeared"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return "became a symbolic link (not followed)"
    if exc.errno == errno.EISDIR:
        return "is a folder"
    return f"cannot open: {exc.strerror or exc}"
