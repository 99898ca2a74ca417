"""A member's profile in one guild, the nickname's rules, and the roster a board shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import UserError
from bot.render.text import NAME_MAX_CHARS, printable_name

NICKNAME_MIN_CHARS = 2
# Never in a nickname: what could mention someone or look like a link once shown. (Every name
# is escaped where it is shown anyway; this keeps a nickname from even looking like one.)
_REFUSED = re.compile(r"[@<>`]|://|discord\.gg|www\.", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """How one member is shown in one guild: `nickname` instead of their display name in
    public posts and pages, or not at all while `hidden`."""

    guild_id: int
    discord_id: int
    nickname: str | None = None
    hidden: bool = False

    @property
    def is_default(self) -> bool:
        """Shown under their own display name: nothing to store."""
        return self.nickname is None and not self.hidden


def validated_nickname(text: str) -> str:
    """A nickname as it will be shown: one printable line, `NICKNAME_MIN_CHARS` to
    `NAME_MAX_CHARS` characters, nothing that looks like a mention or a link; else a UserError
    saying what to change."""
    collapsed = " ".join(text.split())
    if len(collapsed) > NAME_MAX_CHARS:
        raise UserError(f"A nickname can be at most {NAME_MAX_CHARS} characters long.")
    cleaned = printable_name(collapsed)
    if len(cleaned) < NICKNAME_MIN_CHARS:
        raise UserError(
            f"A nickname needs at least {NICKNAME_MIN_CHARS} visible characters, e.g. “Runner 7”."
        )
    if _REFUSED.search(cleaned):
        raise UserError("A nickname cannot contain @, <, >, ` or a link: pick another one.")
    return cleaned


@dataclass(frozen=True, slots=True)
class Roster:
    """Who a board shows and under which name: nicknames in place of display names, and the
    members who chose to hide (they are still scored and ranked)."""

    names: dict[int, str]
    hidden: frozenset[int]


def roster_of(names: Mapping[int, str], profiles: Mapping[int, MemberProfile]) -> Roster:
    """`names` (each player's display name) with the guild's nicknames and hidden members."""
    shown = {
        player: (profiles[player].nickname or name) if player in profiles else name
        for player, name in names.items()
    }
    hidden = frozenset(player for player in names if player in profiles and profiles[player].hidden)
    return Roster(shown, hidden)
