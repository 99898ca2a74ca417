"""How a member is shown in a server's public posts and pages (issue 15).

* `model`: a member's `MemberProfile` in one guild (a nickname, or hidden), the nickname's
  rules (`validated_nickname`), and `Roster`: the names and the hidden members a board shows.
* `service`: `Profiles`, what `/privacy nickname` and `/privacy hide` change (through
  `bot.privacy.PrivacyService`); stored by `bot.storage.profiles`.

A hidden member still plays: they are scored and ranked, count for their team and for the
anonymous aggregates, and see their own rank in `/me`; they are left out of the posts, the
charts, `/leaderboard`, the live page and other members' nudges. Everyone else keeps the
place the scoring gave them, so a hidden member's place is a gap.
"""

from bot.profiles.model import MemberProfile, Roster, roster_of, validated_nickname

__all__ = ["MemberProfile", "Roster", "roster_of", "validated_nickname"]
