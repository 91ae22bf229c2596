"""``citebot discord`` and ``citebot report`` as an operator runs them: a real subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.autoanswer_state import AutoAnswerState
from bot.engine import Engine
from bot.feedback import FeedbackStore
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
    assert code == 0, err
    assert "Traceback" not in err
    assert standin.token not in err
    # State lives in the working directory's state/ folder, not in the index folder.
    assert (tmp_path / "state" / "citebot.sqlite3").exists()
    assert not (tmp_path / "idx" / "citebot.sqlite3").exists()

    report = await citebot(
        "report", "--index", str(tmp_path / "idx"), cwd=tmp_path, env=clean_env()
    )
    code, out, _ = await finish(report)
    assert code == 0
    assert out.startswith("1 question asked, 0 not answered")


async def test_report_without_state(tmp_path: Path) -> None:
    code, out, _ = await finish(await citebot("report", cwd=tmp_path, env=clean_env()))
    assert code == 0 and "nothing has been asked" in out


async def test_report_forget_user_deletes_a_members_data(
    shared_engine: Engine, tmp_path: Path
) -> None:
    state = tmp_path / "state" / "citebot.sqlite3"
    store = FeedbackStore(state)
    gone = store.record_answer(shared_engine.ask("who painted the zebra mural"), user_id=111)
    kept = store.record_answer(shared_engine.ask(CAPACITY_Q), user_id=222)
    store.vote(kept, 111, 1)
    store.vote(kept, 222, 1)
    # A forum post of each was auto-answered; 111 also turned auto-answer on (an admin's act,
    # kept as the server's configuration).
    auto = AutoAnswerState(state)
    auto.claim_thread(1, 5001, 111)
    auto.claim_thread(1, 5002, 222)
    auto.set_channel(1, 40, True, by=111)
    proc = await citebot("report", "--forget-user", "111", cwd=tmp_path, env=clean_env())
    code, out, err = await finish(proc)
    assert (code, err) == (0, "")
    assert out == (
        "Deleted what was stored about member 111: 1 question, 1 vote, 1 auto-answered post.\n"
    )
    assert store.answer(gone) is None and store.answer(kept) is not None
    assert store.votes(kept) == (1, 0)
    assert auto.claim_thread(1, 5001, 333) is True  # 111's claim is gone
    assert auto.claim_thread(1, 5002, 333) is False  # 222's is not
    assert auto.channels() == {40: 1}
    proc = await citebot("report", "--forget-user", "111", "--json", cwd=tmp_path, env=clean_env())
    code, out, _ = await finish(proc)
    assert code == 0
    assert json.loads(out) == {"user_id": 111, "questions": 0, "votes": 0, "posts": 0}


async def test_state_inside_the_index_folder_moves_out_on_upgrade(
    shared_engine: Engine, tmp_path: Path
) -> None:
    # Where citebot kept it before: inside the index folder (here a --index one).
    old = tmp_path / "idx" / "citebot.sqlite3"
    FeedbackStore(old).record_answer(shared_engine.ask(CAPACITY_Q), user_id=1)
    proc = await citebot("report", "--index", str(tmp_path / "idx"), cwd=tmp_path, env=clean_env())
    code, out, err = await finish(proc)
    assert code == 0, err
    assert out.startswith("1 question")  # nothing lost
    new = tmp_path / "state" / "citebot.sqlite3"
    assert f"moved the bot's state from {old} to state/citebot.sqlite3" in err
    assert new.exists() and not old.exists()
    # Deleting the index now keeps it.
    shutil.rmtree(tmp_path / "idx")
    code, out, _ = await finish(await citebot("report", cwd=tmp_path, env=clean_env()))
    assert code == 0 and out.startswith("1 question")


# --- stopping: nothing left behind ------------------------------------------------------------


def _stat(pid: int | str) -> list[str] | None:
    """/proc/PID/stat fields from the state on (field 3), or None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rpartition(")")[2].split()


def descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid``, with its start time (to tell a reused pid apart)."""
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        fields = _stat(entry.name) if entry.name.isdigit() else None
        if fields is None or fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        started[int(entry.name)] = fields[19]
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = started[child]
            todo.append(child)
    return found


def still_running(procs: dict[int, str]) -> list[int]:
    alive = []
    for pid, started in procs.items():
        fields = _stat(pid)
        if fields is not None and fields[0] != "Z" and fields[19] == started:
            alive.append(pid)
    return alive


async def wait_for_line(path: Path, needle: str, proc: asyncio.subprocess.Process) -> str:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.returncode is None:
        text = path.read_text()
        if needle in text:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {needle!r} in the log:\n{path.read_text()}")


@pytest.mark.parametrize(
    ("sig", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGTERM to the bot (systemd stop)", "SIGINT to its process group (Ctrl-C)"],
)
async def test_a_signal_stops_the_bot_and_every_process_it_started(
    standin: StandIn, tmp_path: Path, sig: signal.Signals, to_group: bool
) -> None:
    make_corpus(tmp_path / "corpus")
    env = clean_env(
        DISCORD_TOKEN=standin.token,
        DISCORD_API_BASE=standin.api_base,
        DISCORD_GATEWAY_URL=standin.gateway_url,
    )
    # The log goes to a file, not a pipe: a process left behind would hold a pipe open.
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "discord"),
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,  # its own process group, as under a terminal or systemd
        )
    procs: dict[int, str] = {}
    try:
        log = await wait_for_line(log_path, "logged in as", proc)
        # Paths at start, absolute; then the connected line, with its counts.
        assert (
            f"corpus {tmp_path / 'corpus'}, index {tmp_path / '.citebot'}, "
            f"state {tmp_path / 'state' / 'citebot.sqlite3'}"
        ) in log, log
        connected = re.search(
            rf"logged in as citebot \({standin.bot_user['id']}\) in 1 server; "
            rf"serving 2 documents, \d+ chunks? from {re.escape(str(tmp_path / 'corpus'))}\n",
            log,
        )
        assert connected, log
        procs = descendants(proc.pid)
        cmdlines = [Path(f"/proc/{p}/cmdline").read_bytes() for p in procs]
        # The answer worker and multiprocessing's resource tracker, at least.
        assert len(procs) >= 2, cmdlines
        assert any(b"resource_tracker" in c for c in cmdlines), cmdlines
        started = time.monotonic()
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), 20)
        took = time.monotonic() - started
        deadline = time.monotonic() + 5
        while still_running(procs) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        left = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in still_running(procs)}
    finally:
        for pid in still_running(procs):  # a failing run leaves nothing behind either
            os.kill(pid, signal.SIGKILL)
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = log_path.read_text()
    assert left == {}
    assert code == 0, err
    assert took < 10, took
    assert f"{sig.name} received; stopping" in err, err
    assert "Traceback" not in err, err


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the index builds in parallel on 2+ cores")
async def test_sigterm_during_the_start_up_index_build_leaves_nothing(tmp_path: Path) -> None:
    # Enough text for a parallel build that runs for seconds (worker processes, forked), so
    # the poll below sees the workers whatever the machine's speed.
    text = 4 * ((ROOT / "README.md").read_text() + (ROOT / "docs" / "discord.md").read_text())
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(128):
        (corpus / f"doc{i}.md").write_text(f"# Document {i}\n\nmarker{i} {text}", encoding="utf-8")
    env = clean_env(DISCORD_TOKEN="not-used", DISCORD_API_BASE="http://127.0.0.1:9/api")
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "discord"),
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
        )
    procs: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        while len(procs) < 2 and time.monotonic() < deadline and proc.returncode is None:
            procs = descendants(proc.pid)
            await asyncio.sleep(0.02)
        assert len(procs) >= 2, log_path.read_text()  # the build's workers are running
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
        deadline = time.monotonic() + 5
        while still_running(procs) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        left = still_running(procs)
    finally:
        for pid in still_running(procs):
            os.kill(pid, signal.SIGKILL)
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = log_path.read_text()
    assert left == []
    assert code == 0, err
    assert "SIGTERM received; stopping" in err and "Traceback" not in err, err
    assert not (tmp_path / "state").exists()  # stopped before the bot went any further


async def test_report_json_is_json_in_every_case(tmp_path: Path) -> None:
    env = clean_env()
    code, out, _ = await finish(await citebot("report", "--json", cwd=tmp_path, env=env))
    empty = json.loads(out)
    assert code == 0 and empty["answers"] == 0 and empty["gaps"] == []
    assert "nothing has been asked" in empty["note"]

    code, out, err = await finish(
        await citebot("report", "--json", "--limit", "0", cwd=tmp_path, env=env)
    )
    assert code == 2 and json.loads(out) == {"error": "--limit must be at least 1"}
    assert err == "citebot: error: --limit must be at least 1\n"

    (tmp_path / "state.sqlite3").write_bytes(b"not a database, " * 100)
    env = clean_env(CITEBOT_DB=str(tmp_path / "state.sqlite3"))
    code, out, err = await finish(await citebot("report", "--json", cwd=tmp_path, env=env))
    assert code == 2 and "cannot read the bot's state file" in json.loads(out)["error"]
    assert err.count("\n") == 1 and "Traceback" not in err
    code, out, err = await finish(await citebot("report", cwd=tmp_path, env=env))
    assert code == 2 and out == "" and "cannot read the bot's state file" in err


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
