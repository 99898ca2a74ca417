"""Logging for the long-running commands: one format, secrets blanked, one line per retry."""

from __future__ import annotations

import logging

# discord.py logs each gateway reconnect with the whole traceback (`Client.connect`, and
# the shards of an `AutoShardedClient`).
_RECONNECT_MESSAGES = ("Attempting a reconnect", "Failed to connect for shard_id")


class OneLineReconnects(logging.Filter):
    """Shortens discord.py's "Attempting a reconnect in …" records to one line: the reason
    instead of the traceback (an outage writes one line per attempt, not sixty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.name.startswith("discord.")
            and record.exc_info
            and isinstance(record.msg, str)
            and record.msg.startswith(_RECONNECT_MESSAGES)
        ):
            error = record.exc_info[1]
            reason = type(error).__name__ if error is None or not str(error) else str(error)
            record.msg = f"{record.getMessage()} (Discord unreachable: {reason})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(level: str) -> None:
    """Log to stderr, with OAuth states, codes and tokens blanked in every record.

    The filters sit on the handler, so they see records from every logger (discord.py logs
    request bodies at DEBUG, and a `/link` reply carries a state in its URL).
    """
    from bot.redaction import RedactOAuthSecrets

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        # Shortened first, so that the redaction sees the final message.
        for kind in (OneLineReconnects, RedactOAuthSecrets):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
