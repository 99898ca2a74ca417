"""`RedactOAuthSecrets`: secrets blanked in log messages and logged exceptions."""

from __future__ import annotations

import logging

from bot.redaction import RedactOAuthSecrets


def test_redaction_filter_leaves_a_malformed_record_to_the_handler() -> None:
    """`stride run` puts the filter on the root handler, so it sees every library's records: a
    record whose arguments do not fit its format must be reported by logging as usual, not
    raise a TypeError at the line that logged it."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("%d links", "many")  # a bug in some library's log call
        logger.warning("opened %s", "https://x.example/cb?code=abc123&state=xyz789")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(records) == 2
    assert records[1].getMessage() == (
        "opened https://x.example/cb?code=[redacted]&state=[redacted]"
    )


def test_redaction_filter_blanks_secrets_in_a_logged_exception() -> None:
    """aiohttp logs a malformed request to the callback ("Error handling request") with an
    exception whose text quotes the request line, code and state included."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("Invalid char in url query: b'GET /cb?code=abc123&state=xyz789'")
        except ValueError:
            logger.exception("Error handling request")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [record] = records
    text = logging.Formatter().format(record)
    assert "Traceback" in text and "Invalid char in url query" in text
    assert "abc123" not in text and "xyz789" not in text
    assert "code=[redacted]&state=[redacted]" in text
