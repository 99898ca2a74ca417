"""The tests' Discord: `RecordingTransport`, and `connected(transport)` to send through it.

`RecordingTransport` is a `bot.notify.MessageTransport` that records what Discord would
deliver: channel posts (`Post`) and DMs (`SentDM`). It behaves as Discord does: a repeated
`nonce` within a few minutes returns the first message instead of creating another,
`find_post` finds the bot's post in a channel's history by its attachment's name, a user
with closed DMs is not reached.

Switches, each off by default: `dms_open`, `fail_next_dm` (the next DM raises), `unavailable`
channels (posts there raise `ChannelUnavailable`), `history_readable`, `fail_with` (every post
fails), `fail_in` (posts in one channel fail), `fail_after_sending` (the next post is created,
then its answer fails), `kill` (the process dies before or after Discord stored the next post:
`Killed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from bot.clock import Clock, SystemClock
from bot.notify import Attachment, ChannelUnavailable, LinkButton, MessageTransport, Messenger
from bot.render.leaderboard import EmbedContent

NONCE_WINDOW = dt.timedelta(minutes=5)  # Discord: "checked for uniqueness in the past few minutes"
FIRST_MESSAGE_ID = 9000


def connected(transport: MessageTransport) -> Messenger:
    """A messenger that sends through `transport` (a recording double)."""
    messenger = Messenger()
    messenger.attach(transport)
    return messenger


@dataclass(frozen=True)
class Post:
    """A message Discord created in a channel."""

    channel_id: int
    content: str | None
    embed: EmbedContent | None
    files: tuple[Attachment, ...]
    message_id: int
    nonce: str | None
    at: dt.datetime  # when Discord created it


@dataclass(frozen=True)
class SentDM:
    """A DM that reached its user."""

    user_id: int
    content: str | None
    embed: EmbedContent | None
    buttons: tuple[LinkButton, ...]
    files: tuple[Attachment, ...]

    @property
    def text(self) -> str:
        """Everything the user reads: the content and the embed's title, text and fields."""
        parts = [self.content or ""]
        if self.embed is not None:
            parts += [self.embed.title, self.embed.description, self.embed.footer]
            parts += [f"{f.name} {f.value}" for f in self.embed.fields]
        return "\n".join(parts)


class Killed(BaseException):
    """The process died here: nothing after this point runs, no handler sees it."""


class Kill(Enum):
    """Where the process dies in the middle of a post."""

    BEFORE_SEND = "before_send"  # the request never reached Discord
    AFTER_SEND = "after_send"  # Discord created the message; the answer never came back


@dataclass
class RecordingTransport:
    """Records posts and DMs as Discord would deliver them; see the module for its switches."""

    clock: Clock = field(default_factory=SystemClock)
    posts: list[Post] = field(default_factory=list)
    dms: list[SentDM] = field(default_factory=list)
    attempts: list[str | None] = field(default_factory=list)  # the nonce of every post sent
    dms_open: bool = True  # False: every user has closed their DMs
    fail_next_dm: Exception | None = None  # the next DM raises this (and is not sent)
    unavailable: set[int] = field(default_factory=set)  # channels the bot cannot see
    history_readable: bool = True  # False: no Read Message History in any channel
    fail_with: Exception | None = None  # every post fails with this
    fail_in: dict[int, Exception] = field(default_factory=dict)  # posts in that channel fail
    # The next post creates its message, then fails with this (a timeout, a 5xx).
    fail_after_sending: Exception | None = None
    kill: Kill | None = None  # the next post dies there (once)

    def to(self, user_id: int) -> list[SentDM]:
        """The DMs that reached `user_id`, in order."""
        return [dm for dm in self.dms if dm.user_id == user_id]

    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        if self.fail_next_dm is not None:
            error, self.fail_next_dm = self.fail_next_dm, None
            raise error
        if not self.dms_open:
            return False
        self.dms.append(SentDM(user_id, content, embed, tuple(buttons), tuple(files)))
        return True

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
        nonce: str | None = None,
    ) -> int:
        self.attempts.append(nonce)
        if self.fail_with is not None:
            raise self.fail_with
        if channel_id in self.fail_in:
            raise self.fail_in[channel_id]
        self._check_visible(channel_id)
        if self.kill is Kill.BEFORE_SEND:
            self.kill = None
            raise Killed
        assert content or embed or files, "Discord refuses an empty message"
        earlier = self._with_nonce(nonce)
        if earlier is None:
            message_id = self._create(channel_id, content, embed, files, nonce)
        else:
            message_id = earlier.message_id
        if self.kill is Kill.AFTER_SEND:
            self.kill = None
            raise Killed
        if self.fail_after_sending is not None:
            error, self.fail_after_sending = self.fail_after_sending, None
            raise error
        return message_id

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        self._check_visible(channel_id)
        if not self.history_readable:
            raise ChannelUnavailable(f"I need Read Message History in <#{channel_id}>")
        for post in self.posts:
            names = [attachment.filename for attachment in post.files]
            if post.channel_id == channel_id and attachment_name in names and post.at > after:
                return post.message_id
        return None

    def _check_visible(self, channel_id: int) -> None:
        if channel_id in self.unavailable:
            raise ChannelUnavailable(f"I cannot see the channel <#{channel_id}>")

    def _with_nonce(self, nonce: str | None) -> Post | None:
        if nonce is None:
            return None
        since = self.clock.now() - NONCE_WINDOW
        return next((p for p in self.posts if p.nonce == nonce and p.at >= since), None)

    def _create(
        self,
        channel_id: int,
        content: str | None,
        embed: EmbedContent | None,
        files: Sequence[Attachment],
        nonce: str | None,
    ) -> int:
        message_id = FIRST_MESSAGE_ID + len(self.posts)
        at = self.clock.now()
        self.posts.append(Post(channel_id, content, embed, tuple(files), message_id, nonce, at))
        return message_id
