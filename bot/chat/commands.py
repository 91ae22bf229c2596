"""Slash commands (/ask, /sources, /reindex) and the @mention / DM handler.

No ``from __future__ import annotations`` here: discord.py reads the ``question`` parameter's
annotation at definition time, and its length limit comes from the settings.
"""

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import __version__
from bot.chat import embeds
from bot.chat.replies import APOLOGY, NO_MENTIONS, defer, reply
from bot.engine import QuestionError
from bot.index import IndexWriteError
from bot.ingest import CorpusError
from bot.models import UpdateReport
from bot.render.numbers import count, number

if TYPE_CHECKING:
    from bot.chat.client import CitebotBot

log = logging.getLogger("citebot.chat")

REFUSAL = (
    "Sorry — only members with **Manage Server** (or the bot's configured owners) can re-index."
)
BUSY = "A re-index is already running; its report will appear where it was asked for."
SOURCES_LISTED = 20


def may_reindex(bot: "CitebotBot", interaction: discord.Interaction[Any]) -> bool:
    if interaction.user.id in bot.settings.owner_ids:
        return True
    # Resolved permissions in this channel, as Discord sends them with the interaction.
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def reindex_failure(error: Exception) -> str:
    """What the user is told when a re-index fails: the kind of failure, never a path."""
    if isinstance(error, CorpusError):
        why = "the documents folder cannot be read"
    else:
        why = "the index folder cannot be written (disk full or read-only)"
    return (
        f"Re-index failed: {why}. Still answering from the old index; details are in the bot's log."
    )


def describe_update(report: UpdateReport) -> list[str]:
    s = report.stats

    def names(items: tuple[str, ...]) -> str:
        shown = ", ".join(embeds.escape(x) for x in items[:5])
        return f" ({shown}{', …' if len(items) > 5 else ''})" if items else ""

    lines = []
    if report.rebuilt_because:
        lines.append(f"Rebuilt from scratch: {embeds.escape(report.rebuilt_because)}")
    lines += [
        f"**Added:** {number(len(report.added))}{names(report.added)}",
        f"**Changed:** {number(len(report.changed))}{names(report.changed)}",
        f"**Removed:** {number(len(report.removed))}{names(report.removed)}",
        f"**Unchanged:** {number(report.unchanged)}",
    ]
    if report.skipped:
        skipped = tuple(x for x, _ in report.skipped)
        lines.append(f"**Skipped:** {number(len(skipped))}{names(skipped)}")
    lines.append(
        f"Now {count(s.documents, 'document')}, {count(s.chunks, 'chunk')} · "
        f"took {report.seconds:.2f} s"
    )
    return lines


def install(bot: "CitebotBot") -> None:
    limit = bot.settings.max_question_chars
    tree = bot.tree

    @tree.command(name="ask", description="Ask a question; the answer is quoted from the documents")
    @app_commands.describe(question="What do you want to know?")
    async def ask(
        interaction: discord.Interaction[Any], question: app_commands.Range[str, 1, limit]
    ) -> None:
        # Counted before the question is checked: a stream of blank questions is a stream too.
        wait = bot.cooldown.hit(interaction.user.id)
        if wait is not None:
            await reply(interaction, content=bot.cooldown.message(wait), ephemeral=True)
            return
        problem = bot.check_question(question)
        if problem:
            await reply(interaction, content=problem, ephemeral=True)
            return
        async with bot.acknowledging:
            await defer(interaction)
        async with bot.answering:
            try:
                embed, view = await bot.answer(question, interaction.user.id)
            except QuestionError as e:
                await reply(interaction, content=str(e), ephemeral=True)
                return
            await reply(interaction, embed=embed, view=view)

    @tree.command(name="sources", description="What the bot knows: documents, chunks, last indexed")
    async def sources(interaction: discord.Interaction[Any]) -> None:
        stats, names = await asyncio.to_thread(lambda: (bot.engine.stats, bot.engine.sources()))
        lines = [
            f"**Documents:** {number(stats.documents)}",
            f"**Chunks:** {number(stats.chunks)}",
            f"**Tokens:** {number(stats.tokens)}",
            f"**Last indexed:** <t:{int(stats.built_at)}:f> (<t:{int(stats.built_at)}:R>)",
            f"**Version:** citebot {__version__}",
            "",
        ]
        lines += [f"• {embeds.escape(n)}" for n in names[:SOURCES_LISTED]]
        if len(names) > SOURCES_LISTED:
            lines.append(f"… and {number(len(names) - SOURCES_LISTED)} more")
        if interaction.guild_id is not None:
            auto = bot.autoanswer.channels_of(interaction.guild_id)
            listed = ", ".join(f"<#{c}>" for c in auto[:SOURCES_LISTED]) or "none"
            lines += ["", f"**Auto-answers new posts in:** {listed}"]
        await reply(interaction, embed=embeds.text_embed("What I know", lines), ephemeral=True)

    @tree.command(name="reindex", description="Re-read the documents folder (Manage Server only)")
    async def reindex(interaction: discord.Interaction[Any]) -> None:
        if not may_reindex(bot, interaction):
            await reply(interaction, content=REFUSAL, ephemeral=True)
            return
        if bot.reindex_lock.locked():
            await reply(interaction, content=BUSY, ephemeral=True)
            return
        async with bot.reindex_lock:
            # Ephemeral: the report is for whoever asked, and a failure's details are not for
            # the channel.
            await defer(interaction, ephemeral=True)
            t0 = time.perf_counter()
            try:
                # The engine keeps answering from the old index until this swaps the new one in.
                report = await asyncio.to_thread(bot.refresh_index)
            except (CorpusError, IndexWriteError) as e:
                # The message names server paths: the log gets it, the user a reason without.
                log.error("re-index failed: %s", e)
                await reply(interaction, content=reindex_failure(e), ephemeral=True)
                return
            log.info("re-indexed in %.2f s: %s", time.perf_counter() - t0, report)
        title = "Re-indexed" if report.changed_anything else "Re-indexed: nothing changed"
        await reply(
            interaction, embed=embeds.text_embed(title, describe_update(report)), ephemeral=True
        )

    @tree.error
    async def on_tree_error(
        interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await bot.apologise(interaction, "command")


def strip_mentions(bot: "CitebotBot", content: str) -> str:
    assert bot.user is not None
    return re.sub(rf"<@!?{bot.user.id}>", " ", content).strip()


async def handle_message(bot: "CitebotBot", message: discord.Message) -> None:
    """Answer messages that mention the bot (channels, threads) and every DM, as a reply."""
    if message.author.bot or bot.user is None:
        return
    in_dm = message.guild is None
    if not in_dm and not any(u.id == bot.user.id for u in message.mentions):
        return
    question = strip_mentions(bot, message.content)
    try:
        # Every message that reaches the bot counts, empty and over-long ones included.
        wait = bot.cooldown.hit(message.author.id)
        if wait is not None:
            await message.reply(
                bot.cooldown.message(wait), allowed_mentions=NO_MENTIONS, mention_author=False
            )
            return
        problem = bot.check_question(question)
        if problem:
            await message.reply(problem, allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        async with bot.answering:
            try:
                embed, view = await bot.answer(question, message.author.id)
            except QuestionError as e:
                await message.reply(str(e), allowed_mentions=NO_MENTIONS, mention_author=False)
                return
            await message.reply(
                embed=embed,
                view=view or discord.utils.MISSING,
                allowed_mentions=NO_MENTIONS,
                mention_author=False,
            )
    except Exception:
        log.exception(
            "mention failed (message %s, user %s, guild %s, channel %s)",
            message.id,
            message.author.id,
            message.guild.id if message.guild else None,
            message.channel.id,
        )
        try:
            await message.reply(
                APOLOGY,
                allowed_mentions=NO_MENTIONS,
                mention_author=False,
            )
        except Exception:
            log.exception("could not send the apology for message %s", message.id)
