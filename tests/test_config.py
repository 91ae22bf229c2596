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


def test_a_bad_setting_names_the_variable_and_where_it_came_from(tmp_path: Path):
    env = tmp_path / ".env"
    env.write_text("CITEBOT_TOP_K=abc\nCITEBOT_COOLDOWN_SECONDS=soon\n", encoding="utf-8")
    with pytest.raises(SettingsError) as e:
        Settings.load({}, env)
    assert str(e.value) == f"CITEBOT_TOP_K=abc in {env}: expected a whole number"
    with pytest.raises(SettingsError) as e:
        Settings.load(
            {"CITEBOT_TOP_K": "3", "CITEBOT_COOLDOWN_SECONDS": "1", "CITEBOT_WATCH": "maybe"}, env
        )
    assert str(e.value) == (
        "CITEBOT_WATCH=maybe in the environment: expected 1 or 0 (true/false, yes/no, on/off)"
    )
    with pytest.raises(
        SettingsError, match=r"^CITEBOT_COOLDOWN_SECONDS=soon in .*\.env: expected a number$"
    ):
        Settings.load({"CITEBOT_TOP_K": "3"}, env)


@pytest.mark.parametrize(
    ("value", "watch"), [("1", True), ("yes", True), ("off", False), ("", False)]
)
def test_watch_setting(value: str, watch: bool):
    assert Settings.load({"CITEBOT_WATCH": value}, None).watch is watch


def test_missing_dotenv_is_fine(tmp_path: Path):
    assert read_dotenv(tmp_path / "nope") == {}


def test_state_defaults_outside_the_index_and_keep_days():
    s = Settings.load({"CITEBOT_INDEX": "/srv/idx"}, None)
    assert s.db_path == Path("state/citebot.sqlite3")
    assert s.keep_days == 90
    s = Settings.load({"CITEBOT_DB": "/var/lib/citebot/s.db", "CITEBOT_KEEP_DAYS": "0"}, None)
    assert (s.db_path, s.keep_days) == (Path("/var/lib/citebot/s.db"), 0)
    assert Settings.load({"CITEBOT_KEEP_DAYS": "7"}, None).keep_days == 7
    with pytest.raises(SettingsError, match="whole number"):
        Settings.load({"CITEBOT_KEEP_DAYS": "a week"}, None)


def test_autoanswer_settings_and_the_message_content_switch():
    s = Settings.load({}, None)
    assert (s.autoanswer_min_confidence, s.autoanswer_rate, s.autoanswer_queue) == (0.8, 5, 20)
    assert s.message_content is False
    s = Settings.load(
        {"CITEBOT_AUTOANSWER_MIN_CONFIDENCE": "0.9", "DISCORD_MESSAGE_CONTENT": "on"}, None
    )
    assert s.autoanswer_min_confidence == 0.9 and s.message_content is True
    with pytest.raises(
        SettingsError, match="DISCORD_MESSAGE_CONTENT=maybe in the environment: expected 1 or 0"
    ):
        Settings.load({"DISCORD_MESSAGE_CONTENT": "maybe"}, None)


def test_token_wellformedness():
    from bot.config import token_is_wellformed

    assert token_is_wellformed("MTIz.NDU2-_x.abcDEF123")
    for bad in ("abc def", "abc\x1b[2Jdef", "abc\ndef", "abc\x00", "tökén", "abc\u200bdef"):
        assert not token_is_wellformed(bad), bad
