"""How services in `bot/` talk to people without knowing Discord: DMs and channel posts.

The Discord client implements `Messenger` (`bot.discord_bot.DiscordMessenger`); tests and the
demo can pass their own. Message bodies are plain data (`bot.render.leaderboard.EmbedContent`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.render.leaderboard import EmbedContent


@dataclass(frozen=True, slots=True)
class LinkButton:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes


class ChannelUnavailable(Exception):
    """The channel is gone or the bot may not post there; the message says which permission."""


class Messenger(Protocol):
    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        """DM a user; False when their DMs are closed or they cannot be reached."""
        ...

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
    ) -> int:
        """Post in a channel and return the message id; raises `ChannelUnavailable`."""
        ...
