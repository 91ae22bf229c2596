"""Small helpers of the Discord client's log lines."""

from __future__ import annotations

from bot.chat.client import counted, printable


def test_counted_says_one_thing_and_groups_thousands() -> None:
    assert counted(1, "server") == "1 server"
    assert counted(0, "document") == "0 documents"
    assert counted(9836, "chunk") == "9,836 chunks"


def test_printable_escapes_control_characters_from_discord() -> None:
    assert printable("citebot") == "citebot"
    assert printable("bad\x1b[2Jbot\n") == "bad\\x1b[2Jbot\\n"
    assert printable("Zoë 🤖") == "Zoë 🤖"
