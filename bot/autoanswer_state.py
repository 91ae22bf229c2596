"""Auto-answer state, in the bot's SQLite file beside the answers (``bot.feedback``): which
channels an admin turned auto-answer on in, and which threads already got their one
unasked-for reply (so a restart or a replayed event never answers a thread twice).

Its own tables and connections: nothing here depends on the answers' schema.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS autoanswer_channels (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    enabled_by INTEGER NOT NULL,
    enabled_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS autoanswered_threads (
    thread_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    answered_at REAL NOT NULL
);
"""


class AutoAnswerState:
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
                con.executescript(_SCHEMA)
                self._ready = True
            with con:
                yield con
        finally:
            con.close()

    def set_channel(self, guild_id: int, channel_id: int, on: bool, by: int) -> bool:
        """Turn auto-answer on or off in a channel; False when it already was so."""
        with self._db() as db:
            if on:
                cur = db.execute(
                    "INSERT OR IGNORE INTO autoanswer_channels"
                    " (channel_id, guild_id, enabled_by, enabled_at) VALUES (?, ?, ?, ?)",
                    (channel_id, guild_id, by, time.time()),
                )
            else:
                cur = db.execute(
                    "DELETE FROM autoanswer_channels WHERE channel_id = ?", (channel_id,)
                )
            return cur.rowcount > 0

    def channels(self) -> dict[int, int]:
        """Every channel that auto-answers → its server, in the order they were turned on (the
        bot keeps this in memory)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT channel_id, guild_id FROM autoanswer_channels"
                " ORDER BY enabled_at, channel_id"
            ).fetchall()
        return {c: g for c, g in rows}

    def claim_thread(self, guild_id: int, thread_id: int) -> bool:
        """Reserve a thread's one unasked-for reply; False when it was already taken."""
        with self._db() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO autoanswered_threads (thread_id, guild_id, answered_at)"
                " VALUES (?, ?, ?)",
                (thread_id, guild_id, time.time()),
            )
            return cur.rowcount > 0

    def release_thread(self, thread_id: int) -> None:
        """Give a claim back when the reply could not be sent."""
        with self._db() as db:
            db.execute("DELETE FROM autoanswered_threads WHERE thread_id = ?", (thread_id,))
