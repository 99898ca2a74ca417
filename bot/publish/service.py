"""The publish service: turns final challenge days into outbox rows and runs their delivery.

Wiring (`bot.app.build_services`): `create_publish_service(...)` builds it from the settings;
`on_day_finalised` is registered for the `day_finalised` event and `run_delivery` as the
interval job `DELIVERY_JOB_ID`. The handler runs inside the transaction that finalises the
day and only reads and writes the database, so the outbox commits (or rolls back) together
with the day; the worker does the network I/O later, outside any transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.clock import Clock
from bot.errors import ConfigError, UserError
from bot.notify import ChannelUnavailable, Messenger
from bot.publish.aggregate import aggregate, clamp_bound
from bot.publish.keys import PublishKeys, keys_from_settings
from bot.publish.schema import DailyAggregateMessage, build_message, idempotency_key
from bot.publish.sinks import (
    FILE,
    MQTT,
    SINK_NAMES,
    STREAMR,
    WEBHOOK,
    FileSink,
    MqttSink,
    Sink,
    StreamrHttpSink,
    WebhookSink,
    default_mqtt_client_id,
)
from bot.publish.worker import DeliveryReport, OutboxWorker
from bot.settings import MqttSinkSettings, PublishSettings, Settings
from bot.storage import Database
from bot.storage.claims import ClaimsRepo
from bot.storage.publish import ChallengeFacts, NewOutboxRow, PublishRepo, SinkState

log = logging.getLogger(__name__)

DELIVERY_JOB_ID = "publish-delivery"
DELIVERY_INTERVAL_SECONDS = 60.0
DEFAULT_FILE_NAME = "publish.jsonl"


@dataclass(frozen=True, slots=True)
class SinkStatus:
    name: str
    configured: bool
    target: str | None  # where it sends, when configured
    disabled_reason: str | None  # what to set, when not configured
    last_success_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    failing_since: dt.datetime | None
    backlog: int


@dataclass(frozen=True, slots=True)
class PublishStatus:
    enabled: bool
    k: int
    epsilon: float | None
    sinks: list[SinkStatus]
    problem: str | None = None  # a configuration problem that stops all publishing


@dataclass(frozen=True, slots=True)
class Preview:
    """The next message, or why there is none. `pending` means it is already in the outbox."""

    payload: str | None
    note: str
    pending: bool = False


@dataclass(frozen=True, slots=True)
class DisableResult:
    was_enabled: bool
    discarded: int


class PublishService:
    def __init__(
        self,
        *,
        db: Database,
        settings: PublishSettings,
        keys: PublishKeys,
        sinks: Mapping[str, Sink],
        clock: Clock,
        messenger: Messenger,
        disabled_reasons: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        problem: str | None = None,
        claims: ClaimsRepo | None = None,
    ) -> None:
        self._db = db
        # `claims`: this process's, under its name (several processes, one database): each
        # sink's delivery is claimed, and only while the process holds its name.
        self._repo = PublishRepo(db, claims=claims)
        self._settings = settings
        self._keys = keys
        self._sinks = dict(sinks)
        self._clock = clock
        self._messenger = messenger
        self._disabled_reasons = dict(disabled_reasons or {})
        self._problem = problem
        # Noise must be unpredictable: the OS's CSPRNG unless a test injects its own.
        self._rng = rng if rng is not None else secrets.SystemRandom()
        self.worker = OutboxWorker(
            repo=self._repo,
            sinks=self._sinks,
            keys=keys,
            clock=clock,
            reporter=self._report_failing_sink,
        )

    @property
    def sink_names(self) -> list[str]:
        return sorted(self._sinks)

    # -- the event handler -------------------------------------------------------------

    async def on_day_finalised(
        self, *, challenge_id: int, day: dt.date | str, **_other: object
    ) -> None:
        """Write the day's messages to the outbox (in the emitter's transaction); no I/O.

        Extra event fields are ignored, so the emitter can add some without breaking this.
        """
        civil_day = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
        async with self._db.transaction():  # joins the emitter's transaction when there is one
            facts = await self._repo.challenge(challenge_id)
            if facts is None or not self._sinks:
                return
            if not await self._repo.publish_enabled(facts.guild_id):
                return
            body = await self._repo.payload_for_day(challenge_id, civil_day)
            if body is None:
                body = await self._day_payload(facts, civil_day)
            if body is None:
                return
            # One draw of the numbers for every sink; only the idempotency key differs.
            template = DailyAggregateMessage.from_json(body)
            rows = []
            for sink in self.sink_names:
                key = idempotency_key(template.challenge_key, civil_day, sink)
                payload = template.model_copy(update={"idempotency_key": key}).to_json()
                rows.append(
                    NewOutboxRow(
                        idempotency_key=key,
                        sink=sink,
                        guild_id=facts.guild_id,
                        challenge_id=challenge_id,
                        day=civil_day,
                        payload=payload,
                    )
                )
            inserted = await self._repo.enqueue(rows, self._clock.now())
        if inserted:
            log.info("queued %d publish message(s) for a challenge day", inserted)

    async def _day_payload(self, facts: ChallengeFacts, day: dt.date) -> str | None:
        """The day's message for the first sink (noise drawn now), or None below k players."""
        contributions = await self._repo.contributions(facts.id, day)
        result = aggregate(
            contributions,
            k=self._settings.k,
            has_goal=facts.daily_goal is not None,
            epsilon=self._settings.epsilon,
            bound=clamp_bound(facts.metric, facts.daily_cap),
            rng=self._rng,
        )
        if result is None:
            log.info(
                "not publishing a challenge day: %d contributor(s), k is %d",
                len(contributions),
                self._settings.k,
            )
            return None
        message = build_message(
            challenge_key=self._keys.challenge_key(facts.id),
            metric=facts.metric,
            day=day,
            sink=next(iter(self.sink_names), FILE),
            result=result,
        )
        return message.to_json()

    # -- the worker job ----------------------------------------------------------------

    async def deliver_due(self) -> DeliveryReport:
        return await self.worker.run_once()

    async def run_delivery(self) -> None:
        """The interval job: deliver whatever is due."""
        await self.worker.run_once()

    async def _report_failing_sink(self, state: SinkState) -> bool:
        messenger = self._messenger
        if not messenger.connected:
            return False  # not connected to Discord yet; report on a later run
        since = state.failing_since or self._clock.now()
        text = (
            f"Stride cannot publish this server's anonymised challenge data to the "
            f"**{state.sink}** sink: it has been failing since <t:{int(since.timestamp())}:f> "
            f"({state.last_error or 'no detail'}). Messages are kept and retried "
            "automatically; `/publish status` shows the backlog. You will not hear about "
            "this again unless it recovers and fails anew."
        )
        for target in await self._repo.report_targets(state.sink):
            if target.leaderboard_channel_id is not None:
                try:
                    await messenger.post(target.leaderboard_channel_id, content=text)
                    continue
                except ChannelUnavailable:
                    log.info("leaderboard channel unavailable; telling the challenge creator")
                except Exception:
                    # Best effort: Discord failing for one guild must neither stop the others
                    # being told (and the report recorded, so nobody hears twice) nor the run.
                    log.warning(
                        "could not post a failing-sink report in guild %d; telling the "
                        "challenge creator",
                        target.guild_id,
                        exc_info=True,
                    )
            if not await messenger.send_dm(target.challenge_creator_id, content=text):
                log.warning("could not tell guild %d about a failing sink", target.guild_id)
        return True

    # -- admin commands ----------------------------------------------------------------

    async def enable(self, guild_id: int) -> bool:
        """Turn publishing on; False when it already was."""
        if self._problem is not None:
            raise UserError(f"Publishing cannot be turned on: {self._problem}.")
        async with self._db.transaction():
            if await self._repo.publish_enabled(guild_id):
                return False
            await self._repo.set_publish_enabled(guild_id, True, self._clock.now())
        return True

    async def disable(self, guild_id: int) -> DisableResult:
        """Turn publishing off and drop this guild's undelivered messages: off means off."""
        async with self._db.transaction():
            was_enabled = await self._repo.publish_enabled(guild_id)
            await self._repo.set_publish_enabled(guild_id, False, self._clock.now())
            discarded = await self._repo.discard_pending(guild_id)
        return DisableResult(was_enabled=was_enabled, discarded=discarded)

    async def status(self, guild_id: int) -> PublishStatus:
        enabled = await self._repo.publish_enabled(guild_id)
        states = await self._repo.sink_states()
        backlog = await self._repo.backlog(guild_id)
        names = sorted(set(SINK_NAMES) | set(self._sinks) | set(backlog))
        sinks = []
        for name in names:
            sink = self._sinks.get(name)
            state = states.get(name, SinkState(sink=name))
            sinks.append(
                SinkStatus(
                    name=name,
                    configured=sink is not None,
                    target=sink.describe() if sink is not None else None,
                    disabled_reason=None
                    if sink is not None
                    else self._disabled_reasons.get(name, "not configured"),
                    last_success_at=state.last_success_at,
                    last_error=state.last_error,
                    last_error_at=state.last_error_at,
                    failing_since=state.failing_since,
                    backlog=backlog.get(name, 0),
                )
            )
        return PublishStatus(
            enabled=enabled,
            k=self._settings.k,
            epsilon=self._settings.epsilon,
            sinks=sinks,
            problem=self._problem,
        )

    async def preview(self, guild_id: int) -> Preview:
        pending = await self._repo.oldest_pending(guild_id)
        if pending is not None:
            return Preview(
                payload=pending.payload,
                note=f"Next in the outbox, for the {pending.sink} sink.",
                pending=True,
            )
        latest = await self._repo.latest_final_day(guild_id)
        if latest is None:
            return Preview(payload=None, note="No challenge day in this server is final yet.")
        challenge_id, day = latest
        facts = await self._repo.challenge(challenge_id)
        if facts is None:  # deleted between the two queries
            return Preview(payload=None, note="No challenge day in this server is final yet.")
        contributors = len(await self._repo.contributions(challenge_id, day))
        body = await self._day_payload(facts, day)
        if body is None:
            return Preview(
                payload=None,
                note=(
                    f"Nothing would be published for {facts.name} on {day.isoformat()}: "
                    f"{contributors} player(s) contributed and at least {self._settings.k} "
                    "are needed (players who opted out do not count)."
                ),
            )
        note = (
            f"Built from {facts.name} on {day.isoformat()}, exactly as a final day is "
            "published; each sink's copy differs only in `idempotency_key`."
        )
        if self._settings.epsilon is not None:
            note += " Noise is drawn anew for each real message, so the numbers will differ."
        return Preview(payload=body, note=note)


def mqtt_tls_context(mqtt: MqttSinkSettings) -> ssl.SSLContext | None:
    """None without TLS; with `ca_file`, a context that trusts that CA for this broker only
    (the process's other connections keep the system's trust store)."""
    if not mqtt.uses_tls:
        return None
    if mqtt.ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(mqtt.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            [f"PUBLISH__MQTT__CA_FILE {mqtt.ca_file} is not a readable PEM certificate file"]
        ) from exc


def sinks_from_settings(
    settings: Settings, http: aiohttp.ClientSession, clock: Clock
) -> tuple[dict[str, Sink], dict[str, str]]:
    """The configured sinks, and for the others what to set. The file sink is the default."""
    publish = settings.publish
    sinks: dict[str, Sink] = {}
    reasons: dict[str, str] = {}
    streamr = publish.streamr
    if streamr.node_url and streamr.api_key and streamr.stream_id:
        sinks[STREAMR] = StreamrHttpSink(
            http,
            node_url=streamr.node_url,
            api_key=streamr.api_key.get_secret_value(),
            stream_id=streamr.stream_id,
        )
    else:
        reasons[STREAMR] = streamr.disabled_reason() or "not configured"
    mqtt = publish.mqtt
    if mqtt.host:
        try:
            sinks[MQTT] = MqttSink(
                host=mqtt.host,
                port=mqtt.port,
                topic_template=mqtt.topic_template,
                client_id=mqtt.client_id or default_mqtt_client_id(settings.database_path),
                username=mqtt.username,
                password=mqtt.password.get_secret_value() if mqtt.password else None,
                tls_context=mqtt_tls_context(mqtt),
            )
        except ConfigError as exc:  # a bad topic template or CA file: the bot runs, the sink not
            reasons[MQTT] = "; ".join(exc.problems)
            log.error("the MQTT publish sink is off: %s", reasons[MQTT])
    else:
        reasons[MQTT] = mqtt.disabled_reason() or "not configured"
    webhook = publish.webhook
    if webhook.url and webhook.secret:
        sinks[WEBHOOK] = WebhookSink(
            http, url=webhook.url, secret=webhook.secret.get_secret_value(), clock=clock
        )
    else:
        reasons[WEBHOOK] = webhook.disabled_reason() or "not configured"
    if publish.file.path is not None:
        sinks[FILE] = FileSink(Path(publish.file.path))
    elif not sinks:
        default = settings.database_path.resolve().parent / DEFAULT_FILE_NAME
        sinks[FILE] = FileSink(default, is_default=True)
    else:
        reasons[FILE] = publish.file.disabled_reason() or "not configured"
    return sinks, reasons


def create_publish_service(
    settings: Settings,
    db: Database,
    http: aiohttp.ClientSession,
    clock: Clock,
    messenger: Messenger,
    claims: ClaimsRepo | None = None,
) -> PublishService:
    """The service from the settings. A configuration problem does not stop the bot: it
    switches publishing off, logs why, and `/publish status` and `/publish enable` say why.
    `claims`: this process's (`build_services` gives them its name guard); by default under
    the settings' process name."""
    sinks, reasons = sinks_from_settings(settings, http, clock)
    problem = None
    try:
        keys = keys_from_settings(settings.publish.secret, settings.database_path)
    except ConfigError as exc:
        problem = "; ".join(exc.problems)
        log.error("publishing is off: %s", problem)
        # A throwaway key: with no sinks, nothing is ever queued or sent with it.
        keys = PublishKeys(secrets.token_bytes(32))
        for name in sinks:
            reasons[name] = "off until the problem above is fixed"
        sinks = {}
    return PublishService(
        db=db,
        settings=settings.publish,
        keys=keys,
        sinks=sinks,
        clock=clock,
        messenger=messenger,
        disabled_reasons=reasons,
        problem=problem,
        claims=claims if claims is not None else ClaimsRepo(db, settings.process_name),
    )
