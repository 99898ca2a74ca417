"""What a member's grant lets Stride read, and what to tell them when it is not everything.

A member can untick single scopes on Google's granular consent screen (or Oura's); the token
answer's `scope` lists what was granted, and it is stored with the tokens. `check_grant` runs
right after the code exchange: a grant that lets Stride read nothing, or lacks a scope linking
itself needs, is refused with a `LinkError` that says what to tick; a partial grant links, and
`missing_access_text` says what is missing and how to fix it (the success page, the "Linked"
DM and `/accounts` show it).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import Metric
from bot.linking.failures import LinkError, LinkFailure
from bot.providers.base import ProviderInfo, ScopeNeed, TokenSet
from bot.providers.oauth import missing_scopes


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _tick(needs: Sequence[ScopeNeed]) -> str:
    return _join([f"“{need.consent_label}”" for need in needs])


def unreadable_metrics(info: ProviderInfo, needs: Sequence[ScopeNeed]) -> list[Metric]:
    """The provider's metrics those missing scopes keep Stride from reading, in order."""
    blocked = {metric for need in needs for metric in need.metrics}
    return [metric for metric in Metric if metric in blocked and metric in info.metrics]


def missing_access_text(info: ProviderInfo, needs: Sequence[ScopeNeed]) -> str:
    """One paragraph for the member: what Stride cannot read, and what to tick to fix it."""
    metrics = [metric.label.lower() for metric in unreadable_metrics(info, needs)]
    what = _join(metrics) if metrics else "everything it needs"
    return (
        f"Stride cannot read your {what} from {info.display_name}: that access was not given "
        f"on the consent screen. To fix it, use /link again, choose {info.display_name} and "
        f"tick {_tick(needs)}."
    )


def check_grant(info: ProviderInfo, tokens: TokenSet) -> tuple[ScopeNeed, ...]:
    """The scope needs the new grant lacks; `LinkError` when it is of no use at all."""
    missing = missing_scopes(info, tokens.scopes)
    if not missing:
        return ()
    needed_to_link = [need for need in missing if not need.metrics]
    readable = set(info.metrics) - set(unreadable_metrics(info, missing))
    if needed_to_link or not readable:
        raise LinkError(
            LinkFailure.SCOPES_MISSING,
            f"Stride needs more access to {info.display_name} than was given, so nothing was "
            f"linked. Please use /link again and, on the consent screen, tick {_tick(missing)}.",
        )
    return missing
