"""This process's hold on its name (`InstanceName`): one live Stride process per name.

Work claims (`bot.storage.claims`) are owned by the process's name (`Settings.process_name`),
so that a restarted process takes its own claims back at once. Two live processes with one
name (two `stride worker`s on a host without shards, a copy-pasted compose service) would
both own every claim and both do the work. So at start a process takes the claim
`process:<name>` as `<name>#<boot id>` (a random id of this start) under a lease of
`NAME_LEASE`, renewed every `HEARTBEAT_SECONDS` by a background task and given back at a
clean stop. When another boot holds it, the process waits up to one lease (a crashed
predecessor's lease runs out) and, when the lease is renewed meanwhile, refuses to start
(`NameInUse`). The claim's detail names the holder's host and process id: a predecessor on
this host whose process is gone (a `stride run` restarted after a crash) is taken over at
once, without the wait.

Only the holder uses the name: the work claims ask `confirm()` (a renewal) before they take
or renew anything, so a process that lost its name (it stalled past its lease and another
process with the name took over) takes no more work, and `lost` tells the app to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.storage.claims import Claim, ClaimsRepo
from bot.storage.db import Database

log = logging.getLogger(__name__)

NAME_LEASE = dt.timedelta(seconds=60)
HEARTBEAT_SECONDS = 20.0
# `confirm()` renews in the database at most this often (a run takes many claims).
CONFIRM_EVERY = dt.timedelta(seconds=5)

Sleep = Callable[[float], Awaitable[None]]


class NameInUse(RuntimeError):
    """Another live process holds this process's name on the database."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"another Stride process named {name} is running on this database; "
            "give each process its own INSTANCE_NAME"
        )
        self.name = name


def name_claim_key(name: str) -> str:
    return f"process:{name}"


def holder_detail() -> str:
    """Who holds a name: this host and process id."""
    return f"{socket.gethostname()} {os.getpid()}"


def gone_from_this_host(detail: str) -> bool:
    """Whether a name's holder (`holder_detail`) ran on this host and its process is gone.
    Another process with our own id is no proof (a restarted container's is 1 each time)."""
    host, _, pid = detail.rpartition(" ")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's) or cannot be asked
        return False
    return False


class InstanceName:
    """`take()` at start, `release()` at a clean stop; `confirm()` before work claims."""

    def __init__(
        self,
        db: Database,
        name: str,
        clock: Clock,
        *,
        boot_id: str | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.name = name
        self.key = name_claim_key(name)
        self.owner = f"{name}#{boot_id or secrets.token_hex(8)}"
        self._claims = ClaimsRepo(db, self.owner)
        self._clock = clock
        self._sleep = sleep  # while waiting for a predecessor's lease (tests: no waiting)
        self._held = False
        self._confirmed_at: dt.datetime | None = None
        self.lost = asyncio.Event()  # set when another process took the name over
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self._held

    async def take(self) -> None:
        """Hold the name, waiting up to one lease for a predecessor's; `NameInUse` when
        another live process keeps it."""
        if not await self._try():
            await self._wait_for_predecessor()
        self._held = True
        log.info("holding the process name %s", self.name)
        self._heartbeat = asyncio.create_task(self._beat(), name="process-name-heartbeat")

    async def _try(self) -> bool:
        now = self._clock.now()
        return await self._claims.acquire(self.key, now, NAME_LEASE, detail=holder_detail())

    async def _holder(self) -> Claim | None:
        return (await self._claims.get_many([self.key])).get(self.key)

    async def _wait_for_predecessor(self) -> None:
        seen = await self._holder()
        if seen is None:  # given back between the two statements
            if await self._try():
                return
            raise NameInUse(self.name)
        if gone_from_this_host(seen.detail) and await self._claims.take_over(
            seen, self._clock.now(), NAME_LEASE, holder_detail()
        ):
            log.info("took over the name %s from a process that is gone", self.name)
            return
        log.warning(
            "another process holds the name %s: waiting up to %d s for its lease to end",
            self.name,
            NAME_LEASE.total_seconds(),
        )
        deadline = min(seen.lease_until, self._clock.now() + NAME_LEASE)
        for _ in range(int(NAME_LEASE.total_seconds() / HEARTBEAT_SECONDS) + 2):
            left = (deadline - self._clock.now()).total_seconds()
            await self._sleep(max(0.0, min(HEARTBEAT_SECONDS, left)))
            if await self._try():
                return
            now = await self._holder()
            if now is None or now.owner != seen.owner or now.lease_until > seen.lease_until:
                break  # renewed, or taken by yet another process: it is alive
        raise NameInUse(self.name)

    async def confirm(self) -> bool:
        """Whether this process still holds its name: renewed unless that was done less than
        `CONFIRM_EVERY` ago; False (and `lost` set) once another process holds it."""
        if not self._held:
            return False
        now = self._clock.now()
        if self._confirmed_at is not None and now - self._confirmed_at < CONFIRM_EVERY:
            return True
        return await self.renew()

    async def renew(self) -> bool:
        """Extend the name's lease (the heartbeat); False (and `lost` set) once another
        process holds it."""
        if not self._held:
            return False
        now = self._clock.now()
        if await self._claims.renew(self.key, now, NAME_LEASE):
            self._confirmed_at = now
            return True
        self._held = False
        self.lost.set()
        log.error("another process took over the name %s: this process stops", self.name)
        return False

    async def _beat(self) -> None:
        while self._held:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.renew()
            except Exception:  # the database away for a moment: the next beat tries again
                log.warning("could not renew the process name %s", self.name, exc_info=True)

    async def release(self) -> None:
        """Give the name back (a clean stop): the next process with it starts at once."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._held:
            self._held = False
            await self._claims.complete(self.key, self._clock.now(), "stopped")
