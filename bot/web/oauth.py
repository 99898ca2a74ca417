"""The OAuth routes: `/oauth/{provider}/start` (redirect to consent) and `/callback`.

Both only translate between HTTP and `bot.linking.LinkService`: every failure becomes a small
self-contained page with a status that fits it, never a traceback. Nothing here logs a URL or a
query string (they carry the state and the code), and no page repeats what the provider sent.
"""

from __future__ import annotations

from aiohttp import web

from bot.linking import LinkError, LinkFailure, LinkService
from bot.web.app import RouteInstaller
from bot.web.pages import html_page

LINKING_KEY = web.AppKey("linking", LinkService)

# (status, page title) for each way a link can fail.
FAILURE_PAGES: dict[LinkFailure, tuple[int, str]] = {
    LinkFailure.UNKNOWN_PROVIDER: (404, "Unknown provider"),
    LinkFailure.MISSING_PARAMETER: (400, "Incomplete link"),
    LinkFailure.UNKNOWN_STATE: (400, "Link not valid"),
    LinkFailure.STATE_USED: (410, "Link already used"),
    LinkFailure.STATE_EXPIRED: (410, "Link expired"),
    LinkFailure.DENIED: (400, "Access not given"),
    LinkFailure.CODE_REJECTED: (400, "Sign-in not accepted"),
    LinkFailure.PROVIDER_FAILED: (502, "The provider did not answer as expected"),
    LinkFailure.LINKED_ELSEWHERE: (409, "Already linked by someone else"),
    LinkFailure.SCOPES_MISSING: (403, "More access needed"),
}

# Pages here are one-off answers to a link that carries secrets: never cache them, and never
# send the address (with its state or code) on as a Referer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _private(response: web.Response) -> web.Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


def _failure_page(error: LinkError) -> web.Response:
    status, title = FAILURE_PAGES[error.failure]
    return _private(html_page(title, error.message, status=status))


async def start(request: web.Request) -> web.Response:
    linking = request.app[LINKING_KEY]
    try:
        target = await linking.authorization_redirect(request.match_info["provider"], request.query)
    except LinkError as error:
        return _failure_page(error)
    response = web.Response(status=302, headers={"Location": target, **PRIVATE_HEADERS})
    return response


async def callback(request: web.Request) -> web.Response:
    linking = request.app[LINKING_KEY]
    provider = request.match_info["provider"]
    try:
        account = await linking.complete_link(provider, request.query)
    except LinkError as error:
        return _failure_page(error)
    name = linking.display_name(provider)
    # A partial grant (scopes unticked on the consent screen): what is missing, how to fix it.
    missing = linking.missing_access(account)
    return _private(
        html_page(
            "Linked, with some data missing" if missing else "Linked ✓",
            f"Your {name} account is linked to Stride. You can close this tab and go back "
            "to Discord.",
            notes=(missing,) if missing else (),
            next_steps=True,
        )
    )


def oauth_routes(linking: LinkService) -> RouteInstaller:
    """The installer for `create_app(installers=…)`."""

    def install(app: web.Application) -> None:
        app[LINKING_KEY] = linking
        # No HEAD: a link checker's HEAD request must not use up a callback's state.
        app.router.add_get("/oauth/{provider}/start", start, allow_head=False)
        app.router.add_get("/oauth/{provider}/callback", callback, allow_head=False)

    return install
