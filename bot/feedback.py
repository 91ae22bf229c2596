"""The bot's own state, in one SQLite file: every answer it gave (so the Show source and 👍/👎
buttons still work after a restart), the votes on them, and small key/value facts such as the
hash of the last command sync.

Each call opens its own connection: the bot calls these from worker threads, and a connection
per call is both thread-safe and cheap next to answering a question.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.models import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    user_id INTEGER,
    question TEXT NOT NULL,
    question_key TEXT NOT NULL,
    answered INTEGER NOT NULL,
    answer TEXT,
    confidence REAL NOT NULL,
    source TEXT,
    section TEXT,
    line INTEGER,
    -- The passage shown by "Show source", with the answer's offsets inside it.
    passage TEXT,
    passage_start INTEGER,
    passage_end INTEGER
);
CREATE INDEX IF NOT EXISTS answers_gaps ON answers (answered, question_key);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id INTEGER NOT NULL REFERENCES answers (id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def question_key(question: str) -> str:
    """Questions that differ only in case, spacing or the final mark count as one coverage gap."""
    return " ".join(question.casefold().split()).rstrip(" ?!.")


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    id: int
    question: str
    answered: bool
    answer: str | None
    source: str | None
    section: str | None
    line: int | None
    passage: str | None
    passage_start: int | None
    passage_end: int | None


@dataclass(frozen=True, slots=True)
class Gap:
    question: str  # the most recent wording
    times: int
    last_asked: float


@dataclass(frozen=True, slots=True)
class Report:
    answers: int
    unanswered: int
    thumbs_up: int
    thumbs_down: int
    gaps: tuple[Gap, ...]
    disliked: tuple[tuple[str, int], ...]  # (question, 👎 count), most first


def cited_passage(answer: Answer) -> tuple[str, int, int] | None:
    """The retrieved chunk that holds the cited span, and the span's offsets inside it."""
    if not answer.citations:
        return None
    c = answer.citations[0]
    for hit in answer.sources:
        ch = hit.chunk
        if ch.source == c.source and ch.start <= c.start and c.end <= ch.end:
            return ch.text, c.start - ch.start, c.end - ch.start
    if answer.sentence is not None and answer.span_in_sentence is not None:
        s, e = answer.span_in_sentence
        return answer.sentence, s, e
    return None


class SQLiteFile:
    """A state file: created with ``SCHEMA`` on first use, write-ahead logged, and one
    transaction per ``_db`` block (committed on success)."""

    SCHEMA = ""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=10)
        try:
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(self.SCHEMA)
                self._ready = True
            with con:
                yield con
        finally:
            con.close()


class FeedbackStore(SQLiteFile):
    SCHEMA = _SCHEMA

    def record_answer(self, answer: Answer, user_id: int | None) -> int:
        """Store one answer (answered or not); returns the id the buttons refer to."""
        c = answer.citations[0] if answer.citations else None
        passage = cited_passage(answer) if answer.answered else None
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO answers (asked_at, user_id, question, question_key, answered, answer,"
                " confidence, source, section, line, passage, passage_start, passage_end)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    user_id,
                    answer.question,
                    question_key(answer.question),
                    int(answer.answered),
                    answer.answer,
                    answer.confidence,
                    c.source if c else None,
                    c.section if c else None,
                    c.line if c else None,
                    *(passage if passage else (None, None, None)),
                ),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def answer(self, answer_id: int) -> StoredAnswer | None:
        with self._db() as db:
            row = db.execute(
                "SELECT id, question, answered, answer, source, section, line, passage,"
                " passage_start, passage_end FROM answers WHERE id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredAnswer(row[0], row[1], bool(row[2]), *row[3:])

    def vote(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Record 👍 (+1) or 👎 (-1); a user's later vote on the same answer replaces the earlier
        one. False when the answer is unknown."""
        if vote not in (-1, 1):
            raise ValueError("vote must be +1 or -1")
        with self._db() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO feedback (answer_id, user_id, vote, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote,"
                " voted_at = excluded.voted_at",
                (answer_id, user_id, vote, time.time()),
            )
        return True

    def votes(self, answer_id: int) -> tuple[int, int]:
        """(👍, 👎) on one answer."""
        with self._db() as db:
            up, down = db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0)"
                " FROM feedback WHERE answer_id = ?",
                (answer_id,),
            ).fetchone()
        return int(up), int(down)

    def get_meta(self, key: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- what is stored about members ----------------------------------------------------

    def forget_user(self, user_id: int) -> tuple[int, int]:
        """Delete one member's questions (with the votes on them) and votes; returns
        (questions, votes) deleted. The deleted rows are overwritten in the file, not only
        unlinked (secure_delete, then the write-ahead log is emptied)."""
        with self._db() as db:
            db.execute("PRAGMA secure_delete = ON")
            votes = db.execute(
                "DELETE FROM feedback WHERE user_id = ?"
                " OR answer_id IN (SELECT id FROM answers WHERE user_id = ?)",
                (user_id, user_id),
            ).rowcount
            questions = db.execute("DELETE FROM answers WHERE user_id = ?", (user_id,)).rowcount
        empty_wal(self.path)
        return questions, votes

    def prune(self, keep_days: int, now: float | None = None) -> int:
        """Delete questions asked more than ``keep_days`` days ago, with their votes (a vote is
        never older than its question); returns the questions deleted. 0 days keeps all."""
        if keep_days <= 0:
            return 0
        cutoff = (time.time() if now is None else now) - keep_days * 86400
        with self._db() as db:
            db.execute("PRAGMA secure_delete = ON")
            db.execute(
                "DELETE FROM feedback"
                " WHERE answer_id IN (SELECT id FROM answers WHERE asked_at < ?)",
                (cutoff,),
            )
            removed = db.execute("DELETE FROM answers WHERE asked_at < ?", (cutoff,)).rowcount
        if removed:
            empty_wal(self.path)
        return removed

    def report(self, limit: int = 10) -> Report:
        """Counts and the most frequent gaps. Raises sqlite3.DatabaseError for a damaged file,
        also where the damage lies in pages the report itself would not read: a report from a
        damaged file is not to be trusted."""
        with self._db() as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(f"damaged ({' '.join(problems[0].split())})")
            answers, unanswered = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(answered = 0), 0) FROM answers"
            ).fetchone()
            up, down = db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
            ).fetchone()
            gaps = db.execute(
                "SELECT (SELECT question FROM answers b WHERE b.question_key = a.question_key"
                "        AND b.answered = 0 ORDER BY b.asked_at DESC, b.id DESC LIMIT 1),"
                " COUNT(*), MAX(asked_at) FROM answers a WHERE answered = 0"
                " GROUP BY question_key ORDER BY COUNT(*) DESC, MAX(asked_at) DESC LIMIT ?",
                (limit,),
            ).fetchall()
            disliked = db.execute(
                "SELECT a.question, COUNT(*) FROM feedback f JOIN answers a ON a.id = f.answer_id"
                " WHERE f.vote = -1 GROUP BY a.question_key ORDER BY COUNT(*) DESC, MAX(f.voted_at)"
                " DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return Report(
            answers=int(answers),
            unanswered=int(unanswered),
            thumbs_up=int(up),
            thumbs_down=int(down),
            gaps=tuple(Gap(q, int(n), float(t)) for q, n, t in gaps),
            disliked=tuple((q, int(n)) for q, n in disliked),
        )


def empty_wal(path: Path) -> None:
    """Copy the write-ahead log into the database and empty it, so deleted rows do not linger in
    the -wal file (a reader holding an old snapshot can delay this; the next checkpoint
    completes it)."""
    con = sqlite3.connect(path, timeout=10)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def move_state(old: Path, new: Path) -> bool:
    """Move a state file from where an older citebot kept it (inside the index folder) to
    ``new`` when ``new`` does not exist yet; True if moved. The copy goes through SQLite's backup
    API, so what sits in the old -wal file comes along, and the old file is removed only once
    the new one is complete."""
    if new.exists() or not old.is_file() or old.resolve() == new.resolve():
        return False
    new.parent.mkdir(parents=True, exist_ok=True)
    partial = new.with_name(new.name + ".moving")
    src = sqlite3.connect(old, timeout=10)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, new)
    for suffix in ("", "-wal", "-shm"):
        old.with_name(old.name + suffix).unlink(missing_ok=True)
    return True
