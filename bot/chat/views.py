"""The buttons under an answer. Their state (which answer) lives in the ``custom_id``, so they
keep working after the bot restarts: discord.py routes any matching click to these classes."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.chat.client import CitebotBot

log = logging.getLogger("citebot.chat")

SOURCE_PREFIX = "citebot:source:"
VOTE_PREFIX = "citebot:vote:"


def _bot(interaction: discord.Interaction[Any]) -> CitebotBot:
    return interaction.client  # type: ignore[return-value]


class SourceButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"citebot:source:(?P<id>[0-9]+)"
):
    def __init__(self, answer_id: int) -> None:
        self.answer_id = answer_id
        super().__init__(
            discord.ui.Button(
                label="Show source",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{SOURCE_PREFIX}{answer_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SourceButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _bot(interaction).show_source(interaction, self.answer_id)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"citebot:vote:(?P<vote>up|down):(?P<id>[0-9]+)",
):
    def __init__(self, answer_id: int, vote: str) -> None:
        self.answer_id = answer_id
        self.vote = 1 if vote == "up" else -1
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{VOTE_PREFIX}{vote}:{answer_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["id"]), match["vote"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _bot(interaction).record_vote(interaction, self.answer_id, self.vote)


def answer_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SourceButton(answer_id))
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
