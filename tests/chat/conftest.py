"""Fixtures for the Discord front end: the stand-in server, an engine over the seed corpus, and
the real bot (``run_bot``, what ``citebot discord`` runs) pointed at the stand-in."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.chat.command import run_bot
from bot.config import Settings
from bot.engine import Engine
from bot.feedback import FeedbackStore
from tests.chat.standin import StandIn

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED = "000_d32575e782105b56.txt"
CAPACITY_Q = "what is CECOT's capacity"
# A document written to abuse a chat front end: mass pings, a role ping and markdown.
RULES_TXT = """Server rules

@everyone The weekly **maintenance window** of the archive_server starts at 22:00 UTC on \
Fridays, says <@&123456789012345678>. Read the pinned notes in _#announcements_ first, @here.
"""


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / "seed.txt", folder / SEED)
    (folder / "rules.txt").write_text(RULES_TXT, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """Read-only engine shared by the tests that do not change the corpus."""
    root = tmp_path_factory.mktemp("engine")
    return Engine.open(make_corpus(root / "corpus"), root / "index")


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    # A short heartbeat interval so every test also exercises heartbeats and their ACKs.
    server = StandIn(heartbeat_ms=500)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class RunningBot:
    def __init__(self, bot: Any, task: asyncio.Task[None], settings: Settings) -> None:
        self.bot = bot
        self.task = task
        self.settings = settings
        self.store: FeedbackStore = bot.store


@asynccontextmanager
async def running_bot(
    standin: StandIn, engine: Engine, tmp: Path, **overrides: Any
) -> AsyncIterator[RunningBot]:
    """The real bot, logged in to the stand-in and past GUILD_CREATE (events sent from here on
    reach it in order; discord.py's own 'ready' waits a further 2 s for more guilds)."""
    force_sync = bool(overrides.pop("force_sync", False))
    overrides = {"cooldown_seconds": 60.0, "cooldown_rate": 50, **overrides}
    db_path = overrides.pop("db_path", tmp / "state.sqlite3")
    settings = standin.bot_settings(engine, db_path, **overrides)
    bots: list[Any] = []
    store = FeedbackStore(settings.db_path)
    seen = len(standin.frames)
    task = asyncio.create_task(
        run_bot(settings, engine, store, force_sync=force_sync, on_bot=bots.append)
    )
    try:
        await standin.wait_for(
            lambda: (
                task.done() or any(f.get("t") == "GUILD_CREATE" for _, f in standin.frames[seen:])
            ),
            15,
        )
        if task.done():
            task.result()  # raise what stopped the bot
        yield RunningBot(bots[0], task, settings)
    finally:
        if bots:
            await asyncio.wait_for(bots[0].close(), 10)
        await asyncio.wait_for(task, 10)
