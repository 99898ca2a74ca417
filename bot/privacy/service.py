"""`PrivacyService`: the user's data rights.

Export everything Stride stores about a user (no token, state or verifier), delete all of it
after revoking every grant (`DeletionReport` says where the user must remove Stride
themselves), the publish opt-out for the anonymised aggregates, and how the user is shown in a
server's public posts and pages: a nickname, or hidden (`bot.profiles`; the export and the
deletion include these too).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.events import EventBus
from bot.linking import RevokeOutcome, TokenManager
from bot.notify import Attachment
from bot.profiles import MemberProfile
from bot.profiles.service import Profiles
from bot.providers.base import Provider
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.db import Database
from bot.storage.privacy import PrivacyRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeletionReport:
    revoked: tuple[str, ...]  # display names revoked at the provider
    revoke_not_offered: tuple[str, ...]  # the user should remove Stride there themselves
    revoke_failed: tuple[str, ...]


class PrivacyService:
    """Export, delete everything and the publish opt-out, for one Discord user at a time."""

    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        providers: Mapping[str, Provider],
        clock: Clock,
        events: EventBus,
        tokens: TokenManager,
    ) -> None:
        self._db = db
        self._repo = PrivacyRepo(db)
        self._users = UsersRepo(db)
        self._accounts = AccountsRepo(db, cipher)
        self._providers = providers
        self._clock = clock
        self._events = events
        self._tokens = tokens
        self._profiles = Profiles(db, clock)

    async def export(self, discord_id: int) -> Attachment:
        """Everything Stride stores about the user as a JSON file; no token, state or verifier."""
        data = {
            "discord_id": str(discord_id),
            "exported_at": self._clock.now().isoformat(),
            "note": (
                "Everything Stride stores about you. Provider tokens are stored encrypted "
                "and are not included."
            ),
            "tables": await self._repo.export(discord_id),
        }
        body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        return Attachment(filename=f"stride-data-{discord_id}.json", data=body.encode("utf-8"))

    async def delete_everything(self, discord_id: int) -> DeletionReport:
        """Revoke every grant, then delete every row about the user in one transaction.

        Emits `account_unlinking(account=…)` for each linked account first, while its tokens
        exist (push subscriptions end), and `user_deleted(discord_id=…)` inside that
        transaction, so handlers that remove their own rows commit or roll back together with
        the deletion.
        """
        revoked: list[str] = []
        not_offered: list[str] = []
        failed: list[str] = []
        for account in await self._accounts.for_user(discord_id):
            # While the tokens exist: handlers end the account's push subscriptions.
            await self._events.emit("account_unlinking", account=account)
            outcome = await self._tokens.revoke(account)
            name = (
                self._providers[account.provider].info.display_name
                if account.provider in self._providers
                else account.provider
            )
            if outcome is RevokeOutcome.REVOKED:
                revoked.append(name)
            elif outcome is RevokeOutcome.FAILED:
                failed.append(name)
            else:
                not_offered.append(name)
        async with self._db.transaction():
            removed = await self._repo.delete_user(discord_id)
            await self._events.emit("user_deleted", discord_id=discord_id)
        log.info("deleted the data of user %d (%d rows)", discord_id, removed)
        return DeletionReport(tuple(revoked), tuple(not_offered), tuple(failed))

    async def profile(self, guild_id: int, discord_id: int) -> MemberProfile:
        """How the user is shown in the guild's public posts and pages."""
        return await self._profiles.profile(guild_id, discord_id)

    async def set_nickname(
        self, guild_id: int, discord_id: int, nickname: str | None
    ) -> MemberProfile:
        """Show the user as `nickname` in the guild (a UserError when it is not allowed);
        None: their display name again."""
        return await self._profiles.set_nickname(guild_id, discord_id, nickname)

    async def set_hidden(self, guild_id: int, discord_id: int, *, hidden: bool) -> MemberProfile:
        """Leave the user out of the guild's public posts and pages (still scored, ranked and
        counted for their team), or show them again."""
        return await self._profiles.set_hidden(guild_id, discord_id, hidden=hidden)

    async def hidden_in(self, guild_id: int) -> frozenset[int]:
        """The guild's members who chose to hide."""
        return await self._profiles.hidden_in(guild_id)

    async def set_publish(self, discord_id: int, *, publish: bool) -> None:
        """Whether the user's values may go into the anonymised aggregates (publish cog)."""
        await self._users.ensure(discord_id, self._clock.now())
        await self._users.set_publish_opt_out(discord_id, opt_out=not publish)
