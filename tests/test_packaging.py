"""What a user installs: the wheel holds every file the package reads at run time, and the
README's two commands are the ones CI runs (`.ci/run` also runs the quick start, from a wheel,
outside the checkout)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_files(*, python: bool) -> set[str]:
    """Files under bot/ (as wheel paths): the Python modules, or everything else (data)."""
    found = set()
    for path in (ROOT / "bot").rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if (path.suffix in {".py", ".pyc"}) == python:
            found.add(path.relative_to(ROOT).as_posix())
    return found


def build_wheel(tmp: Path) -> Path:
    """Build from a copy of the sources, so the checkout gets no build/ or egg-info litter.
    Offline: the backend is the setuptools of the test environment (the `test` extra)."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "bot", src / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*pip, "--quiet", "--wheel-dir", str(dist), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = dist.glob("citebot-*.whl")
    return wheel


def test_wheel_holds_every_file_the_package_reads(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(zf.read(n) for n in names if n.endswith(".dist-info/METADATA")).decode()
    data = package_files(python=False)
    assert "bot/extract/weights.json" in data
    assert data <= names, f"not in the wheel: {sorted(data - names)}"
    modules = package_files(python=True)
    assert modules <= names, f"not in the wheel: {sorted(modules - names)}"
    # The licence travels with the package and matches the declared one.
    assert any(re.search(r"\.dist-info/(licenses/)?LICENSE$", n) for n in names), names
    assert "Classifier: License :: OSI Approved :: MIT License" in metadata
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    for version in ("3.11", "3.12", "3.13"):
        assert f"Classifier: Programming Language :: Python :: {version}" in metadata
    assert "Requires-Python: >=3.11" in metadata


def readme_commands() -> list[str]:
    """The shell lines of the README's Quick start section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_commands_are_what_ci_runs() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    ci_lines = {line.strip() for line in ci.splitlines()}
    for command in commands:
        assert command in ci_lines, f"README command not run verbatim by .ci/run: {command}"
    # The quick start's answer is checked there too.
    assert "40,000 inmates" in ci
