"""What every provider stand-in shares: the server, users and their daily data, OAuth codes and
tokens, fault injection, request counting, and the "user follows the consent link" helper.

A stand-in is an aiohttp app on 127.0.0.1 with an ephemeral port. Tests set per-user daily
data with `set_daily` in Stride's own units (km, minutes, kcal); each stand-in serves it in
its provider's documented shapes and units. Time (code and token expiry) follows the injected
`Clock`, so a `FakeClock` shared with Stride moves both.

The OAuth server is checked against RFC 6749 rather than against Stride: the client may
authenticate with HTTP Basic or the form body (`client_auth`, per stand-in; Basic credentials
are form-urlencoded before base64, and using both at once is refused); `token_type` is what
the token answers carry (None leaves it out); `hold_token_requests` parks token requests until
released, so a test can line concurrent refreshes up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import secrets
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.domain import Metric
from bot.providers.oauth import code_challenge_s256

from .push import Delivery, call_back

log = logging.getLogger(__name__)

CLIENT_AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY = web.RequestKey("standin_user", str)
BODY_KEY = web.RequestKey("standin_body", object)


class ConsentError(Exception):
    """The stand-in's authorize endpoint refused the consent request (as a real one would,
    with an error page instead of a redirect)."""


@dataclass
class Fault:
    kind: str  # "status", "hang", "malformed", "wrong_shape", "body_status"
    remaining: int
    endpoint: str | None = None
    status: int = 503
    retry_after: str | None = None
    hang_seconds: float = 30.0


@dataclass
class StandinUser:
    user_id: str
    tz: ZoneInfo
    revoked: bool = False
    # day -> metric -> [device value, manual value]
    daily: dict[dt.date, dict[Metric, list[float]]] = field(default_factory=dict)

    def value(self, day: dt.date, metric: Metric, *, manual: bool) -> float | None:
        """The device value, plus the manual one when `manual`; None when there is none."""
        parts = self.daily.get(day, {}).get(metric)
        if parts is None:
            return None
        device, hand = parts
        if not manual:
            return device if device or hand == 0 else None
        return device + hand


@dataclass
class IssuedCode:
    user_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: dt.datetime
    offline: bool = True
    used: bool = False


@dataclass
class Grant:
    """One consent: every token issued from it dies with it."""

    user_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: dt.datetime
    used: bool = False
    revoked: bool = False


@dataclass
class RefreshToken:
    grant: Grant
    used: bool = False  # single-use providers (Oura)
    revoked: bool = False
    # Withings: the access token issued when this refresh token was last used, and when.
    superseded_by: str | None = None
    superseded_at: dt.datetime | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime
    scopes: tuple[str, ...]


@dataclass
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    user_id: str | None
    query: dict[str, str]
    body: Any  # parsed JSON or form, when there was one


class StandinBase:
    """The common machinery; subclasses add routes, formats and token rules."""

    name: ClassVar[str]  # Stride's provider key, e.g. "google_health"
    env_prefix: ClassVar[str]  # e.g. "GOOGLE_HEALTH"
    user_prefix: ClassVar[str]
    authorize_path: ClassVar[str]
    token_path: ClassVar[str]
    revoke_path: ClassVar[str | None]
    api_path: ClassVar[str] = ""  # appended to the base URL for API_BASE_URL
    code_lifetime: ClassVar[dt.timedelta] = dt.timedelta(minutes=10)
    access_lifetime: ClassVar[dt.timedelta] = dt.timedelta(hours=1)
    required_scopes: ClassVar[tuple[str, ...]] = ()
    default_access_type: ClassVar[str] = "offline"
    default_token_type: ClassVar[str | None] = "Bearer"
    # How the provider lets a client authenticate at its token endpoint (RFC 6749 §2.3.1).
    default_client_auth: ClassVar[frozenset[str]] = CLIENT_AUTH_METHODS

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        redirect_uris: Collection[str] | None = None,
        client_auth: Collection[str] | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_auth = frozenset(client_auth or self.default_client_auth)
        if not self.client_auth <= CLIENT_AUTH_METHODS:
            raise ValueError(f"unknown client authentication in {sorted(self.client_auth)}")
        self.token_type: str | None = self.default_token_type
        # method -> requests that authenticated with it (an accepted method, right or wrong pair)
        self.client_auth_seen: Counter[str] = Counter()
        self.held_token_requests = 0
        self.token_delay = 0.0  # seconds each token request takes to answer (real time)
        self._token_gate: asyncio.Event | None = None
        self._token_arrivals = asyncio.Condition()
        # Real providers only redirect to registered URIs; None accepts any http(s) URI.
        self.redirect_uris = set(redirect_uris) if redirect_uris is not None else None
        self.users: dict[str, StandinUser] = {}
        self.codes: dict[str, IssuedCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.requests: Counter[str] = Counter()
        self.requests_by_user: Counter[str] = Counter()
        self.request_log: list[RecordedRequest] = []
        self.last_consent_user: str | None = None
        self.deliveries: list[Delivery] = []  # every callback this stand-in made to Stride
        self.latency = 0.0
        self.api_gone = False
        self._faults: deque[Fault] = deque()
        self._user_numbers = itertools.count(1)
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.app = web.Application(middlewares=[self._middleware])
        self.app.router.add_get(self.authorize_path, self._authorize, name="authorize")
        self.add_routes(self.app.router)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> str:
        """Serve on 127.0.0.1 with an ephemeral port; returns the base URL."""
        # No access log: request lines carry codes and tokens, and tests assert that no log
        # line does.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        self._release.set()  # frees handlers that were told to hang
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandinBase:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- configuration for Stride -----------------------------------------------------------

    def settings_values(self) -> dict[str, str | None]:
        """The provider's settings group (as `Settings(<name>=...)` takes it)."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authorize_url": self.base_url + self.authorize_path,
            "token_url": self.base_url + self.token_path,
            "revoke_url": self.base_url + self.revoke_path if self.revoke_path else None,
            "api_base_url": self.base_url + self.api_path,
        }

    def env(self) -> dict[str, str]:
        """The same as environment variables, e.g. GOOGLE_HEALTH__TOKEN_URL."""
        return {
            f"{self.env_prefix}__{key.upper()}": value
            for key, value in self.settings_values().items()
            if value is not None
        }

    # -- users and data ---------------------------------------------------------------------

    def add_user(self, user_id: str | None = None, *, tz: str | ZoneInfo = "UTC") -> str:
        """Create (or update the zone of) a user at the provider; returns the id."""
        if user_id is None:
            user_id = f"{self.user_prefix}-{next(self._user_numbers)}"
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        user = self.users.get(user_id)
        if user is None:
            self.users[user_id] = StandinUser(user_id, zone)
        else:
            user.tz = zone
        return user_id

    def user(self, user_id: str) -> StandinUser:
        if user_id not in self.users:
            self.add_user(user_id)
        return self.users[user_id]

    def set_daily(
        self,
        provider_user_id: str,
        date: dt.date,
        metric: Metric | str,
        value: float,
        manual: bool = False,
    ) -> None:
        """Set one day's value in Stride's units (steps, km, min, floors, kcal, min asleep).

        `manual=True` sets the manually logged part, which providers that can tell the two
        apart leave out when asked to.
        """
        parts = (
            self.user(provider_user_id)
            .daily.setdefault(date, {})
            .setdefault(Metric(metric), [0.0, 0.0])
        )
        parts[1 if manual else 0] = float(value)

    def revoke_user(self, provider_user_id: str) -> None:
        """The user withdrew consent at the provider: refresh fails, data calls get 401."""
        self.user(provider_user_id).revoked = True
        for grant in self._grants_of(provider_user_id):
            grant.revoked = True

    def _grants_of(self, user_id: str) -> list[Grant]:
        grants = {id(t.grant): t.grant for t in self.access_tokens.values()}
        grants.update({id(t.grant): t.grant for t in self.refresh_tokens.values()})
        return [grant for grant in grants.values() if grant.user_id == user_id]

    # -- webhooks ---------------------------------------------------------------------------

    async def sync_watch(
        self, provider_user_id: str, date: dt.date, steps: float
    ) -> list[Delivery]:
        """The member syncs their watch: `steps` on `date` now, and the provider sends its
        notifications (signed as the real ones are) to every subscribed callback. Returns
        what each callback answered."""
        self.set_daily(provider_user_id, date, Metric.STEPS, steps)
        return await self.announce(provider_user_id, date, Metric.STEPS)

    async def announce(
        self, provider_user_id: str, date: dt.date, metric: Metric
    ) -> list[Delivery]:
        """Notify the subscribed callbacks of new data; nothing for a provider without
        webhooks (overridden by those that have them)."""
        return []

    async def deliver(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        params: dict[str, str] | None = None,
    ) -> tuple[Delivery, Any]:
        """Call Stride back; the recorded delivery and the parsed answer."""
        status, answer = await call_back(
            method, url, headers=headers, body=body or None, params=params
        )
        delivery = Delivery(method, url, status, body, dict(headers or {}))
        self.deliveries.append(delivery)
        return delivery, answer

    # -- faults -----------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        retry_after: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        """The next `n` matching requests get HTTP `status` (429 with `retry_after`, 5xx...)."""
        self._faults.append(Fault("status", n, endpoint, status, retry_after))

    def rate_limit_next(
        self, n: int = 1, *, retry_after: str | None = "2", endpoint: str | None = None
    ) -> None:
        """The next `n` matching requests get 429 with `Retry-After` (seconds or HTTP date)."""
        self.fail_next(n, status=429, retry_after=retry_after, endpoint=endpoint)

    def hang_next(self, n: int = 1, *, endpoint: str | None = None, seconds: float = 30.0) -> None:
        """The next `n` matching requests get no answer for `seconds` (client timeouts)."""
        self._faults.append(Fault("hang", n, endpoint, hang_seconds=seconds))

    def malformed_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next `n` matching requests get HTTP 200 with a body that is not JSON."""
        self._faults.append(Fault("malformed", n, endpoint))

    def wrong_shape_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next `n` matching requests get HTTP 200 with JSON of the wrong shape."""
        self._faults.append(Fault("wrong_shape", n, endpoint))

    def set_latency(self, seconds: float) -> None:
        """Delay every request by `seconds` (real time; for the benchmark)."""
        self.latency = seconds

    def set_gone(self, gone: bool = True) -> None:
        """Every data endpoint answers 410 Gone, as the Fitbit Web API did in 2026-11."""
        self.api_gone = gone

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset_counts(self) -> None:
        self.requests.clear()
        self.requests_by_user.clear()
        self.request_log.clear()

    def _take_fault(self, endpoint: str) -> Fault | None:
        for fault in self._faults:
            if fault.endpoint is None or fault.endpoint == endpoint:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- the request pipeline ---------------------------------------------------------------

    async def endpoint_of(self, request: web.Request) -> str:
        """The name requests are counted and faults matched under (the route name)."""
        route = request.match_info.route
        return route.name or request.path

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        endpoint = await self.endpoint_of(request)
        self.requests[endpoint] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        bearer_user = self._bearer_user(request)
        fault = self._take_fault(endpoint)
        try:
            if fault is not None:
                return await self._apply_fault(fault)
            if self.api_gone and self.is_data_endpoint(endpoint):
                return web.json_response({"error": "gone"}, status=410)
            return await handler(request)
        finally:
            user = request.get(USER_KEY) or bearer_user
            if user is not None:
                self.requests_by_user[user] += 1
            self.request_log.append(
                RecordedRequest(
                    endpoint,
                    request.method,
                    request.path,
                    user,
                    dict(request.query),
                    request.get(BODY_KEY),
                )
            )

    async def _apply_fault(self, fault: Fault) -> web.StreamResponse:
        if fault.kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), fault.hang_seconds)
            return web.Response(status=504, text="gateway timeout")
        if fault.kind == "malformed":
            return web.Response(
                status=200, text="<html><body>Oops</body></html>", content_type="text/html"
            )
        if fault.kind == "wrong_shape":
            return web.json_response([1, 2, 3])
        return self.error_response(fault.status, fault.retry_after)

    def error_response(self, status: int, retry_after: str | None) -> web.Response:
        """An HTTP error in the provider's usual shape (overridden where that differs)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return web.json_response({"error": f"HTTP {status}"}, status=status, headers=headers)

    def is_data_endpoint(self, endpoint: str) -> bool:
        return endpoint not in {"authorize", "token", "revoke"}

    def _bearer_user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = self.access_tokens.get(header.removeprefix("Bearer "))
        return token.grant.user_id if token is not None else None

    def granted_scopes(self, request: web.Request, token_value: str | None = None) -> set[str]:
        """The scopes of the grant behind the request's access token (empty if unknown)."""
        if token_value is None:
            token_value = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = self.access_tokens.get(token_value)
        return set(token.grant.scopes) if token is not None else set()

    def access_user(self, request: web.Request, token_value: str | None = None) -> str | None:
        """The user a valid access token belongs to (from the Authorization header unless
        given), or None when it is unknown, expired or revoked. Marks the token used."""
        if token_value is None:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return None
            token_value = header.removeprefix("Bearer ")
        token = self.access_tokens.get(token_value)
        if token is None or token.revoked or token.grant.revoked:
            return None
        if self.users[token.grant.user_id].revoked or token.expires_at <= self.clock.now():
            return None
        token.used = True
        request[USER_KEY] = token.grant.user_id
        return token.grant.user_id

    # -- OAuth ------------------------------------------------------------------------------

    def check_authorize(self, query: Mapping[str, str]) -> str | None:
        """Why the provider would refuse this authorize request (None when it would not)."""
        if query.get("client_id") != self.client_id:
            return "invalid_client: unknown client_id"
        redirect_uri = query.get("redirect_uri", "")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return "invalid_request: redirect_uri must be an absolute http(s) URL"
        if self.redirect_uris is not None and redirect_uri not in self.redirect_uris:
            return "redirect_uri_mismatch"
        if query.get("response_type") != "code":
            return "unsupported_response_type"
        if not query.get("state"):
            return "invalid_request: Stride must send a state"
        missing = set(self.required_scopes) - set(self.requested_scopes(query))
        if missing:
            return f"invalid_scope: missing {sorted(missing)}"
        return None

    def requested_scopes(self, query: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(query.get("scope", "").split())

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        problem = self.check_authorize(query)
        if problem is not None:
            return web.Response(status=400, text=f"Error 400: {problem}")
        state = query["state"]
        redirect_uri = query["redirect_uri"]
        if query.get("standin_decision") == "deny":
            return _redirect(_add_query(redirect_uri, {"error": "access_denied", "state": state}))
        user_id = query.get("standin_user") or self.add_user()
        self.user(user_id)
        self.last_consent_user = user_id
        request[USER_KEY] = user_id
        scopes = self.requested_scopes(query)
        granted = query.get("standin_scopes")
        if granted is not None:
            scopes = tuple(scope for scope in scopes if scope in granted.split())
        code = secrets.token_urlsafe(24)
        self.codes[code] = IssuedCode(
            user_id=user_id,
            client_id=query["client_id"],
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=query.get("code_challenge"),
            code_challenge_method=query.get("code_challenge_method"),
            expires_at=self.clock.now() + self.code_lifetime,
            # Only Google has access_type (default "online"); the others always refresh.
            offline=query.get("access_type", self.default_access_type) == "offline",
        )
        return _redirect(_add_query(redirect_uri, self.callback_params(code, state, scopes)))

    def callback_params(self, code: str, state: str, scopes: tuple[str, ...]) -> dict[str, str]:
        return {"code": code, "state": state}

    def redeem_code(
        self, code: str, *, client_id: str | None, redirect_uri: str | None, verifier: str | None
    ) -> IssuedCode | str:
        """The code's record, or why it cannot be redeemed (single-use, expiring, PKCE)."""
        issued = self.codes.get(code)
        if issued is None or issued.used:
            return "unknown or used code"
        issued.used = True
        if issued.expires_at <= self.clock.now():
            return "expired code"
        if client_id != issued.client_id:
            return "code issued to another client"
        if redirect_uri != issued.redirect_uri:
            return "redirect_uri differs from the authorize request"
        if issued.code_challenge is not None:
            if issued.code_challenge_method != "S256":
                return "only S256 PKCE is accepted"
            if verifier is None or code_challenge_s256(verifier) != issued.code_challenge:
                return "PKCE verification failed"
        return issued

    def issue_tokens(
        self, grant: Grant, *, refresh: bool = True
    ) -> tuple[str, AccessToken, str | None]:
        access_value = secrets.token_urlsafe(24)
        access = AccessToken(grant, self.clock.now() + self.access_lifetime)
        self.access_tokens[access_value] = access
        refresh_value = None
        if refresh:
            refresh_value = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_value] = RefreshToken(grant)
        return access_value, access, refresh_value

    def authenticated_client(self, form: Mapping[str, str], request: web.Request) -> str | None:
        """The client id the request authenticated as, or None (RFC 6749 §2.3.1).

        HTTP Basic carries the id and secret form-urlencoded, then base64-encoded; the form
        method carries them as `client_id` and `client_secret`. Only the methods in
        `client_auth` are accepted, and a request using both is refused.
        """
        header = request.headers.get("Authorization", "")
        in_form = "client_secret" in form
        if header.startswith("Basic "):
            if in_form:
                return None  # "MUST NOT use more than one authentication method"
            method = "client_secret_basic"
            try:
                auth = aiohttp.BasicAuth.decode(header)
            except ValueError:
                return None
            client_id, client_secret = unquote_plus(auth.login), unquote_plus(auth.password)
        elif in_form:
            method = "client_secret_post"
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        else:
            return None
        if method not in self.client_auth:
            return None
        self.client_auth_seen[method] += 1
        if client_id != self.client_id or client_secret != self.client_secret:
            return None
        return client_id

    def client_credentials(self, form: Mapping[str, str], request: web.Request) -> bool:
        return self.authenticated_client(form, request) is not None

    def revoke_client_refused(self, form: Mapping[str, str], request: web.Request) -> bool:
        """Whether a revocation that presents client credentials presents wrong ones (or an
        unaccepted method); presenting none is allowed, as Google and Oura allow it."""
        presented = "client_secret" in form or request.headers.get("Authorization", "").startswith(
            "Basic "
        )
        return presented and self.authenticated_client(form, request) is None

    def token_type_field(self) -> dict[str, str]:
        """The `token_type` member of a token answer ({} when told to leave it out)."""
        return {} if self.token_type is None else {"token_type": self.token_type}

    # -- lining up token requests -----------------------------------------------------------

    def hold_token_requests(self) -> None:
        """From now on, token requests wait at the door until `release_token_requests`."""
        self._token_gate = asyncio.Event()

    def release_token_requests(self) -> None:
        if self._token_gate is not None:
            self._token_gate.set()
            self._token_gate = None

    async def wait_for_held_token_requests(self, count: int) -> None:
        """Until `count` token requests are waiting at the door in all."""
        async with self._token_arrivals:
            await self._token_arrivals.wait_for(lambda: self.held_token_requests >= count)

    async def at_token_door(self) -> None:
        """Token handlers call this first: waits while requests are held, then `token_delay`
        (the answer comes late, but the request is processed)."""
        gate = self._token_gate
        if gate is None:
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            return
        async with self._token_arrivals:
            self.held_token_requests += 1
            self._token_arrivals.notify_all()
        await gate.wait()

    async def read_form(self, request: web.Request) -> dict[str, str]:
        form = {key: str(value) for key, value in (await request.post()).items()}
        request[BODY_KEY] = form
        return form

    # -- the consent helper -----------------------------------------------------------------

    async def consent(
        self,
        authorize_url: str,
        *,
        user: str | None = None,
        deny: bool = False,
        scopes: Collection[str] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> str:
        """Do what a browser following Stride's consent link would; returns the callback URL.

        The authorize URL must point at this stand-in; its parameters are checked as the real
        provider would (client id, redirect URI, scopes, PKCE where required). `user` picks the
        account that consents (a new one by default), `deny` clicks "Deny", and `scopes`
        grants only some of the requested scopes. Pass `session` to reuse one when consenting
        for many users (a benchmark); by default a short-lived one is opened and closed.
        """
        parts = urlsplit(authorize_url)
        base = urlsplit(self.base_url)
        if (parts.scheme, parts.netloc, parts.path) != (
            base.scheme,
            base.netloc,
            self.authorize_path,
        ):
            raise ConsentError(f"{authorize_url.split('?')[0]} is not this stand-in's consent page")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if user is not None:
            query["standin_user"] = user
        if deny:
            query["standin_decision"] = "deny"
        if scopes is not None:
            query["standin_scopes"] = " ".join(scopes)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
        async with contextlib.AsyncExitStack() as stack:
            if session is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
            async with session.get(url, allow_redirects=False) as response:
                if response.status != 302:
                    raise ConsentError(await response.text())
                return response.headers["Location"]
        raise AssertionError("unreachable")

    def direct_tokens(self, user_id: str, scopes: Collection[str] | None = None) -> IssuedTokens:
        """Tokens for `user_id` without the consent round trip, as if the user had linked
        (for seeding a benchmark's database). Scopes default to the required ones."""
        self.user(user_id)
        grant = Grant(user_id, tuple(scopes) if scopes is not None else self.required_scopes)
        access_value, access, refresh_value = self.issue_tokens(grant)
        return IssuedTokens(access_value, refresh_value, access.expires_at, grant.scopes)

    # -- for subclasses ---------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _add_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def daterange(start: dt.date, end_inclusive: dt.date) -> list[dt.date]:
    days = (end_inclusive - start).days + 1
    return [start + dt.timedelta(days=offset) for offset in range(max(0, days))]
