"""``citebot discord`` and ``citebot report`` as an operator runs them: a real subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.chat.conftest import CAPACITY_Q, make_corpus
from tests.chat.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "DISCORD_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


async def citebot(*args: str, cwd: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    make_corpus(tmp_path / "corpus")
    proc = await citebot("discord", cwd=tmp_path, env=clean_env())
    code, out, err = await finish(proc)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "DISCORD_TOKEN is not set" in err
    assert ".env" in err


async def test_rejected_token_is_one_clear_line(standin: StandIn, tmp_path: Path) -> None:
    make_corpus(tmp_path / "corpus")
    secret = "wrong-token-that-must-never-be-printed"
    env = clean_env(
        DISCORD_API_BASE=standin.api_base,
        DISCORD_GATEWAY_URL=standin.gateway_url,
    )
    # The token comes from .env here, as an operator would usually set it.
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={secret}\n")
    code, _, err = await finish(await citebot("discord", cwd=tmp_path, env=env))
    assert code == 2
    lines = err.strip().splitlines()
    # Progress notes may come first; it ends with one error line and no traceback.
    assert lines[-1].startswith("citebot: error: Discord rejected DISCORD_TOKEN"), err
    assert "Traceback" not in err and sum("error" in line for line in lines) == 1
    assert secret not in err
    assert standin.find("GET", "/users/@me") == []  # it asked, and was refused (401)
    assert any(r.path == "/users/@me" and r.status == 401 for r in standin.requests)


async def test_citebot_discord_serves_until_interrupted(standin: StandIn, tmp_path: Path) -> None:
    make_corpus(tmp_path / "corpus")
    env = clean_env(
        DISCORD_TOKEN=standin.token,
        DISCORD_API_BASE=standin.api_base,
        DISCORD_GATEWAY_URL=standin.gateway_url,
        DISCORD_GUILD_ID=str(standin.guild_id),
    )
    proc = await citebot("discord", "--index", str(tmp_path / "idx"), cwd=tmp_path, env=env)
    try:
        await standin.wait_request(
            "PUT", rf"/applications/{standin.app_id}/guilds/{standin.guild_id}/commands", timeout=60
        )
        await standin.wait_connected(timeout=30)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        answer = await standin.wait_for(
            lambda: [r for r in standin.replies() if it.token in r.path and r.body.get("embeds")]
        )
        assert "**40,000 inmates**" in answer[0].body["embeds"][0]["description"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
    code, _, err = await finish(proc)
    assert code in (0, 130), err
    assert "Traceback" not in err
    assert standin.token not in err
    # State lives beside the --index folder.
    assert (tmp_path / "idx" / "citebot.sqlite3").exists()

    report = await citebot(
        "report", "--index", str(tmp_path / "idx"), cwd=tmp_path, env=clean_env()
    )
    code, out, _ = await finish(report)
    assert code == 0
    assert out.startswith("1 questions asked, 0 not answered")


@pytest.mark.parametrize("args", [["report"], ["report", "--json"]])
async def test_report_without_state(tmp_path: Path, args: list[str]) -> None:
    code, out, _ = await finish(await citebot(*args, cwd=tmp_path, env=clean_env()))
    assert code == 0 and "nothing has been asked" in out


@pytest.mark.parametrize("where", ["env", ".env"])
async def test_token_with_control_characters_is_one_clear_line(
    standin: StandIn, tmp_path: Path, where: str
) -> None:
    make_corpus(tmp_path / "corpus")
    token = "abc.def\x1b]0;TITLE\x07" if where == ".env" else "abc.def\nInjected: header"
    env = clean_env(DISCORD_API_BASE=standin.api_base, DISCORD_GATEWAY_URL=standin.gateway_url)
    if where == "env":
        env["DISCORD_TOKEN"] = token
    else:
        (tmp_path / ".env").write_text(f"DISCORD_TOKEN={token}\n")
    code, out, err = await finish(await citebot("discord", cwd=tmp_path, env=env))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("citebot: error: DISCORD_TOKEN holds")
    assert "\x1b" not in err and "Injected" not in err and "abc.def" not in err
    assert standin.requests == []  # refused before anything was sent


def _damage_state(path: Path, how: str) -> None:
    from bot.feedback import FeedbackStore

    store = FeedbackStore(path)
    for i in range(200):
        store.set_meta(f"key{i}", "value " * 50)
    data = path.read_bytes()
    if how == "not a database":
        path.write_bytes(b"this is not an SQLite file at all\n" * 100)
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:  # its pages overwritten in the middle
        mid = len(data) // 2
        path.write_bytes(data[:mid] + b"\xa5" * 8192 + data[mid + 8192 :])


@pytest.mark.parametrize("how", ["not a database", "truncated", "overwritten"])
async def test_report_on_a_damaged_state_file_is_one_line(tmp_path: Path, how: str) -> None:
    state = tmp_path / "state.sqlite3"
    _damage_state(state, how)
    for wal in tmp_path.glob("state.sqlite3-*"):
        wal.unlink()
    env = clean_env(CITEBOT_DB=str(state))
    code, out, err = await finish(await citebot("report", cwd=tmp_path, env=env))
    assert "Traceback" not in err
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1
    assert err.startswith(f"citebot: error: cannot read the bot's state file {state}: ")
