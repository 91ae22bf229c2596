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
# The bot's state, beside corpus/ and .citebot/ in the working directory but not inside the index
# folder, so deleting the index keeps it. Its own folder, because SQLite writes -wal/-shm files
# next to it: a service can be given write access to this folder alone (docs/deploy.md).
DEFAULT_DB = Path("state/citebot.sqlite3")
# Where citebot kept it before, inside the index folder; moved from there on first use.
OLD_DB_NAME = "citebot.sqlite3"
DEFAULT_KEEP_DAYS = 90


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


class _Setting(str):
    """A setting's raw value that remembers its variable and where it came from, so that a bad
    value can be named: ``CITEBOT_TOP_K=abc in .env: expected a whole number``."""

    name: str
    origin: str

    def __new__(cls, value: str, name: str, origin: str) -> _Setting:
        self = super().__new__(cls, value)
        self.name, self.origin = name, origin
        return self


def _bad(value: str, expected: str) -> SettingsError:
    if isinstance(value, _Setting):
        return SettingsError(f"{value.name}={value!s} {value.origin}: expected {expected}")
    return SettingsError(f"expected {expected}, got {value!r}")


def _int(value: str | None, default: int | None) -> int | None:
    if value is None or not value.strip():
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise _bad(value, "a whole number") from None


def _float(value: str | None, default: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        return float(value.strip())
    except ValueError:
        raise _bad(value, "a number") from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise _bad(value, "1 or 0 (true/false, yes/no, on/off)")


def _positive(value: str | None, default: float) -> float:
    number = _float(value, default)
    if not number > 0 or number == float("inf"):
        raise _bad(value, "a number of megabytes above 0")
    return number


class SettingsError(ValueError):
    pass


def token_is_wellformed(token: str) -> bool:
    """Whether ``token`` could be a Discord bot token: printable ASCII without spaces (tokens
    are base64 parts joined by dots). Says nothing of whether Discord accepts it."""
    return token.isascii() and token.isprintable() and " " not in token


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
    db_path: Path = DEFAULT_DB
    # Days the questions and votes of members are kept (0: kept until deleted by hand).
    keep_days: int = DEFAULT_KEEP_DAYS
    # Worker processes that answer questions (0: a thread of the bot's process instead).
    answer_processes: int = 1
    # Interactions in each stage (acknowledging, answering) at once; see CitebotBot.__init__.
    in_flight: int = 8
    # Re-index in the background when files in the corpus change (``citebot discord --watch``).
    watch: bool = False
    # Auto-answer in forums (opt-in per channel with /autoanswer): stricter than asked-for
    # answers, since nobody asked the bot; at most RATE replies per server per SECONDS; posts
    # beyond QUEUE waiting are dropped, not delayed.
    autoanswer_min_confidence: float = 0.8
    autoanswer_rate: int = 5
    autoanswer_seconds: float = 60.0
    autoanswer_queue: int = 20
    # The privileged Message Content intent: without it a post is answered from its title alone.
    message_content: bool = False
    # Corpus files larger than this many megabytes (MiB) are skipped with a warning.
    max_file_mb: float = 50.0

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """Environment first, then ``.env``, then defaults."""
        merged: dict[str, _Setting] = {
            k: _Setting(v, k, f"in {dotenv}")
            for k, v in (read_dotenv(dotenv) if dotenv else {}).items()
        }
        merged.update(
            (k, _Setting(v, k, "in the environment"))
            for k, v in (os.environ if env is None else env).items()
        )
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
            gateway_url=str(g("DISCORD_GATEWAY_URL") or DEFAULT_GATEWAY),
            cooldown_seconds=_float(g("CITEBOT_COOLDOWN_SECONDS"), 10.0),
            cooldown_rate=_int(g("CITEBOT_COOLDOWN_RATE"), 3) or 3,
            max_question_chars=_int(g("CITEBOT_MAX_QUESTION_CHARS"), 500) or 500,
            db_path=Path(g("CITEBOT_DB") or DEFAULT_DB),
            keep_days=max(0, _int(g("CITEBOT_KEEP_DAYS"), DEFAULT_KEEP_DAYS) or 0),
            answer_processes=max(0, _int(g("CITEBOT_ANSWER_PROCESSES"), 1) or 0),
            in_flight=max(1, _int(g("CITEBOT_IN_FLIGHT"), 8) or 1),
            watch=_bool(g("CITEBOT_WATCH"), False),
            autoanswer_min_confidence=_float(g("CITEBOT_AUTOANSWER_MIN_CONFIDENCE"), 0.8),
            autoanswer_rate=max(1, _int(g("CITEBOT_AUTOANSWER_RATE"), 5) or 1),
            autoanswer_seconds=max(0.0, _float(g("CITEBOT_AUTOANSWER_SECONDS"), 60.0)),
            autoanswer_queue=max(1, _int(g("CITEBOT_AUTOANSWER_QUEUE"), 20) or 1),
            message_content=_bool(g("DISCORD_MESSAGE_CONTENT"), False),
            max_file_mb=_positive(g("CITEBOT_MAX_FILE_MB"), 50.0),
        )
