from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, read_dotenv


def test_environment_wins_over_dotenv(tmp_path: Path):
    env = tmp_path / ".env"
    env.write_text(
        "# comment\nexport DISCORD_TOKEN='from-file'\nCITEBOT_CORPUS=docs # trailing\n"
        "DISCORD_OWNER_IDS=1, 2 x\n",
        encoding="utf-8",
    )
    s = Settings.load({"DISCORD_TOKEN": "from-env"}, env)
    assert s.discord_token == "from-env"
    assert s.corpus == Path("docs")
    assert s.owner_ids == frozenset({1, 2})


def test_token_never_appears_in_repr():
    s = Settings.load({"DISCORD_TOKEN": "sekrit.token.value"}, None)
    assert "sekrit" not in repr(s)


def test_bad_number_is_a_clear_error():
    with pytest.raises(SettingsError, match="whole number"):
        Settings.load({"DISCORD_GUILD_ID": "abc"}, None)


def test_missing_dotenv_is_fine(tmp_path: Path):
    assert read_dotenv(tmp_path / "nope") == {}


def test_token_wellformedness():
    from bot.config import token_is_wellformed

    assert token_is_wellformed("MTIz.NDU2-_x.abcDEF123")
    for bad in ("abc def", "abc\x1b[2Jdef", "abc\ndef", "abc\x00", "tökén", "abc\u200bdef"):
        assert not token_is_wellformed(bad), bad
