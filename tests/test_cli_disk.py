"""``citebot`` on real read-only and full file systems: tmpfs mounts in a private mount namespace
(``unshare -rm``), so nothing is mounted for the rest of the machine and nothing needs cleaning
up. Skipped where the machine allows no such namespace; ``tests/index/test_unwritable.py``
injects the same failures in process and always runs."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
Q = "what is CECOT's capacity"
NEW_Q = "what colour is the lighthouse keeper's boat"
HARBOUR = "The lighthouse keeper's boat is painted bright orange so that rescue crews see it.\n"


def _namespaces() -> bool:
    if not shutil.which("unshare") or not shutil.which("mount"):
        return False
    try:
        with tempfile.TemporaryDirectory() as point:
            probe = ["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", point]
            return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


pytestmark = pytest.mark.skipif(not _namespaces(), reason="no private mount namespace here")


class Sandbox:
    """A shell script run in its own mount namespace; ``run NAME ARGS...`` inside it runs
    ``citebot ARGS...`` and keeps its exit code, stdout and stderr under NAME."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.out = tmp / "out"
        self.out.mkdir()
        self.mnt = tmp / "mnt"
        self.mnt.mkdir()

    def execute(self, script: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "DISCORD_"))}
        env["PYTHONPATH"] = str(ROOT)
        prelude = (
            "set -e\n"
            'run() { name=$1; shift; rc=0; "$PY" -m bot "$@" >"$OUT/$name.out" '
            '2>"$OUT/$name.err" || rc=$?; echo $rc >"$OUT/$name.rc"; }\n'
        )
        env.update(PY=sys.executable, OUT=str(self.out), MNT=str(self.mnt))
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", prelude + script],
            cwd=self.tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    def result(self, name: str) -> tuple[int, str, str]:
        read = (self.out / f"{name}.{{}}").as_posix().format
        return (
            int(Path(read("rc")).read_text()),
            Path(read("out")).read_text(),
            Path(read("err")).read_text(),
        )


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    Engine.open(corpus, tmp_path / "built")
    return corpus, tmp_path / "built"


def test_read_only_mount(built, tmp_path):
    corpus, index = built
    damaged = tmp_path / "damaged"
    shutil.copytree(index, damaged)
    gen = damaged / (damaged / "CURRENT").read_text()
    with open(gen / "texts.bin", "r+b") as f:
        f.write(b"\xff")
    box = Sandbox(tmp_path)
    c, i, d = (shlex.quote(str(p)) for p in (corpus, box.mnt / "index", box.mnt / "damaged"))
    box.execute(
        f'mount -t tmpfs -o size=4m tmpfs "$MNT"\n'
        f"cp -a {shlex.quote(str(index))} {i}\n"
        f"cp -a {shlex.quote(str(damaged))} {d}\n"
        'mount -o remount,ro "$MNT"\n'
        f"touch {i}/probe 2>/dev/null && exit 3 || true\n"
        f'run fresh ask --corpus {c} --index {i} "{Q}"\n'
        f"printf %s {shlex.quote(HARBOUR)} > {c}/harbour.txt\n"
        f'run changed ask --corpus {c} --index {i} "{NEW_Q}"\n'
        f"run index index --corpus {c} --index {i}\n"
        f'run damaged ask --corpus {c} --index {d} "{Q}"\n'
    )
    code, out, err = box.result("fresh")
    assert (code, err) == (0, "") and "40,000 inmates" in out
    code, out, err = box.result("changed")
    assert code == 0 and "bright orange" not in out
    assert err.count("\n") == 1 and err.startswith("citebot: warning: 1 changed file in the corpus")
    assert "Read-only file system" in err and "answering from the index as it was" in err
    code, out, err = box.result("index")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "cannot be indexed" in err
    code, out, err = box.result("damaged")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("citebot: error: the index cannot be used (corrupt texts.bin")
    assert "nor rebuilt" in err and "Traceback" not in err


def test_full_disk(built, tmp_path):
    corpus, index = built
    size_kb = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) // 1024 + 256
    (corpus / "harbour.txt").write_text(HARBOUR + "The harbour log. " * 60_000, encoding="utf-8")
    box = Sandbox(tmp_path)
    c, i = (shlex.quote(str(p)) for p in (corpus, box.mnt / "index"))
    box.execute(
        f'mount -t tmpfs -o size={size_kb}k tmpfs "$MNT"\n'
        f"cp -a {shlex.quote(str(index))} {i}\n"
        f"run index index --corpus {c} --index {i}\n"
        f'run ask ask --corpus {c} --index {i} "{Q}"\n'
        f'run again ask --corpus {c} --index {i} "{Q}"\n'
        f'ls {i} > "$OUT/ls"\n'
    )
    code, out, err = box.result("index")
    assert (code, out) == (2, "")
    where = box.mnt / "index"
    assert err == f"citebot: error: cannot write the index in {where}: No space left on device\n"
    for run in ("ask", "again"):
        code, out, err = box.result(run)
        assert code == 0 and "40,000 inmates" in out
        assert err.count("\n") == 1 and "No space left on device; answering from the index" in err
    # The old generation alone: the half-written one was removed.
    assert sorted((box.out / "ls").read_text().split()) == ["CURRENT", "gen-000001", "lock"]
