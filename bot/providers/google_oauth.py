"""Google's OAuth 2.0 endpoints, shared by the Google Health and Google Fit providers.

Google issues a refresh token only with `access_type=offline`, and reliably only with
`prompt=consent` (a second consent without it returns none). The refresh token does not
rotate: a refresh answer carries a new access token only. A revoked or expired grant answers
`invalid_grant` with HTTP 400, which becomes `GrantRevoked`.

Granular consent: a member can untick single scopes, and the token answer's `scope` lists what
was granted; it is stored with the tokens and checked by `bot.linking`. Client authentication
follows the `client_auth` setting (Google documents the form body); a code exchange, which is
never repeated, waits `token_timeout_seconds` for its answer.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.providers.base import GrantRevoked, ProviderResponseError, TokenSet
from bot.providers.http import ProviderHttp, error_code, parse_model, raise_for_oauth_status
from bot.providers.oauth import (
    ClientCredentials,
    OAuthTokenAnswer,
    id_token_subject,
    require_bearer,
    token_request,
    token_set,
    with_query,
)
from bot.settings import OAuthProviderSettings

log = logging.getLogger(__name__)


class GoogleOAuthClient:
    """Authorize URL, code exchange, refresh and revoke against Google's OAuth server.

    `once_http` sends the requests that are never repeated (the code exchange), with the
    longer token timeout; `http` everything else.
    """

    def __init__(
        self,
        settings: OAuthProviderSettings,
        http: ProviderHttp,
        clock: Clock,
        *,
        scopes: tuple[str, ...],
        once_http: ProviderHttp | None = None,
    ) -> None:
        self._settings = settings
        self._client = ClientCredentials.of(settings, http.provider)
        self._http = http
        self._once_http = once_http or http
        self._clock = clock
        self.scopes = scopes

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        params = {
            "client_id": self._client.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            "state": state,
            "access_type": "offline",  # we fetch every night, long after the user has left
            "prompt": "consent",  # without it a repeated consent returns no refresh token
        }
        if code_challenge is not None:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        return with_query(self._settings.authorize_url, params)

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        # A code is single-use: repeating the exchange after a lost answer cannot succeed.
        data = await token_request(
            self._once_http,
            self._settings.token_url,
            client=self._client,
            endpoint="token (code)",
            form=form,
            idempotent=False,
        )
        answer = parse_model(
            OAuthTokenAnswer, data, provider=self._http.provider, endpoint="token (code)"
        )
        if answer.refresh_token is None:
            # Without it the nightly fetch would stop after an hour; better to say so now.
            raise ProviderResponseError(
                f"{self._http.provider}: Google returned no refresh token; "
                "the consent must use access_type=offline and prompt=consent"
            )
        return self._token_set(answer, refresh_token=answer.refresh_token, requested=self.scopes)

    async def refresh(self, refresh_token: str) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        # Google's refresh token does not rotate, so repeating a refresh is harmless.
        data = await token_request(
            self._http,
            self._settings.token_url,
            client=self._client,
            endpoint="token (refresh)",
            form=form,
            idempotent=True,
        )
        answer = parse_model(
            OAuthTokenAnswer, data, provider=self._http.provider, endpoint="token (refresh)"
        )
        return self._token_set(answer, refresh_token=answer.refresh_token or refresh_token)

    def _token_set(
        self, answer: OAuthTokenAnswer, *, refresh_token: str, requested: tuple[str, ...] = ()
    ) -> TokenSet:
        require_bearer(answer.token_type, provider=self._http.provider)
        subject = (
            id_token_subject(answer.id_token, provider=self._http.provider)
            if answer.id_token
            else None
        )
        return token_set(
            access_token=answer.access_token,
            refresh_token=refresh_token,
            expires_in=answer.expires_in,
            scope=answer.scope,
            clock=self._clock,
            provider_user_id=subject,
            requested=requested,
        )

    @property
    def supports_revoke(self) -> bool:
        return self._settings.revoke_url is not None

    async def revoke(self, tokens: TokenSet) -> None:
        """Revoke the whole grant. Revoking the refresh token revokes its access tokens too."""
        if self._settings.revoke_url is None:
            return
        token = tokens.refresh_token or tokens.access_token
        # Authenticated as at the token endpoint (RFC 7009 §2.1).
        form, headers = self._client.authenticate({"token": token})
        resp = await self._http.send(
            "POST", self._settings.revoke_url, endpoint="revoke", form=form, headers=headers
        )
        if resp.status == 400 and error_code(resp) in {"invalid_token", "invalid_grant"}:
            # Already revoked or expired: the outcome the caller wanted.
            log.info("%s: the grant was already revoked", self._http.provider)
            return
        try:
            raise_for_oauth_status(resp)
        except GrantRevoked:
            return


class GoogleOAuthMethods:
    """The OAuth half of the `Provider` protocol for providers signed in with Google."""

    _oauth: GoogleOAuthClient

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        return self._oauth.authorization_url(
            state=state, redirect_uri=redirect_uri, code_challenge=code_challenge
        )

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        return await self._oauth.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._oauth.refresh(refresh_token)

    async def revoke(self, tokens: TokenSet) -> None:
        await self._oauth.revoke(tokens)
