"""The `stride` command line: run, check, migrate, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.challenges.inputs import MAX_DAYS, MAX_PLAYERS_LIMIT
from bot.crypto import EncryptionKeyError, parse_keys
from bot.domain import ScoringMode
from bot.errors import ConfigError
from bot.settings import Settings
from bot.storage import Database, DatabaseTooNew, MigrationError

log = logging.getLogger("bot")


def load_settings() -> Settings:
    """Settings from the environment and `.env`; a ValidationError names each bad variable."""
    return Settings()


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable, never echoing its value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        variable = "__".join(str(part) for part in item["loc"]).upper()
        lines.append(f"{variable}: {item['msg']}")
    return lines


def configuration_report(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, notes) for `stride check`. Secrets are never part of either."""
    problems: list[str] = []
    notes: list[str] = []
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        problems.append(
            "DISCORD_TOKEN is not set: create a bot in the Discord developer portal "
            "and put its token in DISCORD_TOKEN (see README)"
        )
    if settings.token_encryption_keys is not None:
        try:
            keys = parse_keys(settings.token_encryption_keys.get_secret_value())
            notes.append(f"token encryption: {len(keys)} key(s) configured")
        except EncryptionKeyError as exc:
            problems.append(str(exc))
    else:
        notes.append(
            "token encryption: TOKEN_ENCRYPTION_KEYS not set; a key file will be generated "
            f"beside the database ({settings.database_path.parent}/stride.key)"
        )
    notes.append("providers:")
    for name, (provider, prefix) in settings.oauth_providers().items():
        reason = provider.disabled_reason(prefix)
        notes.append(f"  {name}: " + ("enabled" if reason is None else f"disabled ({reason})"))
    notes.append(
        "  sandbox: "
        + ("enabled" if settings.sandbox.enabled else "disabled (set SANDBOX__ENABLED=true)")
    )
    notes.append("publish sinks:")
    publish = settings.publish
    problems.extend(publish_problems(settings))
    for sink_name, sink in (
        ("streamr", publish.streamr),
        ("mqtt", publish.mqtt),
        ("webhook", publish.webhook),
        ("file", publish.file),
    ):
        reason = sink.disabled_reason()
        notes.append(f"  {sink_name}: " + ("enabled" if reason is None else f"disabled ({reason})"))
    webhook_problems, webhook_notes = webhook_report(settings)
    problems.extend(webhook_problems)
    notes.extend(webhook_notes)
    return problems, notes


def webhook_report(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, notes) about the provider webhooks: the public URLs to register and
    whether each provider's push is configured. Secrets are never printed."""
    from bot.providers.push import PUSH_METRICS

    problems: list[str] = []
    notes = ["webhooks (pushes; the scheduled fetch runs either way):"]
    base = settings.public_base_url
    if not base.startswith("https://"):
        notes.append(
            "  note: PUBLIC_BASE_URL is not HTTPS; Google requires HTTPS, Withings HTTPS on "
            "port 443 (or 10 users at most)"
        )
    for provider, describe in (
        ("google_health", _google_health_webhook),
        ("withings", _withings_webhook),
        ("oura", _oura_webhook),
    ):
        lines = describe(settings, problems)
        covered = ", ".join(sorted(metric.value for metric in PUSH_METRICS[provider]))
        notes.append(f"  {provider}: {lines[0]}")
        notes.extend(f"    {line}" for line in [*lines[1:], f"a push announces: {covered}"])
    notes.append("  google_fit: no webhooks (Google Fit has none)")
    return problems, notes


def _push_state(settings: Settings, provider: str, missing: str) -> str | None:
    """Why the provider's push is not configured, or None when it is."""
    from bot.providers.push import push_configured

    if push_configured(settings, provider):
        return None
    group, prefix = settings.oauth_providers()[provider]
    reason = group.disabled_reason(prefix)
    return f"push not configured ({reason or missing})"


def _google_health_webhook(settings: Settings, problems: list[str]) -> list[str]:
    from bot.providers.push import GOOGLE_HEALTH_DATA_TYPES, google_health_webhook_url
    from bot.web.webhooks.signatures import load_p256_public_key

    health = settings.google_health
    url = google_health_webhook_url(settings.public_base_url)
    state = _push_state(settings, "google_health", "set GOOGLE_HEALTH__WEBHOOK_SECRET")
    if state is not None:
        return [state, f"its URL would be {url}"]
    signatures = "the shared secret alone authenticates (no GOOGLE_HEALTH__WEBHOOK_PUBLIC_KEY)"
    if health.webhook_public_key:
        try:
            load_p256_public_key(health.webhook_public_key)
            signatures = f"{health.webhook_signature_header} is checked with the public key"
        except ConfigError as exc:
            problems.extend(exc.problems)
    payload = {
        "endpointUri": url,
        "endpointAuthorization": {"secret": "<the value of GOOGLE_HEALTH__WEBHOOK_SECRET>"},
        "subscriberConfigs": [
            {
                "dataTypes": sorted(GOOGLE_HEALTH_DATA_TYPES),
                "subscriptionCreatePolicy": "AUTOMATIC",
            }
        ],
    }
    return [
        f"push configured at {url}",
        "register it once: POST "
        f"{health.api_base_url}/projects/<project number>/subscribers?subscriberId=stride "
        "(a cloud-platform token of the project) with the JSON body",
        json.dumps(payload),
        signatures,
    ]


def _withings_webhook(settings: Settings, problems: list[str]) -> list[str]:
    from bot.providers.push import withings_webhook_url
    from bot.providers.withings_notify import secret_file

    url = withings_webhook_url(settings.public_base_url, "<secret>")
    state = _push_state(settings, "withings", "set WITHINGS__NOTIFY_ENABLED=true")
    if state is not None:
        return [state]
    source = (
        "WITHINGS__NOTIFY_SECRET"
        if settings.withings.notify_secret is not None
        else f"generated once in {secret_file(settings.database_path)}"
    )
    return [
        f"push configured at {url} (the secret: {source})",
        "nothing to register: Stride subscribes each account on link (activity and sleep) "
        "and unsubscribes it on unlink and /privacy delete",
    ]


def _oura_webhook(settings: Settings, problems: list[str]) -> list[str]:
    from bot.providers.push import oura_webhook_url

    url = oura_webhook_url(settings.public_base_url)
    state = _push_state(settings, "oura", "set OURA__WEBHOOK_VERIFICATION_TOKEN")
    if state is not None:
        if not settings.oura.enabled:
            return [state]
        return [state, "subscriptions Stride made for this URL earlier are deleted at start"]
    return [
        f"push configured at {url}",
        "nothing to register: Stride creates the app's subscriptions at start, renews them "
        f"{settings.oura.webhook_renew_margin_hours} h before they expire",
    ]


def configure_logging(level: str) -> None:
    """Log to stderr, with OAuth states, codes and tokens blanked in every record.

    The filter sits on the handler, so it sees records from every logger (discord.py logs
    request bodies at DEBUG, and a `/link` reply carries a state in its URL).
    """
    from bot.redaction import RedactOAuthSecrets

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactOAuthSecrets) for f in handler.filters):
            handler.addFilter(RedactOAuthSecrets())


def publish_problems(settings: Settings) -> list[str]:
    """Publish settings that would switch publishing (or one sink) off at run time."""
    from bot.publish.keys import MIN_SECRET_LENGTH
    from bot.publish.sinks import check_topic_template

    problems: list[str] = []
    secret = settings.publish.secret
    if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
        problems.append(f"PUBLISH__SECRET must be at least {MIN_SECRET_LENGTH} characters long")
    if settings.publish.mqtt.host:
        try:
            check_topic_template(settings.publish.mqtt.topic_template)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems


def cmd_check(out: TextIO, err: TextIO) -> int:
    try:
        settings = load_settings()
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            print(f"error: {line}", file=err)
        return 1
    problems, notes = configuration_report(settings)
    for line in notes:
        print(line, file=out)
    for line in problems:
        print(f"error: {line}", file=err)
    if not problems:
        print("configuration OK", file=out)
    return 1 if problems else 0


async def _migrate(path: Path) -> tuple[int, int]:
    async with await Database.open(path) as db:
        before = await db.schema_version()
        after = await db.migrate()
        return before, after


def cmd_migrate(database: Path | None, out: TextIO, err: TextIO) -> int:
    try:
        path = database or load_settings().database_path
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            print(f"error: {line}", file=err)
        return 1
    try:
        before, after = asyncio.run(_migrate(path))
    except (MigrationError, DatabaseTooNew) as exc:
        print(f"error: {exc}", file=err)
        return 1
    applied = after - before
    print(f"{path}: schema version {after} ({applied} migration(s) applied)", file=out)
    return 0


async def _reencrypt(settings: Settings) -> int:
    from bot.crypto import cipher_from_settings
    from bot.storage.accounts import AccountsRepo

    keys = settings.token_encryption_keys
    cipher = cipher_from_settings(keys.get_secret_value() if keys else None, settings.database_path)
    async with await Database.open(settings.database_path) as db:
        await db.migrate()
        return await AccountsRepo(db, cipher).reencrypt_all()


def cmd_reencrypt(out: TextIO, err: TextIO) -> int:
    try:
        settings = load_settings()
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            print(f"error: {line}", file=err)
        return 1
    try:
        count = asyncio.run(_reencrypt(settings))
    except (MigrationError, DatabaseTooNew, EncryptionKeyError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    print(f"re-encrypted the tokens of {count} linked account(s) with the first key", file=out)
    return 0


def cmd_run(out: TextIO, err: TextIO) -> int:
    try:
        settings = load_settings()
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            print(f"error: {line}", file=err)
        return 1
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        print(
            "No DISCORD_TOKEN is configured: running `stride demo`, a simulated challenge "
            "(see README to run the bot).",
            file=err,
        )
        # The demo prints its own progress; only warnings from the services underneath.
        return cmd_demo(build_parser().parse_args(["demo"]), out, err)
    configure_logging(settings.log_level)
    problems, _notes = configuration_report(settings)
    if problems:
        for line in problems:
            print(f"error: {line}", file=err)
        return 1
    from bot.app import StrideApp

    try:
        return asyncio.run(StrideApp(settings).run())
    except (MigrationError, DatabaseTooNew, EncryptionKeyError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    except OSError as exc:  # the web port is taken, the database folder is not writable…
        print(f"error: cannot start Stride: {exc}", file=err)
        return 1


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Imported here: the demo brings the daily run and matplotlib, which no other command needs.
    from bot.demo import DemoOptions, run_demo

    options = DemoOptions(
        players=args.players, days=args.days, mode=args.mode, seed=args.seed, out=args.out
    )
    return asyncio.run(run_demo(options, out, err))


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stride", description="Stride: group fitness challenges on Discord."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run_commands(sub)
    _add_key_commands(sub)
    _add_demo_command(sub)
    return parser


def _add_run_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`run`, `check` and `migrate`: running the bot and preparing what it needs."""
    sub.add_parser(
        "run",
        help="run the bot (the default)",
        description="Start the Discord client, the web server and the scheduler. "
        "Without DISCORD_TOKEN, run the demo instead.",
    )
    sub.add_parser(
        "check",
        help="validate the configuration without connecting anywhere",
        description="Validate the configuration; list enabled providers and publish sinks. "
        "Exits 1 with one line per problem.",
    )
    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations and print the schema version",
        description="Apply pending migrations to the database and print its schema version.",
    )
    migrate.add_argument("--database", type=Path, help="database path (default: DATABASE_PATH)")


def _add_key_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`keygen` and `reencrypt`: the token encryption keys and their rotation."""
    sub.add_parser(
        "keygen",
        help="print a new key for TOKEN_ENCRYPTION_KEYS",
        description="Print a new Fernet key. To rotate, put it first in TOKEN_ENCRYPTION_KEYS "
        "and keep the old keys after it; then run `stride reencrypt`.",
    )
    sub.add_parser(
        "reencrypt",
        help="re-encrypt every stored token with the first key (finishes a key rotation)",
        description="Re-encrypt every stored provider token with the first key of "
        "TOKEN_ENCRYPTION_KEYS. Afterwards the old keys can be removed. Stop the bot first.",
    )


def _add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`demo` and its options."""
    demo = sub.add_parser(
        "demo",
        help="run a simulated challenge offline (no Discord token or wearable needed)",
        description="Simulate a challenge with sandbox players through the real daily run: "
        "print each day's standings, write the charts as PNG files. The same options give "
        "the same output.",
    )
    demo.add_argument(
        "--players",
        type=_bounded_int(1, MAX_PLAYERS_LIMIT),
        default=6,
        help="players (default 6)",
    )
    demo.add_argument(
        "--days", type=_bounded_int(1, MAX_DAYS), default=7, help="challenge days (default 7)"
    )
    demo.add_argument(
        "--mode",
        type=ScoringMode,
        choices=list(ScoringMode),
        default=ScoringMode.TOTAL,
        help="scoring mode (default total)",
    )
    demo.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default 1)")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="where the charts go (default ./demo-out)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    if args.command == "check":
        return cmd_check(out, err)
    if args.command == "migrate":
        return cmd_migrate(args.database, out, err)
    if args.command == "demo":
        return cmd_demo(args, out, err)
    if args.command == "keygen":
        print(Fernet.generate_key().decode("ascii"), file=out)
        return 0
    if args.command == "reencrypt":
        return cmd_reencrypt(out, err)
    return cmd_run(out, err)
