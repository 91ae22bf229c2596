"""Finding the supported files of a corpus folder."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from bot.ingest.errors import CorpusError

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
)


@dataclass(frozen=True, slots=True)
class CorpusFile:
    source: str  # path relative to the corpus folder, forward slashes
    path: Path
    size: int
    mtime_ns: int


def scan_corpus(corpus: Path) -> list[CorpusFile]:
    """Supported files under ``corpus``, recursively, sorted by source.

    Hidden files and folders (``.git``, ``.citebot``, ...) are skipped. Raises CorpusError when
    the folder itself is missing or unreadable; unreadable subfolders are skipped so that one bad
    folder does not hide the rest of the corpus.
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

    found: list[CorpusFile] = []
    # os.walk ignores errors in subfolders by default, which is the behaviour we want. Paths are
    # joined as strings and stat'ed once: pathlib's parsing was most of a large corpus's scan,
    # which every update runs before any file is read.
    for root, dirs, files in os.walk(corpus):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(root, corpus)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for name in files:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in SUPPORTED_SUFFIXES:
                continue
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue  # vanished or a broken symlink
            if not stat.S_ISREG(st.st_mode):
                continue
            found.append(CorpusFile(prefix + name, Path(path), st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: f.source)
    return found
