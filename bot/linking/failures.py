"""How a link attempt fails, and the checks of what the start and callback requests carry.

`LinkError` (with a `LinkFailure`, from which the web layer picks the status) is raised for
every way a `/oauth/{provider}/start` or `/oauth/{provider}/callback` request cannot link; its
message is written for the user. The parameters are the provider's, but anyone can call those
URLs: `required_param` caps their size, and `loggable_error_code` keeps a provider's `error`
value out of the log unless it looks like an error code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from bot.storage.links import StateProblem

# The callback parameters are the provider's, but anyone can call the URL: cap their size.
MAX_PARAM_LENGTH = 4096
_SAFE_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


class LinkFailure(StrEnum):
    """Why a start or callback request could not link; the web layer picks the status."""

    UNKNOWN_PROVIDER = "unknown_provider"
    MISSING_PARAMETER = "missing_parameter"
    UNKNOWN_STATE = "unknown_state"
    STATE_USED = "state_used"
    STATE_EXPIRED = "state_expired"
    DENIED = "denied"
    CODE_REJECTED = "code_rejected"
    PROVIDER_FAILED = "provider_failed"
    LINKED_ELSEWHERE = "linked_elsewhere"
    SCOPES_MISSING = "scopes_missing"  # the grant lets Stride read nothing it needs


class LinkError(Exception):
    """A link attempt that failed; `message` is written for the user and holds no secret."""

    def __init__(self, failure: LinkFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


def required_param(params: Mapping[str, str], name: str) -> str:
    """The named parameter; `LinkError` when it is missing, empty or too long."""
    value = params.get(name)
    if not value:
        raise LinkError(
            LinkFailure.MISSING_PARAMETER,
            "This address is incomplete. Please open the link from Stride's message again, "
            "or use /link for a new one.",
        )
    if len(value) > MAX_PARAM_LENGTH:
        raise LinkError(LinkFailure.UNKNOWN_STATE, "This link is not valid.")
    return value


def state_error(problem: StateProblem | None) -> LinkError:
    """The error for a state that could not be used (`None`: never issued)."""
    if problem is StateProblem.USED:
        return LinkError(
            LinkFailure.STATE_USED,
            "This link was already used. If linking did not work, use /link for a new one.",
        )
    if problem is StateProblem.EXPIRED:
        return LinkError(
            LinkFailure.STATE_EXPIRED,
            "This link expired (links work for 10 minutes). Use /link for a new one.",
        )
    return LinkError(
        LinkFailure.UNKNOWN_STATE,
        "This link is not valid. Use /link in Discord for a new one.",
    )


def loggable_error_code(error: str) -> str:
    """A provider's `error` parameter as it may be logged: "unreadable" unless a plain code."""
    return error if _SAFE_ERROR_CODE.match(error) else "unreadable"
