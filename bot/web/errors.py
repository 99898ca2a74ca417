"""The error middleware: every failure of a request becomes a fitting answer and one short line.

- An HTTP error a handler raises (404 from the router, 405, 413 from a body over the limit, …)
  becomes Stride's page, or a JSON answer on the API route families (`API_PREFIXES`: the
  webhooks, the uploads), keeping the exception's headers (`Allow`, `WWW-Authenticate`).
- A request body that cannot be read (a gzip or deflate body that does not decode, a
  multipart part header over the limit, an unknown Content-Transfer-Encoding, a charset that
  does not exist, bytes that are not UTF-8 or JSON, a body that arrived too slowly) is the
  client's fault: 400 (408 for the slow body), logged as one line naming the route and the
  exception's type, never its text (which may quote what was sent). A client that hung up
  mid-body gets one line too, and no answer (there is nobody to answer).
- Anything else is Stride's fault: a 500 page with a short code, logged with the traceback.

`body_error_status` decides what counts as a body error: an exception raised inside the
request's own code (its `read`, `post`, `json`, …), its payload stream or a multipart reader,
whatever its type, or the types those raise on their own.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import BodyPartReader, MultipartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware
from aiohttp.web_protocol import RequestPayloadError

from bot.metrics import Metrics
from bot.web.pages import html_page, not_found_page

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Route families that machines call (provider pushes, phones uploading Apple Health data):
# their errors are JSON, not pages.
API_PREFIXES = ("/webhooks/", "/upload/")
# Headers of an HTTP exception that describe its own body (replaced by ours).
_BODY_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH, hdrs.CONTENT_ENCODING})


class BodyTimeout(Exception):
    """The request's body did not arrive within the body timeout (`bot.web.server`)."""


def route_name(request: web.Request) -> str:
    """The route's pattern (`/live/{token}`), never the path: paths can carry secrets."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def is_api_request(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIXES)


def body_error_status(request: web.Request, exc: BaseException) -> int | None:
    """408 or 400 when `exc` comes from reading the request's body, else None."""
    if isinstance(exc, BodyTimeout):
        return 408
    if isinstance(exc, RequestPayloadError | HttpProcessingError):
        return 400
    readers = (request, request.content)
    for frame, _line in traceback.walk_tb(exc.__traceback__):
        owner = frame.f_locals.get("self")
        if any(owner is reader for reader in readers) or isinstance(
            owner, MultipartReader | BodyPartReader
        ):
            return 400
    return None


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def error_response(
    request: web.Request,
    status: int,
    title: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The answer for an error: JSON on an API route family, else Stride's page."""
    if is_api_request(request):
        return web.json_response({"error": title.lower()}, status=status, headers=headers)
    if status == 404:
        return not_found_page(headers=headers)
    return html_page(title, message, status=status, headers=headers)


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    headers = {name: value for name, value in exc.headers.items() if name not in _BODY_HEADERS}
    return error_response(request, exc.status, exc.reason, exc.text or exc.reason, headers=headers)


def _unreadable_body(request: web.Request, exc: Exception, status: int) -> web.Response:
    route = route_name(request)
    if client_gone(request):
        log.info("%s %s: the client hung up before its body arrived", request.method, route)
    else:
        log.info(
            "%s %s: unreadable request body (%s), answered %d",
            request.method,
            route,
            type(exc).__name__,
            status,
        )
    title, message = (
        ("Request Timeout", "The request's body arrived too slowly.")
        if status == 408
        else ("Bad Request", "Stride could not read what was sent. Please try again.")
    )
    response = error_response(request, status, title, message)
    response.force_close()  # the connection's payload is spoiled
    return response


def _unexpected(request: web.Request) -> web.Response:
    code = secrets.token_hex(2).upper()
    log.exception("unhandled error in %s %s (code %s)", request.method, route_name(request), code)
    return error_response(
        request,
        500,
        "Something went wrong",
        f"Stride hit an unexpected error (code {code}). Please try again later.",
    )


def error_middleware(metrics: Metrics) -> Middleware:
    """The middleware of `create_app`; it also counts every answer by route and status."""

    @web.middleware
    async def handle_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            metrics.http_requests.labels(route_name(request), str(exc.status)).inc()
            if exc.status >= 400 and exc.content_type != "text/html":
                return _from_http_exception(request, exc)
            raise
        except Exception as exc:
            status = body_error_status(request, exc)
            if status is None:
                answer = _unexpected(request)
            else:
                answer = _unreadable_body(request, exc, status)
            metrics.http_requests.labels(route_name(request), str(answer.status)).inc()
            return answer
        metrics.http_requests.labels(route_name(request), str(response.status)).inc()
        return response

    return handle_errors
