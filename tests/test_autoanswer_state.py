"""The auto-answer state in a real SQLite file, shared with the answers' tables."""

from __future__ import annotations

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
    assert state.claim_thread(1, 99) is True
    assert AutoAnswerState(tmp_path / "s.sqlite3").claim_thread(1, 99) is False
    state.release_thread(99)
    assert state.claim_thread(1, 99) is True
