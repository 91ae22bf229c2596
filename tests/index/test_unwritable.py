"""An index folder that cannot be written: read-only, or a disk that fills up during an update.

The failures are injected where the index code opens files for writing (the ``open`` that
``bot.index.store`` and ``bot.index.build`` call), as OSError(EROFS) or OSError(ENOSPC): the
tests run as root in CI, where permission bits are ignored, and may not mount file systems.
``tests/test_cli_disk.py`` repeats the main cases on real read-only and full tmpfs mounts where
the machine allows a private mount namespace."""

from __future__ import annotations

import builtins
import errno
import os
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import bot.index.build
import bot.index.store
from bot.engine import Engine
from bot.index import IndexWriteError
from tests.index.conftest import write_doc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
Q = "what is CECOT's capacity"
NEW_Q = "what colour is the lighthouse keeper's boat"
HARBOUR = "The lighthouse keeper's boat is painted bright orange so that rescue crews see it.\n"


def fail_writes(monkeypatch, code: int, *, only: str | None = None) -> list[str]:
    """Opening a file for writing from the index code raises OSError(code) (only for files
    named ``only``, if given); the names refused are listed."""
    refused: list[str] = []
    real = builtins.open

    def guarded(file, mode="r", *args, **kwargs):
        name = os.path.basename(os.fspath(file))
        if any(c in mode for c in "wax+") and (only is None or name == only):
            refused.append(name)
            raise OSError(code, os.strerror(code), os.fspath(file))
        return real(file, mode, *args, **kwargs)

    for module in (bot.index.store, bot.index.build):
        monkeypatch.setattr(module, "open", guarded, raising=False)
    return refused


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    Engine.open(corpus, tmp_path / "index")
    return corpus, tmp_path / "index"


def snapshot(index_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(index_dir)): p.stat().st_mtime_ns for p in index_dir.rglob("*")}


def same(a, b) -> bool:
    return replace(a, took_ms=0.0) == replace(b, took_ms=0.0)


def test_read_only_index_answers_without_the_lock(built, monkeypatch):
    corpus, index_dir = built
    expected = Engine.open(corpus, index_dir).ask(Q)
    before = snapshot(index_dir)
    refused = fail_writes(monkeypatch, errno.EROFS)
    warnings: list[str] = []
    engine = Engine.open(corpus, index_dir, warn=warnings.append)
    assert warnings == [] and refused == ["lock"]
    assert same(engine.ask(Q), expected) and engine.ask(Q).answered
    assert snapshot(index_dir) == before


def test_read_only_index_with_a_changed_corpus_warns_once_and_answers_as_before(built, monkeypatch):
    corpus, index_dir = built
    expected = Engine.open(corpus, index_dir).ask(NEW_Q)
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    fail_writes(monkeypatch, errno.EROFS)
    warnings: list[str] = []
    engine = Engine.open(corpus, index_dir, warn=warnings.append)
    assert len(warnings) == 1, warnings
    assert "1 changed file in the corpus cannot be indexed" in warnings[0]
    assert (
        "Read-only file system" in warnings[0]
        and "answering from the index as it was" in (warnings[0])
    )
    assert same(engine.ask(NEW_Q), expected) and not expected.answered
    # A removed file is a change too.
    (corpus / "harbour.txt").unlink()
    (corpus / "seed.txt").unlink()
    warnings.clear()
    Engine.open(corpus, index_dir, warn=warnings.append)
    assert len(warnings) == 1 and "1 changed file" in warnings[0]


def test_read_only_without_an_index_or_with_a_damaged_one_is_an_error(built, monkeypatch):
    corpus, index_dir = built
    fail_writes(monkeypatch, errno.EROFS)
    with pytest.raises(IndexWriteError, match="no index can be built"):
        Engine.open(corpus, index_dir.parent / "elsewhere")
    gen = index_dir / (index_dir / "CURRENT").read_text()
    with open(gen / "texts.bin", "r+b") as f:
        f.write(b"\xff")
    with pytest.raises(
        IndexWriteError, match=r"cannot be used \(corrupt texts.bin.*\) nor rebuilt"
    ):
        Engine.open(corpus, index_dir)


@pytest.mark.parametrize(
    "full_at", ["texts-", "post_weight.npy", "files.json", "manifest.json", "CURRENT.tmp"]
)
def test_a_full_disk_during_an_update_keeps_the_old_generation(built, monkeypatch, full_at):
    corpus, index_dir = built
    engine = Engine.open(corpus, index_dir)
    expected = engine.ask(NEW_Q)
    live = (index_dir / "CURRENT").read_text()
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    real = builtins.open

    def full(file, mode="r", *args, **kwargs):
        name = os.path.basename(os.fspath(file))
        if any(c in mode for c in "wax") and name.startswith(full_at):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))
        return real(file, mode, *args, **kwargs)

    for module in (bot.index.store, bot.index.build):
        monkeypatch.setattr(module, "open", full, raising=False)
    with pytest.raises(IndexWriteError) as e:
        engine.refresh()
    assert str(e.value) == f"cannot write the index in {index_dir}: No space left on device"
    # Nothing half-written is left behind, and the engine still answers from the old index.
    assert (index_dir / "CURRENT").read_text() == live
    assert sorted(p.name for p in index_dir.iterdir()) == sorted(["CURRENT", "lock", live])
    assert same(engine.ask(NEW_Q), expected)
    # A later `ask` (a fresh engine) warns once and answers; the next update with room works.
    warnings: list[str] = []
    later = Engine.open(corpus, index_dir, warn=warnings.append)
    assert len(warnings) == 1 and "No space left on device" in warnings[0]
    assert same(later.ask(NEW_Q), expected)
    monkeypatch.undo()
    assert engine.refresh().added == ("harbour.txt",)
    assert "bright orange" in (engine.ask(NEW_Q).answer or "")


def test_an_unlisted_file_in_a_generation_is_ignored(tmp_path):
    corpus = tmp_path / "corpus"
    write_doc(corpus / "a.md", random.Random(3))
    engine = Engine.open(corpus, tmp_path / "index")
    (engine.index.path / "notes.txt").write_text("an operator's note")
    warnings: list[str] = []
    again = Engine.open(corpus, tmp_path / "index", warn=warnings.append)
    assert warnings == [] and again.index.path == engine.index.path
