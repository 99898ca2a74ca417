"""Log redaction: OAuth states, codes, tokens and client secrets blanked in log records.

Both spellings are caught: `name=value` (a URL's query, a form body) and a quoted member
(`"name": "value"` in JSON, `'name': 'value'` in a Python repr, `\\"name\\": \\"value\\"`
in a JSON document quoted inside another), for every name in `SECRET_NAMES`.

`RedactOAuthSecrets` is a `logging.Filter`: `stride run` puts it on the root handler (so it sees
every library's records), and `install_log_redaction` puts it on discord.py's HTTP loggers, which
log request and answer bodies at DEBUG (a `/link` DM or reply carries the link with its state).
"""

from __future__ import annotations

import logging
import re

# The names whose values are secrets, in a query or form (`name=value`) and in JSON or a
# Python repr (`"name": "value"`, `'name': 'value'`, also inside an escaped JSON string).
SECRET_NAMES = (
    "state",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
)
_NAMES = "|".join(SECRET_NAMES)
_SECRET_PARAMETER = re.compile(rf"\b({_NAMES})=([^&\s\"'\\<>]+)")
# A quoted key, then its quoted value's opening quote; both quotes may be escaped (a JSON
# document logged inside another string): `esc` and `vesc` are those backslashes.
_SECRET_MEMBER = re.compile(
    rf"(?P<esc>\\*)(?P<q>[\"'])(?:{_NAMES})(?P=esc)(?P=q)\s*:\s*(?P<vesc>\\*)(?P<vq>[\"'])"
)
# discord.py logs every request and answer body at DEBUG, and a /link DM or reply carries the
# link with its state.
DISCORD_HTTP_LOGGERS = ("discord.http", "discord.webhook.async_")


class RedactOAuthSecrets(logging.Filter):
    """Blanks the secrets (`SECRET_NAMES`) in a record's message and exception.

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
    return _redact_members(_SECRET_PARAMETER.sub(r"\1=[redacted]", text))


def _redact_members(text: str) -> str:
    """Blank the value of every quoted secret member, up to its closing quote: the first
    quote escaped as the opening one (a quote inside the value is escaped once more).
    Without a closing quote (a line cut short), everything after the key goes."""
    parts: list[str] = []
    position = 0
    for match in _SECRET_MEMBER.finditer(text):
        if match.start() < position:
            continue  # inside a value already blanked
        closing = _closing_quote(text, match.end(), match["vq"], len(match["vesc"]))
        parts.append(text[position : match.end()])
        parts.append("[redacted]")
        position = len(text) if closing is None else closing - len(match["vesc"])
    parts.append(text[position:])
    return "".join(parts)


def _closing_quote(text: str, start: int, quote: str, backslashes: int) -> int | None:
    index = text.find(quote, start)
    while index != -1:
        run = index
        while run > start and text[run - 1] == "\\":
            run -= 1
        extra = index - run - backslashes
        # Escaped as the opening quote, after any number of literal (escaped) backslashes.
        if extra >= 0 and extra % (2 * (backslashes + 1)) == 0:
            return index
        index = text.find(quote, index + 1)
    return None


def install_log_redaction(loggers: tuple[str, ...] = DISCORD_HTTP_LOGGERS) -> None:
    """Put `RedactOAuthSecrets` on the loggers that may see a link (once; idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactOAuthSecrets) for existing in logger.filters):
            logger.addFilter(RedactOAuthSecrets())
