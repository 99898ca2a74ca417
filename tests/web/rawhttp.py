"""Raw HTTP over a socket, for what no well-behaved client sends: broken bodies, bad request
lines, idle and half-sent connections. Also a fake monotonic clock and a log recorder."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# A guard against a hung server, never a pause: every wait ends as soon as the server acts.
WAIT_SECONDS = 10.0


async def exchange(port: int, data: bytes) -> bytes:
    """Send `data`, then read everything until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), WAIT_SECONDS)
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer."""
    return int(answer.split(b" ", 2)[1])


def request(
    method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: stride.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class FakeMonotonic:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class LogRecorder(logging.Handler):
    """Every record at INFO and above, from every logger, formatted as the bot writes them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []
        self.arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.arrived.set()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def recording_logs() -> Iterator[LogRecorder]:
    root = logging.getLogger()
    recorder = LogRecorder()
    saved = root.level
    root.addHandler(recorder)
    root.setLevel(logging.INFO)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(saved)
