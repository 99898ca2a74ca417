"""`/challenge …` for admins; `/challenges`, `/join` and `/leave` for players.

Discord only: options are parsed and handed to `services.challenges`
(`bot.challenges.ChallengeService`), whose answers are rendered here.

* `_admin_cog`: `ChallengeAdminCog`, the `/challenge` group (create, edit, end, delete, list,
  info, kick, review, team assign|rename|auto).
* `_corrections`, `_recaps`: `/challenge adjust` (corrections by admins) and `/challenge recap`
  (the weekly recap's day, "weekly only"), mixins of `ChallengeAdminCog`; `_group`: the
  `/challenge` group they share.
* `_player_cog`: `PlayerCog`, `/challenges` (browse), `/join` and `/leave`.
* `_browse`: the list and info replies both cogs send.
* `_options`: the choices and ranges of the create and edit options.
* `_embeds`: the summary card, info, list, teams and flag texts.
* `_views`: the Delete and review buttons.

Shared with other cogs: `cogs._checks` (`admin_check`, `ensure_can_post`), `cogs._autocomplete`
and `cogs._transformers` (dates and times).

Permissions: the `/challenge` group is hidden by default from members without Manage Server
(Discord can only hide whole top-level commands, so `list` and `info` are hidden with it; a
server can show the group to more members under Server Settings → Integrations). Every admin
subcommand also runs `admin_check`, which lets in Manage Server or the guild's configured admin
role (`/settings admin_role`) and refuses everyone else with one ephemeral line.
"""

from __future__ import annotations

from bot.discord_bot import StrideBot
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(ChallengeAdminCog(bot))
    await bot.add_cog(PlayerCog(bot))
