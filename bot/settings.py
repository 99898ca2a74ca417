"""Configuration from environment variables and an optional `.env` file.

Nothing here is read at import time: `Settings()` is built in `main()` and passed down.
Nested groups use `__`, e.g. `GOOGLE_HEALTH__CLIENT_ID`.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.shards import Shards

HttpUrl = Annotated[str, AnyHttpUrl]

MIN_URL_SECRET_LENGTH = 32
_URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$").fullmatch


def _blank_is_unset(value: object) -> object:
    """An empty variable (`OURA__WEBHOOK_VERIFICATION_TOKEN=`) means "not set"."""
    return None if isinstance(value, str) and not value.strip() else value


def _check_url(value: str) -> str:
    AnyHttpUrl(value)  # raises a ValueError with a clear message on a malformed URL
    return value.rstrip("/")


def _missing_reason(**variables: object) -> str | None:
    """ "set A, B" naming the variables that are unset, or None when all are set."""
    missing = [name for name, value in variables.items() if not value]
    return f"set {', '.join(missing)}" if missing else None


class OAuthProviderSettings(BaseModel):
    """Credentials and endpoints of one OAuth provider. Enabled when both credentials are set."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    authorize_url: str
    token_url: str
    revoke_url: str | None = None
    api_base_url: str
    # How Stride authenticates at the token and revoke endpoints (RFC 6749 §2.3.1): the id
    # and secret in the form body, or HTTP Basic. Google and Withings document the body.
    client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    # Per-attempt timeout of token requests that are never repeated (a code exchange, an
    # Oura refresh): the server may rotate the tokens even when the answer is late, so a
    # give-up would force a re-link. Repeatable requests keep the shorter timeout.
    token_timeout_seconds: float = Field(default=120.0, ge=5, le=600)

    @field_validator("authorize_url", "token_url", "revoke_url", "api_base_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @property
    def enabled(self) -> bool:
        return (
            bool(self.client_id)
            and self.client_secret is not None
            and bool(self.client_secret.get_secret_value())
        )

    @property
    def push_enabled(self) -> bool:
        """Whether Stride is set up to receive this provider's pushes (webhooks)."""
        return False

    def disabled_reason(self, env_prefix: str) -> str | None:
        missing = []
        if not self.client_id:
            missing.append(f"{env_prefix}__CLIENT_ID")
        if self.client_secret is None or not self.client_secret.get_secret_value():
            missing.append(f"{env_prefix}__CLIENT_SECRET")
        return f"set {' and '.join(missing)}" if missing else None


class GoogleHealthSettings(OAuthProviderSettings):
    authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
    revoke_url: str | None = "https://oauth2.googleapis.com/revoke"
    api_base_url: str = "https://health.googleapis.com/v4"
    # Webhooks (docs/providers.md): the whole Authorization header value Google sends with
    # every notification, as given in the subscriber's `endpointAuthorization.secret`
    # ("Bearer <random>"). Unset: no webhook route.
    webhook_secret: SecretStr | None = None
    # Google's ECDSA P-256 public key (PEM, or base64 DER) for the signature header; not
    # published where we looked, so optional: without it the shared secret alone is checked.
    webhook_public_key: str | None = None
    # The discovery document names GOOGLE-HEALTH-API-SIGNATURE, an older page
    # X-HEALTHAPI-SIGNATURE.
    webhook_signature_header: str = Field(default="GOOGLE-HEALTH-API-SIGNATURE", min_length=1)

    @property
    def push_enabled(self) -> bool:
        return self.webhook_secret is not None

    _blank_webhook = field_validator("webhook_secret", "webhook_public_key", mode="before")(
        _blank_is_unset
    )

    @field_validator("webhook_secret")
    @classmethod
    def _secret_has_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().split()) != 2:
            raise ValueError(
                "must be the whole Authorization header value, a scheme and a credential "
                "such as 'Bearer <random>'"
            )
        return value


class GoogleFitSettings(OAuthProviderSettings):
    authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
    revoke_url: str | None = "https://oauth2.googleapis.com/revoke"
    api_base_url: str = "https://www.googleapis.com/fitness/v1"


class WithingsSettings(OAuthProviderSettings):
    authorize_url: str = "https://account.withings.com/oauth2_user/authorize2"
    token_url: str = "https://wbsapi.withings.net/v2/oauth2"  # noqa: S105 (a URL, not a secret)
    revoke_url: str | None = None  # Withings offers apps no revocation; users unlink in Withings
    api_base_url: str = "https://wbsapi.withings.net"
    # Notifications (docs/providers.md): Stride subscribes each linked account on link. The
    # callback must be HTTPS on port 443, so they are off until asked for.
    notify_enabled: bool = False
    notify_url: str = "https://wbsapi.withings.net/notify"
    # The unguessable part of the callback URL (Withings does not sign its notifications);
    # generated once beside the database when unset.
    notify_secret: SecretStr | None = None

    @property
    def push_enabled(self) -> bool:
        return self.notify_enabled

    @field_validator("notify_url")
    @classmethod
    def _valid_notify_url(cls, value: str) -> str:
        return _check_url(value)

    _blank_secret = field_validator("notify_secret", mode="before")(_blank_is_unset)

    @field_validator("notify_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        text = "" if value is None else value.get_secret_value()
        if value is not None and (len(text) < MIN_URL_SECRET_LENGTH or not _URL_SAFE(text)):
            raise ValueError(
                f"must be at least {MIN_URL_SECRET_LENGTH} URL-safe characters "
                "(letters, digits, '-' and '_')"
            )
        return value


class OuraSettings(OAuthProviderSettings):
    authorize_url: str = "https://cloud.ouraring.com/oauth/authorize"
    token_url: str = "https://api.ouraring.com/oauth/token"  # noqa: S105 (a URL, not a secret)
    revoke_url: str | None = "https://api.ouraring.com/oauth/revoke"
    api_base_url: str = "https://api.ouraring.com"
    # Webhooks (docs/providers.md): with a verification token set, Stride keeps the app's
    # subscriptions itself (created at start, renewed before expiry, deleted when unset).
    webhook_url: str = "https://api.ouraring.com/v2/webhook/subscription"
    webhook_verification_token: SecretStr | None = None
    # Renew a subscription that expires within this many hours (Oura documents no lifetime).
    webhook_renew_margin_hours: int = Field(default=72, ge=1, le=24 * 60)
    # Refuse a notification whose x-oura-timestamp is further than this from now.
    webhook_replay_window_seconds: int = Field(default=300, ge=30, le=24 * 3600)

    @property
    def push_enabled(self) -> bool:
        return self.webhook_verification_token is not None

    _blank_token = field_validator("webhook_verification_token", mode="before")(_blank_is_unset)

    @field_validator("webhook_url")
    @classmethod
    def _valid_webhook_url(cls, value: str) -> str:
        return _check_url(value)


class SandboxSettings(BaseModel):
    """The built-in provider with synthetic data, for trying Stride without a wearable."""

    enabled: bool = False


class AppleHealthSettings(BaseModel):
    """Apple Health uploads from members' iPhones (`bot.providers.apple_health`): off until
    enabled, because each member's phone must reach `PUBLIC_BASE_URL`."""

    enabled: bool = False
    # The largest upload accepted (413 beyond): two days of per-minute samples of five
    # metrics, as Health Auto Export's default period sends, fit with room to spare.
    max_upload_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Uploads each address may make: a burst of `upload_burst`, refilled at this rate (429
    # with Retry-After beyond).
    uploads_per_hour: int = Field(default=60, ge=1, le=3600)
    upload_burst: int = Field(default=10, ge=1, le=1000)


class StreamrSinkSettings(BaseModel):
    node_url: str | None = None
    api_key: SecretStr | None = None
    stream_id: str | None = None

    @field_validator("node_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    def disabled_reason(self) -> str | None:
        return _missing_reason(
            PUBLISH__STREAMR__NODE_URL=self.node_url,
            PUBLISH__STREAMR__API_KEY=self.api_key,
            PUBLISH__STREAMR__STREAM_ID=self.stream_id,
        )


class MqttSinkSettings(BaseModel):
    host: str | None = None
    port: int = Field(default=1883, ge=1, le=65535)
    tls: bool = False
    # A PEM file of the CA (or certificate) to trust for this broker only, instead of the
    # system's trust store; setting it implies TLS.
    ca_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    topic_template: str = "stride/{guild_key}/{metric}"
    # Stable across restarts; unset: derived from the host name and the database path.
    client_id: str | None = None

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.ca_file is not None

    def disabled_reason(self) -> str | None:
        return None if self.host else "set PUBLISH__MQTT__HOST"


class WebhookSinkSettings(BaseModel):
    url: str | None = None
    secret: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    def disabled_reason(self) -> str | None:
        return _missing_reason(PUBLISH__WEBHOOK__URL=self.url, PUBLISH__WEBHOOK__SECRET=self.secret)


class FileSinkSettings(BaseModel):
    path: Path | None = None

    def disabled_reason(self) -> str | None:
        return None if self.path else "set PUBLISH__FILE__PATH"


class PublishSettings(BaseModel):
    """The optional publish cog: anonymised daily aggregates to one or more sinks."""

    secret: SecretStr | None = None  # HMAC key for challenge keys; generated beside the DB if unset
    k: int = Field(default=5, ge=3)
    epsilon: float | None = Field(default=None, gt=0)
    streamr: StreamrSinkSettings = StreamrSinkSettings()
    mqtt: MqttSinkSettings = MqttSinkSettings()
    webhook: WebhookSinkSettings = WebhookSinkSettings()
    file: FileSinkSettings = FileSinkSettings()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
    )

    discord_token: SecretStr | None = None
    database_path: Path = Path("./data/stride.db")
    # PostgreSQL instead of the SQLite file when set (`postgresql://user:password@host/db`);
    # a secret, since it may carry the password. Key files stay beside `database_path`.
    database_url: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    # The public server's limits (`bot.web.server`): a request head must arrive within the
    # header timeout, its body within the body timeout; idle keep-alive connections close
    # after the keep-alive timeout; at most `web_max_connections` are open at once.
    web_header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    web_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    web_keepalive_timeout_seconds: float = Field(default=75.0, gt=0, le=3600)
    web_max_connections: int = Field(default=512, ge=1, le=65535)
    web_backlog: int = Field(default=128, ge=1, le=65535)
    # `/metrics` (`bot.web.listeners`): on a listener of its own at METRICS_HOST:METRICS_PORT
    # (loopback by default, never the public port); METRICS_PORT empty serves it on the
    # public port instead. With METRICS_TOKEN, scrapes must send `Authorization: Bearer …`.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=9108, ge=0, le=65535)
    metrics_token: SecretStr | None = None
    _blank_metrics = field_validator("metrics_port", "metrics_token", mode="before")(
        _blank_is_unset
    )
    token_encryption_keys: SecretStr | None = None
    dev_guild_id: int | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Concurrency of provider fetches: the daily run's pool, and the sync queue's workers each;
    # each provider's limiter keeps its documented per-minute limits whatever the concurrency
    # (Google Health: 120,000 a minute per project, 300 per user; Withings: 120 per app).
    fetch_concurrency: int = Field(default=512, ge=1, le=1024)
    # Live sync: what cannot push is polled once every this many minutes (accounts in play);
    # a member may /sync once every `sync_cooldown_minutes`.
    poll_minutes: int = Field(default=30, ge=1, le=24 * 60)
    sync_cooldown_minutes: int = Field(default=10, ge=0, le=24 * 60)
    # Nudges (opt-in DMs, `bot.nudges`): at most one per member every `nudge_min_hours`, and
    # only from `nudge_earliest_hour` o'clock until `nudge_latest_hour` o'clock in the
    # challenge's time zone (08:00 to 21:00 by default: never at night).
    nudge_min_hours: int = Field(default=3, ge=1, le=7 * 24)
    nudge_earliest_hour: int = Field(default=8, ge=0, le=23)
    nudge_latest_hour: int = Field(default=21, ge=1, le=24)
    # Several processes (`bot.shards`): Discord shards in all, and the ones this process
    # connects ("0" or "0,1"); unset: one process, every guild. `fetch_processes`: how many
    # processes fetch from the providers at once, each keeping to its share of every
    # per-application rate limit (default: shard_count / len(shard_ids)).
    shard_count: int | None = Field(default=None, ge=1, le=4096)
    shard_ids: Annotated[list[int] | None, NoDecode] = None
    fetch_processes: int | None = Field(default=None, ge=1, le=4096)
    # This process's name in the claims (`bot.storage.claims`); unset: the host name. Two
    # processes on one host with the same shards need different names: a second live one
    # with a name in use refuses to start (`bot.instance`).
    instance_name: str | None = Field(default=None, min_length=1, max_length=100)

    google_health: GoogleHealthSettings = GoogleHealthSettings()
    withings: WithingsSettings = WithingsSettings()
    oura: OuraSettings = OuraSettings()
    google_fit: GoogleFitSettings = GoogleFitSettings()
    sandbox: SandboxSettings = SandboxSettings()
    apple_health: AppleHealthSettings = AppleHealthSettings()
    publish: PublishSettings = PublishSettings()

    @field_validator("public_base_url")
    @classmethod
    def _valid_base_url(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_in_any_case(cls, value: object) -> object:
        """`LOG_LEVEL=debug` works as `DEBUG` does."""
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # unset or empty: SQLite
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (leave it unset for SQLite)")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, int):
            return [value]
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()] or None
        return value

    @model_validator(mode="after")
    def _shards_in_range(self) -> Settings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT")
        if self.shard_count is not None and any(
            not 0 <= shard < self.shard_count for shard in self.shard_ids or ()
        ):
            raise ValueError("every SHARD_IDS entry must be from 0 to SHARD_COUNT - 1")
        return self

    @property
    def shards(self) -> Shards:
        """The shards this process connects (`bot.shards`)."""
        return Shards.of(self.shard_count, self.shard_ids)

    @property
    def process_name(self) -> str:
        """Who holds this process's claims: the instance (or host) name and its shards."""
        return f"{self.instance_name or socket.gethostname()}/{self.shards.describe()}"

    @property
    def quota_share(self) -> float:
        """This process's share of each per-application provider rate limit."""
        if self.fetch_processes is not None:
            return 1 / self.fetch_processes
        shards = self.shards
        if shards.count is None or not shards.ids:
            return 1.0
        return min(1.0, len(shards.ids) / shards.count)

    @model_validator(mode="after")
    def _nudge_hours_in_order(self) -> Settings:
        if self.nudge_earliest_hour >= self.nudge_latest_hour:
            raise ValueError("NUDGE_EARLIEST_HOUR must be before NUDGE_LATEST_HOUR")
        return self

    def oauth_providers(self) -> dict[str, tuple[OAuthProviderSettings, str]]:
        """Each OAuth provider's settings with the env prefix that configures it."""
        return {
            "google_health": (self.google_health, "GOOGLE_HEALTH"),
            "withings": (self.withings, "WITHINGS"),
            "oura": (self.oura, "OURA"),
            "google_fit": (self.google_fit, "GOOGLE_FIT"),
        }
