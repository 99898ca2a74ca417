"""How services in `bot/` talk to people without knowing Discord: DMs and channel posts.

`Messenger` is the one object every service sends through; `bot.app.build_services` creates
it. Whatever actually delivers messages (a `MessageTransport`: the Discord client's
`bot.discord_bot.DiscordTransport`, the demo's file writer, a test's recorder) attaches itself
to it when it connects. Until then the messenger is *not connected*: a DM is reported as not
delivered and a post raises `NotConnected`, so a post waits and is retried (the daily run
records nothing for it). Message bodies are plain data (`bot.render.leaderboard.EmbedContent`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.render.leaderboard import EmbedContent

log = logging.getLogger(__name__)


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


class NotConnected(Exception):
    """No transport is attached yet (the Discord client has not connected)."""


class MessageTransport(Protocol):
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


class Messenger:
    """Sends through the attached transport; built once, before any client exists."""

    def __init__(self) -> None:
        self._transport: MessageTransport | None = None

    def attach(self, transport: MessageTransport) -> None:
        """Route messages through `transport` from now on (the client has connected)."""
        self._transport = transport

    def detach(self, transport: MessageTransport) -> None:
        """Stop using `transport` (its client is closing); a newer one stays attached."""
        if self._transport is transport:
            self._transport = None

    @property
    def connected(self) -> bool:
        return self._transport is not None

    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        """DM a user; False when their DMs are closed, or nothing is connected yet."""
        transport = self._transport
        if transport is None:
            log.info("no Discord client connected: a DM was not sent")
            return False
        return await transport.send_dm(
            user_id, content=content, embed=embed, buttons=buttons, files=files
        )

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
    ) -> int:
        """Post in a channel and return the message id; raises `ChannelUnavailable`, or
        `NotConnected` before a client is connected (the caller retries later)."""
        transport = self._transport
        if transport is None:
            raise NotConnected("no Discord client is connected yet")
        return await transport.post(channel_id, content=content, embed=embed, files=files)
