"""CLI subcommands of the Discord front end: ``citebot discord`` and ``citebot report``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.autoanswer_state import AutoAnswerState
from bot.config import DEFAULT_DB, OLD_DB_NAME, Settings, token_is_wellformed
from bot.feedback import FeedbackStore, move_state
from bot.render.numbers import count, number

log = logging.getLogger("citebot.chat")

NO_TOKEN = (
    "DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
    "(see .env.example and docs/discord.md)"
)
MALFORMED_TOKEN = (
    "DISCORD_TOKEN holds spaces, control characters or non-ASCII characters, which no Discord "
    "token has: copy it again (Developer Portal → your application → Bot → Reset Token)"
)
BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN: reset the token (Developer Portal → your application → Bot "
    "→ Reset Token) and put the new one in DISCORD_TOKEN"
)


def db_path(args: argparse.Namespace, settings: Settings) -> Path:
    """The state file (CITEBOT_DB, default ``state/citebot.sqlite3``). One left inside the index
    folder by an older citebot (``--index`` included) is moved there first, so an upgrade loses
    no feedback and deleting the index from now on keeps it."""
    from bot.cli import UsageError

    path = settings.db_path
    if path == DEFAULT_DB:
        old = (args.index or settings.index_dir) / OLD_DB_NAME
        try:
            if move_state(old, path):
                log.warning("moved the bot's state from %s to %s", old, path)
        except (sqlite3.Error, OSError) as e:
            raise UsageError(f"cannot move the bot's state from {old} to {path}: {e}") from None
    return path


def register(subparsers: Any) -> None:
    from bot.cli import add_corpus_options

    p = subparsers.add_parser("discord", help="run the Discord bot (see docs/discord.md)")
    add_corpus_options(p)
    p.add_argument(
        "--sync",
        action="store_true",
        help="sync slash commands even if they have not changed since the last sync",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="re-index in the background when files in the corpus change "
        "(default: $CITEBOT_WATCH, else off)",
    )
    p.set_defaults(func=cmd_discord)

    p = subparsers.add_parser("report", help="unanswered questions and 👍/👎 counts from the bot")
    add_corpus_options(p)
    p.add_argument("--limit", type=int, default=10, help="questions to list (default 10)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument(
        "--forget-user",
        type=int,
        metavar="ID",
        help="delete the questions, votes and auto-answered posts stored about the Discord "
        "member with this user id",
    )
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
    if not token_is_wellformed(settings.discord_token):
        raise ValueError(MALFORMED_TOKEN)
    point_at(settings)
    bot = CitebotBot(settings, engine, store, force_sync=force_sync)
    if on_bot is not None:
        on_bot(bot)
    async with bot:
        await bot.start(settings.discord_token)


async def serve(settings: Settings, engine: Any, store: FeedbackStore, *, force_sync: bool) -> None:
    """``run_bot`` until SIGTERM (systemd, ``kill``) or SIGINT (Ctrl-C): either one cancels it,
    which closes the bot, and closing it stops the answer workers (``CitebotBot.close``), so the
    process exits with nothing left behind."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    stopping: list[str] = []

    def stop(sig: signal.Signals) -> None:
        if not stopping:
            log.info("%s received; stopping", sig.name)
            stopping.append(sig.name)
            main.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig)
    try:
        await run_bot(settings, engine, store, force_sync=force_sync)
    except asyncio.CancelledError:
        if not stopping:
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("stopped")


class StopRequested(BaseException):
    """SIGTERM while the bot starts. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way (around an index build, say) swallows it."""


def _stop_requested(signum: int, frame: object) -> None:
    raise StopRequested


def cmd_discord(args: argparse.Namespace, settings: Settings) -> int:
    # Until serve() handles signals on the event loop, SIGTERM unwinds the stack as Ctrl-C does:
    # an index build in progress then shuts down its worker processes on the way out.
    signal.signal(signal.SIGTERM, _stop_requested)
    try:
        return _discord(args, settings)
    except StopRequested:
        log.info("SIGTERM received; stopping")
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _discord(args: argparse.Namespace, settings: Settings) -> int:
    import aiohttp
    import discord

    from bot.cli import UsageError, open_engine

    if not settings.discord_token:
        raise UsageError(NO_TOKEN)
    if not token_is_wellformed(settings.discord_token):
        # Checked before any request: the token goes into an HTTP header and the gateway's
        # IDENTIFY, where a control character is an error deep in aiohttp, not Discord's 401.
        raise UsageError(MALFORMED_TOKEN)
    logging.getLogger("citebot").setLevel(logging.INFO)
    if args.watch:
        settings = dataclasses.replace(settings, watch=True)
    engine = open_engine(args, settings)
    store = FeedbackStore(db_path(args, settings))
    try:
        store.get_meta("schema")  # creates the file now, so a bad path fails before logging in
    except (sqlite3.Error, OSError) as e:
        raise UsageError(f"cannot open the bot's state file {store.path}: {e}") from None
    log.info(
        "corpus %s, index %s, state %s",
        engine.corpus.resolve(),
        engine.store.index_dir.resolve(),
        store.path.resolve(),
    )
    try:
        asyncio.run(serve(settings, engine, store, force_sync=args.sync))
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


def _report_payload(r: Any, path: Path) -> dict[str, Any]:
    return {
        "state": str(path),
        "answers": r.answers,
        "unanswered": r.unanswered,
        "thumbs_up": r.thumbs_up,
        "thumbs_down": r.thumbs_down,
        "gaps": [
            {"question": g.question, "times": g.times, "last_asked": g.last_asked} for g in r.gaps
        ],
        "disliked": [{"question": q, "thumbs_down": n} for q, n in r.disliked],
    }


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import EXIT_USAGE, UsageError
    from bot.feedback import Report
    from bot.render.clean import json_line, terminal_safe

    def fail(message: str) -> int:
        # --json promises JSON on stdout whatever happens; the one line on stderr as always.
        if args.json:
            print(json_line({"error": message}))
            print(f"citebot: error: {terminal_safe(message)}", file=sys.stderr)
            return EXIT_USAGE
        raise UsageError(message)

    if args.limit < 1:
        return fail("--limit must be at least 1")
    path = db_path(args, settings)
    if args.forget_user is not None:
        return forget_user(path, args.forget_user, as_json=args.json)
    if not path.exists():
        empty = f"No bot state at {path} yet: nothing has been asked through Discord."
        if args.json:
            nothing = Report(0, 0, 0, 0, (), ())
            print(json_line({**_report_payload(nothing, path), "note": empty}))
        else:
            print(terminal_safe(empty))
        return 0
    try:
        r = FeedbackStore(path).report(args.limit)
    except (sqlite3.Error, OSError) as e:
        return fail(f"cannot read the bot's state file {path}: {e}")
    if args.json:
        print(json_line(_report_payload(r, path)))
        return 0
    out = sys.stdout
    print(
        f"{count(r.answers, 'question')} asked, {number(r.unanswered)} not answered · "
        f"feedback: {number(r.thumbs_up)} 👍, {number(r.thumbs_down)} 👎",
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


def forget_user(path: Path, user_id: int, *, as_json: bool) -> int:
    from bot.cli import UsageError

    questions = votes = posts = 0
    if path.exists():
        try:
            # The thread claims first: the answers' deletion then empties the write-ahead log.
            posts = AutoAnswerState(path).forget_user(user_id)
            questions, votes = FeedbackStore(path).forget_user(user_id)
        except sqlite3.Error as e:
            raise UsageError(f"cannot change the bot's state file {path}: {e}") from None
    if as_json:
        payload = {"user_id": user_id, "questions": questions, "votes": votes, "posts": posts}
        print(json.dumps(payload))
    else:
        print(
            f"Deleted what was stored about member {user_id}: "
            f"{count(questions, 'question')}, {count(votes, 'vote')}, "
            f"{count(posts, 'auto-answered post')}."
        )
    return 0
