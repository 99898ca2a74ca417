"""The daily run across several processes on one database: each piece of work done once.

- `ShardSource`: the challenges of this process's shards only (`bot.shards`): a process
  plans, scores and posts the guilds of its shards.
- `PostClaims`: before a run scores and posts a challenge it takes the challenge's leased
  claim (`post:<id>`); a process that finds it held skips the challenge. The lease is renewed
  right before each send and the send is dropped when it was lost, so a process that outlived
  its lease never posts over the one that took it over. A process that dies holding it is
  taken over once the lease ends; the post it may have begun is then settled from its intent
  (the channel's history, then the same nonce, `bot.daily.post`). A weekly recap is posted
  under the same claim (`hold`), after the daily posts.
- `SharedFetch`: each account's provider fetch in a run (`fetch:<account id>`), claimed in
  bulk with one atomic upsert per chunk. The holder fetches and stores, then marks the claim
  done with what the fetch covered; another process with the same account waits for that and
  takes the values from the database instead of asking the provider again. A fetch done
  less than `FETCH_REUSE` ago serves processes whose runs happen together (the same post
  time); later runs fetch again. A need it did not cover (another metric, earlier days) or a
  holder that died is fetched here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.challenges.model import Challenge, Participant
from bot.clock import Clock
from bot.daily.fetch import FetchFailure, FetchJob, FetchOutcome
from bot.daily.plan import Work
from bot.daily.source import ChallengeSource
from bot.domain import Metric
from bot.scoring import ChallengeRules
from bot.shards import Shards
from bot.storage.claims import Claim, ClaimsRepo, claimed_fetch_values
from bot.storage.db import Database

log = logging.getLogger(__name__)

POST_LEASE = dt.timedelta(minutes=10)
# An early end's results are posted by the run it starts only: while another process holds
# the challenge, that run waits (polled, in real seconds) instead of skipping it.
CLOSE_WAIT_POLL_SECONDS = 1.0
CLOSE_WAIT_MAX_SECONDS = 15 * 60.0
FETCH_LEASE = dt.timedelta(minutes=10)
FETCH_REUSE = dt.timedelta(minutes=5)
# Waiting for another process's fetch: polled this often, for at most this long (real
# seconds); after that the account is fetched here (a second request, never missing data).
WAIT_POLL_SECONDS = 0.05
WAIT_MAX_SECONDS = 120.0

Sleep = Callable[[float], Awaitable[None]]
# Fetches the jobs; their values are stored by the time it returns.
FetchJobs = Callable[[Sequence[FetchJob]], Awaitable[list[FetchOutcome]]]
# Stores the baselines that all outcomes so far (the second argument) give, except for the
# players still waiting on another process (the third), once the first were fetched.
StoreOutcomes = Callable[
    [Sequence[FetchOutcome], Sequence[FetchOutcome], frozenset[int]], Awaitable[None]
]


def post_claim_key(challenge_id: int) -> str:
    return f"post:{challenge_id}"


def fetch_claim_key(account_id: int) -> str:
    return f"fetch:{account_id}"


class ShardSource:
    """A `ChallengeSource` that sees only the challenges of this process's shards."""

    def __init__(self, source: ChallengeSource, shards: Shards) -> None:
        self._source = source
        self._shards = shards

    async def active_challenges(self) -> list[Challenge]:
        challenges = await self._source.active_challenges()
        return [c for c in challenges if self._shards.owns(c.guild_id)]

    async def get(self, challenge_id: int) -> Challenge | None:
        challenge = await self._source.get(challenge_id)
        if challenge is None or not self._shards.owns(challenge.guild_id):
            return None
        return challenge

    async def participants(self, challenge_id: int) -> list[Participant]:
        return await self._source.participants(challenge_id)

    def rules(self, challenge: Challenge) -> ChallengeRules:
        return self._source.rules(challenge)

    async def excluded_days(self, challenge_id: int) -> set[tuple[int, dt.date]]:
        return await self._source.excluded_days(challenge_id)

    async def review_new_values(
        self, challenge_id: int, values: Sequence[tuple[int, Metric | str, dt.date, float]]
    ) -> Sequence[object]:
        return await self._source.review_new_values(challenge_id, values)

    async def finish(self, challenge_id: int) -> None:
        await self._source.finish(challenge_id)


class PostClaims:
    """The leased claim on scoring and posting each challenge's due work."""

    def __init__(self, claims: ClaimsRepo, clock: Clock, sleep: Sleep = asyncio.sleep) -> None:
        self._claims = claims
        self._clock = clock
        self._sleep = sleep

    async def take(self, work: Sequence[Work]) -> list[Work]:
        """The work whose claim this process holds now; the rest is another's."""
        if not work:
            return []
        keys = {post_claim_key(item.challenge.id): "score and post" for item in work}
        won = await self._claims.acquire_many(keys, self._clock.now(), POST_LEASE)
        for item in work:
            if post_claim_key(item.challenge.id) not in won:
                log.info("challenge %d: another process is posting it", item.challenge.id)
        return [item for item in work if post_claim_key(item.challenge.id) in won]

    async def hold(self, challenge_id: int) -> bool:
        """Take one challenge's claim (its weekly recap); False while another process holds
        it."""
        key = post_claim_key(challenge_id)
        return await self._claims.acquire(key, self._clock.now(), POST_LEASE, detail="recap")

    async def wait_until_free(self, challenge_id: int) -> bool:
        """Wait while another process holds the challenge (its lease ends if it died);
        False after `CLOSE_WAIT_MAX_SECONDS`."""
        key = post_claim_key(challenge_id)
        for _ in range(int(CLOSE_WAIT_MAX_SECONDS / CLOSE_WAIT_POLL_SECONDS)):
            if await self._claims.acquire(key, self._clock.now(), POST_LEASE):
                await self._claims.complete(key, self._clock.now())  # taken again to run
                return True
            await self._sleep(CLOSE_WAIT_POLL_SECONDS)
        return False

    async def still_ours(self, challenge_id: int) -> bool:
        """Renew the claim right before a send; False when another process took it over."""
        key = post_claim_key(challenge_id)
        return await self._claims.renew(key, self._clock.now(), POST_LEASE)

    async def done(self, challenge_id: int) -> None:
        await self._claims.complete(post_claim_key(challenge_id), self._clock.now())


def coverage(job: FetchJob, failure: FetchFailure | None = None) -> str:
    """What a claimed fetch covers (and, once done, how it went), as the claim's detail."""
    return json.dumps(
        {
            "metrics": sorted(metric.value for metric in job.metrics),
            "first": job.first.isoformat(),
            "last": job.last.isoformat(),
            "manual": sorted(job.manual_variants),
            "failure": None if failure is None else failure.value,
        },
        sort_keys=True,
    )


def covers(detail: str, job: FetchJob) -> bool:
    """Whether a fetch with this detail fetched everything `job` needs."""
    try:
        done = json.loads(detail)
        return (
            {metric.value for metric in job.metrics} <= set(done["metrics"])
            and dt.date.fromisoformat(done["first"]) <= job.first
            and dt.date.fromisoformat(done["last"]) >= job.last
            and set(job.manual_variants) <= set(done["manual"])
        )
    except (ValueError, KeyError, TypeError):
        return False


def failure_in(detail: str) -> FetchFailure | None:
    value = json.loads(detail).get("failure")
    return None if value is None else FetchFailure(value)


class SharedFetch:
    """Fetches each account once across the processes running a run together."""

    def __init__(
        self, *, db: Database, claims: ClaimsRepo, clock: Clock, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._db = db
        self._claims = claims
        self._clock = clock
        self._sleep = sleep

    async def run(
        self, jobs: Sequence[FetchJob], fetch: FetchJobs, store: StoreOutcomes
    ) -> list[FetchOutcome]:
        """Every job's outcome: fetched and stored here, or taken from another process's."""
        mine, theirs = await self._claim(jobs)
        waiting = frozenset(job.account.discord_id for job in theirs)
        outcomes = await fetch(mine)
        await store(outcomes, outcomes, waiting)
        await self._done(outcomes)
        if not theirs:
            return outcomes
        borrowed, left = await self._borrow(theirs)
        fetched_late = await fetch(left) if left else []
        everything = [*outcomes, *fetched_late, *borrowed]
        await store(fetched_late, everything, frozenset())
        await self._done(fetched_late)
        return everything

    async def _claim(self, jobs: Sequence[FetchJob]) -> tuple[list[FetchJob], list[FetchJob]]:
        details = {fetch_claim_key(job.account.id): coverage(job) for job in jobs}
        won = await self._claims.acquire_many(
            details, self._clock.now(), FETCH_LEASE, reuse_after=FETCH_REUSE
        )
        mine = [job for job in jobs if fetch_claim_key(job.account.id) in won]
        theirs = [job for job in jobs if fetch_claim_key(job.account.id) not in won]
        if theirs:
            log.info("%d account(s) are being fetched by another process", len(theirs))
        return mine, theirs

    async def _done(self, outcomes: Sequence[FetchOutcome]) -> None:
        details = {fetch_claim_key(o.job.account.id): coverage(o.job, o.failure) for o in outcomes}
        if details:
            await self._claims.complete_many(details, self._clock.now())

    async def _borrow(self, jobs: Sequence[FetchJob]) -> tuple[list[FetchOutcome], list[FetchJob]]:
        """Wait for the other processes' fetches; the outcomes they give, and the jobs left to
        fetch here (not covered, or their holder died: taken over)."""
        pending = list(jobs)
        borrowed: list[FetchOutcome] = []
        left: list[FetchJob] = []
        for _ in range(int(WAIT_MAX_SECONDS / WAIT_POLL_SECONDS)):
            claims = await self._claims.get_many(fetch_claim_key(j.account.id) for j in pending)
            still: list[FetchJob] = []
            for job in pending:
                claim = claims.get(fetch_claim_key(job.account.id))
                if (
                    claim is not None
                    and claim.done_at is None
                    and not claim.expired(self._clock.now())
                ):
                    still.append(job)
                elif claim is not None and claim.done_at is not None and covers(claim.detail, job):
                    borrowed.append(await self._stored_outcome(job, claim))
                else:
                    left.append(job)
            pending = still
            if not pending:
                break
            await self._sleep(WAIT_POLL_SECONDS)
        left += pending  # still in flight after the longest wait: fetched here too
        await self._reclaim(left)
        return borrowed, left

    async def _reclaim(self, jobs: Sequence[FetchJob]) -> None:
        """Claim, with our coverage, the jobs fetched here after all (their holder died, or
        its fetch did not cover them), so that a third process can borrow ours."""
        if jobs:
            details = {fetch_claim_key(job.account.id): coverage(job) for job in jobs}
            now = self._clock.now()
            await self._claims.acquire_many(details, now, FETCH_LEASE)

    async def _stored_outcome(self, job: FetchJob, claim: Claim) -> FetchOutcome:
        """The outcome of another process's fetch: what it stored for the job's days."""
        failure = failure_in(claim.detail)
        if failure is not None:
            return FetchOutcome(job, failure=failure)
        account = job.account
        values = await claimed_fetch_values(
            self._db, account.discord_id, account.provider, job.metrics, job.first, job.last
        )
        return FetchOutcome(job, values=tuple(values))
