"""OAuth 2.0 pieces shared by the providers: client authentication, PKCE, authorize URLs,
token requests and answers, granted scopes, id_tokens.

- `ClientCredentials` authenticates Stride at a token or revoke endpoint the way the provider's
  `client_auth` setting says (RFC 6749 §2.3.1: the form body or HTTP Basic); `token_request`
  sends such a request and maps its errors.
- `require_bearer` refuses a token answer whose `token_type` is not Bearer (RFC 6749 §5.1, case
  insensitive): Stride only knows how to send bearer tokens (RFC 6750), so any other type would
  be sent wrongly and fail later, far from the cause.
- `missing_scopes` says which of a provider's `ScopeNeed`s a grant lacks (a member may untick
  single scopes on Google's or Oura's consent screen; the answer's `scope` says what was
  granted).
- `token_call_policy` is the retry policy of token requests that are never repeated: a longer
  timeout, because the server may rotate the tokens even when its answer comes late;
  `token_call_http` is a provider's client under it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from bot.clock import Clock
from bot.providers.base import ProviderInfo, ProviderResponseError, ScopeNeed, TokenSet
from bot.providers.http import ProviderHttp, RetryPolicy, raise_for_oauth_status
from bot.settings import OAuthProviderSettings

ClientAuthMethod = Literal["client_secret_post", "client_secret_basic"]
_SAFE_TOKEN_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,31}$")

# Used when a token answer leaves `expires_in` out; every provider here documents one hour or
# more, so an hour errs on the side of refreshing early.
DEFAULT_EXPIRES_IN = 3600
# The longest lifetime believed (Oura's access tokens last 30 days); a token that dies sooner
# than claimed is refreshed on its first 401.
MAX_EXPIRES_IN = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Stride's client id and secret at one provider, and how to present them (the secret's
    repr is hidden)."""

    client_id: str
    client_secret: SecretStr
    method: ClientAuthMethod = "client_secret_post"

    @classmethod
    def of(cls, settings: OAuthProviderSettings, provider: str) -> ClientCredentials:
        if not settings.client_id or settings.client_secret is None:
            raise ValueError(f"{provider} needs a client id and a client secret")
        return cls(settings.client_id, settings.client_secret, settings.client_auth)

    def authenticate(self, form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """`form` and the headers of a token or revoke request that authenticates Stride.

        `client_secret_post` adds `client_id` and `client_secret` to the form;
        `client_secret_basic` sends them as HTTP Basic, each form-urlencoded first (RFC 6749
        §2.3.1), and the form carries neither (a client uses one method per request).
        """
        secret = self.client_secret.get_secret_value()
        if self.method == "client_secret_basic":
            pair = f"{quote_plus(self.client_id, safe='')}:{quote_plus(secret, safe='')}"
            basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
            return dict(form), {"Authorization": f"Basic {basic}"}
        return {**form, "client_id": self.client_id, "client_secret": secret}, {}


async def token_request(
    http: ProviderHttp,
    url: str,
    *,
    client: ClientCredentials,
    endpoint: str,
    form: Mapping[str, str],
    idempotent: bool,
) -> Any:
    """POST an authenticated form to a token endpoint; the parsed JSON, errors mapped
    (`invalid_grant` becomes `GrantRevoked`)."""
    body, headers = client.authenticate(form)
    resp = await http.send(
        "POST", url, endpoint=endpoint, form=body, headers=headers, idempotent=idempotent
    )
    raise_for_oauth_status(resp)
    return resp.json()


def token_call_policy(policy: RetryPolicy | None, settings: OAuthProviderSettings) -> RetryPolicy:
    """The policy of token requests that are never repeated: `token_timeout_seconds` per
    attempt instead of the usual timeout, since giving up early cannot be retried."""
    base = policy or RetryPolicy()
    return dataclasses.replace(base, timeout=max(base.timeout, settings.token_timeout_seconds))


def token_call_http(http: ProviderHttp, settings: OAuthProviderSettings) -> ProviderHttp:
    """The provider's client for token requests that are never repeated (same session and
    limiter, `token_call_policy`)."""
    return http.with_policy(token_call_policy(http.policy, settings))


class UnsupportedTokenType(ProviderResponseError):
    """A token answer whose `token_type` is not Bearer: Stride cannot use such a token."""

    def __init__(self, provider: str, token_type: str) -> None:
        shown = token_type if _SAFE_TOKEN_TYPE.match(token_type) else "unreadable"
        super().__init__(
            f"{provider}: the token answer has token_type {shown!r}; Stride only sends Bearer "
            "tokens"
        )
        self.token_type = shown


def require_bearer(token_type: str | None, *, provider: str) -> None:
    """Refuse a token type other than Bearer (compared case-insensitively, RFC 6749 §5.1).

    An answer without `token_type` (which RFC 6749 requires) is taken as Bearer: that is what
    every provider here issues, and refusing it would break a link over a missing label.
    """
    if token_type is not None and token_type.strip().lower() != "bearer":
        raise UnsupportedTokenType(provider, token_type)


def missing_scopes(info: ProviderInfo, granted: Collection[str]) -> tuple[ScopeNeed, ...]:
    """The provider's scope needs that `granted` lacks, in the provider's order.

    Nothing is missing when `granted` is empty: the grant's scopes are unknown then (a link
    stored before Stride recorded them), and the fetches tell.
    """
    if not granted:
        return ()
    have = set(granted)
    return tuple(need for need in info.scope_needs if need.scope not in have)


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636 §4.1): 86 characters from the unreserved set."""
    return secrets.token_urlsafe(64)


def code_challenge_s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` appended as its query (spaces as %20, as OAuth servers expect)."""
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(params, quote_via=quote)}"


class OAuthTokenAnswer(BaseModel):
    """A standard RFC 6749 §5.1 token answer (Google, Oura)."""

    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: int | None = None
    refresh_token: str | None = None
    scope: str | None = None
    token_type: str | None = None
    id_token: str | None = None


def token_set(
    *,
    access_token: str,
    refresh_token: str | None,
    expires_in: int | None,
    scope: str | None,
    clock: Clock,
    scope_separator: str = " ",
    provider_user_id: str | None = None,
    requested: tuple[str, ...] = (),
) -> TokenSet:
    """The `TokenSet` of a token answer. An answer without `scope` was granted what was
    `requested` (RFC 6749 §5.1; pass it for a code exchange); for a refresh it keeps the
    grant's scopes (§6), which the caller's storage does when `scopes` is empty."""
    lifetime = DEFAULT_EXPIRES_IN
    if expires_in is not None and expires_in > 0:
        lifetime = min(expires_in, MAX_EXPIRES_IN)
    if scope is None:
        scopes = requested
    else:
        scopes = tuple(part for part in scope.split(scope_separator) if part)
    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=clock.now() + dt.timedelta(seconds=lifetime),
        scopes=scopes,
        provider_user_id=provider_user_id,
    )


def id_token_subject(id_token: str, *, provider: str) -> str:
    """The `sub` claim of an OpenID Connect id_token, without checking its signature.

    Only for id_tokens received directly from the token endpoint over TLS: OpenID Connect
    Core §3.1.3.7 allows TLS server validation in place of the signature check there.
    """
    try:
        payload_part = id_token.split(".")[1]
        padded = payload_part + "=" * (-len(payload_part) % 4)
        claims: Any = json.loads(base64.urlsafe_b64decode(padded))
    except (IndexError, ValueError, binascii.Error):
        raise ProviderResponseError(f"{provider}: the id_token is malformed") from None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    if not isinstance(subject, str) or not subject:
        raise ProviderResponseError(f"{provider}: the id_token has no subject")
    return subject
