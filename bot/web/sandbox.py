"""The sandbox provider's consent page, served by Stride itself.

`GET /oauth/sandbox/authorize?state=…&redirect_uri=…` shows a small self-contained page with
Allow and Deny buttons; the form posts back to the same path. Allow redirects to the redirect
URI with a single-use code and the state, Deny with `error=access_denied`. Only a consent that
`SandboxProvider.authorization_url` registered, for exactly that redirect URI, is honoured;
anything else gets a 400 page and no redirect, so the page is no open redirect.
"""

from __future__ import annotations

import html
import logging

from aiohttp import web

from bot.providers.sandbox import AUTHORIZE_PATH, SandboxProvider
from bot.web.pages import Page, page_response

log = logging.getLogger(__name__)

# No external assets, no scripts, no framing; the form may only post back to Stride.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the page's URL holds the state
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

_STYLE = """
.buttons { display: flex; gap: 1rem; margin-top: 1.5rem; }
button { font-size: 1rem; padding: .6rem 1.4rem; border-radius: 8px; border: 1px solid #d0d7de;
         cursor: pointer; background: #f6f8fa; }
button.allow { background: #1f883d; border-color: #1f883d; color: #fff; }
"""


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    page = Page(title, f"<h1>{html.escape(title)}</h1>{body}", style=_STYLE)
    return page_response(page, status=status, headers=_HEADERS)


def _invalid() -> web.Response:
    return _page(
        "This link is not valid",
        "<p>This sandbox sign-in link is unknown, was already used, or has expired. "
        "Run <code>/link</code> in Discord again to get a new one.</p>",
        status=400,
    )


def _consent_form(state: str, redirect_uri: str) -> web.Response:
    hidden = (
        f'<input type="hidden" name="state" value="{html.escape(state, quote=True)}">'
        f'<input type="hidden" name="redirect_uri" value="{html.escape(redirect_uri, quote=True)}">'
    )
    return _page(
        "Link the Stride sandbox?",
        "<p>The sandbox is a pretend wearable: Stride will make up plausible daily steps, "
        "distance, active minutes, calories, floors and sleep for a new sandbox account, so "
        "you can try challenges without a device. No real health data is involved.</p>"
        f'<form method="post">{hidden}<div class="buttons">'
        '<button class="allow" type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</div></form>",
    )


def add_sandbox_routes(app: web.Application, provider: SandboxProvider) -> None:
    """Install the consent page (GET) and its form handler (POST) on `app`."""

    async def show(request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        redirect_uri = request.query.get("redirect_uri", "")
        if not state or provider.pending_consent(state, redirect_uri) is None:
            log.info("sandbox consent page: unknown or expired consent")
            return _invalid()
        return _consent_form(state, redirect_uri)

    async def decide(request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except (ValueError, LookupError):  # bytes that are not UTF-8, an unknown charset, …
            log.info("sandbox consent decision: unreadable form")
            return _invalid()
        state = form.get("state")
        redirect_uri = form.get("redirect_uri")
        decision = form.get("decision")
        if not isinstance(state, str) or not isinstance(redirect_uri, str) or not state:
            return _invalid()
        if decision == "allow":
            target = provider.approve(state, redirect_uri)
        elif decision == "deny":
            target = provider.deny(state, redirect_uri)
        else:
            return _page("Unknown choice", "<p>Please use Allow or Deny.</p>", status=400)
        if target is None:
            log.info("sandbox consent decision: unknown or expired consent")
            return _invalid()
        # 303 so the browser follows with a GET, as an OAuth redirect would arrive.
        raise web.HTTPSeeOther(target, headers={"Cache-Control": "no-store"})

    app.router.add_get(AUTHORIZE_PATH, show, name="sandbox-consent")
    app.router.add_post(AUTHORIZE_PATH, decide, name="sandbox-consent-decision")
