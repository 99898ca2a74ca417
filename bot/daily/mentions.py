"""Which post mentions each correction by an admin (`CorrectionMentions`): exactly one, the
first sent after it that shows its day.

A daily, catch-up or results post (`bot.daily.post`) and, in "weekly only" mode, a weekly
recap (`bot.daily.recap`) claim the corrections its board counts that no post mentioned yet,
in the transaction that records its intent (`claim`); its footer then lists the corrections
claimed with its key (`note`), so the same post sent again after a stop says the same, and a
correction made while it was in flight waits for the next post. A post the channel refused
gives its corrections back (`release`) for the next one.
"""

from __future__ import annotations

from bot.daily.corrections import footnote, public_names
from bot.daily.standings import Board
from bot.storage.adjustments import AdjustmentsRepo
from bot.storage.db import Database


class CorrectionMentions:
    def __init__(self, db: Database) -> None:
        self._repo = AdjustmentsRepo(db)

    async def claim(self, board: Board, post_key: str) -> None:
        """Make the post `post_key` the one that mentions the board's corrections no post
        mentioned yet (call it in the transaction that records the post's intent)."""
        ids = [a.id for a in board.adjustments]
        await self._repo.claim_mentions(board.challenge.id, ids, post_key)

    async def note(self, board: Board, post_key: str) -> str | None:
        """What the post `post_key` says about the corrections it mentions (hidden members
        unnamed); None when it mentions none."""
        mentioned = await self._repo.mentioned_in(board.challenge.id, post_key)
        names = public_names(board.names, board.hidden)
        return footnote(mentioned, names, board.challenge.metric, board.units)

    async def release(self, challenge_id: int, post_key: str) -> None:
        """Give back the corrections of a post that did not go out."""
        await self._repo.release_mentions(challenge_id, post_key)
