"""Logging of the long-running commands: discord.py's reconnect tracebacks become one line."""

from __future__ import annotations

import io
import logging
import sys

import aiohttp

from bot.cli.logs import OneLineReconnects


def reconnect_record(
    name: str = "discord.client",
    msg: str = "Attempting a reconnect in %.2fs",
    args: tuple[object, ...] = (4.5,),
) -> logging.LogRecord:
    try:
        raise aiohttp.ClientConnectionError("Cannot connect to host gateway.discord.gg:443")
    except aiohttp.ClientConnectionError:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, sys.exc_info())


def test_a_gateway_reconnect_is_one_warning_line_with_the_reason() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(OneLineReconnects())
    handler.handle(reconnect_record())
    assert stream.getvalue() == (
        "WARNING discord.client: Attempting a reconnect in 4.50s "
        "(Discord unreachable: Cannot connect to host gateway.discord.gg:443)\n"
    )


def test_a_shard_reconnect_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OneLineReconnects())
    handler.handle(
        reconnect_record(
            "discord.shard", "Attempting a reconnect for shard ID %s in %.2fs", (1, 2.0)
        )
    )
    [line] = stream.getvalue().splitlines()
    assert line.startswith("Attempting a reconnect for shard ID 1 in 2.00s (Discord unreachable")


def test_other_records_keep_their_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OneLineReconnects())
    record = reconnect_record()
    record.msg, record.args = "something else broke", None
    handler.handle(record)
    assert "Traceback" in stream.getvalue()
