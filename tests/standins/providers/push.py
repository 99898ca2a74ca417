"""What the provider stand-ins share for webhooks: sending a callback and recording it.

A stand-in calls Stride's public URLs the way the provider does (Google's verification posts
and notifications, Withings' HEAD check and form posts, Oura's verification GET and signed
posts). Every call is recorded as a `Delivery` with the status Stride answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Delivery:
    method: str
    url: str
    status: int
    body: bytes
    headers: dict[str, str]


async def call_back(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one request to a callback URL; (status, parsed JSON answer or None)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            url,
            headers=headers or {},
            data=body,
            params=params,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response,
    ):
        try:
            answer = await response.json(content_type=None)
        except ValueError:
            answer = None
        return response.status, answer
