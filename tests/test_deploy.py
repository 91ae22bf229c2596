"""deploy/citebot.service: the systemd unit docs/deploy.md describes, consistent with the
defaults the bot writes to."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from bot.config import DEFAULT_DB, Settings

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "citebot.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_unit_runs_the_bot_sandboxed_with_write_access_to_index_and_state_only() -> None:
    service = unit()["Service"]
    assert service["ExecStart"].endswith("/bin/citebot discord")
    assert service["User"] == service["Group"] == "citebot"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["ProtectSystem"] == "strict"
    assert service["KillSignal"] == "SIGTERM" and service["KillMode"] == "mixed"
    work = PurePosixPath(service["WorkingDirectory"])
    writable = {PurePosixPath(p) for p in service["ReadWritePaths"].split()}
    # The default index folder and the state file's folder, both under the working directory.
    defaults = Settings.load({}, None)
    assert writable == {work / defaults.index_dir, work / DEFAULT_DB.parent}
    assert defaults.db_path == DEFAULT_DB


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None or sys.platform != "linux",
    reason="needs systemd-analyze",
)
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # verify also checks that ExecStart exists: point it at this environment's citebot.
    citebot = Path(sys.executable).parent / "citebot"
    if not citebot.exists():
        pytest.skip("no citebot script next to this Python")
    text = UNIT.read_text().replace("/opt/citebot/venv/bin/citebot", str(citebot))
    assert text != UNIT.read_text()
    (tmp_path / "citebot.service").write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "citebot.service")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
