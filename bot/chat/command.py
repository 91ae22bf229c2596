"""CLI subcommands of the Discord front end: ``citebot discord`` and ``citebot report``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.feedback import FeedbackStore

log = logging.getLogger("citebot.chat")

NO_TOKEN = (
    "DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
    "(see .env.example and docs/discord.md)"
)
BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN: reset the token (Developer Portal → your application → Bot "
    "→ Reset Token) and put the new one in DISCORD_TOKEN"
)


def db_path(args: argparse.Namespace, settings: Settings) -> Path:
    """The state file: CITEBOT_DB if set, else beside the index (``--index`` included)."""
    derived_default = settings.db_path == settings.index_dir / "citebot.sqlite3"
    if args.index and derived_default:
        return Path(args.index) / "citebot.sqlite3"
    return settings.db_path


def register(subparsers: Any) -> None:
    from bot.cli import add_corpus_options

    p = subparsers.add_parser("discord", help="run the Discord bot (see docs/discord.md)")
    add_corpus_options(p)
    p.add_argument(
        "--sync",
        action="store_true",
        help="sync slash commands even if they have not changed since the last sync",
    )
    p.set_defaults(func=cmd_discord)

    p = subparsers.add_parser("report", help="unanswered questions and 👍/👎 counts from the bot")
    add_corpus_options(p)
    p.add_argument("--limit", type=int, default=10, help="questions to list (default 10)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_report)


async def run_bot(
    settings: Settings,
    engine: Any,
    store: FeedbackStore,
    *,
    force_sync: bool = False,
    on_bot: Callable[[Any], None] | None = None,
) -> None:
    """Log in and serve until closed. ``citebot discord`` and the end-to-end tests both run this."""
    from bot.chat.client import CitebotBot, point_at

    if not settings.discord_token:
        raise ValueError(NO_TOKEN)
    point_at(settings)
    bot = CitebotBot(settings, engine, store, force_sync=force_sync)
    if on_bot is not None:
        on_bot(bot)
    async with bot:
        await bot.start(settings.discord_token)


def cmd_discord(args: argparse.Namespace, settings: Settings) -> int:
    import aiohttp
    import discord

    from bot.cli import UsageError, open_engine

    if not settings.discord_token:
        raise UsageError(NO_TOKEN)
    logging.getLogger("citebot").setLevel(logging.INFO)
    engine = open_engine(args, settings)
    store = FeedbackStore(db_path(args, settings))
    try:
        store.get_meta("schema")  # creates the file now, so a bad path fails before logging in
    except (sqlite3.Error, OSError) as e:
        raise UsageError(f"cannot open the bot's state file {store.path}: {e}") from None
    s = engine.stats
    log.info("serving %d documents (%d chunks); state in %s", s.documents, s.chunks, store.path)
    try:
        asyncio.run(run_bot(settings, engine, store, force_sync=args.sync))
    except discord.LoginFailure:
        raise UsageError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise UsageError("Discord refused the gateway intents this bot asks for") from None
    except (aiohttp.ClientConnectionError, OSError) as e:
        raise UsageError(
            f"cannot reach Discord at {settings.api_base} ({e.__class__.__name__}: {e}); "
            "check the network or DISCORD_API_BASE / DISCORD_GATEWAY_URL"
        ) from None
    except discord.HTTPException as e:
        raise UsageError(
            f"Discord answered {e.status} ({e.text or 'no details'}) while starting"
        ) from None
    return 0


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import UsageError
    from bot.render.clean import terminal_safe

    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    path = db_path(args, settings)
    if not path.exists():
        print(f"No bot state at {path} yet: nothing has been asked through Discord.")
        return 0
    r = FeedbackStore(path).report(args.limit)
    if args.json:
        payload = {
            "answers": r.answers,
            "unanswered": r.unanswered,
            "thumbs_up": r.thumbs_up,
            "thumbs_down": r.thumbs_down,
            "gaps": [
                {"question": g.question, "times": g.times, "last_asked": g.last_asked}
                for g in r.gaps
            ],
            "disliked": [{"question": q, "thumbs_down": n} for q, n in r.disliked],
        }
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    out = sys.stdout
    print(
        f"{r.answers} questions asked, {r.unanswered} not answered · "
        f"feedback: {r.thumbs_up} 👍, {r.thumbs_down} 👎",
        file=out,
    )
    if r.gaps:
        print("\nMost frequent unanswered questions (coverage gaps):", file=out)
        for g in r.gaps:
            question = terminal_safe(g.question)
            print(f"  {g.times:>4}×  {question}  (last {_when(g.last_asked)})", file=out)
    if r.disliked:
        print("\nAnswers with the most 👎:", file=out)
        for q, n in r.disliked:
            print(f"  {n:>4}×  {terminal_safe(q)}", file=out)
    return 0
