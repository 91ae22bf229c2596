"""Hostile documents and input at the CLI (issue #18, items 3 and 4): nothing a document or a
question holds reaches the terminal as a control character, and ``--jsonl`` answers every line."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import _jsonl
from bot.engine import Engine
from bot.feedback import FeedbackStore
from bot.models import Answer

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = "\x1b[2J\x1b]0;TITLE\x07"
CONTROL_BYTES = (b"\x1b", b"\x07", b"\xc2\x9b", b"\r")
FILLER = "The harbour is quiet in winter and busy in summer with boats and visitors. " * 8


def run(*args: str, cwd: Path, stdin: bytes | None = None, **env: str):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "DISCORD_"))}
    base.pop("PYTHONIOENCODING", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=120,
        env=base | env,
    )


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text(
        f"{FILLER}\nThe ferry leaves at nine o'clock {HOSTILE}from the northern pier.\n{FILLER}\n",
        encoding="utf-8",
    )
    (corpus / f"bad{HOSTILE}.txt").write_bytes(b"\x00\x01\x02 not text")
    (corpus / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (corpus / "b.xlsx").write_bytes(b"PK\x03\x04")
    (corpus / "Makefile").write_text("all:\n", encoding="utf-8")
    return tmp_path


def _assert_clean(data: bytes) -> None:
    for bad in CONTROL_BYTES:
        assert bad not in data, (bad, data[-400:])


def test_index_summary_and_warnings_are_clean_and_unsupported_files_are_counted(hostile):
    r = run("index", cwd=hostile)
    assert r.returncode == 0, r.stderr
    _assert_clean(r.stdout)
    _assert_clean(r.stderr)
    out = r.stdout.decode()
    assert "skipped bad[2J]0;TITLE.txt: binary file" in out
    assert "not supported: 2 .xlsx files, 1 file without an extension" in out
    assert out.count("xlsx") == 1  # counted once, not a line or warning per file
    assert r.stderr.decode().count("warning") == 1  # the unreadable file, once


@pytest.mark.parametrize("terminal", [False, True])
def test_ask_prints_no_document_control_characters(hostile, terminal):
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"} if terminal else {}
    r = run("ask", "when does the ferry leave", cwd=hostile, **env)
    assert r.returncode == 0, r.stderr
    _assert_clean(r.stdout.replace(b"\x1b[", b"") if terminal else r.stdout)
    assert b"\x1b[2J" not in r.stdout and b"\x1b]" not in r.stdout
    assert b"nine o'clock" in r.stdout
    if terminal:
        assert b"\x1b[" in r.stdout  # colour is on: rich's own sequences
    _assert_clean(r.stderr)


def test_report_prints_stored_questions_clean(hostile):
    db = hostile / ".citebot" / "citebot.sqlite3"
    store = FeedbackStore(db)
    for _ in range(2):
        store.record_answer(
            Answer(f"why{HOSTILE} now\x9b", False, None, None, None, 0.0, (), ()), None
        )
    r = run("report", cwd=hostile)
    assert r.returncode == 0, r.stderr
    _assert_clean(r.stdout)
    assert "why[2J]0;TITLE now" in r.stdout.decode()


def _jsonl_lines(out: bytes) -> list[dict]:
    assert out.endswith(b"\n")
    lines = out.split(b"\n")[:-1]
    for line in lines:
        for bad in (b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xc2\x85", b"\r"):
            assert bad not in line
    return [json.loads(line.decode("utf-8")) for line in lines]


@pytest.mark.parametrize("env", [{"LC_ALL": "C"}, {"LC_ALL": "C", "PYTHONIOENCODING": "ascii"}])
def test_jsonl_answers_every_line_in_any_locale(tmp_path, env):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    lines = [
        b"Where is CECOT located?",
        b"\xff\xfe not \x80 UTF-8",
        json.dumps({"id": 1, "question": "\ud800 lone"}).encode(),
        b'{"id": 2, "question": "x" "oops": 3}',
        "Where is CECOT located?\u2028\u0085 (é, 漢字)".encode(),
        b"Who is the president of El Salvador?\r",
        b"",
    ]
    r = run("ask", "--jsonl", cwd=tmp_path, stdin=b"\n".join(lines) + b"\n", **env)
    assert r.returncode == 0, r.stderr
    out = _jsonl_lines(r.stdout)
    assert len(out) == len(lines)
    assert out[0]["answer"] == "Tecoluca"
    assert "not UTF-8" in out[1]["error"] and "\\xff\\xfe not" in out[1]["error"]
    assert out[2]["id"] == 1 and "surrogate" in out[2]["error"]
    assert out[2]["question"] == "\ud800 lone"  # escaped on the way out, read back as it was
    # The decoder's own message, and the start of the line it could not read.
    assert out[3]["error"].startswith("invalid JSON (Expecting ',' delimiter: line 1 column")
    assert '{"id": 2, "question": "x"' in out[3]["error"]
    assert out[4]["answer"] == "Tecoluca" and "漢字" in out[4]["question"]
    assert out[5]["answer"] == "Nayib Bukele"
    assert "error" in out[6]


@pytest.fixture(scope="module")
def seed_engine(tmp_path_factory) -> Engine:
    top = tmp_path_factory.mktemp("jsonl")
    (top / "corpus").mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", top / "corpus" / "seed.txt")
    return Engine.open(top / "corpus", top / "index")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")), max_size=8))
def test_jsonl_gives_one_valid_json_line_per_input_line(seed_engine, lines):
    out = io.BytesIO()
    _jsonl(seed_engine, 3, io.BytesIO(b"".join(line + b"\n" for line in lines)), out)
    results = _jsonl_lines(out.getvalue()) if lines else []
    assert out.getvalue() or not lines
    assert len(results) == len(lines)
    for result in results:
        assert ("error" in result) != ("answered" in result)
