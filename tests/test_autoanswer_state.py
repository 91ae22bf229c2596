"""The auto-answer state in a real SQLite file, shared with the answers' tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.autoanswer_state import AutoAnswerState
from bot.feedback import FeedbackStore


def test_channels_are_turned_on_and_off_per_server_and_survive_a_restart(tmp_path: Path):
    path = tmp_path / "state" / "citebot.sqlite3"
    state = AutoAnswerState(path)
    assert state.set_channel(1, 10, True, by=7) is True
    assert state.set_channel(1, 10, True, by=7) is False  # already on
    assert state.set_channel(2, 20, True, by=8) is True
    assert state.set_channel(1, 11, True, by=7) is True
    assert state.set_channel(1, 11, False, by=7) is True
    assert state.set_channel(1, 11, False, by=7) is False  # already off
    assert AutoAnswerState(path).channels() == {10: 1, 20: 2}
    # The same file as the answers: both schemas live side by side.
    assert FeedbackStore(path).report().answers == 0


def test_a_thread_is_claimed_once_until_released(tmp_path: Path):
    state = AutoAnswerState(tmp_path / "s.sqlite3")
    assert state.claim_thread(1, 99, 500) is True
    assert AutoAnswerState(tmp_path / "s.sqlite3").claim_thread(1, 99, 500) is False
    state.release_thread(99)
    assert state.claim_thread(1, 99, 500) is True


def test_old_claims_go_after_keep_days_and_a_members_on_request(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    state = AutoAnswerState(path)
    state.claim_thread(1, 10, 500)
    state.claim_thread(1, 11, 501)
    state.claim_thread(1, 12, 500)
    state.set_channel(1, 40, True, by=500)
    con = sqlite3.connect(path)
    with con:
        con.execute(
            "UPDATE autoanswered_threads SET answered_at = answered_at - 31 * 86400"
            " WHERE thread_id = 10"
        )
    con.close()
    assert state.prune(0) == 0  # 0 keeps everything
    assert state.prune(30) == 1
    assert state.claim_thread(1, 10, 502) is True  # the old claim went
    assert state.claim_thread(1, 11, 502) is False
    assert state.forget_user(500) == 1  # thread 12 (thread 10 is 502's now)
    assert state.claim_thread(1, 12, 502) is True
    assert state.claim_thread(1, 11, 502) is False
    # Who turned a channel on is configuration, not a member's data: it stays.
    assert state.channels() == {40: 1}
