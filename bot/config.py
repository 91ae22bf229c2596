"""Typed settings read from the environment and an optional ``.env`` file.

Secrets (the Discord token) are only ever read here, from the environment or ``.env``; they are
never logged: ``Settings.__repr__`` hides them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` comments, blank lines, ``export`` and quotes allowed."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return values
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def _int(value: str | None, default: int | None) -> int | None:
    if value is None or not value.strip():
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise SettingsError(f"expected a whole number, got {value!r}") from None


def _float(value: str | None, default: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        return float(value.strip())
    except ValueError:
        raise SettingsError(f"expected a number, got {value!r}") from None


def _positive(value: str | None, default: float) -> float:
    number = _float(value, default)
    if not number > 0 or number == float("inf"):
        raise SettingsError(f"expected a number of megabytes above 0, got {value!r}")
    return number


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")
    index_dir: Path = Path(".citebot")
    top_k: int = 5
    # Discord front end
    discord_token: str | None = field(default=None, repr=False)
    guild_id: int | None = None
    owner_ids: frozenset[int] = frozenset()
    api_base: str = DEFAULT_API_BASE
    gateway_url: str = DEFAULT_GATEWAY
    cooldown_seconds: float = 10.0
    cooldown_rate: int = 3  # questions per cooldown window per user
    max_question_chars: int = 500
    db_path: Path = Path(".citebot/citebot.sqlite3")
    # Worker processes that answer questions (0: a thread of the bot's process instead).
    answer_processes: int = 1
    # Interactions in each stage (acknowledging, answering) at once; see CitebotBot.__init__.
    in_flight: int = 8
    # Corpus files larger than this many megabytes (MiB) are skipped with a warning.
    max_file_mb: float = 50.0

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """Environment first, then ``.env``, then defaults."""
        merged: dict[str, str] = read_dotenv(dotenv) if dotenv else {}
        merged.update(os.environ if env is None else env)
        g = merged.get
        index_dir = Path(g("CITEBOT_INDEX") or ".citebot")
        owners = frozenset(
            int(x) for x in (g("DISCORD_OWNER_IDS") or "").replace(",", " ").split() if x.isdigit()
        )
        return cls(
            corpus=Path(g("CITEBOT_CORPUS") or "corpus"),
            index_dir=index_dir,
            top_k=_int(g("CITEBOT_TOP_K"), 5) or 5,
            discord_token=(g("DISCORD_TOKEN") or "").strip() or None,
            guild_id=_int(g("DISCORD_GUILD_ID"), None),
            owner_ids=owners,
            api_base=(g("DISCORD_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            gateway_url=g("DISCORD_GATEWAY_URL") or DEFAULT_GATEWAY,
            cooldown_seconds=_float(g("CITEBOT_COOLDOWN_SECONDS"), 10.0),
            cooldown_rate=_int(g("CITEBOT_COOLDOWN_RATE"), 3) or 3,
            max_question_chars=_int(g("CITEBOT_MAX_QUESTION_CHARS"), 500) or 500,
            db_path=Path(g("CITEBOT_DB") or index_dir / "citebot.sqlite3"),
            answer_processes=max(0, _int(g("CITEBOT_ANSWER_PROCESSES"), 1) or 0),
            in_flight=max(1, _int(g("CITEBOT_IN_FLIGHT"), 8) or 1),
            max_file_mb=_positive(g("CITEBOT_MAX_FILE_MB"), 50.0),
        )
