"""A `Messenger` with a test transport attached, as a connected Discord client would be."""

from __future__ import annotations

from bot.notify import MessageTransport, Messenger


def connected(transport: MessageTransport) -> Messenger:
    """A messenger that sends through `transport` (a recording double)."""
    messenger = Messenger()
    messenger.attach(transport)
    return messenger
