"""OAuth pieces shared by the providers: token answers turned into `TokenSet`s."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FakeClock
from bot.providers.oauth import DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN, token_set


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [
        (3600, 3600),
        (None, DEFAULT_EXPIRES_IN),
        (0, DEFAULT_EXPIRES_IN),
        (-5, DEFAULT_EXPIRES_IN),
        # A garbage answer: it used to raise OverflowError building the timedelta. A token
        # that dies sooner than claimed is refreshed on its first 401 anyway.
        (10**20, MAX_EXPIRES_IN),
    ],
)
def test_token_lifetime(clock: FakeClock, expires_in: int | None, lifetime: int) -> None:
    tokens = token_set(
        access_token="a", refresh_token="r", expires_in=expires_in, scope="x y", clock=clock
    )
    assert tokens.expires_at == clock.now() + dt.timedelta(seconds=lifetime)
    assert tokens.scopes == ("x", "y")
