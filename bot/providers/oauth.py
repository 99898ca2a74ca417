"""OAuth 2.0 pieces shared by the providers: PKCE, authorize URLs, token answers, id_tokens."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from bot.clock import Clock
from bot.providers.base import ProviderResponseError, TokenSet
from bot.settings import OAuthProviderSettings

# Used when a token answer leaves `expires_in` out; every provider here documents one hour or
# more, so an hour errs on the side of refreshing early.
DEFAULT_EXPIRES_IN = 3600
# The longest lifetime believed (Oura's access tokens last 30 days); a token that dies sooner
# than claimed is refreshed on its first 401.
MAX_EXPIRES_IN = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Stride's client id and secret at one provider (the secret's repr is hidden)."""

    client_id: str
    client_secret: SecretStr

    @classmethod
    def of(cls, settings: OAuthProviderSettings, provider: str) -> ClientCredentials:
        if not settings.client_id or settings.client_secret is None:
            raise ValueError(f"{provider} needs a client id and a client secret")
        return cls(settings.client_id, settings.client_secret)

    def form(self) -> dict[str, str]:
        """The two fields of a token request that authenticate Stride (RFC 6749 §2.3.1)."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
        }


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
) -> TokenSet:
    lifetime = DEFAULT_EXPIRES_IN
    if expires_in is not None and expires_in > 0:
        lifetime = min(expires_in, MAX_EXPIRES_IN)
    scopes = tuple(part for part in (scope or "").split(scope_separator) if part)
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
