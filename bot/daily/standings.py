"""The standings read model: a challenge's standings from stored data (`StandingsReader`).

`StandingsReader` reads what is stored (values fetched so far, the scores frozen on final
days, admin-excluded days, the ranks shown in the last post) and computes a `Board`: one
challenge's standings as of a day, with the players' names, ready to render. It never calls a
provider. A board shows players as their server shows them: nicknames in place of display
names, hidden members left out of what it renders (`bot.profiles`), distances in the server's
units. The daily run scores and posts with it (`as_of`), and `/leaderboard` and `/me` read
the live standings with it (`current`, `summaries_for`): the same computation, through today,
so a value the sync queue stores shows at the next read, today's provisional values
included, with when each player's data was last synced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.challenges.model import Challenge, ChallengeStatus, Participant, Phase
from bot.challenges.rulebook import ranks_by_streak
from bot.clock import Clock
from bot.daily.calendar import calendar_of, days_between
from bot.daily.corrections import effective, with_corrections
from bot.daily.source import ChallengeSource
from bot.domain import DailyValue, ScoringMode, Units
from bot.profiles import roster_of
from bot.render.chart import ChartInput
from bot.render.chart_data import colour_slots, cumulative_chart
from bot.render.leaderboard import EmbedContent, render_daily_post, render_results_post
from bot.scoring import (
    ChallengeRules,
    PlayerId,
    PlayerStanding,
    Standings,
    compute_awards,
    compute_standings,
    streak_ranks,
    team_standings,
)
from bot.storage.adjustments import Adjustment, AdjustmentsRepo
from bot.storage.db import Database
from bot.storage.guilds import GuildSettingsRepo
from bot.storage.profiles import ProfilesRepo
from bot.storage.runs import RunsRepo
from bot.storage.sync import SyncRepo
from bot.storage.values import ValuesRepo


@dataclass(frozen=True, slots=True)
class Board:
    """A challenge's standings as of a day (the last one scored, or today for the live
    standings), ready to render."""

    challenge: Challenge
    standings: Standings
    names: dict[PlayerId, str]
    day: dt.date | None  # the last day counted; None before the first one
    previous_ranks: dict[PlayerId, int] | None  # ranks shown in the last post
    final: bool = False  # the challenge is over and its results are in
    # When each player's data was last synced (the live standings only; never-synced players
    # are left out).
    synced_at: Mapping[PlayerId, dt.datetime] = field(default_factory=dict)
    # Every correction by an admin of a day it counts, oldest first: its amounts are marked,
    # and the post that is the first to mention one says what it changed (`bot.daily.mentions`).
    adjustments: tuple[Adjustment, ...] = ()
    units: Units = Units.METRIC  # how the guild shows distances
    # Members who chose not to be shown (`bot.profiles`): scored and ranked, never shown.
    hidden: frozenset[PlayerId] = frozenset()
    slots: Mapping[PlayerId, int] = field(default_factory=dict)  # chart colours: join order

    @property
    def corrected(self) -> frozenset[tuple[PlayerId, dt.date]]:
        """The (player, day) values an admin set."""
        return frozenset((a.discord_id, a.day) for a in self.adjustments)

    def post(self, corrections_note: str | None = None) -> EmbedContent | None:
        """The results post once the challenge is over, else the daily post of `day`, with
        `corrections_note` in its footer; None before the first day is over."""
        if self.day is None:
            return None
        if self.final:
            awards = compute_awards(self.standings)
            return render_results_post(
                self.standings,
                awards,
                self.names,
                challenge_name=self.challenge.name,
                units=self.units,
                hidden=self.hidden,
                corrected=self.corrected,
                corrections_note=corrections_note,
            )
        return render_daily_post(
            self.standings,
            self.names,
            challenge_name=self.challenge.name,
            day=self.day,
            units=self.units,
            hidden=self.hidden,
            previous_ranks=self.previous_ranks,
            corrected=self.corrected,
            corrections_note=corrections_note,
        )

    def chart(self) -> ChartInput:
        """The cumulative chart of the players shown, as the post and the live page draw it."""
        name = self.challenge.name
        return cumulative_chart(
            self.standings,
            self.names,
            title=f"{name}: final standings" if self.final else f"{name}: standings so far",
            units=self.units,
            slots=self.slots,
            hidden=self.hidden,
        )


@dataclass(frozen=True, slots=True)
class PlayerSummary:
    """One player's place in one challenge, for `/me`."""

    board: Board
    standing: PlayerStanding


@dataclass(frozen=True, slots=True)
class _Counted:
    """What the standings count: each player's values, and their usual (baseline) day."""

    values: dict[PlayerId, list[DailyValue]]
    baselines: dict[PlayerId, float]
    adjustments: list[Adjustment]  # every correction by an admin, oldest first


def fallback_name(discord_id: int) -> str:
    """What a player without a stored display name is called: 'Player …1234'."""
    return f"Player …{str(discord_id)[-4:]}"


def rank_by_best_streak(standings: Standings, teams: Mapping[PlayerId, str]) -> Standings:
    """Streak challenges: each player's score is their best streak, and ranks follow it (with
    the challenge's tie-break)."""
    scores = {p.player_id: float(p.best_streak) for p in standings.players}
    ranks = streak_ranks(standings)
    players = tuple(
        sorted(
            (
                replace(p, score=scores[p.player_id], rank=ranks[p.player_id])
                for p in standings.players
            ),
            key=lambda p: (p.rank, p.player_id),
        )
    )
    teams_ranked = team_standings(standings.rules.team_mode, players, teams)
    return replace(standings, players=players, teams=teams_ranked)


def counted_values(
    rules: ChallengeRules,
    player: PlayerId,
    frozen: Mapping[dt.date, float | None],
    stored: Sequence[DailyValue],
    excluded: set[tuple[int, dt.date]],
) -> list[DailyValue]:
    """One player's values that count: frozen on final days, the latest fetched on the
    others, admin-excluded days left out."""
    counted = [
        DailyValue(rules.metric, day, value)
        for day, value in frozen.items()
        if value is not None and (player, day) not in excluded
    ]
    counted += [v for v in stored if v.day not in frozen and (player, v.day) not in excluded]
    return counted


def _by_recency(summary: PlayerSummary) -> tuple[bool, bool, int]:
    """Running challenges first, then those not started yet, then those ended; the latest
    start first among each."""
    board = summary.board
    return board.final, board.day is None, -board.challenge.start.toordinal()


class StandingsReader:
    """Reads a challenge's standings from stored data; never calls a provider."""

    def __init__(self, *, db: Database, clock: Clock, challenges: ChallengeSource) -> None:
        self._clock = clock
        self._challenges = challenges
        self._values = ValuesRepo(db)
        self._runs = RunsRepo(db)
        self._sync = SyncRepo(db)
        self._adjustments = AdjustmentsRepo(db)
        self._guilds = GuildSettingsRepo(db)
        self._profiles = ProfilesRepo(db)

    async def current(self, challenge: Challenge) -> Board:
        """The live standings (no provider call): through today in the challenge's time
        zone, today's values so far included, or the final results once they are in. Days
        not final are provisional (today always is); each player's last sync comes along."""
        now = self._clock.now()
        results = await self._runs.results_record(challenge.id)
        if results is not None:
            # An early end leaves out the day it happened on: the results stop where they did.
            challenge = replace(challenge, end=results.day)
            through = results.day
        else:
            through = min(calendar_of(challenge).local_date(now), challenge.end)
        participants = await self._challenges.participants(challenge.id)
        final_days = await self._values.final_days(challenge.id)
        provisional = frozenset(
            day for day in days_between(challenge.start, through) if day not in final_days
        )
        board = await self.as_of(
            challenge, participants, through, provisional, final=results is not None
        )
        return replace(board, synced_at=await self._sync.synced_at(challenge.id))

    async def as_of(
        self,
        challenge: Challenge,
        participants: Sequence[Participant],
        through: dt.date,
        provisional: frozenset[dt.date],
        *,
        final: bool = False,
    ) -> Board:
        """Standings of `participants` through `through`, `provisional` days marked so.
        Baselines (each player's own fortnight before the start, as their fetch gave it)
        are read only where they count: improvement scoring, and the results'
        most-improved award (`final`)."""
        rules = self._challenges.rules(challenge)
        with_baselines = final or rules.mode is ScoringMode.IMPROVEMENT
        counted = await self._counted(challenge, rules, participants, through, with_baselines)
        teams = {p.discord_id: p.team for p in participants if p.team}
        standings = compute_standings(
            rules,
            counted.values,
            through=through,
            provisional_days=provisional,
            baselines=counted.baselines,
            teams=teams or None,
            first_days={p.discord_id: p.joined_on for p in participants},
        )
        if ranks_by_streak(challenge):
            standings = rank_by_best_streak(standings, teams)
        names = {p.discord_id: p.display_name or fallback_name(p.discord_id) for p in participants}
        # As the server shows them: nicknames, and who is hidden (`bot.profiles`).
        roster = roster_of(names, await self._profiles.for_guild(challenge.guild_id))
        names = roster.names
        return Board(
            challenge=challenge,
            standings=standings,
            names=names,
            day=standings.days[-1] if standings.days else None,
            previous_ranks=await self._runs.last_posted_ranks(challenge.id, before=through),
            final=final,
            units=await self._guilds.units(challenge.guild_id),
            hidden=roster.hidden,
            slots=colour_slots([p.discord_id for p in participants]),
            adjustments=tuple(
                a for a in counted.adjustments if a.day <= through and a.discord_id in names
            ),
        )

    async def _counted(
        self,
        challenge: Challenge,
        rules: ChallengeRules,
        participants: Sequence[Participant],
        through: dt.date,
        with_baselines: bool,
    ) -> _Counted:
        frozen = await self._values.final_scores(challenge.id)
        stored = await self._values.challenge_values(
            challenge.id, rules.metric, rules.start, min(through, rules.end)
        )
        excluded = await self._challenges.excluded_days(challenge.id)
        adjustments = await self._adjustments.of_challenge(challenge.id)
        corrected = effective(a for a in adjustments if a.day <= through)
        values: dict[PlayerId, list[DailyValue]] = {}
        for participant in participants:
            player = participant.discord_id
            mine = stored.get(player, [])
            counted = counted_values(rules, player, frozen.get(player, {}), mine, excluded)
            # An admin's correction counts instead of whatever else there is that day.
            values[player] = with_corrections(rules.metric, player, counted, corrected)
        # Each player's own, kept as their fetch gave it (`bot.daily.collect.own_baselines`).
        baselines = await self._values.baselines(challenge.id) if with_baselines else {}
        return _Counted(values, {p: baselines[p] for p in values if p in baselines}, adjustments)

    async def challenge_ids_of(self, discord_id: int) -> list[int]:
        """The challenges a user plays in (any status)."""
        return await self._values.player_challenge_ids(discord_id)

    async def running_challenges_of(self, discord_id: int) -> list[Challenge]:
        """The challenges a user plays in that are running today (in each one's time zone)."""
        now = self._clock.now()
        running = []
        for challenge_id in await self.challenge_ids_of(discord_id):
            challenge = await self._challenges.get(challenge_id)
            if challenge is not None and challenge.phase(challenge.today(now)) is Phase.RUNNING:
                running.append(challenge)
        return running

    async def summaries_for(self, discord_id: int, *, recent_days: int = 7) -> list[PlayerSummary]:
        """Where a player stands in each challenge they are in: every one not ended, and
        those that ended in the last `recent_days` days; running ones first."""
        now = self._clock.now()
        summaries = []
        for challenge_id in await self.challenge_ids_of(discord_id):
            challenge = await self._challenges.get(challenge_id)
            if challenge is None or (
                challenge.status is ChallengeStatus.ENDED
                and (challenge.today(now) - challenge.end).days > recent_days
            ):
                continue
            board = await self.current(challenge)
            standing = next((p for p in board.standings.players if p.player_id == discord_id), None)
            if standing is not None:
                summaries.append(PlayerSummary(board, standing))
        return sorted(summaries, key=_by_recency)
