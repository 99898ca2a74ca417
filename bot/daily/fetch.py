"""What the daily run fetches, and fetching it with bounded concurrency.

`plan_fetches` turns what each due challenge needs (its players, metric, dates and manual-entry
policy) into one job per linked account: the union of the metrics and dates every challenge
of that player needs, so a player in three challenges is fetched once; a metric the member's
grant does not let Stride read (a scope they unticked, `unreadable`) is not asked for, since
the provider would only answer 403. `fetch_all` runs the
jobs on a fixed pool of workers (never one task per user) and turns every provider failure
into an outcome, so one player's revoked grant or a provider's bad day never stops the others.
`covered_by_push` tells a job the live sync has already done: every metric pushed by its
provider, nothing waiting in the sync queue, synced after its last day ended.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import AccountStatus, DailyValue, Metric
from bot.linking.grants import unreadable_metrics
from bot.providers.base import GrantRevoked, Provider, ProviderError, ProviderUnavailable
from bot.providers.oauth import missing_scopes
from bot.storage.accounts import LinkedAccount
from bot.storage.values import PlayerAccount

log = logging.getLogger(__name__)

# A push-covered account must have synced this long after its last day ended (in its owner's
# time zone): what the provider records in the first minutes after midnight is pushed too.
PUSH_SYNC_MARGIN = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ChallengeNeed:
    """What one due challenge needs fetched for each of its players."""

    challenge_id: int
    players: frozenset[int]
    metric: Metric
    first: dt.date
    last: dt.date
    include_manual: bool  # the challenge counts manual entries


@dataclass(slots=True)
class FetchJob:
    account: LinkedAccount
    user_tz: ZoneInfo
    metrics: set[Metric]
    first: dt.date
    last: dt.date
    # include_manual values to fetch with: both when one challenge counts manual entries and
    # another does not, once for a provider that cannot leave them out anyway.
    manual_variants: set[bool] = field(default_factory=set)


class FetchFailure(StrEnum):
    REVOKED = "revoked"  # the user must link again
    UNAVAILABLE = "unavailable"  # try again next run
    PROVIDER_ERROR = "provider_error"  # an answer we could not use
    UNEXPECTED = "unexpected"  # a bug: logged with its traceback


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    job: FetchJob
    values: tuple[DailyValue, ...] = ()
    failure: FetchFailure | None = None


TokenCall = Callable[
    [LinkedAccount, Callable[[str], Awaitable[list[DailyValue]]]], Awaitable[list[DailyValue]]
]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def manual_variant(include_manual: bool, provider: Provider) -> bool:
    """The `include_manual` a provider is asked with for a challenge that counts manual
    entries (`include_manual`) or not: False from one that cannot leave them out anyway."""
    return include_manual and provider.info.can_exclude_manual


def unreadable(provider: Provider, account: LinkedAccount) -> frozenset[Metric]:
    """The metrics the account's grant does not let Stride read (the scopes the member did
    not tick on the consent screen): `/accounts` tells the member; a fetch would be a 403."""
    info = provider.info
    return frozenset(unreadable_metrics(info, missing_scopes(info, account.scopes)))


def plan_fetches(
    needs: Iterable[ChallengeNeed],
    accounts: Mapping[int, Sequence[PlayerAccount]],
    providers: Mapping[str, Provider],
) -> list[FetchJob]:
    """One job per (player, provider account), merging every challenge's needs.

    Accounts that need a re-link, or whose provider is not enabled, cannot fetch the metric
    or is never fetched from (its device sends by itself), or whose grant does not cover the
    metric (`unreadable`), are left out: those players simply have no new fetched data this
    run."""
    jobs: dict[int, FetchJob] = {}
    blocked: dict[int, frozenset[Metric]] = {}  # by account id
    for need in needs:
        for player in sorted(need.players):
            for linked in accounts.get(player, ()):
                account = linked.account
                provider = providers.get(account.provider)
                if (
                    provider is None
                    or account.status is not AccountStatus.ACTIVE
                    or not provider.info.fetches_metric(need.metric)
                ):
                    continue
                if account.id not in blocked:
                    blocked[account.id] = unreadable(provider, account)
                if need.metric in blocked[account.id]:
                    continue
                job = jobs.get(account.id)
                if job is None:
                    job = jobs[account.id] = FetchJob(
                        account=account,
                        user_tz=_zone(linked.time_zone),
                        metrics=set(),
                        first=need.first,
                        last=need.last,
                    )
                job.metrics.add(need.metric)
                job.first = min(job.first, need.first)
                job.last = max(job.last, need.last)
                job.manual_variants.add(manual_variant(need.include_manual, provider))
    return [jobs[key] for key in sorted(jobs)]


def covered_by_push(job: FetchJob, provider: Provider, queued: Collection[int]) -> bool:
    """Whether the live sync already stored what `job` would fetch: its provider pushes every
    metric of the job, the account has no row waiting or in flight in the sync queue
    (`queued`), and its last successful sync came after the job's last day ended."""
    synced = job.account.last_sync_at
    if synced is None or job.account.id in queued or not job.metrics <= provider.info.push_metrics:
        return False
    ended = dt.datetime.combine(job.last + dt.timedelta(days=1), dt.time(0), tzinfo=job.user_tz)
    return synced >= ended + PUSH_SYNC_MARGIN


def clean_values(job: FetchJob, values: Iterable[DailyValue]) -> list[DailyValue]:
    """What a provider answered, minus what it should not have: other metrics, days outside
    the range, values that are not finite numbers. Duplicates keep the highest reading."""
    kept: dict[tuple[Metric, dt.date, bool], DailyValue] = {}
    for item in values:
        if (
            not isinstance(item, DailyValue)
            or item.metric not in job.metrics
            or not job.first <= item.day <= job.last
            or not isinstance(item.value, int | float)
            or not math.isfinite(item.value)
        ):
            continue
        key = (item.metric, item.day, item.includes_manual)
        if key not in kept or kept[key].value < item.value:
            kept[key] = item
    return [kept[key] for key in sorted(kept)]


async def fetch_one(job: FetchJob, provider: Provider, call_with_token: TokenCall) -> FetchOutcome:
    """Fetch one account's values, every manual-entry variant; failures become outcomes."""
    account = job.account
    values: list[DailyValue] = []
    try:
        for include_manual in sorted(job.manual_variants):

            async def fetch(token: str, include_manual: bool = include_manual) -> list[DailyValue]:
                return await provider.fetch_daily(
                    token,
                    sorted(job.metrics),
                    job.first,
                    job.last,
                    include_manual=include_manual,
                    user_tz=job.user_tz,
                )

            values.extend(clean_values(job, await call_with_token(account, fetch)))
    except GrantRevoked:
        log.info("%s: account %d needs a re-link; no new data", account.provider, account.id)
        return FetchOutcome(job, failure=FetchFailure.REVOKED)
    except ProviderUnavailable as exc:
        log.warning("%s: account %d not fetched this run: %s", account.provider, account.id, exc)
        return FetchOutcome(job, failure=FetchFailure.UNAVAILABLE)
    except ProviderError as exc:
        log.warning("%s: account %d not fetched: %s", account.provider, account.id, exc)
        return FetchOutcome(job, failure=FetchFailure.PROVIDER_ERROR)
    except Exception:
        log.exception("%s: fetching account %d failed unexpectedly", account.provider, account.id)
        return FetchOutcome(job, failure=FetchFailure.UNEXPECTED)
    return FetchOutcome(job, values=tuple(values))


async def fetch_all(
    jobs: Sequence[FetchJob],
    providers: Mapping[str, Provider],
    call_with_token: TokenCall,
    *,
    concurrency: int,
    each: Callable[[FetchOutcome], FetchOutcome] | None = None,
) -> list[FetchOutcome]:
    """Run every job on at most `concurrency` workers; outcomes in the order of `jobs`. `each`
    is handed every outcome as soon as it is there and gives back what to keep of it (the
    values are stored meanwhile, and what no later step needs is let go)."""
    outcomes: list[FetchOutcome | None] = [None] * len(jobs)
    pending = iter(enumerate(jobs))

    async def worker() -> None:
        # The workers share one iterator: taking the next job is synchronous, so no two
        # workers ever take the same one.
        for index, job in pending:
            outcome = await fetch_one(job, providers[job.account.provider], call_with_token)
            outcomes[index] = outcome if each is None else each(outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(jobs))):
            group.create_task(worker())
    return [outcome for outcome in outcomes if outcome is not None]
