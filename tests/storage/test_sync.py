"""The sync queue's table: coalesced requests, leases that expire, dirty rows fetched once more,
backoffs, restarts; the /sync cooldown; each player's last sync."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.crypto import TokenCipher
from bot.domain import AccountStatus
from bot.providers.base import TokenSet
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.sync import Retry, SyncRepo, SyncRequest
from bot.storage.values import ValuesRepo
from tests.daily.world import World

NOW = dt.datetime(2026, 6, 3, 14, 5, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=15)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def repo(db: Database) -> SyncRepo:
    return SyncRepo(db)


async def link(db: Database, cipher: TokenCipher, discord_id: int, provider: str = "fake") -> int:
    await UsersRepo(db).ensure(discord_id, NOW, f"User {discord_id}")
    tokens = TokenSet("access", "refresh", NOW + dt.timedelta(days=30))
    account = await AccountsRepo(db, cipher).save_link(
        discord_id, provider, f"{provider}-{discord_id}", tokens, NOW
    )
    return account.id


async def account_id_of(db: Database, cipher: TokenCipher, discord_id: int) -> int:
    account = await AccountsRepo(db, cipher).get(discord_id, "fake")
    assert account is not None
    return account.id


def notification(discord_id: int, provider: str = "fake") -> SyncRequest:
    return SyncRequest(provider, f"{provider}-{discord_id}", "webhook")


async def rows(db: Database) -> list[tuple[object, ...]]:
    found = await db.fetch_all(
        "SELECT account_id, dirty, attempts, lease_owner IS NOT NULL, due_at FROM sync_queue "
        "ORDER BY account_id"
    )
    return [tuple(row) for row in found]


async def test_a_storm_of_notifications_is_one_row_per_account(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    alice, bob = await link(db, cipher, 1), await link(db, cipher, 2)
    storm = [notification(1)] * 50 + [notification(2), notification(9), notification(1)]

    counts = await repo.request(storm, NOW, due_at=NOW)

    assert counts == [1] * 51 + [0, 1]  # user 9 is unknown
    assert [row[0] for row in await rows(db)] == sorted([alice, bob])
    more = await repo.request([notification(1)], NOW + MINUTE, due_at=NOW + MINUTE)
    assert more == [1] and await repo.waiting() == 2


async def test_a_notification_is_not_fetched_before_it_is_due(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    await link(db, cipher, 1)
    settled = NOW + dt.timedelta(milliseconds=300)
    await repo.request([notification(1)], NOW, due_at=settled)
    assert await repo.claim("host", NOW, limit=10, lease=LEASE) == []
    assert len(await repo.claim("host", settled, limit=10, lease=LEASE)) == 1


async def test_an_account_waiting_for_a_relink_is_not_queued(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    account_id = await link(db, cipher, 1)
    await AccountsRepo(db, cipher).set_status(account_id, AccountStatus.NEEDS_RELINK, NOW)
    assert await repo.request([notification(1)], NOW, due_at=NOW) == [0]
    assert await repo.waiting() == 0


async def test_a_leased_row_is_not_leased_twice_until_its_lease_expires(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    account_id = await link(db, cipher, 1)
    await repo.request([notification(1)], NOW, due_at=NOW)

    [first] = await repo.claim("host-a", NOW, limit=10, lease=LEASE)
    assert first.account_id == account_id and first.reason == "webhook"
    assert await repo.claim("host-b", NOW + MINUTE, limit=10, lease=LEASE) == []
    # host-a died: once its lease is over, host-b takes the row, and host-a's word no
    # longer counts.
    [second] = await repo.claim("host-b", NOW + LEASE, limit=10, lease=LEASE)
    await repo.finish([first], NOW + LEASE)
    assert await repo.waiting() == 1
    await repo.finish([second], NOW + LEASE)
    assert await repo.waiting() == 0


async def test_a_request_during_a_fetch_makes_exactly_one_more_fetch(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    account_id = await link(db, cipher, 1)
    await repo.request([notification(1)], NOW, due_at=NOW)
    [entry] = await repo.claim("host", NOW, limit=10, lease=LEASE)
    await repo.request(
        [notification(1)] * 3, NOW + MINUTE, due_at=NOW + MINUTE
    )  # while it is being fetched

    await repo.finish([entry], NOW + 2 * MINUTE)

    [(row_id, dirty, attempts, leased, _due)] = await rows(db)
    assert (row_id, dirty, attempts, leased) == (account_id, 0, 0, 0)
    [again] = await repo.claim("host", NOW + 2 * MINUTE, limit=10, lease=LEASE)
    await repo.finish([again], NOW + 3 * MINUTE)
    assert await repo.waiting() == 0


async def test_a_failed_fetch_waits_for_its_backoff_and_keeps_it_against_requests(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    await link(db, cipher, 1)
    await repo.request([notification(1)], NOW, due_at=NOW)
    [entry] = await repo.claim("host", NOW, limit=10, lease=LEASE)
    await repo.finish([], NOW, retries=[Retry(entry, NOW + 10 * MINUTE)])

    await repo.request(
        [notification(1)], NOW + MINUTE, due_at=NOW + MINUTE
    )  # does not cut the backoff short
    assert await repo.claim("host", NOW + 9 * MINUTE, limit=10, lease=LEASE) == []
    assert await repo.next_due() == NOW + 10 * MINUTE
    [retried] = await repo.claim("host", NOW + 10 * MINUTE, limit=10, lease=LEASE)
    assert retried.attempts == 1


async def test_an_earlier_request_moves_a_later_poll_slot_forward(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    account_id = await link(db, cipher, 1)
    await repo.enqueue([(account_id, NOW + 40 * MINUTE)], reason="poll", now=NOW)
    assert await repo.claim("host", NOW, limit=10, lease=LEASE) == []
    await repo.request([notification(1)], NOW + MINUTE, due_at=NOW + MINUTE)
    [entry] = await repo.claim("host", NOW + MINUTE, limit=10, lease=LEASE)
    assert entry.reason == "poll"  # the row's first reason
    await repo.enqueue([(account_id, NOW + 90 * MINUTE)], reason="poll", now=NOW)
    assert (await rows(db))[0][3] == 1  # still leased, now dirty
    assert (await rows(db))[0][1] == 1


async def test_dropped_rows_go_even_when_asked_again(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    await link(db, cipher, 1)
    await repo.request([notification(1)], NOW, due_at=NOW)
    [entry] = await repo.claim("host", NOW, limit=10, lease=LEASE)
    await repo.request([notification(1)], NOW, due_at=NOW)
    await repo.finish([], NOW, dropped=[entry])
    assert await repo.waiting() == 0


async def test_a_restarting_process_takes_back_only_its_own_leases(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    for user in (1, 2):
        await link(db, cipher, user)
    await repo.request([notification(1)], NOW, due_at=NOW)
    await repo.claim("host-a", NOW, limit=1, lease=LEASE)
    await repo.request([notification(2)], NOW, due_at=NOW)
    await repo.claim("host-b", NOW, limit=1, lease=LEASE)

    assert await repo.release("host-a") == 1

    [entry] = await repo.claim("host-a", NOW + MINUTE, limit=10, lease=LEASE)
    assert entry.account_id == await account_id_of(db, cipher, 1)


async def test_claim_skips_what_this_process_is_still_fetching(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    account_id = await link(db, cipher, 1)
    await repo.request([notification(1)], NOW, due_at=NOW)
    await repo.claim("host", NOW, limit=10, lease=LEASE)
    late = NOW + LEASE + MINUTE  # a slow fetch outlived its lease
    assert await repo.claim("host", late, limit=10, lease=LEASE, skip=[account_id]) == []
    assert len(await repo.claim("host", late, limit=10, lease=LEASE)) == 1


async def test_unlinking_removes_the_accounts_row(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    account_id = await link(db, cipher, 1)
    await repo.request([notification(1)], NOW, due_at=NOW)
    await AccountsRepo(db, cipher).delete(account_id)
    assert await repo.waiting() == 0


async def test_the_sync_cooldown_starts_once_and_says_when_it_ends(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    await link(db, cipher, 1)
    cooldown = 10 * MINUTE
    assert await repo.start_member_sync(1, NOW, cooldown) is None
    assert await repo.start_member_sync(1, NOW + 3 * MINUTE, cooldown) == NOW + cooldown
    assert await repo.start_member_sync(1, NOW + cooldown, cooldown) is None
    assert await repo.start_member_sync(1, NOW + cooldown, cooldown) == NOW + 2 * cooldown


async def test_synced_at_is_each_players_latest_sync(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice")
    await world.add_player(challenge, 2, "Bob")
    watch = await link(db, cipher, 1, provider="other")
    fake = await account_id_of(db, cipher, 1)
    await ValuesRepo(db).store_fetched([], [fake], NOW)
    await ValuesRepo(db).store_fetched([], [watch], NOW + MINUTE)

    assert await repo.synced_at(challenge.id) == {1: NOW + MINUTE}


async def test_claimed_entries_come_oldest_request_first(
    db: Database, cipher: TokenCipher, repo: SyncRepo
) -> None:
    for user in (1, 2, 3):
        await link(db, cipher, user)
    await repo.request([notification(3)], NOW, due_at=NOW)
    await repo.request([notification(1)], NOW + MINUTE, due_at=NOW + MINUTE)
    await repo.request([notification(2)], NOW + 2 * MINUTE, due_at=NOW + 2 * MINUTE)
    claimed = await repo.claim("host", NOW + 3 * MINUTE, limit=2, lease=LEASE)
    expected = [await account_id_of(db, cipher, user) for user in (3, 1)]
    assert [entry.account_id for entry in claimed] == expected
