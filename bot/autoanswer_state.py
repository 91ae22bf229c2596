"""Auto-answer state, in the bot's SQLite file beside the answers (``bot.feedback``): which
channels an admin turned auto-answer on in, and which threads already got their one
unasked-for reply (so a restart or a replayed event never answers a thread twice).

Its own tables and connections: nothing here depends on the answers' schema. A thread's claim
names the post's author, so that ``citebot report --forget-user`` and ``CITEBOT_KEEP_DAYS``
remove it with the rest of what is stored about that member; who turned a channel on is the
operators' configuration and stays until the channel is turned off.
"""

from __future__ import annotations

import time

from bot.feedback import SQLiteFile, empty_wal

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
    user_id INTEGER NOT NULL,
    answered_at REAL NOT NULL
);
"""


class AutoAnswerState(SQLiteFile):
    SCHEMA = _SCHEMA

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

    def claim_thread(self, guild_id: int, thread_id: int, user_id: int) -> bool:
        """Reserve a thread's one unasked-for reply (``user_id``: the post's author); False when
        it was already taken."""
        with self._db() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO autoanswered_threads"
                " (thread_id, guild_id, user_id, answered_at) VALUES (?, ?, ?, ?)",
                (thread_id, guild_id, user_id, time.time()),
            )
            return cur.rowcount > 0

    def release_thread(self, thread_id: int) -> None:
        """Give a claim back when the reply could not be sent."""
        with self._db() as db:
            db.execute("DELETE FROM autoanswered_threads WHERE thread_id = ?", (thread_id,))

    # --- what is stored about members ----------------------------------------------------

    def forget_user(self, user_id: int) -> int:
        """Delete the claims of the threads ``user_id`` started; returns how many. Overwritten
        in the file, as ``FeedbackStore.forget_user`` does."""
        with self._db() as db:
            db.execute("PRAGMA secure_delete = ON")
            n = db.execute(
                "DELETE FROM autoanswered_threads WHERE user_id = ?", (user_id,)
            ).rowcount
        empty_wal(self.path)
        return n

    def prune(self, keep_days: int, now: float | None = None) -> int:
        """Delete claims older than ``keep_days`` days (0 keeps all); returns how many. The
        bot only answers threads created while it runs, so an old claim guards nothing."""
        if keep_days <= 0:
            return 0
        cutoff = (time.time() if now is None else now) - keep_days * 86400
        with self._db() as db:
            db.execute("PRAGMA secure_delete = ON")
            n = db.execute(
                "DELETE FROM autoanswered_threads WHERE answered_at < ?", (cutoff,)
            ).rowcount
        if n:
            empty_wal(self.path)
        return n
