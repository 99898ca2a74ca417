"""Live links at rest: only the token's digest is stored, one link per challenge, and what a
privacy export or deletion does with them."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from urllib.parse import urlsplit

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.storage import Database
from bot.storage.privacy import PrivacyRepo
from bot.storage.shares import SharesRepo
from bot.web.share import ShareLinks
from tests.daily.world import World
from tests.engines import stored_bytes

NOW = dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC)
ADMIN = 720_000_000_000_000_001


def _links(db: Database) -> ShareLinks:
    return ShareLinks(db=db, clock=FakeClock(NOW), public_base_url="https://stride.example/")


def _token(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "stride.example"
    prefix, token = parts.path.rsplit("/", 1)
    assert prefix == "/live"
    return token


async def test_only_the_tokens_digest_is_stored(db: Database, cipher: TokenCipher) -> None:
    challenge = await World(db, cipher).add_challenge()
    shared = await _links(db).share(challenge, by=ADMIN)

    assert shared.url is not None
    token = _token(shared.url)
    assert len(token) == 43  # secrets.token_urlsafe(32)
    rows = [tuple(row) for row in await db.fetch_all("SELECT * FROM share_links")]
    assert rows == [(challenge.id, hashlib.sha256(token.encode()).digest(), ADMIN, NOW.isoformat())]
    assert token.encode() not in await stored_bytes(db)


async def test_a_token_opens_its_challenge_until_it_is_revoked(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    other = await world.add_challenge(name="Other")
    links = _links(db)
    shared = await links.share(challenge, by=ADMIN)
    assert shared.url is not None
    token = _token(shared.url)

    assert await links.challenge_id_for(token) == challenge.id
    assert await links.challenge_id_for(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await links.challenge_id_for("not a token") is None
    assert await links.challenge_id_for("") is None
    assert not await links.unshare(other)

    assert await links.unshare(challenge)
    assert await links.challenge_id_for(token) is None
    assert not await links.unshare(challenge)


async def test_sharing_again_gives_no_url_until_unshared(db: Database, cipher: TokenCipher) -> None:
    challenge = await World(db, cipher).add_challenge()
    links = _links(db)
    first = await links.share(challenge, by=ADMIN)
    assert first.url is not None

    again = await links.share(challenge, by=ADMIN + 1)
    assert again.url is None
    assert again.link.created_by == ADMIN and again.link.created_at == NOW
    assert await links.challenge_id_for(_token(first.url)) == challenge.id  # still the one

    await links.unshare(challenge)
    rotated = await links.share(challenge, by=ADMIN + 1)
    assert rotated.url is not None and rotated.url != first.url
    assert await links.challenge_id_for(_token(first.url)) is None
    assert await links.challenge_id_for(_token(rotated.url)) == challenge.id


async def test_two_shares_at_once_make_one_link(db: Database, cipher: TokenCipher) -> None:
    challenge = await World(db, cipher).add_challenge()
    links = _links(db)

    results = await asyncio.gather(*(links.share(challenge, by=ADMIN) for _ in range(5)))

    assert sum(1 for shared in results if shared.url is not None) == 1
    assert await db.fetch_value("SELECT COUNT(*) FROM share_links") == 1


async def test_export_never_holds_the_digest_and_deletion_unnames_the_admin(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    links = _links(db)
    await links.share(challenge, by=ADMIN)

    exported = await PrivacyRepo(db).export(ADMIN)
    assert exported["share_links"] == [
        {"challenge_id": challenge.id, "created_by": ADMIN, "created_at": NOW.isoformat()}
    ]

    await PrivacyRepo(db).delete_user(ADMIN)
    link = await SharesRepo(db).get(challenge.id)
    assert link is not None and link.created_by is None  # the link itself stays shared


async def test_deleting_the_challenge_deletes_its_link(db: Database, cipher: TokenCipher) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    links = _links(db)
    shared = await links.share(challenge, by=ADMIN)
    assert shared.url is not None

    await world.repo.delete(challenge.id)

    assert await links.challenge_id_for(_token(shared.url)) is None
    assert await db.fetch_value("SELECT COUNT(*) FROM share_links") == 0
