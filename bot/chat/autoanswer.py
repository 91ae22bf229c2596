"""Answering new forum posts (and new threads of a text channel) nobody asked the bot about.

Opt-in per channel (``/autoanswer``, stored in the state file). A thread qualifies when the bot
saw it created (THREAD_CREATE with ``newly_created``) in an enabled channel; its first message
by its author (in a forum: the starter message, whose id is the thread's) makes the question,
with the thread's title. The bot replies in the thread only when the answer clears the stricter
``autoanswer_min_confidence``, at most once per thread (claimed in the state file) and at most
``autoanswer_rate`` times per server per window; below the threshold it stays silent. Posts wait
in a bounded queue and are dropped, not delayed, beyond it, so a burst of posts costs at most a
queue's worth of answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from bot.autoanswer_state import AutoAnswerState
from bot.chat import embeds
from bot.chat.cooldown import Cooldown
from bot.chat.explain import clip_question
from bot.chat.replies import NO_MENTIONS, reply
from bot.chat.views import autoanswer_view
from bot.engine import QuestionError

if TYPE_CHECKING:
    from bot.chat.client import CitebotBot

log = logging.getLogger("citebot.chat")

# Threads created recently and still waiting for their first message; older ones are forgotten
# (their first message would have come within moments of the thread).
WAITING_MAX = 1000
SOLVED_TAG = "solved"
MAX_TAGS = 5  # Discord's limit of tags on one post
REFUSAL = "Sorry — only members with **Manage Server** (or the bot's owners) can change this."
NOT_AUTHOR = "Only the author of this post can mark it solved."


@dataclass(frozen=True, slots=True)
class Post:
    guild_id: int
    thread_id: int
    owner_id: int
    question: str


@dataclass(frozen=True, slots=True)
class _Waiting:
    guild_id: int
    owner_id: int
    title: str


class AutoAnswer:
    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        s = bot.settings
        self.state = AutoAnswerState(s.db_path)
        self.min_confidence = s.autoanswer_min_confidence
        self.per_server = Cooldown(s.autoanswer_rate, s.autoanswer_seconds)
        self.queue: asyncio.Queue[Post] = asyncio.Queue(maxsize=s.autoanswer_queue)
        self._waiting: OrderedDict[int, _Waiting] = OrderedDict()
        # Forum starter messages that came before their THREAD_CREATE (events of two kinds
        # carry no promise of order), kept until it comes.
        self._early: OrderedDict[int, discord.Message] = OrderedDict()
        # Enabled channels, read once at start and kept in step by ``set_channel``: a new
        # post's first message follows its thread at once, so the check must not wait.
        self.channels: dict[int, int] = {}  # channel → its server
        self._worker: asyncio.Task[None] | None = None
        self.dropped = 0  # posts dropped because the queue was full
        self.replied = 0

    async def start(self) -> None:
        self.channels = await asyncio.to_thread(self.state.channels)
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="citebot-autoanswer")

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    # --- events ---------------------------------------------------------------------------

    async def set_channel(self, guild_id: int, channel_id: int, on: bool, by: int) -> None:
        await asyncio.to_thread(self.state.set_channel, guild_id, channel_id, on, by)
        if on:
            self.channels[channel_id] = guild_id
        else:
            self.channels.pop(channel_id, None)

    def channels_of(self, guild_id: int) -> list[int]:
        return [c for c, g in self.channels.items() if g == guild_id]

    def thread_created(self, thread: discord.Thread) -> None:
        me = self.bot.user
        if me is None or thread.owner_id in (None, me.id) or thread.parent_id is None:
            return
        if thread.parent_id not in self.channels:
            return
        self._waiting[thread.id] = _Waiting(thread.guild.id, thread.owner_id, thread.name)
        while len(self._waiting) > WAITING_MAX:
            self._waiting.popitem(last=False)
        early = self._early.pop(thread.id, None)
        if early is not None:
            self.first_message(early)

    def first_message(self, message: discord.Message) -> bool:
        """Queue ``message`` when it opens a thread waiting for one; True when it did (the
        caller answers it no other way). A post that mentions the bot asks it: the mention
        is answered as usual and the post gets no unasked-for reply besides."""
        waiting = self._waiting.get(message.channel.id)
        if waiting is None and message.id == message.channel.id and not message.author.bot:
            self._early[message.id] = message
            while len(self._early) > WAITING_MAX:
                self._early.popitem(last=False)
        if waiting is None or message.author.id != waiting.owner_id or message.author.bot:
            return False
        del self._waiting[message.channel.id]
        me = self.bot.user
        if me is not None and any(u.id == me.id for u in message.mentions):
            return False
        # Without the Message Content intent ``content`` is empty: the title is the question.
        text = f"{waiting.title}\n{message.content}" if message.content else waiting.title
        question = clip_question(text, self.bot.settings.max_question_chars)
        post = Post(waiting.guild_id, message.channel.id, waiting.owner_id, question)
        try:
            self.queue.put_nowait(post)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("auto-answer queue full; post %s not answered", post.thread_id)
        return True

    # --- answering ------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            post = await self.queue.get()
            try:
                await self._answer(post)
            except Exception:
                log.exception("auto-answer failed (thread %s)", post.thread_id)
            finally:
                self.queue.task_done()

    async def _answer(self, post: Post) -> None:
        bot = self.bot
        if bot.check_question(post.question) is not None:
            return
        async with bot.answering:
            try:
                answer = await bot.answers.ask(post.question, bot.settings.top_k)
            except QuestionError:
                return
        if not answer.answered or answer.confidence < self.min_confidence:
            log.info(
                "post %s not answered: confidence %.2f below %.2f",
                post.thread_id,
                answer.confidence,
                self.min_confidence,
            )
            return
        if self.per_server.hit(post.guild_id) is not None:
            log.info("post %s not answered: the server's auto-answer limit", post.thread_id)
            return
        thread = bot.get_channel(post.thread_id)
        if not isinstance(thread, discord.Thread):
            return
        claimed = await asyncio.to_thread(
            self.state.claim_thread, post.guild_id, post.thread_id, post.owner_id
        )
        if not claimed:
            return
        try:
            answer_id = await asyncio.to_thread(bot.store.record_answer, answer, post.owner_id)
            await thread.send(
                embed=embeds.answer_embed(answer),
                view=autoanswer_view(answer_id, post.owner_id),
                allowed_mentions=NO_MENTIONS,
            )
        except Exception:
            await asyncio.to_thread(self.state.release_thread, post.thread_id)
            raise
        self.replied += 1


async def mark_solved(
    bot: CitebotBot, interaction: discord.Interaction[Any], answer_id: int, owner_id: int
) -> None:
    """The post's author says the answer solved it: a 👍 for the answer, and the forum's
    "Solved" tag on the post when the forum has one."""
    try:
        if interaction.user.id != owner_id:
            await reply(interaction, content=NOT_AUTHOR, ephemeral=True, channel_fallback=False)
            return
        await asyncio.to_thread(bot.store.vote, answer_id, owner_id, 1)
        text = "Glad it helped — marked as solved."
        thread = interaction.channel
        parent = thread.parent if isinstance(thread, discord.Thread) else None
        tag = None
        if isinstance(parent, discord.ForumChannel):
            tag = next((t for t in parent.available_tags if t.name.casefold() == SOLVED_TAG), None)
        if tag is None or not isinstance(thread, discord.Thread):
            text = "Glad it helped — noted. (This forum has no “Solved” tag to apply.)"
        elif tag not in thread.applied_tags:
            if len(thread.applied_tags) >= MAX_TAGS:
                text = "Glad it helped — noted. (The post already has 5 tags, the most allowed.)"
            else:
                try:
                    await thread.add_tags(tag, reason="marked solved by its author")
                except discord.Forbidden:
                    text = (
                        "Glad it helped — noted. (I may not apply the “Solved” tag here: I need "
                        "the Manage Threads permission.)"
                    )
        await reply(interaction, content=text, ephemeral=True, channel_fallback=False)
    except Exception:
        await bot.apologise(interaction, "this solved it", answer_id=answer_id)


def may_configure(bot: CitebotBot, interaction: discord.Interaction[Any]) -> bool:
    if interaction.user.id in bot.settings.owner_ids:
        return True
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def install(bot: CitebotBot, auto: AutoAnswer) -> None:
    @bot.tree.command(
        name="autoanswer",
        description="Answer new posts in a forum or channel unasked (Manage Server only)",
    )
    @app_commands.describe(
        channel="The forum (or text channel) whose new posts get an answer",
        state="on or off",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def autoanswer(
        interaction: discord.Interaction[Any],
        channel: discord.ForumChannel | discord.TextChannel,
        state: Literal["on", "off"],
    ) -> None:
        if not may_configure(bot, interaction) or interaction.guild_id is None:
            await reply(interaction, content=REFUSAL, ephemeral=True)
            return
        on = state == "on"
        await auto.set_channel(interaction.guild_id, channel.id, on, interaction.user.id)
        if on:
            how = "title and first message" if bot.settings.message_content else "title"
            text = (
                f"Auto-answer is **on** in <#{channel.id}>: I reply to a new post there (read "
                f"from its {how}) when my answer's confidence is at least "
                f"{auto.min_confidence:.2f}, and stay silent otherwise."
            )
        else:
            text = f"Auto-answer is **off** in <#{channel.id}>."
        await reply(interaction, content=text, ephemeral=True)
