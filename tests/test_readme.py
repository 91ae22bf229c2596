"""The README says what the program does: its example output, chunk sizes and formats are
checked against the program itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bot.engine import EngineOptions
from bot.ingest.corpus import SUPPORTED_SUFFIXES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def example(command: str) -> list[str]:
    """The lines printed under ``$ command`` in the README's first block that shows it."""
    block = re.search(rf"```\n\$ {re.escape(command)}\n(.*?)```", README, re.S)
    assert block, command
    return block.group(1).splitlines()


def test_chunk_sizes_are_the_engine_defaults():
    o = EngineOptions()
    m = re.search(
        r"at most (\d+) tiktoken tokens.*?about (\d+) tokens of sentence overlap", README, re.S
    )
    assert m and (int(m.group(1)), int(m.group(2))) == (o.chunk_tokens, o.chunk_overlap)
    m = re.search(r"chunks of\s+(\d+) tokens with (\d+) of overlap", README)
    assert m and (int(m.group(1)), int(m.group(2))) == (o.chunk_tokens, o.chunk_overlap)


def test_every_supported_format_is_listed():
    listed = set(re.findall(r"`(\.[a-z]+)`", README.split("## Using it")[1].split("| command")[0]))
    assert set(SUPPORTED_SUFFIXES) <= listed, set(SUPPORTED_SUFFIXES) - listed


def test_example_output_is_what_the_program_prints(tmp_path: Path):
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "DISCORD_"))}

    def citebot(*args: str) -> list[str]:
        r = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    def no_time(lines: list[str]) -> list[str]:
        return [re.sub(r" in \d+\.\d\d s ", " in T s ", line) for line in lines]

    assert no_time(citebot("index")) == no_time(example("citebot index"))
    assert citebot("ask", "what is CECOT's capacity") == example(
        'citebot ask "what is CECOT\'s capacity"'
    )
