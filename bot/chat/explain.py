"""Asking about any message and seeing why: the "Ask citebot" message menu (an answer only
the asker sees, with a button to post it), "Post publicly" and "Why this answer?".

The buttons carry only the stored answer's id; the question is read back from the state file
and asked again, which the engine answers from its cache while the index is unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.chat import embeds
from bot.chat.replies import defer, reply
from bot.chat.views import answer_view, private_view
from bot.engine import QuestionError

if TYPE_CHECKING:
    from bot.chat.client import CitebotBot

log = logging.getLogger("citebot.chat")

MENU_NAME = "Ask citebot"
NO_TEXT = "That message has no text to ask about."
GONE = "That answer is no longer stored."


def clip_question(text: str, limit: int) -> str:
    """``text`` as one line, cut at a word boundary to at most ``limit`` characters: a post or a
    message someone else wrote is not held to the question limit, its start is asked."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit + 1)
    return flat[: cut if cut > limit // 2 else limit]


async def ask_about_message(
    bot: CitebotBot, interaction: discord.Interaction[Any], message: discord.Message
) -> None:
    # Counted before the text is looked at, as /ask and messages are: empty asks count too.
    wait = bot.cooldown.hit(interaction.user.id)
    if wait is not None:
        await reply(interaction, content=bot.cooldown.message(wait), ephemeral=True)
        return
    question = clip_question(message.content, bot.settings.max_question_chars)
    if not question:
        await reply(interaction, content=NO_TEXT, ephemeral=True)
        return
    async with bot.acknowledging:
        await defer(interaction, ephemeral=True)
    async with bot.answering:
        try:
            answer = await bot.answers.ask(question, bot.settings.top_k)
        except QuestionError as e:
            await reply(interaction, content=str(e), ephemeral=True)
            return
        answer_id = await asyncio.to_thread(bot.store.record_answer, answer, interaction.user.id)
    view = private_view(answer_id) if answer.answered else None
    embed = embeds.answer_embed(answer)
    await reply(interaction, embed=embed, view=view, ephemeral=True, channel_fallback=False)


async def show_why(bot: CitebotBot, interaction: discord.Interaction[Any], answer_id: int) -> None:
    try:
        stored = await asyncio.to_thread(bot.store.answer, answer_id)
        if stored is None:
            await reply(interaction, content=GONE, ephemeral=True, channel_fallback=False)
            return
        async with bot.acknowledging:
            await defer(interaction, ephemeral=True)
        async with bot.answering:
            answer = await bot.answers.ask(stored.question, bot.settings.top_k, explain=True)
        assert answer.explanation is not None
        changed = answer.answered != stored.answered or answer.answer != stored.answer
        embed = embeds.explain_embed(answer, answer.explanation, changed=changed)
        await reply(interaction, embed=embed, ephemeral=True, channel_fallback=False)
    except Exception:
        await bot.apologise(interaction, "why this answer", answer_id=answer_id)


async def post_publicly(
    bot: CitebotBot, interaction: discord.Interaction[Any], answer_id: int
) -> None:
    try:
        stored = await asyncio.to_thread(bot.store.answer, answer_id)
        if stored is None:
            await reply(interaction, content=GONE, ephemeral=True, channel_fallback=False)
            return
        async with bot.acknowledging:
            await defer(interaction)
        async with bot.answering:
            answer = await bot.answers.ask(stored.question, bot.settings.top_k)
        view = answer_view(answer_id) if answer.answered else None
        await reply(interaction, embed=embeds.answer_embed(answer), view=view)
    except Exception:
        await bot.apologise(interaction, "post publicly", answer_id=answer_id)


def install(bot: CitebotBot) -> None:
    async def ask_citebot(interaction: discord.Interaction[Any], message: discord.Message) -> None:
        await ask_about_message(bot, interaction, message)

    bot.tree.add_command(app_commands.ContextMenu(name=MENU_NAME, callback=ask_citebot))
