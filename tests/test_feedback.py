"""The bot's SQLite state: answers, votes, coverage gaps, sync hashes."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.feedback import FeedbackStore, move_state, question_key

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("feedback")
    (root / "corpus").mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", root / "corpus" / "seed.txt")
    return Engine.open(root / "corpus", root / "index")


def test_created_on_first_use_in_a_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.sqlite3"
    store = FeedbackStore(path)
    assert not path.exists()
    assert store.get_meta("nothing") is None
    assert path.exists()
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    assert FeedbackStore(path).get_meta("k") == "2"


def test_answer_is_stored_with_a_passage_that_selects_the_quote(
    tmp_path: Path, engine: Engine
) -> None:
    store = FeedbackStore(tmp_path / "s.db")
    answer = engine.ask("what is CECOT's capacity")
    assert answer.answered
    answer_id = store.record_answer(answer, user_id=42)
    stored = store.answer(answer_id)
    assert stored is not None and stored.answered
    assert stored.passage is not None
    assert stored.passage[stored.passage_start : stored.passage_end] == answer.citations[0].quote
    assert (stored.source, stored.line) == ("seed.txt", answer.citations[0].line)
    assert store.answer(answer_id + 1000) is None


def test_one_vote_per_user_the_last_counts(tmp_path: Path, engine: Engine) -> None:
    store = FeedbackStore(tmp_path / "s.db")
    answer_id = store.record_answer(engine.ask("what is CECOT's capacity"), user_id=1)
    assert store.vote(answer_id, 1, 1)
    assert store.vote(answer_id, 2, -1)
    assert store.vote(answer_id, 2, 1)
    assert store.votes(answer_id) == (2, 0)
    assert not store.vote(answer_id + 1, 1, 1)
    with pytest.raises(ValueError):
        store.vote(answer_id, 1, 0)
    report = store.report()
    assert (report.thumbs_up, report.thumbs_down, report.answers, report.unanswered) == (2, 0, 1, 0)


def test_report_ranks_unanswered_questions_by_frequency(tmp_path: Path, engine: Engine) -> None:
    store = FeedbackStore(tmp_path / "s.db")
    asked = [
        "what is the airspeed of an unladen swallow",
        "What is the airspeed of an unladen  swallow?",
        "who painted the mona lisa",
        "what is the airspeed of an unladen swallow",
        "what is CECOT's capacity",
    ]
    for q in asked:
        store.record_answer(engine.ask(q), user_id=7)
    report = store.report()
    assert report.answers == 5 and report.unanswered == 4
    assert [(g.question, g.times) for g in report.gaps] == [
        ("what is the airspeed of an unladen swallow", 3),
        ("who painted the mona lisa", 1),
    ]
    assert store.report(limit=1).gaps[0].times == 3


def test_disliked_answers_are_listed(tmp_path: Path, engine: Engine) -> None:
    store = FeedbackStore(tmp_path / "s.db")
    a = store.record_answer(engine.ask("what is CECOT's capacity"), user_id=1)
    store.vote(a, 1, -1)
    store.vote(a, 2, -1)
    assert store.report().disliked == (("what is CECOT's capacity", 2),)


def test_question_key_ignores_case_spacing_and_final_mark() -> None:
    assert question_key("  What IS  it?! ") == question_key("what is it")


def test_schema_is_plain_sqlite(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "s.db")
    store.get_meta("x")
    con = sqlite3.connect(tmp_path / "s.db")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"answers", "feedback", "meta"} <= tables


CAPACITY = "what is CECOT's capacity"


def file_bytes(path: Path) -> bytes:
    """The database file and its -wal/-shm companions, as they lie on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_forget_user_deletes_their_questions_and_votes_from_the_file(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "s.db"
    store = FeedbackStore(path)
    secret = "who painted the zebra mural in Quetzaltenango"
    mine = store.record_answer(engine.ask(secret), user_id=1)
    theirs = store.record_answer(engine.ask(CAPACITY), user_id=2)
    store.vote(theirs, 1, 1)  # member 1's vote on someone else's answer
    store.vote(theirs, 2, -1)
    store.vote(mine, 2, 1)  # a vote on member 1's question goes with it
    store.set_meta("command_sync:1:global", "hash")
    assert secret.encode() in file_bytes(path)

    assert store.forget_user(1) == (1, 2)
    assert store.answer(mine) is None and store.answer(theirs) is not None
    assert store.votes(theirs) == (0, 1)
    report = store.report()
    assert (report.answers, report.thumbs_up, report.thumbs_down) == (1, 0, 1)
    assert store.get_meta("command_sync:1:global") == "hash"
    # Overwritten, not only unlinked: the text is nowhere in the files.
    assert secret.encode() not in file_bytes(path)
    assert b"zebra mural" not in file_bytes(path)
    assert store.forget_user(1) == (0, 0)


def test_prune_deletes_questions_older_than_the_days_kept(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "s.db"
    store = FeedbackStore(path)
    old = store.record_answer(engine.ask("who painted the zebra mural"), user_id=1)
    new = store.record_answer(engine.ask(CAPACITY), user_id=2)
    store.vote(old, 2, 1)
    store.vote(new, 1, 1)
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE answers SET asked_at = asked_at - 91 * 86400 WHERE id = ?", (old,))
    con.close()

    assert store.prune(0) == 0  # 0 keeps everything
    assert store.prune(92) == 0
    assert store.answer(old) is not None
    assert store.prune(90) == 1
    assert store.answer(old) is None and store.votes(old) == (0, 0)
    assert store.answer(new) is not None and store.votes(new) == (1, 0)
    assert b"zebra mural" not in file_bytes(path)
    # A day later by the clock, the other one goes too.
    assert store.prune(90, now=time.time() + 91 * 86400) == 1
    assert store.report().answers == 0


def test_state_left_in_the_index_folder_is_moved(tmp_path: Path, engine: Engine) -> None:
    old = tmp_path / "index" / "citebot.sqlite3"
    store = FeedbackStore(old)
    answer_id = store.record_answer(engine.ask(CAPACITY), user_id=1)
    # An open connection keeps the last writes in the -wal file, as after a crash.
    reader = sqlite3.connect(old)
    reader.execute("SELECT COUNT(*) FROM answers").fetchone()
    store.vote(answer_id, 1, 1)
    store.set_meta("command_sync:1:global", "hash")
    assert Path(f"{old}-wal").stat().st_size > 0

    new = tmp_path / "state" / "citebot.sqlite3"
    try:
        assert move_state(old, new)
    finally:
        reader.close()
    assert not old.exists() and not Path(f"{old}-wal").exists()
    moved = FeedbackStore(new)
    stored = moved.answer(answer_id)
    assert stored is not None and stored.answer == "40,000 inmates"
    assert moved.votes(answer_id) == (1, 0)
    assert moved.get_meta("command_sync:1:global") == "hash"
    # Only once, and never over an existing file.
    assert not move_state(old, new)
    FeedbackStore(old).set_meta("k", "old")
    assert not move_state(old, new)
    assert moved.get_meta("k") is None
