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
WHY_PREFIX = "citebot:why:"
PUBLIC_PREFIX = "citebot:public:"
SOLVED_PREFIX = "citebot:solved:"


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


class WhyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"citebot:why:(?P<id>[0-9]+)"
):
    def __init__(self, answer_id: int) -> None:
        self.answer_id = answer_id
        super().__init__(
            discord.ui.Button(
                label="Why this answer?",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{WHY_PREFIX}{answer_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> WhyButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.chat.explain import show_why

        await show_why(_bot(interaction), interaction, self.answer_id)


class PublicButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"citebot:public:(?P<id>[0-9]+)"
):
    """Under an answer only its asker sees: post it for everyone."""

    def __init__(self, answer_id: int) -> None:
        self.answer_id = answer_id
        super().__init__(
            discord.ui.Button(
                label="Post publicly",
                style=discord.ButtonStyle.primary,
                custom_id=f"{PUBLIC_PREFIX}{answer_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PublicButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.chat.explain import post_publicly

        await post_publicly(_bot(interaction), interaction, self.answer_id)


class SolvedButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"citebot:solved:(?P<id>[0-9]+):(?P<owner>[0-9]+)",
):
    """Under an unasked-for answer in a forum post: its author says the answer solved it."""

    def __init__(self, answer_id: int, owner_id: int) -> None:
        self.answer_id = answer_id
        self.owner_id = owner_id
        super().__init__(
            discord.ui.Button(
                label="This solved it",
                style=discord.ButtonStyle.success,
                custom_id=f"{SOLVED_PREFIX}{answer_id}:{owner_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SolvedButton:
        return cls(int(match["id"]), int(match["owner"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.chat.autoanswer import mark_solved

        await mark_solved(_bot(interaction), interaction, self.answer_id, self.owner_id)


DYNAMIC_ITEMS = (SourceButton, VoteButton, WhyButton, PublicButton, SolvedButton)


def answer_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SourceButton(answer_id))
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    view.add_item(WhyButton(answer_id))
    return view


def private_view(answer_id: int) -> discord.ui.View:
    """Under an answer only its asker sees (the "Ask citebot" message menu)."""
    view = discord.ui.View(timeout=None)
    view.add_item(PublicButton(answer_id))
    view.add_item(WhyButton(answer_id))
    return view


def autoanswer_view(answer_id: int, owner_id: int) -> discord.ui.View:
    """Under an unasked-for answer in a post: the usual buttons and "This solved it"."""
    view = answer_view(answer_id)
    view.add_item(SolvedButton(answer_id, owner_id))
    return view
