"""Sending a reply whatever state the interaction is in.

Discord gives an interaction 3 s for its first response and its token 15 min for follow-ups.
``reply`` uses the first response while it is free, a follow-up once it is taken, and a plain
channel message when the token is gone (10062 unknown interaction, 10015 unknown webhook, or
older than 15 minutes). Every path passes ``AllowedMentions.none()`` explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import discord
from discord.utils import MISSING

log = logging.getLogger("citebot.chat")

APOLOGY = "Sorry — something went wrong while answering. It has been logged; please try again."
NO_MENTIONS = discord.AllowedMentions.none()
UNKNOWN_INTERACTION = 10062
UNKNOWN_WEBHOOK = 10015
ALREADY_ACKNOWLEDGED = 40060
INVALID_WEBHOOK_TOKEN = 50027  # what a follow-up gets once the 15-minute token has expired
GONE = (UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN)
FOLLOWUP_LIFETIME = dt.timedelta(minutes=15)


def token_expired(interaction: discord.Interaction[Any]) -> bool:
    return discord.utils.utcnow() - interaction.created_at > FOLLOWUP_LIFETIME - dt.timedelta(
        seconds=30
    )


async def to_channel(
    interaction: discord.Interaction[Any],
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> None:
    channel = interaction.channel
    if channel is None or not hasattr(channel, "send"):
        log.warning(
            "interaction %s expired and its channel is unknown; reply dropped", interaction.id
        )
        return
    await channel.send(  # type: ignore[union-attr]
        content=content, embed=embed, view=view or MISSING, allowed_mentions=NO_MENTIONS
    )


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> bool:
    """Acknowledge at once; False when Discord no longer knows the interaction."""
    try:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        return True
    except discord.NotFound as e:
        if e.code != UNKNOWN_INTERACTION:
            raise
        log.warning("interaction %s expired before it was acknowledged", interaction.id)
        return False
    except discord.HTTPException as e:
        if e.code != ALREADY_ACKNOWLEDGED:
            raise
        return True


async def reply(
    interaction: discord.Interaction[Any],
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = False,
    channel_fallback: bool = True,
) -> None:
    send: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
    if embed is not None:
        send["embed"] = embed
    if view is not None:
        send["view"] = view
    if not token_expired(interaction):
        try:
            if not interaction.response.is_done():
                try:
                    await interaction.response.send_message(ephemeral=ephemeral, **send)
                    return
                except discord.HTTPException as e:
                    if e.code != ALREADY_ACKNOWLEDGED:
                        raise
            await interaction.followup.send(ephemeral=ephemeral, **send)
            return
        except discord.HTTPException as e:
            if e.code not in GONE:
                raise
    if not channel_fallback:
        log.warning("interaction %s expired; ephemeral reply dropped", interaction.id)
        return
    log.info("interaction %s token no longer valid; replying in the channel", interaction.id)
    await to_channel(interaction, content=content, embed=embed, view=view)
