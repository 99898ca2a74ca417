"""The one HTTP helper every provider uses: rate limit, timeout, bounded retries, error mapping.

`ProviderHttp.send` waits for the provider's rate limiter, sends one request with a per-request
timeout and retries what is worth retrying: HTTP 429 (honouring `Retry-After`, in seconds or
as an HTTP date, capped), 5xx, timeouts and connection errors, with exponential backoff and
jitter. The sleep is injected, so tests never really wait.

Requests that must not be repeated blindly (a code exchange, an Oura refresh whose refresh
token is single-use) pass `idempotent=False`: they are retried only when the request cannot
have been processed (429, or the connection could not even be opened).

Everything a provider could answer is turned into our error types, and no message or log line
ever holds a URL with its query, a token, a code or a secret: requests are named by a short
`endpoint` label chosen by the provider module, and error messages quote at most an error
*code* from the answer (such as `invalid_grant`), never its free text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError

from bot.clock import Clock
from bot.providers.base import (
    AccessForbidden,
    AccessTokenRejected,
    GrantRevoked,
    ProviderGone,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
)
from bot.providers.json_codec import dump_json, parse_json
from bot.providers.ratelimit import ProviderRateLimiter

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
TransientKind = Literal["rate_limited", "unavailable"]
# Lets a provider that reports errors inside HTTP 200 bodies (Withings) mark an answer as
# worth retrying.
TransientCheck = Callable[["HttpResponse"], TransientKind | None]

MAX_BODY_BYTES = 8 * 1024 * 1024  # a 90-day rollup is a few kB; anything this big is wrong
_SAFE_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Attempts include the first one; delays are in seconds."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is waited only this long
    timeout: float = 30.0  # per attempt, connecting and reading included

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, so retries of many
        users that failed together spread out but never retry at once."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class HttpResponse:
    """A fully read answer. `json()` parses once and raises `ProviderResponseError` on garbage."""

    __slots__ = ("_parsed", "body", "endpoint", "headers", "provider", "status")

    def __init__(
        self, *, status: int, headers: Mapping[str, str], body: bytes, provider: str, endpoint: str
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.provider = provider
        self.endpoint = endpoint
        self._parsed: tuple[Any] | None = None

    def json(self) -> Any:
        if self._parsed is None:
            try:
                self._parsed = (parse_json(self.body),)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise ProviderResponseError(
                    f"{self.provider}: {self.endpoint} answered HTTP {self.status} with a body "
                    "that is not JSON"
                ) from None
        return self._parsed[0]

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ProviderResponseError:
            return None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ProviderResponseError(
                f"{self.provider}: {self.endpoint} answered JSON that is not an object"
            )
        return data


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one means exactly that
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def error_code(resp: HttpResponse) -> str | None:
    """A short machine-readable error code from an error answer, when it has a safe one.

    OAuth answers carry `{"error": "invalid_grant"}`; Google APIs `{"error": {"status":
    "PERMISSION_DENIED"}}`. Free-text descriptions are never used: they may echo input.
    """
    data = resp.json_or_none()
    if not isinstance(data, dict):
        return None
    candidate = data.get("error")
    if isinstance(candidate, dict):
        candidate = candidate.get("status")
    if isinstance(candidate, str) and _SAFE_CODE.match(candidate):
        return candidate
    return None


def _detail(resp: HttpResponse) -> str:
    code = error_code(resp)
    return f" ({code})" if code else ""


def raise_for_api_status(resp: HttpResponse) -> None:
    """Map a data endpoint's HTTP status onto our errors; returns on 2xx."""
    status, who = resp.status, f"{resp.provider}: {resp.endpoint}"
    if 200 <= status < 300:
        return
    if status == 401:
        raise AccessTokenRejected(f"{who} refused the access token (HTTP 401)")
    if status == 403:
        raise AccessForbidden(f"{who} refused access with HTTP 403{_detail(resp)}")
    if status == 410:
        raise ProviderGone(f"{who} answered HTTP 410 Gone: the API was switched off")
    if status == 429:
        raise RateLimited(f"{who} is rate limiting (HTTP 429)")
    if status >= 500:
        raise ProviderUnavailable(f"{who} failed with HTTP {status}")
    raise ProviderResponseError(f"{who} refused the request with HTTP {status}{_detail(resp)}")


def raise_for_oauth_status(resp: HttpResponse) -> None:
    """Map a token or revoke endpoint's answer (RFC 6749 §5.2 errors) onto our errors."""
    status, who = resp.status, f"{resp.provider}: {resp.endpoint}"
    if 200 <= status < 300:
        return
    code = error_code(resp)
    if code == "invalid_grant":
        raise GrantRevoked(
            f"{who} rejected the grant (invalid_grant): the user must link the account again"
        )
    if status == 410:
        raise ProviderGone(f"{who} answered HTTP 410 Gone: the API was switched off")
    if status == 429:
        raise RateLimited(f"{who} is rate limiting (HTTP 429)")
    if status >= 500:
        raise ProviderUnavailable(f"{who} failed with HTTP {status}")
    raise ProviderResponseError(f"{who} refused the request with HTTP {status}{_detail(resp)}")


def parse_model(model: type[M], data: Any, *, provider: str, endpoint: str) -> M:
    """Validate provider JSON with a pydantic model; the error names fields, never values."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['type']}"
            for error in exc.errors(include_url=False, include_input=False)[:3]
        )
        raise ProviderResponseError(
            f"{provider}: unexpected answer from {endpoint} ({problems})"
        ) from None


@dataclass(frozen=True, slots=True)
class _Request:
    """One request as `ProviderHttp.send` was asked for it, sent unchanged on every attempt."""

    method: str
    url: str
    endpoint: str
    headers: Mapping[str, str]
    params: Mapping[str, str] | None
    form: Mapping[str, str] | None
    json_body: bytes | None  # encoded once (`dump_json`), sent as application/json


def _request_headers(
    headers: Mapping[str, str] | None, access_token: str | None, *, json_body: bool = False
) -> dict[str, str]:
    """JSON accepted (and sent, with a JSON body), the caller's headers, and the bearer token
    when there is one."""
    request_headers = {"Accept": "application/json", **(headers or {})}
    if json_body:
        request_headers.setdefault("Content-Type", "application/json")
    if access_token is not None:
        request_headers["Authorization"] = f"Bearer {access_token}"
    return request_headers


class ProviderHttp:
    """Sends one provider's requests through its limiter with retries; shares the caller's
    session and never closes it."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        provider: str,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        policy: RetryPolicy | None = None,
        limiter: ProviderRateLimiter | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self.provider = provider
        self._clock = clock
        self._sleep = sleep
        self.policy = policy or RetryPolicy()
        self.limiter = limiter or ProviderRateLimiter()
        # Jitter only spreads retries out; it needs no cryptographic quality.
        self._rng = rng or random.Random()  # noqa: S311

    def with_policy(self, policy: RetryPolicy) -> ProviderHttp:
        """This client under another retry policy: the same session, clock and limiter (the
        provider's limits count both)."""
        return ProviderHttp(
            self._session,
            provider=self.provider,
            clock=self._clock,
            sleep=self._sleep,
            policy=policy,
            limiter=self.limiter,
            rng=self._rng,
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        access_token: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
        user_key: str | None = None,
        transient: TransientCheck | None = None,
    ) -> HttpResponse:
        """Send with retries; returns the first answer that is not worth retrying (any status).

        Raises `RateLimited` when 429s outlast the attempts and `ProviderUnavailable` when 5xx,
        timeouts or connection errors do.
        """
        body = None if json_body is None else dump_json(json_body)
        request = _Request(
            method,
            url,
            endpoint,
            _request_headers(headers, access_token, json_body=body is not None),
            params,
            form,
            body,
        )
        for attempt in range(1, self.policy.max_attempts + 1):
            await self.limiter.acquire(user_key)
            last_attempt = attempt == self.policy.max_attempts
            started = time.monotonic()
            try:
                resp = await self._send_once(request)
            except (TimeoutError, aiohttp.ClientError) as exc:
                delay = self._delay_after_failure(
                    request, exc, attempt, idempotent=idempotent, last_attempt=last_attempt
                )
                await self._sleep(delay)
                continue
            log.debug(
                "%s %s %s -> HTTP %d (attempt %d, %.0f ms)",
                self.provider,
                method,
                endpoint,
                resp.status,
                attempt,
                (time.monotonic() - started) * 1000,
            )
            kind = self._transient_kind(resp, idempotent, transient)
            if kind is None:
                return resp
            delay = self._delay_after_answer(
                request, resp, kind, attempt, last_attempt=last_attempt
            )
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _delay_after_failure(
        self,
        request: _Request,
        exc: TimeoutError | aiohttp.ClientError,
        attempt: int,
        *,
        idempotent: bool,
        last_attempt: bool,
    ) -> float:
        """How long to wait before retrying a request that timed out or could not connect;
        raises `ProviderUnavailable` when it is the last attempt or not safe to repeat."""
        failure = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        # A request whose connection never opened cannot have been processed.
        safe = idempotent or isinstance(exc, aiohttp.ClientConnectorError)
        if last_attempt or not safe:
            raise ProviderUnavailable(
                f"{self.provider}: {request.endpoint} {failure} "
                f"(gave up after {attempt} attempt{'s' if attempt > 1 else ''})"
            ) from None
        delay = self.policy.backoff(attempt, self._rng)
        log.info(
            "%s %s %s: attempt %d %s; retrying in %.1fs",
            self.provider,
            request.method,
            request.endpoint,
            attempt,
            failure,
            delay,
        )
        return delay

    def _delay_after_answer(
        self,
        request: _Request,
        resp: HttpResponse,
        kind: TransientKind,
        attempt: int,
        *,
        last_attempt: bool,
    ) -> float:
        """How long to wait before retrying an answer worth retrying (`Retry-After` when given,
        capped; else backoff); raises `RateLimited` or `ProviderUnavailable` on the last
        attempt."""
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), self._clock.now())
        if last_attempt:
            if kind == "rate_limited":
                raise RateLimited(
                    f"{self.provider}: {request.endpoint} is still rate limiting after "
                    f"{attempt} attempts",
                    retry_after=retry_after,
                )
            raise ProviderUnavailable(
                f"{self.provider}: {request.endpoint} failed with HTTP {resp.status} "
                f"(gave up after {attempt} attempts)"
            )
        if retry_after is not None:
            delay = min(retry_after, self.policy.max_retry_after)
        else:
            delay = self.policy.backoff(attempt, self._rng)
        log.info(
            "%s %s %s: attempt %d got HTTP %d (%s); retrying in %.1fs",
            self.provider,
            request.method,
            request.endpoint,
            attempt,
            resp.status,
            kind,
            delay,
        )
        return delay

    @staticmethod
    def _transient_kind(
        resp: HttpResponse, idempotent: bool, transient: TransientCheck | None
    ) -> TransientKind | None:
        if resp.status == 429:
            return "rate_limited"  # refused before processing: always safe to repeat
        if resp.status >= 500 and resp.status != 501 and idempotent:
            return "unavailable"
        if transient is not None and 200 <= resp.status < 300:
            kind = transient(resp)
            if kind == "rate_limited" or (kind == "unavailable" and idempotent):
                return kind
        return None

    async def _send_once(self, request: _Request) -> HttpResponse:
        async with self._session.request(
            request.method,
            request.url,
            headers=request.headers,
            params=request.params,
            data=request.form if request.json_body is None else request.json_body,
            # Never follow redirects: a redirect to another host would carry our bearer token.
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=self.policy.timeout),
        ) as response:
            body = await _read_capped(response, f"{self.provider}: {request.endpoint}")
            return HttpResponse(
                status=response.status,
                headers=response.headers,
                body=body,
                provider=self.provider,
                endpoint=request.endpoint,
            )

    async def api_json(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        access_token: str | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        user_key: str | None = None,
    ) -> Any:
        """A data request: send, map 401/410/4xx/5xx, return the parsed JSON."""
        resp = await self.send(
            method,
            url,
            endpoint=endpoint,
            access_token=access_token,
            params=params,
            json_body=json_body,
            form=form,
            user_key=user_key,
        )
        raise_for_api_status(resp)
        return resp.json()

    async def oauth_json(
        self,
        url: str,
        *,
        endpoint: str,
        form: Mapping[str, str],
        idempotent: bool,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """A form POST to a token-style endpoint, with OAuth error mapping; the parsed JSON."""
        resp = await self.send(
            "POST", url, endpoint=endpoint, form=form, params=params, idempotent=idempotent
        )
        raise_for_oauth_status(resp)
        return resp.json()


async def _read_capped(response: aiohttp.ClientResponse, who: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await response.content.read(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            # A wrong answer rather than a transient failure: not retried.
            raise ProviderResponseError(f"{who} answered more than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
