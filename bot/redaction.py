"""Log redaction: OAuth states, codes and tokens blanked in log records.

`RedactOAuthSecrets` is a `logging.Filter`: `stride run` puts it on the root handler (so it sees
every library's records), and `install_log_redaction` puts it on discord.py's HTTP loggers, which
log request and answer bodies at DEBUG (a `/link` DM or reply carries the link with its state).
"""

from __future__ import annotations

import logging
import re

_SECRET_PARAMETER = re.compile(
    r"\b(state|code|code_verifier|access_token|refresh_token|token)=([^&\s\"'\\<>]+)"
)
# discord.py logs every request and answer body at DEBUG, and a /link DM or reply carries the
# link with its state.
DISCORD_HTTP_LOGGERS = ("discord.http", "discord.webhook.async_")


class RedactOAuthSecrets(logging.Filter):
    """Blanks `state=…`, `code=…` and token parameters in a record's message and exception.

    The exception is rendered here (as `Formatter.format` would, which then reuses it):
    aiohttp logs a malformed request with an exception that quotes the request line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text)
        try:
            message = record.getMessage()
        except Exception:
            # Arguments that do not fit the format: the handler reports that as logging
            # always does. Raising here would raise at the caller's log line instead.
            return True
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_EXCEPTION_FORMATTER = logging.Formatter()


def _redact(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1=[redacted]", text)


def install_log_redaction(loggers: tuple[str, ...] = DISCORD_HTTP_LOGGERS) -> None:
    """Put `RedactOAuthSecrets` on the loggers that may see a link (once; idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactOAuthSecrets) for existing in logger.filters):
            logger.addFilter(RedactOAuthSecrets())
