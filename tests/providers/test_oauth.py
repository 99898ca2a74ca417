"""OAuth pieces shared by the providers: token answers turned into `TokenSet`s, client
authentication (RFC 6749 §2.3.1), token types and granted scopes."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from pydantic import SecretStr

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import ProviderInfo, ScopeNeed
from bot.providers.http import RetryPolicy
from bot.providers.oauth import (
    DEFAULT_EXPIRES_IN,
    MAX_EXPIRES_IN,
    ClientCredentials,
    UnsupportedTokenType,
    missing_scopes,
    require_bearer,
    token_call_policy,
    token_set,
)
from bot.settings import OuraSettings


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


def test_an_answer_without_scope_was_granted_what_was_requested(clock: FakeClock) -> None:
    """RFC 6749 §5.1: `scope` may be left out when it equals the request; an empty one is
    not left out."""
    common = {"access_token": "a", "refresh_token": "r", "expires_in": 60, "clock": clock}
    assert token_set(scope=None, requested=("daily", "personal"), **common).scopes == (
        "daily",
        "personal",
    )
    assert token_set(scope="daily", requested=("daily", "personal"), **common).scopes == ("daily",)
    assert token_set(scope=None, **common).scopes == ()  # a refresh: the stored ones stay


def test_basic_client_authentication_form_urlencodes_before_base64() -> None:
    """RFC 6749 §2.3.1 and Appendix B: the id and secret are form-urlencoded, then joined
    with a colon and base64-encoded; the form carries neither."""
    client = ClientCredentials("my client", SecretStr("p@ss:w/rd+é"), "client_secret_basic")

    form, headers = client.authenticate({"grant_type": "refresh_token"})

    assert form == {"grant_type": "refresh_token"}
    encoded = base64.b64encode(b"my+client:p%40ss%3Aw%2Frd%2B%C3%A9").decode()
    assert headers == {"Authorization": f"Basic {encoded}"}


def test_post_client_authentication_puts_the_pair_in_the_form() -> None:
    client = ClientCredentials("my client", SecretStr("secret"))

    form, headers = client.authenticate({"code": "c"})

    assert form == {"code": "c", "client_id": "my client", "client_secret": "secret"}
    assert headers == {}


@pytest.mark.parametrize("token_type", ["Bearer", "bearer", "BEARER", " Bearer ", None])
def test_bearer_in_any_case_is_accepted(token_type: str | None) -> None:
    require_bearer(token_type, provider="Test")


@pytest.mark.parametrize("token_type", ["mac", "DPoP", "N_A", "Bearer2", "<script>"])
def test_other_token_types_are_refused_without_echoing_garbage(token_type: str) -> None:
    with pytest.raises(UnsupportedTokenType) as raised:
        require_bearer(token_type, provider="Test")
    assert "<script>" not in str(raised.value)


def test_missing_scopes_lists_the_needs_the_grant_lacks_in_order() -> None:
    activity = ScopeNeed("a", "Activity", frozenset({Metric.STEPS}))
    sleep = ScopeNeed("s", "Sleep", frozenset({Metric.SLEEP_MINUTES}))
    info = ProviderInfo(
        name="p",
        display_name="P",
        metrics=frozenset({Metric.STEPS, Metric.SLEEP_MINUTES}),
        supports_pkce=False,
        supports_revoke=False,
        scope_needs=(activity, sleep),
    )
    assert missing_scopes(info, ("a",)) == (sleep,)
    assert missing_scopes(info, ("x",)) == (activity, sleep)
    assert missing_scopes(info, ("a", "s", "extra")) == ()
    assert missing_scopes(info, ()) == ()  # unknown (a link stored before scopes were kept)


def test_token_calls_that_are_never_repeated_wait_longer() -> None:
    settings = OuraSettings(client_id="c", client_secret=SecretStr("s"), token_timeout_seconds=90)
    assert token_call_policy(RetryPolicy(timeout=30), settings).timeout == 90
    assert token_call_policy(RetryPolicy(timeout=30), settings).max_attempts == 4
    assert token_call_policy(RetryPolicy(timeout=200), settings).timeout == 200
