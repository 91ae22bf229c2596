"""Nothing outside the corpus folder is read (issue #18, item 1)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.ingest import (
    CorpusFile,
    UnreadableFile,
    read_corpus_file,
    read_document,
    walk_corpus,
)
from bot.ingest.corpus import BROKEN_LINK, HIDDEN_LINK, NOT_REGULAR, OUTSIDE_LINK

TOKEN = "MTIzNDU2Nzg5.secret-discord-token-value"
BODY = "The library opens at nine in the morning and closes at six in the evening.\n"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus folder beside a secret ``.env`` and an outside folder of text files."""
    corpus = tmp_path / "corpus"
    (corpus / "a" / "b").mkdir(parents=True)
    (corpus / "hours.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.txt").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    return corpus, tmp_path


def test_links_leading_outside_are_refused_at_any_depth(layout):
    corpus, top = layout
    (corpus / "faq.txt").symlink_to(top / ".env")
    (corpus / "a" / "b" / "deep.txt").symlink_to(top / "outside" / "passwd.txt")
    (corpus / "a" / "etc").symlink_to(top / "outside")  # a folder outside
    (corpus / "abs.md").symlink_to("/etc/passwd")
    scan = walk_corpus(corpus)
    assert [f.source for f in scan.files] == ["hours.txt"]
    assert [(r.source, r.reason) for r in scan.refused] == [
        ("a/b/deep.txt", OUTSIDE_LINK),
        ("a/etc", OUTSIDE_LINK),
        ("abs.md", OUTSIDE_LINK),
        ("faq.txt", OUTSIDE_LINK),
    ]


def test_a_sibling_folder_sharing_the_prefix_is_outside(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sibling = tmp_path / "corpus-private"
    sibling.mkdir()
    (sibling / "x.txt").write_text(BODY, encoding="utf-8")
    (corpus / "x.txt").symlink_to(sibling / "x.txt")
    assert walk_corpus(corpus).refused[0].reason == OUTSIDE_LINK


def test_dotfiles_and_dot_folders_are_never_indexed_nor_reached_by_a_link(layout):
    corpus, _ = layout
    (corpus / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\n", encoding="utf-8")
    (corpus / ".env.txt").write_text(TOKEN, encoding="utf-8")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "config.txt").write_text(TOKEN, encoding="utf-8")
    (corpus / "a" / ".hidden").mkdir()
    (corpus / "a" / ".hidden" / "notes.md").write_text(TOKEN, encoding="utf-8")
    (corpus / "token.txt").symlink_to(corpus / ".env")
    (corpus / "git.txt").symlink_to(corpus / ".git" / "config.txt")
    scan = walk_corpus(corpus)
    assert [f.source for f in scan.files] == ["hours.txt"]
    assert {(r.source, r.reason) for r in scan.refused} == {
        ("token.txt", HIDDEN_LINK),
        ("git.txt", HIDDEN_LINK),
    }


def test_links_inside_the_corpus_are_followed_and_loops_end(layout):
    corpus, _ = layout
    (corpus / "a" / "b" / "copy.txt").symlink_to(corpus / "hours.txt")
    (corpus / "a" / "b" / "loop").symlink_to(corpus / "a")  # a folder link back up: a loop
    (corpus / "a" / "self").symlink_to(".")
    (corpus / "gone.txt").symlink_to(corpus / "nothing.txt")
    scan = walk_corpus(corpus)
    assert [f.source for f in scan.files] == ["a/b/copy.txt", "hours.txt"]
    assert [(r.source, r.reason) for r in scan.refused] == [("gone.txt", BROKEN_LINK)]
    copy = scan.files[0]
    assert copy.path == (corpus / "hours.txt").resolve()
    assert read_document(copy).text == BODY


def test_fifos_are_refused_at_the_scan(layout):
    corpus, _ = layout
    os.mkfifo(corpus / "pipe.txt")
    scan = walk_corpus(corpus)
    assert [(r.source, r.reason) for r in scan.refused] == [("pipe.txt", NOT_REGULAR)]


def _read_within(file: CorpusFile, seconds: float = 10.0) -> BaseException | bytes:
    """``read_corpus_file`` in a thread, so that a read that waits fails the test, not hangs."""
    result: list[BaseException | bytes] = []

    def run() -> None:
        try:
            result.append(read_corpus_file(file))
        except BaseException as exc:  # the outcome is what the test looks at
            result.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert result, "reading the file waited instead of failing"
    return result[0]


def test_a_file_swapped_for_a_fifo_after_the_scan_is_not_waited_on(layout):
    corpus, _ = layout
    [file] = walk_corpus(corpus).files
    (corpus / "hours.txt").unlink()
    os.mkfifo(corpus / "hours.txt")  # no writer: a blocking open or read would wait forever
    outcome = _read_within(file)
    assert isinstance(outcome, UnreadableFile) and outcome.reason == NOT_REGULAR


def test_a_file_swapped_for_a_link_after_the_scan_is_not_followed(layout):
    corpus, top = layout
    [file] = walk_corpus(corpus).files
    (corpus / "hours.txt").unlink()
    (corpus / "hours.txt").symlink_to(top / ".env")
    outcome = _read_within(file)
    assert isinstance(outcome, UnreadableFile)
    assert "symbolic link" in outcome.reason
    with pytest.raises(UnreadableFile):
        read_document(file)


def test_a_folder_swapped_for_a_link_after_the_scan_is_not_followed(layout):
    corpus, top = layout
    (corpus / "a" / "b" / "inner.txt").write_text(BODY, encoding="utf-8")
    file = next(f for f in walk_corpus(corpus).files if f.source == "a/b/inner.txt")
    (top / "outside" / "inner.txt").write_text(TOKEN, encoding="utf-8")
    (corpus / "a" / "b" / "inner.txt").unlink()
    (corpus / "a" / "b").rmdir()
    (corpus / "a" / "b").symlink_to(top / "outside")
    outcome = _read_within(file)
    assert isinstance(outcome, UnreadableFile)
    assert "symbolic link" in outcome.reason


def test_the_token_beside_the_corpus_is_never_an_answer(layout):
    """The probe of issue #18: ``corpus/faq.txt`` → ``../.env``."""
    corpus, top = layout
    (corpus / "faq.txt").symlink_to(top / ".env")
    (corpus / "a" / "passwd.txt").symlink_to(top / "outside" / "passwd.txt")
    warnings: list[str] = []
    engine = Engine.open(corpus, top / "index", warn=warnings.append)
    assert engine.sources() == ["hours.txt"]
    assert warnings == [f"skipped a/passwd.txt: {OUTSIDE_LINK}", f"skipped faq.txt: {OUTSIDE_LINK}"]
    for question in ("what is the discord token", "DISCORD_TOKEN", "root bin bash"):
        answer = engine.ask(question)
        texts = [answer.answer or "", answer.sentence or ""]
        texts += [h.chunk.text for h in answer.sources]
        assert not any(TOKEN in t or "root:x" in t for t in texts)
    # The refusal is remembered: a second update does not warn again.
    warnings.clear()
    engine.refresh()
    assert warnings == []


def test_answers_read_the_index_never_the_corpus(layout):
    """At answer time the text comes from the index: no file of the corpus folder is opened,
    even when the document was replaced meanwhile."""
    corpus, top = layout
    Engine.open(corpus, top / "index")
    (corpus / "hours.txt").unlink()
    (corpus / "hours.txt").symlink_to(top / ".env")
    reader = Engine.reader(corpus, top / "index")
    opened: list[str] = []
    watching = threading.Event()

    def hook(event: str, args: tuple) -> None:
        if watching.is_set() and event == "open" and isinstance(args[0], str | bytes | Path):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # cannot be removed; it records only while ``watching`` is set
    watching.set()
    try:
        answer = reader.ask("when does the library open")
        watched = len(opened)
        (top / "outside" / "passwd.txt").read_bytes()  # the hook does see an open
    finally:
        watching.clear()
    assert answer.answered and "nine in the morning" in (answer.sentence or "")
    assert TOKEN not in (answer.sentence or "")
    assert opened[watched:] == [str(top / "outside" / "passwd.txt")]
    root = str(corpus.resolve())
    assert not [p for p in opened if os.path.realpath(p).startswith(root)]
