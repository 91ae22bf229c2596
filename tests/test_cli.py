"""The CLI contract, driven through a real subprocess as other tools drive it."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEED = "000_d32575e782105b56.txt"


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / SEED)
    return tmp_path


def test_ask_answers_with_span_sentence_and_citation(work: Path):
    r = run("ask", "what is CECOT's capacity", cwd=work)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "40,000 inmates"
    assert "maximum capacity of [40,000 inmates]." in lines[1]
    assert f"{SEED} › What is the CECOT? · line 9" in lines[2]
    assert (work / ".citebot").is_dir()  # default index location, built on first use


def test_json_answer_offsets_select_the_quote(work: Path):
    r = run("ask", "--json", "--top-k", "2", "How much did CECOT cost to build?", cwd=work)
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout)
    assert a["answered"] is True and a["answer"] == "$115 million"
    text = (work / "corpus" / SEED).read_text(encoding="utf-8")
    c = a["citations"][0]
    assert text[c["start"] : c["end"]] == c["quote"] == a["answer"]
    assert a["answer"] in a["sentence"]
    assert len(a["sources"]) == 2 and a["sources"][0]["score"] >= a["sources"][1]["score"]
    assert set(a) >= {"question", "confidence", "took_ms"}


def test_explain_shows_why_in_text_and_json(work: Path):
    r = run("ask", "--explain", "what is CECOT's capacity", cwd=work)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "40,000 inmates" and lines[3] == "Why this answer"
    assert lines[4] == "  terms: CECOT's → cecot, capacity → capac"
    assert f"1. {SEED} › What is the CECOT? · line 8" in lines[6]
    assert lines[-1].startswith("  confidence 1.00 ≥ threshold 0.45")
    a = json.loads(run("ask", "--json", "--explain", "what is CECOT's capacity", cwd=work).stdout)
    ex = a["explanation"]
    assert ex["score"] > ex["runner_up_score"] and ex["no_answer_score"] is None
    assert ex["chunks"][0]["source"] == SEED


def test_unanswerable_question_is_withheld_with_sources(work: Path):
    r = run("ask", "--json", "What is the capital of France?", cwd=work)
    a = json.loads(r.stdout)
    assert (r.returncode, a["answered"], a["answer"], a["citations"]) == (0, False, None, [])
    plain = run("ask", "What is the capital of France?", cwd=work)
    assert plain.stdout.startswith("Not found in the documents.")


def test_changed_added_and_removed_files_are_picked_up(work: Path):
    assert run("index", cwd=work).returncode == 0
    extra = work / "corpus" / "sub" / "lighthouse.md"
    extra.parent.mkdir()
    extra.write_text(
        "# Harbour notes\n\n## The lighthouse\n\nThe Pellworm lighthouse is 41 metres tall.\n",
        encoding="utf-8",
    )
    a = json.loads(run("ask", "--json", "How tall is the Pellworm lighthouse?", cwd=work).stdout)
    assert a["answer"] in ("41 metres", "41")
    assert a["citations"][0]["source"] == "sub/lighthouse.md"
    assert a["citations"][0]["section"] == "The lighthouse"
    extra.write_text("# Harbour notes\n\nThe Pellworm lighthouse is 52 metres tall.\n", "utf-8")
    a = json.loads(run("ask", "--json", "How tall is the Pellworm lighthouse?", cwd=work).stdout)
    assert a["answer"] in ("52 metres", "52")
    extra.unlink()
    a = json.loads(run("ask", "--json", "How tall is the Pellworm lighthouse?", cwd=work).stdout)
    assert all(s["source"] == SEED for s in a["sources"])


def test_index_summary_and_unreadable_file_skipped(work: Path):
    (work / "corpus" / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    r = run("index", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "Indexed 1 document, " in r.stdout and " 0 skipped" not in r.stdout
    assert "blob.txt" in r.stderr and r.stderr.count("\n") == 1
    a = json.loads(run("ask", "--json", "what is CECOT's capacity", cwd=work).stdout)
    assert a["answer"].startswith("40,000")


def test_corrupt_index_is_rebuilt_with_a_warning(work: Path):
    assert run("index", cwd=work).returncode == 0
    for f in (work / ".citebot").rglob("*"):
        if f.is_file() and f.suffix in (".json", ".npy"):
            f.write_bytes(b"garbage")
    r = run("ask", "what is CECOT's capacity", cwd=work)
    assert r.returncode == 0
    assert r.stdout.startswith("40,000 inmates")
    assert "warning" in r.stderr


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_bad_questions_are_usage_errors(work: Path, question: str):
    r = run("ask", question, cwd=work)
    assert r.returncode == 2
    assert r.stderr.startswith("citebot: error:") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr


def test_missing_corpus_and_missing_question(tmp_path: Path):
    r = run("ask", "--corpus", str(tmp_path / "nope"), "anything", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    r = run("ask", cwd=tmp_path, stdin="")
    assert r.returncode == 2 and "no question" in r.stderr


def test_jsonl_answers_in_order_and_echoes_ids(work: Path):
    lines = [
        json.dumps({"id": "q1", "question": "Where is CECOT located?"}),
        "Who is the president of El Salvador?",
        "",
        json.dumps({"id": 7, "nope": 1}),
    ]
    r = run("ask", "--jsonl", cwd=work, stdin="\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["id"] == "q1" and out[0]["answer"] == "Tecoluca"
    assert "id" not in out[1] and out[1]["answer"] == "Nayib Bukele"
    assert "error" in out[2] and out[3]["id"] == 7 and "error" in out[3]


def test_env_settings_choose_corpus_and_index(work: Path, tmp_path: Path):
    env = dict(os.environ, CITEBOT_CORPUS=str(work / "corpus"), CITEBOT_INDEX=str(tmp_path / "ix"))
    r = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "Where is CECOT located?"],
        cwd=tmp_path.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert json.loads(r.stdout)["answer"] == "Tecoluca"
    assert (tmp_path / "ix").is_dir()


class _PtyReader:
    """Reads a pty until a marker; what arrives after the marker is kept for the next wait,
    since an answer and the next prompt often come in one read."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def until(self, needle: bytes, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {needle!r}; got {self.buf[-500:]!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.buf += chunk
        cut = self.buf.index(needle) + len(needle)
        seen, self.buf = self.buf[:cut], self.buf[cut:]
        return seen


def test_interactive_prompt_answers_and_quits_on_ctrl_d(work: Path):
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask"],
        cwd=work,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env | {"TERM": "dumb"},
    )
    os.close(slave)
    try:
        pty_out = _PtyReader(master)
        pty_out.until(b"? ")
        os.write(master, b"Where is CECOT located?\n")
        assert b"Tecoluca" in pty_out.until(b"line ")
        pty_out.until(b"? ")
        os.write(master, b"\x04")  # Ctrl-D
        assert proc.wait(timeout=30) == 0
        assert (work / ".citebot" / "history").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_every_command_option_and_argument_has_help():
    import argparse

    from bot.cli import build_parser

    def walk(parser: argparse.ArgumentParser, name: str):
        for action in parser._actions:
            yield name, action
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    yield f"{name} {choice.dest}", choice
                for sub_name, sub in action.choices.items():
                    yield from walk(sub, f"{name} {sub_name}")

    seen = list(walk(build_parser(), "citebot"))
    commands = {n for n, _ in seen}
    assert {"citebot index", "citebot ask", "citebot eval", "citebot discord"} <= commands
    missing = [
        f"{n}: {a.option_strings or a.dest}"
        for n, a in seen
        if not a.help or a.help == argparse.SUPPRESS
    ]
    assert not missing, missing
    assert len(seen) > 40


def test_eval_corpus_defaults_to_citebot_corpus(work: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    questions = FIXTURES / "extract_seed_questions.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "DISCORD_"))}
    r = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(questions), "--json", "--no-curve"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
        env=env | {"CITEBOT_CORPUS": str(work / "corpus")},
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["corpus"] == str(work / "corpus")
    assert report["questions"] > 0 and report["span_em"] > 0.5
    (elsewhere / ".env").write_text("CITEBOT_TOP_K=many\n", encoding="utf-8")
    r = run("eval", str(questions), cwd=elsewhere)
    assert r.returncode == 2 and r.stderr == (
        "citebot: error: CITEBOT_TOP_K=many in .env: expected a whole number\n"
    )


def test_empty_corpus_says_so_on_ask(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "picture.png").write_bytes(b"\x89PNG")
    for args in (["ask", "what is it"], ["ask", "--jsonl"]):
        r = run(*args, cwd=tmp_path, stdin="what is it\n")
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.count("\n") == 1, r.stderr
        assert f"no documents to answer from in {tmp_path / 'corpus'}" in r.stderr
        assert ".md" in r.stderr and "CITEBOT_CORPUS" in r.stderr
    r = run("index", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("Indexed 0 documents, 0 chunks, 0 tokens")


def test_progress_shows_an_eta_once_the_total_is_known():
    from io import StringIO

    from rich.console import Console
    from rich.progress import Progress

    from bot.cli import eta_column

    clock = [0.0]
    column = eta_column()
    with Progress(
        column, console=Console(file=StringIO()), get_time=lambda: clock[0], auto_refresh=False
    ) as bar:
        task = bar.add_task("indexing", total=None)
        assert column.render(bar.tasks[0]).plain == ""
        bar.update(task, completed=0, total=100)
        for done in (10, 20):
            clock[0] += 1.0
            bar.update(task, completed=done)
        assert column.render(bar.tasks[0]).plain == "eta 0:00:08"
