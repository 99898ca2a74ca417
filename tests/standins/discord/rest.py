"""The stand-in's REST plumbing: routing, parsing, schema validation, recording, Discord errors.

Every request under ``/api/v10`` is recorded (:class:`RecordedRequest`), its body (or, for
multipart requests, its ``payload_json``) validated against the route's request schema in the
OpenAPI spec, and then handed to a route handler from
:mod:`tests.standins.discord.rest_routes`. A body that does not match is answered ``400`` with
Discord's error shape (code 50035) and recorded as a
:class:`~tests.standins.discord.openapi.SchemaViolation`. A route the stand-in does not serve
is answered ``404`` with Discord's error shape and recorded in ``Findings.unknown_routes``.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import BodyPartReader, web

from tests.standins.discord.entities import Json, StoredAttachment, utcnow
from tests.standins.discord.openapi import DiscordSpec, SchemaViolation, new_snowflake

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
_FILE_FIELD = re.compile(r"^files\[(\d+)\]$")


@dataclass
class RecordedRequest:
    """One request the bot made."""

    method: str
    route: str | None  # the route template, e.g. "/channels/{channel_id}/messages"
    path: str  # the concrete path, without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[StoredAttachment]
    at: datetime
    status: int = 0

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Findings:
    """What the stand-in noticed that a test should fail on (or inspect)."""

    requests: list[RecordedRequest] = field(default_factory=list)
    unknown_routes: list[RecordedRequest] = field(default_factory=list)
    schema_violations: list[SchemaViolation] = field(default_factory=list)
    protocol_violations: list[str] = field(default_factory=list)
    response_violations: list[SchemaViolation] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)  # bugs in the stand-in itself


@dataclass
class ApiRequest:
    """A parsed request, as route handlers see it."""

    method: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[StoredAttachment]
    headers: dict[str, str]

    def json_object(self) -> Json:
        return self.body if isinstance(self.body, dict) else {}

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")


@dataclass
class ApiResponse:
    status: int = 200
    body: Any = None


class ApiError(Exception):
    """A Discord error response: ``{"message": ..., "code": ...}`` with an HTTP status."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> Json:
        body: Json = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


Handler = Callable[[ApiRequest], Awaitable[ApiResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    needs_bot_token: bool = True


def invalid_form_body(violations: list[SchemaViolation]) -> ApiError:
    """Discord's 50035 error, with each violation nested under its body path."""
    errors: Json = {}
    for violation in violations:
        node = errors
        if violation.body_path != "(root)":
            for part in violation.body_path.strip("/").split("/"):
                node = node.setdefault(part, {})
        node.setdefault("_errors", []).append(
            {"code": "BASE_TYPE_INVALID", "message": violation.message}
        )
    return ApiError(400, 50035, "Invalid Form Body", errors)


class RestServer:
    """Installs routes on an aiohttp app and wraps each handler with the common behaviour."""

    def __init__(
        self,
        *,
        token: str,
        spec: DiscordSpec | None,
        findings: Findings,
        validate_responses: bool,
        after_response: Callable[[], Awaitable[None]],
    ) -> None:
        self._after_response = after_response
        self._token = token
        self._spec = spec
        self._findings = findings
        self._validate_responses = validate_responses and spec is not None

    def install(self, app: web.Application, routes: list[Route]) -> None:
        for route in routes:
            app.router.add_route(route.method, API_PREFIX + route.template, self._endpoint(route))
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._unknown_route)

    def _endpoint(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._serve(route, request)

        return endpoint

    async def _serve(self, route: Route, request: web.Request) -> web.StreamResponse:
        record = RecordedRequest(
            method=request.method,
            route=route.template,
            path=request.path.removeprefix(API_PREFIX),
            query=dict(request.query),
            json=None,
            files=[],
            at=utcnow(),
        )
        self._findings.requests.append(record)
        try:
            api_request = await self._parse(route, request)
            record.json, record.files = api_request.body, api_request.files
            self._check_auth(route, request)
            self._check_body(route, request.content_type, api_request.body)
            response = await route.handler(api_request)
        except ApiError as error:
            response = ApiResponse(error.status, error.body())
        except Exception as error:  # a stand-in bug: report it, and answer so the bot won't retry
            log.exception("the Discord stand-in failed on %s %s", request.method, request.path)
            self._findings.internal_errors.append(f"{request.method} {request.path}: {error!r}")
            response = ApiResponse(400, {"message": "stand-in internal error", "code": 0})
        record.status = response.status
        self._check_response(route, response)
        web_response = _to_web_response(response)
        try:
            await web_response.prepare(request)
            await web_response.write_eof()
        except ConnectionResetError:
            # The bot is gone (a test killed it with the request in flight): what the request
            # changed stays changed, as on Discord.
            log.info("the bot left before the answer to %s %s", request.method, request.path)
        await self._after_response()
        return web_response

    async def _parse(self, route: Route, request: web.Request) -> ApiRequest:
        body, files = await _read_body(request)
        return ApiRequest(
            method=request.method,
            route=route.template,
            params=dict(request.match_info),
            query=dict(request.query),
            body=body,
            files=files,
            headers=dict(request.headers),
        )

    def _check_auth(self, route: Route, request: web.Request) -> None:
        if route.needs_bot_token and request.headers.get("Authorization") != f"Bot {self._token}":
            raise ApiError(401, 0, "401: Unauthorized")

    def _check_body(self, route: Route, content_type: str, body: Any) -> None:
        if self._spec is None:
            return
        violations = self._spec.request_violations(route.method, route.template, content_type, body)
        if violations:
            self._findings.schema_violations.extend(violations)
            raise invalid_form_body(violations)

    def _check_response(self, route: Route, response: ApiResponse) -> None:
        if not self._validate_responses or self._spec is None or response.status >= 300:
            return
        self._findings.response_violations.extend(
            self._spec.response_violations(
                route.method, route.template, response.status, response.body
            )
        )

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        body, files = await _read_body(request)
        record = RecordedRequest(
            method=request.method,
            route=None,
            path=request.path.removeprefix(API_PREFIX),
            query=dict(request.query),
            json=body,
            files=files,
            at=utcnow(),
            status=404,
        )
        self._findings.requests.append(record)
        self._findings.unknown_routes.append(record)
        return _to_web_response(ApiResponse(404, {"message": "404: Not Found", "code": 0}))


def _to_web_response(response: ApiResponse) -> web.StreamResponse:
    if response.status == 204 or response.body is None:
        return web.Response(status=response.status)
    # Exactly "application/json", no charset: discord.py compares the header verbatim.
    return web.Response(
        status=response.status,
        body=json.dumps(response.body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )


async def _read_body(request: web.Request) -> tuple[Any, list[StoredAttachment]]:
    if not request.can_read_body:
        return None, []
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request)
    text = await request.text()
    if not text:
        return None, []
    try:
        return json.loads(text), []
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


async def _read_multipart(request: web.Request) -> tuple[Any, list[StoredAttachment]]:
    """``payload_json`` and ``files[n]`` parts; each file is matched to ``attachments[id=n]``."""
    reader = await request.multipart()
    payload: Any = None
    files: dict[int, StoredAttachment] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        match = _FILE_FIELD.match(part.name or "")
        if part.name == "payload_json":
            payload = json.loads(await part.text())
        elif match:
            files[int(match.group(1))] = StoredAttachment(
                id=new_snowflake(),
                filename=part.filename or f"file{match.group(1)}",
                data=bytes(await part.read(decode=False)),
                content_type=part.headers.get("Content-Type"),
            )
    _describe_files(payload, files)
    for stored in files.values():
        stored.content_type = _content_type(stored.filename, stored.content_type)
    return payload, [files[index] for index in sorted(files)]


def _content_type(filename: str | None, declared: str | None) -> str | None:
    """Discord derives an attachment's type from its name when the upload says nothing useful."""
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename or "")
    return guessed or declared


def _describe_files(payload: Any, files: dict[int, StoredAttachment]) -> None:
    """Take filenames and descriptions from ``payload_json.attachments`` (``id`` = file index)."""
    if not isinstance(payload, dict):
        return
    for entry in payload.get("attachments") or []:
        try:
            index = int(entry.get("id"))
        except (TypeError, ValueError):
            continue
        stored = files.get(index)
        if stored is None:
            continue
        if entry.get("filename"):
            stored.filename = str(entry["filename"])
        if entry.get("description"):
            stored.description = str(entry["description"])
