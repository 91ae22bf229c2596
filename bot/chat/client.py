"""The Discord client: one ``commands.Bot`` holding the engine, the state store and the
cooldown. Answers run in worker processes (``bot.chat.answering``) and every other call into
the core goes through ``asyncio.to_thread``, so the event loop (and with it heartbeats and the
3-second interaction deadline) never waits on retrieval or indexing.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
from typing import Any

import discord
import yarl
from discord.ext import commands, tasks

from bot.chat import embeds
from bot.chat.answering import AnswerPool
from bot.chat.autoanswer import AutoAnswer
from bot.chat.cooldown import Cooldown
from bot.chat.replies import APOLOGY, NO_MENTIONS, reply
from bot.chat.views import DYNAMIC_ITEMS, answer_view
from bot.config import Settings
from bot.engine import Engine, QuestionError
from bot.feedback import FeedbackStore
from bot.models import UpdateReport
from bot.render.numbers import count, number

log = logging.getLogger("citebot.chat")


def point_at(settings: Settings) -> None:
    """Use ``settings``' REST and gateway endpoints (Discord's own by default; a compatible
    self-hosted server or the test stand-in otherwise). discord.py reads both from class
    attributes, so this is process-wide."""
    discord.http.Route.BASE = settings.api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def printable(text: str) -> str:
    """Text from Discord as it may reach a log or terminal: control characters escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def settle_heap(collect: bool = True) -> None:
    """Hide every object alive now (imported modules, the loaded index) from the cyclic garbage
    collector. A full collection walks them all while holding the GIL — measured at ~100 ms with
    only the imports loaded — and that is a stall of the event loop in the middle of answering.
    What is frozen is still freed by reference counting (the old index after a re-index is)."""
    if collect:
        gc.collect()
    gc.freeze()


class CitebotBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: FeedbackStore,
        *,
        force_sync: bool = False,
    ) -> None:
        # The bot never joins voice; without this discord.py warns about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # Default intents only: mentions and DMs carry their content without the privileged
        # message-content intent, and those are the only messages the bot reads, unless the
        # admin opts in so that auto-answer reads a forum post's first message too.
        intents = discord.Intents.default()
        intents.message_content = settings.message_content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=NO_MENTIONS,
        )
        self.settings = settings
        self.engine = engine
        self.store = store
        self.force_sync = force_sync
        self.cooldown = Cooldown(settings.cooldown_rate, settings.cooldown_seconds)
        self.reindex_lock = asyncio.Lock()
        # A burst of interactions makes every handler ready at once, and one loop iteration
        # then runs hundreds of their steps back to back (120 ms for 200 /ask, measured by
        # bench/discord_load.py), late for heartbeats and everything else. Bounding each stage
        # keeps iterations short (stall 68 -> 13 ms; the seed burst then runs 169 rather than 217
        # interactions/s, the 10k one no slower). Acknowledgements have slots of their own so
        # that questions waiting for an answer never hold up the 3-second defer.
        self.acknowledging = asyncio.Semaphore(settings.in_flight)
        self.answering = asyncio.Semaphore(settings.in_flight)
        self.answers = AnswerPool(engine, settings.answer_processes)
        self.autoanswer = AutoAnswer(self)
        self.synced: bool | None = None  # after setup: True if a sync was sent, False if skipped
        self._stop_watching = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        from bot.chat import autoanswer, explain
        from bot.chat.commands import install

        settle_heap()
        await self.answers.start()
        await self.autoanswer.start()
        install(self)
        explain.install(self)
        autoanswer.install(self, self.autoanswer)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.sync_commands()
        if self.settings.keep_days:
            self.prune_state.start()
        if self.settings.watch:
            from bot.chat.watch import watch_corpus

            self._watcher = asyncio.create_task(watch_corpus(self, self._stop_watching))

    async def on_ready(self) -> None:
        user = self.user
        assert user is not None
        s = self.engine.stats
        log.info(
            "logged in as %s (%s) in %s; serving %s, %s from %s",
            printable(user.name),
            user.id,
            count(len(self.guilds), "server"),
            count(s.documents, "document"),
            count(s.chunks, "chunk"),
            self.engine.corpus.resolve(),
        )

    @tasks.loop(hours=24)
    async def prune_state(self) -> None:
        """What is stored about members goes after CITEBOT_KEEP_DAYS: checked at start, then
        daily."""
        days = self.settings.keep_days
        try:
            posts = await asyncio.to_thread(self.autoanswer.state.prune, days)
            removed = await asyncio.to_thread(self.store.prune, days)
        except Exception:
            log.exception("could not delete questions older than %d days", days)
            return
        if removed or posts:
            log.info(
                "deleted %s and %s older than %d days",
                count(removed, "question"),
                count(posts, "auto-answered post"),
                days,
            )

    # --- command sync -------------------------------------------------------------------

    def _sync_key(self, guild: discord.abc.Snowflake | None) -> tuple[str, str]:
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        scope = f"guild:{guild.id}" if guild else "global"
        return f"command_sync:{self.application_id}:{scope}", digest

    async def sync_commands(self) -> None:
        """Sync the command tree only when it differs from what was last synced (hash kept in
        the SQLite file) or when forced: Discord rate-limits command updates, and syncing on
        every start is what gets bots throttled."""
        guild = discord.Object(self.settings.guild_id) if self.settings.guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        key, digest = self._sync_key(guild)
        last = await asyncio.to_thread(self.store.get_meta, key)
        if last == digest and not self.force_sync:
            log.info("commands unchanged since the last sync; not syncing")
            self.synced = False
            return
        synced = await self.tree.sync(guild=guild)
        await asyncio.to_thread(self.store.set_meta, key, digest)
        where = f"server {guild.id}" if guild else "all servers (global; may take up to an hour)"
        log.info("synced %d commands to %s", len(synced), where)
        self.synced = True

    def refresh_index(self) -> UpdateReport:
        """Re-index (in a worker thread); the engine swaps the new index in when complete."""
        report = self.engine.refresh()
        settle_heap(collect=False)  # a collection here would stall answers; see settle_heap
        return report

    # --- answering ----------------------------------------------------------------------

    def check_question(self, question: str) -> str | None:
        """A user-facing reason the question cannot be asked, or None."""
        q = " ".join(question.split())
        if not q:
            return "Please ask a question, e.g. `/ask question: what is …?`"
        limit = self.settings.max_question_chars
        if len(q) > limit:
            return (
                f"That question is too long ({count(len(q), 'character')}; "
                f"the limit is {number(limit)})."
            )
        return None

    async def close(self) -> None:
        self.prune_state.cancel()
        self._stop_watching.set()
        await self.autoanswer.close()
        await super().close()
        if self._watcher is not None:
            # The watcher stops within a step of the event; a re-index it runs finishes first.
            await asyncio.wait({self._watcher}, timeout=10)
        await self.answers.close()

    async def answer(
        self, question: str, user_id: int
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        """Ask the engine off the loop; the embed (and buttons when there is an answer).
        Raises QuestionError with a user-facing message."""
        answer = await self.answers.ask(question, self.settings.top_k)
        answer_id = await asyncio.to_thread(self.store.record_answer, answer, user_id)
        view = answer_view(answer_id) if answer.answered else None
        return embeds.answer_embed(answer), view

    # --- buttons ------------------------------------------------------------------------

    async def show_source(self, interaction: discord.Interaction[Any], answer_id: int) -> None:
        try:
            stored = await asyncio.to_thread(self.store.answer, answer_id)
            if stored is None or stored.passage is None or stored.source is None:
                await reply(interaction, content="That answer is no longer stored.", ephemeral=True)
                return
            embed = embeds.passage_embed(
                stored.source,
                stored.section,
                stored.line,
                stored.passage,
                stored.passage_start or 0,
                stored.passage_end or 0,
            )
            await reply(interaction, embed=embed, ephemeral=True, channel_fallback=False)
        except Exception:
            await self.apologise(interaction, "show source", answer_id=answer_id)

    async def record_vote(
        self, interaction: discord.Interaction[Any], answer_id: int, vote: int
    ) -> None:
        try:
            ok = await asyncio.to_thread(self.store.vote, answer_id, interaction.user.id, vote)
            text = "Thanks — feedback recorded." if ok else "That answer is no longer stored."
            await reply(interaction, content=text, ephemeral=True, channel_fallback=False)
        except Exception:
            await self.apologise(interaction, "vote", answer_id=answer_id)

    # --- errors -------------------------------------------------------------------------

    async def apologise(
        self, interaction: discord.Interaction[Any], what: str, **context: Any
    ) -> None:
        data = interaction.data or {}
        log.exception(
            "%s failed (interaction %s, user %s, guild %s, channel %s, command %r, %s)",
            what,
            interaction.id,
            interaction.user.id if interaction.user else None,
            interaction.guild_id,
            interaction.channel_id,
            data.get("name") or data.get("custom_id"),
            context,
        )
        try:
            await reply(interaction, content=APOLOGY, ephemeral=True)
        except Exception:
            log.exception("could not send the apology for interaction %s", interaction.id)

    async def on_message(self, message: discord.Message) -> None:
        from bot.chat.commands import handle_message

        if self.autoanswer.first_message(message):
            return
        await handle_message(self, message)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.autoanswer.thread_created(thread)


__all__ = ["APOLOGY", "CitebotBot", "QuestionError", "point_at"]
