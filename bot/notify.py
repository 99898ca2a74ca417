"""How services in `bot/` talk to people without knowing Discord: DMs and channel posts.

`Messenger` is the one object every service sends through; `bot.app.build_services` creates
it. Whatever actually delivers messages (a `MessageTransport`: the Discord client's
`bot.discord_bot.DiscordTransport`, the demo's file writer, a test's recorder) attaches itself
to it when it connects. Until then the messenger is *not connected*: a DM is reported as not
delivered and a post raises `NotConnected`, so a post waits and is retried (the daily run
records nothing for it). Message bodies are plain data (`bot.render.leaderboard.EmbedContent`).

A post that must reach its channel exactly once (the daily run's) goes with a `nonce`: sent
again with the same nonce within a few minutes, Discord returns the first message instead of
creating another. Past that, `find_post` looks for it in the channel's recent history, by the
name of its attachment (the nonce is not part of history).
"""

from __future__ import annotations

import datetime as dt
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


NONCE_MAX_LENGTH = 25  # Discord's limit for a message nonce


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
        nonce: str | None = None,
    ) -> int:
        """Post in a channel and return the message id; raises `ChannelUnavailable`.

        With a `nonce`, a repeated post (same nonce, a few minutes apart) creates no second
        message: the first one's id is returned."""
        ...

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        """The id of the bot's own message in the channel, sent after `after`, with an
        attachment called `attachment_name`; None when there is none. Raises
        `ChannelUnavailable` when the bot may not read the channel's history."""
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
        nonce: str | None = None,
    ) -> int:
        """Post in a channel and return the message id; raises `ChannelUnavailable`, or
        `NotConnected` before a client is connected (the caller retries later).

        `nonce` (at most 25 characters) makes a repeated post return the first message
        instead of creating a second; a post without one is sent as it is."""
        transport = self._require_transport()
        if nonce is None:
            return await transport.post(channel_id, content=content, embed=embed, files=files)
        if not 0 < len(nonce) <= NONCE_MAX_LENGTH:
            raise ValueError(f"a nonce has 1 to {NONCE_MAX_LENGTH} characters")
        return await transport.post(
            channel_id, content=content, embed=embed, files=files, nonce=nonce
        )

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        """The bot's own message in the channel since `after` with that attachment, if any;
        raises `ChannelUnavailable`, or `NotConnected` before a client is connected."""
        transport = self._require_transport()
        return await transport.find_post(channel_id, attachment_name=attachment_name, after=after)

    def _require_transport(self) -> MessageTransport:
        transport = self._transport
        if transport is None:
            raise NotConnected("no Discord client is connected yet")
        return transport
