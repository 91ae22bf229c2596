"""`.env.example` must list every setting `Settings.load` reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting() -> None:
    read = set(re.findall(r'g\("([A-Z_]+)"\)', (ROOT / "bot" / "config.py").read_text()))
    assert "DISCORD_TOKEN" in read
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read <= listed, read - listed
    assert re.search(r"^DISCORD_TOKEN=$", (ROOT / ".env.example").read_text(), re.M)
