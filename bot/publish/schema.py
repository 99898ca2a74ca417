"""The published message, schema version 1: one message per challenge, day and sink.

Example (JSON, keys sorted, no whitespace on the wire):

    {"challenge_key": "9f2c…", "date": "2024-05-01", "goal_share": 0.57,
     "idempotency_key": "9f2c…:2024-05-01:mqtt", "mean": 9312.4, "median": 8870.0,
     "metric": "steps", "p90": 14002.5, "participants": 7,
     "privacy": {"clamp_upper": null, "epsilon_per_value": null, "epsilon_total": null,
                 "k": 5, "mechanism": "none"},
     "schema": "stride.daily_aggregate", "schema_version": 1, "sum": 65187.0, "unit": "steps"}

What it never holds: a Discord id, a name, a provider user id, a guild id, a challenge id,
or any time finer than the civil `date`. `challenge_key` is an HMAC of the challenge id
(`bot.publish.keys`). `idempotency_key` is `challenge_key:date:sink`: the same in every copy
of one sink's message, so a consumer drops a message whose key it has seen. Only the file sink
is exactly-once by itself; `bot.publish.sinks` says what each sink guarantees.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.domain import UNITS, Metric
from bot.publish.aggregate import DailyAggregate

SCHEMA_NAME: Literal["stride.daily_aggregate"] = "stride.daily_aggregate"
SCHEMA_VERSION: Literal[1] = 1


class PrivacyInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int
    mechanism: Literal["none", "laplace"]
    epsilon_per_value: float | None
    epsilon_total: float | None
    clamp_upper: float | None


class DailyAggregateMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True)

    # "schema" on the wire; the attribute name would shadow a BaseModel method.
    schema_name: Literal["stride.daily_aggregate"] = Field(default=SCHEMA_NAME, alias="schema")
    schema_version: Literal[1] = SCHEMA_VERSION
    idempotency_key: str
    challenge_key: str
    metric: str
    unit: str
    date: dt.date
    participants: int
    sum: float
    mean: float
    median: float
    p90: float
    goal_share: float | None
    privacy: PrivacyInfo

    def to_json(self) -> str:
        """The exact text sent to every sink: sorted keys, compact."""
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> DailyAggregateMessage:
        return cls.model_validate(json.loads(text))


def idempotency_key(challenge_key: str, day: dt.date, sink: str) -> str:
    return f"{challenge_key}:{day.isoformat()}:{sink}"


def build_message(
    *,
    challenge_key: str,
    metric: str,
    day: dt.date,
    sink: str,
    result: DailyAggregate,
) -> DailyAggregateMessage:
    try:
        unit = UNITS[Metric(metric)]
    except ValueError:
        unit = ""
    return DailyAggregateMessage(
        idempotency_key=idempotency_key(challenge_key, day, sink),
        challenge_key=challenge_key,
        metric=metric,
        unit=unit,
        date=day,
        participants=result.participants,
        sum=result.sum,
        mean=result.mean,
        median=result.median,
        p90=result.p90,
        goal_share=result.goal_share,
        privacy=PrivacyInfo(
            k=result.privacy.k,
            mechanism="laplace" if result.privacy.mechanism == "laplace" else "none",
            epsilon_per_value=result.privacy.epsilon_per_value,
            epsilon_total=result.privacy.epsilon_total,
            clamp_upper=result.privacy.clamp_upper,
        ),
    )
