"""Shards (`bot.shards`, SHARD_COUNT / SHARD_IDS): Discord's guild formula, which guilds a
process serves, the settings that name them, and each process's share of a rate limit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from bot.shards import Shards, guild_shard


def test_a_guild_goes_to_the_shard_of_discords_formula() -> None:
    guild = 197_038_439_483_310_086  # the example in Discord's sharding documentation
    assert guild_shard(guild, 1) == 0
    assert guild_shard(guild, 2) == (guild >> 22) % 2
    assert [guild_shard(k << 22, 4) for k in range(6)] == [0, 1, 2, 3, 0, 1]


def test_a_process_owns_the_guilds_of_its_shards_only() -> None:
    zero, one = Shards.of(2, [0]), Shards.of(2, [1])
    for guild in (0, 1 << 22, 2 << 22, 3 << 22):
        assert zero.owns(guild) != one.owns(guild)
    assert Shards().owns(5 << 22) and not Shards().sharded  # unsharded: every guild
    assert Shards.of(3, None).ids == (0, 1, 2)  # SHARD_COUNT alone: all in this process


def test_shard_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "3, 1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.shards == Shards(4, (1, 3))
    assert settings.quota_share == 0.5
    assert settings.process_name.endswith("/shards 1, 3 of 4")
    monkeypatch.setenv("SHARD_IDS", "2")
    assert Settings(_env_file=None).shards.ids == (2,)  # type: ignore[call-arg]


def test_without_shard_settings_nothing_changes() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.shards == Shards()
    assert settings.quota_share == 1.0


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "from 0 to SHARD_COUNT - 1"),
        ({"SHARD_COUNT": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_shard_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_fetch_processes_sets_the_share_of_each_rate_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FETCH_PROCESSES", "3")
    monkeypatch.setenv("INSTANCE_NAME", "worker-a")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.quota_share == pytest.approx(1 / 3)
    assert settings.process_name == "worker-a/unsharded"
