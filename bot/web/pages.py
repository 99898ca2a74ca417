"""The one page template every HTML page of Stride's web server uses.

`Page` is what a page is made of (a title, the HTML inside its card, optional extra style, head
and script); `render_page` puts it in the shared layout: Stride's wordmark on top, the card,
no external asset (the wordmark is inline SVG and text, the style inline). The helpers build
the usual pages from plain text, escaped here:

- `html_page`: a title and a message, optional further paragraphs and the "what next" list
  (`NEXT_STEPS`: `/challenges` and `/join` in Discord), as a response.
- `page_response`: a `Page` as a response with its status and headers.
- `not_found_page`: the friendly 404 for browsers.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

# Two strides, drawn inline: no request leaves the page for it. No `xmlns` (inline SVG in HTML
# needs none), so the page's body names no external address at all.
_WORDMARK = (
    '<header class="brand"><svg class="mark" viewBox="0 0 24 24" width="28" height="28" '
    'aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="12" fill="#1f883d"/>'
    '<path d="M6 15.5l4-7 3 4.5 2-3 3 5.5" fill="none" stroke="#fff" stroke-width="2.2" '
    'stroke-linecap="round" stroke-linejoin="round"/></svg>'
    '<span class="name">Stride</span></header>'
)

_BASE_STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0; padding: 2rem .75rem; color: #1f2328;
       background: #f6f8fa; line-height: 1.45; }
.frame { max-width: 32rem; margin: 0 auto; }
.frame.wide { max-width: 48rem; }
.brand { display: flex; align-items: center; gap: .5rem; margin: 0 0 1rem .25rem; }
.brand .name { font-size: 1.3rem; font-weight: 700; letter-spacing: .02em; color: #1f2328; }
main { background: #fff; border-radius: 12px; padding: 1.5rem 1.25rem;
       box-shadow: 0 1px 3px #0002; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
code { background: #eff1f3; border-radius: 4px; padding: .05rem .3rem; }
.next { margin: 1rem 0 0; padding-left: 1.25rem; }
.next li { margin: .25rem 0; }
"""

# What a member does once linked: shown on the success page (and wherever it helps).
NEXT_STEPS: tuple[tuple[str, str], ...] = (
    ("/challenges", "see this server's challenges"),
    ("/join", "take part in one"),
)


@dataclass(frozen=True, slots=True)
class Page:
    """One page: `title` is plain text; `body` is HTML (already escaped) inside the card."""

    title: str
    body: str
    style: str = ""  # extra CSS after the shared style
    head: str = ""  # extra HTML in <head> (meta tags)
    main_attributes: str = ""  # extra attributes of <main>, e.g. ' id="live"'
    script: str = ""  # HTML after <main> (a nonce'd script)
    wide: bool = False  # a 48rem card (tables) instead of 32rem


def render_page(page: Page) -> str:
    title = html.escape(page.title, quote=False)
    frame = "frame wide" if page.wide else "frame"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{page.head}<title>{title} · Stride</title>\n"
        f"<style>{_BASE_STYLE}{page.style}</style></head>\n"
        f'<body><div class="{frame}">{_WORDMARK}\n'
        f"<main{page.main_attributes}>{page.body}</main>{page.script}</div></body></html>\n"
    )


def page_response(
    page: Page, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=render_page(page), status=status, content_type="text/html", headers=headers
    )


def next_steps_html() -> str:
    items = "".join(
        f"<li><code>{html.escape(command)}</code> to {html.escape(what)}</li>"
        for command, what in NEXT_STEPS
    )
    return f'<p>Next, in Discord:</p><ul class="next">{items}</ul>'


def html_page(
    title: str,
    message: str,
    *,
    status: int = 200,
    notes: Sequence[str] = (),
    next_steps: bool = False,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A page of plain texts (all escaped): the title, the message, further paragraphs
    (`notes`), and with `next_steps` the list of what to do next in Discord."""
    paragraphs = "".join(f"<p>{html.escape(text)}</p>" for text in (message, *notes))
    steps = next_steps_html() if next_steps else ""
    body = f"<h1>{html.escape(title)}</h1>{paragraphs}{steps}"
    return page_response(Page(title, body), status=status, headers=headers)


def not_found_page(headers: Mapping[str, str] | None = None) -> web.Response:
    """The friendly 404 for an address Stride does not serve."""
    return html_page(
        "Not Found",
        "There is no page at this address. If a link from Discord brought you here, it may "
        "be incomplete: copy the whole link, or run the command again in Discord for a new one.",
        status=404,
        headers=headers,
    )
