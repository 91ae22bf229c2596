"""Small helpers of the Discord client's log lines."""

from __future__ import annotations

from bot.chat.client import printable


def test_printable_escapes_control_characters_from_discord() -> None:
    assert printable("citebot") == "citebot"
    assert printable("bad\x1b[2Jbot\n") == "bad\\x1b[2Jbot\\n"
    assert printable("Zoë 🤖") == "Zoë 🤖"
