"""What `/link apple_health` DMs: the upload address, the secret, and how to set up the phone.

`UploadLink` holds the secret: its `repr` hides it, and only `setup_embed` shows it, in the
member's DM (or, with DMs closed, the ephemeral reply). `RedactUploadSecrets` keeps it out of
discord.py's debug log of that message's body: every secret starts with `SECRET_PREFIX`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.daily.baselines import MIN_SENT_BASELINE_DAYS
from bot.linking.colours import COLOUR_INFO
from bot.providers.apple_health.days import MAX_DAYS_BACK
from bot.render.leaderboard import EmbedContent, EmbedField

SECRET_HEADER = "X-Stride-Secret"  # noqa: S105 (a header name, not a secret)
SECRET_PREFIX = "sah1_"  # noqa: S105 (how every secret starts, not a secret)
_SECRET_IN_TEXT = re.compile(re.escape(SECRET_PREFIX) + r"[A-Za-z0-9_-]+")
DISCORD_HTTP_LOGGERS = ("discord.http", "discord.webhook.async_")


@dataclass(frozen=True, slots=True, repr=False)
class UploadLink:
    """A fresh upload address and its secret: show them to their member only, once."""

    address: str
    secret: str

    def __repr__(self) -> str:
        return "UploadLink(address=…, secret=…)"

    def embed(self) -> EmbedContent:
        return setup_embed(self)


HEALTH_AUTO_EXPORT_STEPS = (
    "1. Install **Health Auto Export** from the App Store; open *Automations* → new "
    "automation → type **REST API**.\n"
    "2. URL: your upload address. Headers: add `{header}` with your secret as its value.\n"
    "3. Data type *Health Metrics*; pick Step Count, Walking + Running Distance, Active "
    "Energy, Apple Exercise Time, Flights Climbed and Sleep Analysis.\n"
    "4. Export format **JSON**; period **Default** (yesterday and today), *Today* or "
    "*Previous 7 Days*, never *Since Last Sync*: each upload replaces the days it carries.\n"
    "5. Turn the automation on. It runs while your phone is unlocked."
)
SHORTCUT_STEPS = (
    "1. New shortcut: **Find Health Samples** where Type is Steps and Start Date is today, "
    "then **Calculate Statistics** → Sum.\n"
    "2. **Get Contents of URL**: your upload address, method POST, header `{header}` = your "
    "secret, request body JSON: `metric` = steps, `date` = Current Date formatted "
    "`yyyy-MM-dd`, `value` = the Sum, `unit` = count.\n"
    "3. The same for `distance` (km or mi), `active_calories` (kcal or kJ), "
    "`active_minutes` (min) and `sleep_minutes`, or all at once as "
    '`{{"samples": [{{"metric": …, "date": …, "value": …, "unit": …}}]}}`.\n'
    "4. Run it from a personal automation, e.g. every evening and just before midnight."
)
WHAT_COUNTS = (
    "Samples are added up per date as your phone shows it; an upload replaces what Stride "
    f"had for those days (the same upload twice changes nothing). Days up to {MAX_DAYS_BACK} "
    "days back count, none after today. A day that is final in your challenges (its grace "
    "period is over) no longer changes: an upload's values for it are skipped. In an "
    "improvement challenge your usual day comes from what you uploaded for the two weeks "
    f"before its start ({MIN_SENT_BASELINE_DAYS} days at least). Your phone's "
    "totals include what you type into the Health app, so they count as device data "
    "wherever a challenge leaves manual entries out."
)


def setup_embed(link: UploadLink) -> EmbedContent:
    """The DM with the address, the secret and the steps for both ways."""
    header = SECRET_HEADER
    return EmbedContent(
        title="Link Apple Health",
        description=(
            "Your iPhone sends its Health data to your personal upload address below; Stride "
            "never reads your phone. **The secret is shown only in this message**: put it in "
            "the app and nowhere else. `/link apple_health` again makes a new address and "
            "secret (the old ones stop working); `/unlink apple_health` turns them off."
        ),
        fields=(
            EmbedField("Upload address", f"`{link.address}`"),
            EmbedField("Header", f"`{header}: {link.secret}`"),
            EmbedField("With Health Auto Export", HEALTH_AUTO_EXPORT_STEPS.format(header=header)),
            EmbedField("With Apple Shortcuts", SHORTCUT_STEPS.format(header=header)),
            EmbedField("What counts", WHAT_COUNTS),
        ),
        footer="Only you can see this. Don't share the secret.",
        colour=COLOUR_INFO,
    )


class RedactUploadSecrets(logging.Filter):
    """Blanks upload secrets in a record's message (discord.py logs DM bodies at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = _SECRET_IN_TEXT.sub(SECRET_PREFIX + "[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_secret_redaction() -> None:
    """Put `RedactUploadSecrets` on discord.py's HTTP loggers, once."""
    for name in DISCORD_HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUploadSecrets) for f in logger.filters):
            logger.addFilter(RedactUploadSecrets())
