"""Finding the supported files of a corpus folder."""

from __future__ import annotations

import os
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
    # os.walk ignores errors in subfolders by default, which is the behaviour we want.
    for root, dirs, files in os.walk(corpus):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            path = Path(root, name)
            try:
                st = path.stat()
            except OSError:
                continue  # vanished or a broken symlink
            if not path.is_file():
                continue
            source = path.relative_to(corpus).as_posix()
            found.append(CorpusFile(source, path, st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: f.source)
    return found
