"""No OAuth state, code, token or PKCE verifier in the database file or in any log line."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.metrics import Metrics
from bot.providers.base import GrantRevoked
from bot.storage import Database
from bot.storage.links import OAuthStatesRepo
from bot.web.app import WebServer, create_app
from bot.web.oauth import oauth_routes
from tests.engines import stored_bytes
from tests.linking.flow import ALICE, BOB, account_of
from tests.linking.wiring import START, build_linking, fake_fit, path_and_query
from tests.providers.helpers import query_of


async def test_no_secret_in_the_database_file_or_in_any_log_line(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two users link through the production web server (no access log), a callback is
    replayed, tokens are refreshed and used, a link is left pending, a grant is revoked;
    every logger at DEBUG."""
    caplog.set_level(logging.DEBUG)
    provider = fake_fit(FakeClock(START))
    env = build_linking(db, {"fakefit": provider}, clock=provider.clock)
    server = WebServer(
        create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)]),
        "127.0.0.1",
        0,
    )
    await server.start()
    states: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:
            local = f"http://127.0.0.1:{server.port}"
            for user, account in ((ALICE, "alice-acct"), (BOB, "bob-acct")):
                offer = await env.linking.start_link(user, "fakefit")
                states.append(query_of(offer.url)["state"])
                async with http.get(
                    local + path_and_query(offer.url), allow_redirects=False
                ) as start:
                    authorize = start.headers["Location"]
                callback = provider.consent(authorize, user_id=account)
                async with http.get(local + path_and_query(callback)) as done:
                    assert done.status == 200
                async with http.get(local + path_and_query(callback)) as replay:
                    assert replay.status == 410
            alice = await account_of(env, ALICE)
            env.clock.advance(dt.timedelta(hours=2))
            assert await env.tokens.call_with_token(alice, provider.whoami) == "alice-acct"
            # A link that is never used: its state and verifier are stored too.
            pending = await env.linking.start_link(ALICE, "fakefit")
            states.append(query_of(pending.url)["state"])
            async with http.get(local + path_and_query(pending.url), allow_redirects=False):
                pass
            lookup = await OAuthStatesRepo(db, env.cipher).peek(
                states[-1], "fakefit", env.clock.now()
            )
            assert lookup.link is not None and lookup.link.code_verifier is not None
            states.append(lookup.link.code_verifier)
            provider.revoke_all_grants()
            env.clock.advance(dt.timedelta(hours=2))
            with pytest.raises(GrantRevoked):
                await env.tokens.call_with_token(alice, provider.whoami)
    finally:
        await server.stop()

    secrets_seen = [*provider.issued, *states]
    assert len(secrets_seen) >= 12
    raw = await stored_bytes(db)
    assert raw
    for secret in secrets_seen:
        assert secret.encode() not in raw, "a secret is stored in plain text"
    formatter = logging.Formatter()
    log_text = "\n".join(formatter.format(record) for record in caplog.records)
    assert "fakefit" in log_text  # the flow did log
    for secret in secrets_seen:
        assert secret not in log_text, "a secret appears in the log"
