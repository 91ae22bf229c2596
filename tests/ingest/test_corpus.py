import os
from pathlib import Path

import pytest

from bot.ingest import SUPPORTED_SUFFIXES, CorpusError, scan_corpus


def touch(root: Path, rel: str, text: str = "x") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_supported_suffixes():
    assert {
        ".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf", ".docx"
    } == SUPPORTED_SUFFIXES  # fmt: skip


def test_scan_recurses_sorts_and_skips_hidden_and_unsupported(tmp_path):
    for rel in [
        "b.txt",
        "a/z.md",
        "a/deep/er/page.HTML",
        "a/notes.markdown",
        "doc.pdf",
        "image.png",
        "data.csv",
        "noext",
        ".hidden.txt",
        ".git/HEAD.txt",
        ".citebot/index.txt",
        "a/.cache/x.txt",
    ]:
        touch(tmp_path, rel, "hello")
    files = scan_corpus(tmp_path)
    assert [f.source for f in files] == [
        "a/deep/er/page.HTML",
        "a/notes.markdown",
        "a/z.md",
        "b.txt",
        "doc.pdf",
    ]
    b = next(f for f in files if f.source == "b.txt")
    assert b.path == tmp_path / "b.txt"
    assert b.size == 5
    assert b.mtime_ns == (tmp_path / "b.txt").stat().st_mtime_ns


def test_folders_named_like_documents_are_not_files(tmp_path):
    (tmp_path / "folder.txt").mkdir()
    touch(tmp_path, "folder.txt/inner.txt")
    assert [f.source for f in scan_corpus(tmp_path)] == ["folder.txt/inner.txt"]


def test_missing_folder(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        scan_corpus(tmp_path / "nope")


def test_file_instead_of_folder(tmp_path):
    touch(tmp_path, "f.txt")
    with pytest.raises(CorpusError, match="not a folder"):
        scan_corpus(tmp_path / "f.txt")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_unreadable_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(CorpusError, match="cannot read"):
            scan_corpus(locked)
    finally:
        locked.chmod(0o755)


def test_empty_folder(tmp_path):
    assert scan_corpus(tmp_path) == []
