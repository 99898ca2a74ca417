"""Which guilds this process serves: Discord's shard formula, in one place (`guild_shard`).

Discord sends a guild's events to shard `(guild_id >> 22) % shard_count`. A process started
with `SHARD_COUNT` and `SHARD_IDS` connects those shards only, and runs the daily run and the
posts of their guilds only (`Shards.owns`). Without shard settings one process owns every
guild, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def guild_shard(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes a guild to."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class Shards:
    """The shards this process connects: `count` in all, `ids` of them here (None: unsharded,
    every guild)."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    @classmethod
    def of(cls, count: int | None, ids: Sequence[int] | None) -> Shards:
        """From the settings: SHARD_IDS without SHARD_COUNT is refused there; SHARD_COUNT
        alone means every shard in this one process."""
        if count is None:
            return cls()
        return cls(count, tuple(sorted(set(ids))) if ids else tuple(range(count)))

    @property
    def sharded(self) -> bool:
        return self.count is not None

    def owns(self, guild_id: int) -> bool:
        """Whether this process serves the guild."""
        if self.count is None or self.ids is None:
            return True
        return guild_shard(guild_id, self.count) in self.ids

    def describe(self) -> str:
        if self.count is None or self.ids is None:
            return "unsharded"
        return f"shards {', '.join(map(str, self.ids))} of {self.count}"
