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


def test_autoanswer_settings_and_the_message_content_switch():
    s = Settings.load({}, None)
    assert (s.autoanswer_min_confidence, s.autoanswer_rate, s.autoanswer_queue) == (0.8, 5, 20)
    assert s.message_content is False
    s = Settings.load(
        {"CITEBOT_AUTOANSWER_MIN_CONFIDENCE": "0.9", "DISCORD_MESSAGE_CONTENT": "on"}, None
    )
    assert s.autoanswer_min_confidence == 0.9 and s.message_content is True
    with pytest.raises(SettingsError, match="on or off"):
        Settings.load({"DISCORD_MESSAGE_CONTENT": "maybe"}, None)
