"""The end-to-end harness: the real Stride app against the Discord and provider stand-ins.

`stride` starts `bot.app.StrideApp` exactly as `stride run` does, with two differences set
here and nowhere else: discord.py's REST base URL and gateway URL point at the Discord
stand-in (`patch_discord`). Every provider URL points at the provider stand-ins through the
ordinary settings, and the app's clock is a `FakeClock` the test moves forward.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.app import StrideApp
from bot.clock import FakeClock
from bot.daily import DailyRunner, RunReport
from bot.daily.runner import JOB_PREFIX
from bot.services import Services
from bot.settings import Settings
from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord
from tests.standins.discord.entities import Channel, Guild, StoredMessage, User
from tests.standins.discord.fixtures import *  # noqa: F403 - the stand-in's fixtures
from tests.standins.providers import ProviderStandins, start_provider_standins

pytestmark = pytest.mark.e2e

# Discord permission bits the bot needs in a challenge channel.
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16)
MANAGE_GUILD = 1 << 5

LINK_URL = re.compile(r"https?://[^\s)>\]]+/oauth/[a-z_]+/start\?[^\s)>\]]+")


@dataclass
class Stride:
    """One running Stride with its stand-ins, and what a scenario does with them."""

    discord: DiscordStandIn
    providers: ProviderStandins
    clock: FakeClock
    settings: Settings
    guild: Guild
    channel: Channel
    admin: User
    app: StrideApp
    _apps: list[StrideApp] = field(default_factory=list)
    _reports: list[RunReport] = field(default_factory=list)

    @property
    def services(self) -> Services:
        if self.app.services is None:
            raise RuntimeError("Stride is not running")
        return self.app.services

    async def start(self) -> None:
        self.app = StrideApp(self.settings, clock=self.clock)
        self._apps.append(self.app)
        await self.app.start()
        self._record_reports(self.services.daily_run)
        await self.app.wait_until_ready()
        if self.app.start_up_task is not None:
            await self.app.start_up_task

    async def stop(self) -> None:
        await self.app.stop()

    def _record_reports(self, runner: DailyRunner) -> None:
        """Spy on the runner's reports (the only thing the harness adds to the app)."""
        run_due = runner.run_due

        async def recording() -> RunReport:
            report = await run_due()
            self._reports.append(report)
            return report

        runner.run_due = recording  # type: ignore[method-assign]

    async def restart(self, *, at: dt.datetime | None = None) -> None:
        """Stop the whole process's worth of objects and start afresh on the same database.

        With `at`, the clock moves there while Stride is down (downtime); `start()` waits for
        the start-up catch-up run, as it does at any start.
        """
        await self.stop()
        if at is not None:
            self.clock.set(at)
        await self.start()

    async def member(self, name: str, *, permissions: int = 0) -> User:
        user = self.discord.add_user(name)
        await self.discord.add_member(self.guild, user, name=name)
        return user

    async def create_challenge(self, name: str, **options: Any) -> StoredMessage:
        """`/challenge create` by the admin (Manage Server) posting to the challenge channel;
        returns the challenge card."""
        record = await self.discord.slash(
            user=self.admin,
            guild=self.guild,
            channel=self.channel,
            name="challenge create",
            options={"name": name, "channel": self.channel.id, **options},
            permissions=MANAGE_GUILD,
        )
        return await record.wait_message()

    async def join(self, user: User, challenge: str) -> StoredMessage:
        """`/join challenge:<challenge>` as `user`; returns the (ephemeral) answer."""
        record = await self.discord.slash(
            user=user,
            guild=self.guild,
            channel=self.channel,
            name="join",
            options={"challenge": challenge},
        )
        return await record.wait_message()

    async def provider_user_id(self, user: User, provider: str) -> str:
        """The provider-side account id Stride stored when `user` linked `provider` (the
        sandbox makes its own, so a test reads it back to know that member's data)."""
        row = await self.services.db.fetch_one(
            "SELECT provider_user_id FROM linked_accounts WHERE discord_id = ? AND provider = ?",
            (user.id, provider),
        )
        assert row is not None, f"{user.name} has no {provider} link"
        return str(row["provider_user_id"])

    def channel_posts(self) -> list[StoredMessage]:
        """What the bot posted in the challenge channel on its own (daily, catch-up and results
        posts), oldest first; answers to slash commands are left out."""
        return [
            message
            for message in self.discord.messages_in(self.channel)
            if message.author.id == self.discord.bot_user.id
            and message.interaction_id is None
            and message.webhook_id is None
        ]

    async def run_at(self, instant: dt.datetime) -> RunReport:
        """Move the clock to `instant` and fire every job the scheduler would have fired on
        the way (each once, as APScheduler coalesces); returns what the daily runs did.

        A challenge whose job was never scheduled gets no post here, as in production.
        """
        since = self.clock.now()
        assert instant >= since, "the harness clock only moves forward"
        self.clock.set(instant)
        self._reports.clear()
        await self.services.scheduler.fire_due(since, instant)
        return _merged(self._reports)

    async def rerun_daily_jobs(self) -> RunReport:
        """Fire every challenge's daily job once more, now (a job firing late or by hand)."""
        self._reports.clear()
        for job_id in self.services.scheduler.job_ids():
            if job_id.startswith(JOB_PREFIX):
                await self.services.scheduler.run_now(job_id)
        assert self._reports, "no challenge has a daily job scheduled"
        return _merged(self._reports)

    async def follow_link(self, url: str, *, provider: str, provider_user: str | None) -> str:
        """Do what the member's browser does: open the link, consent, land on the callback."""
        async with aiohttp.ClientSession() as session:
            async with session.get(url, allow_redirects=False) as start:
                assert start.status in (302, 303), await start.text()
                authorize = start.headers["Location"]
            if provider == "sandbox":
                async with session.get(authorize) as consent_page:
                    page = await consent_page.text()
                    assert consent_page.status == 200, page
                # The consent form posts back to its own URL with its hidden fields.
                fields = {
                    name: html.unescape(value)
                    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
                }
                fields["decision"] = "allow"
                target = str(consent_page.url)
                async with session.post(target, data=fields, allow_redirects=False) as answer:
                    callback = answer.headers["Location"]
            else:
                standin = self.providers.by_name[provider]
                callback = await standin.consent(authorize, user=provider_user)
            async with session.get(callback) as page:
                body = await page.text()
                assert page.status == 200, body
                return body

    async def link(self, user: User, provider: str, provider_user: str | None = None) -> None:
        """Run `/link` as `user` and complete the consent; waits for the "Linked ✓" DM.

        Only DMs that arrive after this `/link` count, so a member can link a second provider.
        """
        earlier = {message.id for message in self.discord.dms_to(user)}
        record = await self.discord.slash(
            user=user,
            guild=self.guild,
            channel=self.channel,
            name="link",
            options={"provider": provider},
        )
        await record.wait_message()
        dm = await self.discord.wait_for_dm(
            user, lambda m: m.id not in earlier and bool(LINK_URL.search(_all_text(m)))
        )
        url = LINK_URL.search(_all_text(dm))
        assert url is not None
        await self.follow_link(url.group(0), provider=provider, provider_user=provider_user)
        await self.discord.wait_for_dm(
            user, lambda m: m.id not in earlier and "Linked ✓" in _all_text(m)
        )


def _merged(reports: list[RunReport]) -> RunReport:
    """One report for several runs fired together (later runs find the work done)."""
    merged = RunReport()
    for report in reports:
        merged.challenges += report.challenges
        merged.days_scored.update(report.days_scored)
        merged.days_finalised.update(report.days_finalised)
        merged.posts.update(report.posts)
        merged.posted_boards.update(report.posted_boards)
        merged.post_kinds.update(report.post_kinds)
        merged.failed_posts.update(report.failed_posts)
        merged.recaps.update(report.recaps)
        merged.accounts_fetched += report.accounts_fetched
        merged.fetch_failures.update(report.fetch_failures)
        merged.errors.update(report.errors)
    return merged


def _all_text(message: Any) -> str:
    """Content, embed text and button URLs of a recorded message, as one string."""
    parts = [message.text]
    for row in message.components or []:
        for item in row.get("components", []):
            parts.append(str(item.get("url", "")))
    return "\n".join(parts)


all_text = _all_text


@pytest.fixture
async def stride(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    tmp_path: Path,
    unused_tcp_port: int,
) -> AsyncIterator[Stride]:
    # Monday 2026-11-23, 08:00 in UTC; scenarios move on from here.
    clock = FakeClock(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC))
    discord_standin = await make_discord_standin()
    providers = await start_provider_standins(clock=clock)
    admin = discord_standin.add_user("Ada")
    guild = await discord_standin.add_guild(
        "Stride Test Club",
        owner=admin,
        bot_permissions=BOT_PERMISSIONS,
        text_channels=("general", "challenges"),
    )
    channel = discord_standin.channel_named(guild, "challenges")
    settings = providers.settings(
        sandbox=True,
        discord_token=discord_standin.token,
        database_path=tmp_path / "stride.db",
        token_encryption_keys=Fernet.generate_key().decode(),
        web_host="127.0.0.1",
        web_port=unused_tcp_port,
        public_base_url=f"http://127.0.0.1:{unused_tcp_port}",
        publish={"file": {"path": str(tmp_path / "publish.jsonl")}},
    )
    harness = Stride(
        discord=discord_standin,
        providers=providers,
        clock=clock,
        settings=settings,
        guild=guild,
        channel=channel,
        admin=admin,
        app=None,  # type: ignore[arg-type]
    )
    try:
        with patch_discord(discord_standin):
            await harness.start()
            try:
                yield harness
            finally:
                await harness.stop()
    finally:
        await providers.close()
