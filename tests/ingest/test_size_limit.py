"""A per-file size limit (CITEBOT_MAX_FILE_MB; issue #18, item 2)."""

from __future__ import annotations

import pytest

from bot.config import Settings, SettingsError
from bot.engine import Engine, EngineOptions
from bot.ingest import DEFAULT_MAX_FILE_BYTES, UnreadableFile, read_corpus_file, walk_corpus

SENTENCE = "The harbour ferry leaves every twenty minutes from the northern pier. "


def test_default_limit_is_50_mb_and_the_setting_changes_it():
    assert DEFAULT_MAX_FILE_BYTES == 50 * 1024 * 1024
    assert EngineOptions().max_file_bytes == DEFAULT_MAX_FILE_BYTES
    assert Settings.load(env={}, dotenv=None).max_file_mb == 50
    assert Settings.load(env={"CITEBOT_MAX_FILE_MB": "0.5"}, dotenv=None).max_file_mb == 0.5
    for bad in ("0", "-3", "lots", "inf", "nan"):
        with pytest.raises(SettingsError, match=f"CITEBOT_MAX_FILE_MB={bad} in the environment"):
            Settings.load(env={"CITEBOT_MAX_FILE_MB": bad}, dotenv=None)


def test_read_refuses_a_file_over_the_limit(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 2000, encoding="utf-8")
    [file] = walk_corpus(tmp_path).files
    assert len(read_corpus_file(file, 2000)) == 2000
    with pytest.raises(UnreadableFile, match="larger than the limit"):
        read_corpus_file(file, 1999)


def test_a_file_over_the_limit_is_skipped_with_one_warning_then_read_when_allowed(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small.txt").write_text(SENTENCE, encoding="utf-8")
    (corpus / "big.txt").write_text(SENTENCE * 20_000, encoding="utf-8")  # 1.4 MB
    warnings: list[str] = []
    small = EngineOptions(max_file_bytes=1024 * 1024)
    engine = Engine.open(corpus, tmp_path / "index", options=small, warn=warnings.append)
    assert engine.sources() == ["small.txt"]
    assert warnings == ["skipped big.txt: larger than the limit (1.3 MB; CITEBOT_MAX_FILE_MB is 1)"]
    warnings.clear()
    report = engine.refresh()
    assert warnings == [] and not report.changed_anything
    assert [s for s, _ in report.skipped] == ["big.txt"]
    # The same file, unchanged, is read once the limit allows it.
    engine = Engine(corpus, tmp_path / "index", options=EngineOptions(), warn=warnings.append)
    report = engine.refresh()
    assert report.added == ("big.txt",) and report.skipped == ()
    assert warnings == []
    # A document that grows over the limit leaves the index.
    engine = Engine(corpus, tmp_path / "index", options=small, warn=warnings.append)
    (corpus / "small.txt").write_text(SENTENCE * 20_000, encoding="utf-8")
    report = engine.refresh()
    assert set(report.removed) == {"big.txt", "small.txt"}
    assert len(warnings) == 2
