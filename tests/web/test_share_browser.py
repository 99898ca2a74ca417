"""The live page in a real browser: Debian's Chromium, headless, driven by Playwright.

The app is the real one, served on 127.0.0.1 (a free port) over the seeded world of
`tests.web.test_share`, refreshing every second instead of every minute. The browser may load
nothing but that server: every other request is aborted, so the tests never reach out.

Without /usr/bin/chromium (or Playwright) these tests skip, except under CI=true, where
`.ci/run` installs Chromium and a missing one fails the run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.crypto import TokenCipher
from bot.storage import Database
from bot.web.app import WebServer
from tests.web.test_share import ANA, LiveWorld, seeded

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1024, "height": 800}
PHONE = {"width": 360, "height": 740}
WAIT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, and Playwright to drive it; a skip (a failure under CI) without."""
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.async_api  # noqa: F401 (only whether it is there)
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def live(db: Database, cipher: TokenCipher) -> LiveWorld:
    return await seeded(db, cipher)


@pytest.fixture
async def origin(live: LiveWorld) -> AsyncIterator[str]:
    server = WebServer(live.app(refresh_seconds=1), "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def _page(
    browser: Any, origin: str, viewport: dict[str, int], **options: Any
) -> tuple[Any, list[str]]:
    """A page in a fresh context that may load only `origin`, and the errors it reports: a
    script error, or anything the Content-Security-Policy blocked."""
    context = await browser.new_context(viewport=viewport, **options)
    host = urlsplit(origin).netloc

    async def only_stride(route: Any) -> None:
        if urlsplit(route.request.url).netloc == host:
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", only_stride)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    return page, errors


async def test_the_page_shows_the_standings_and_the_chart(
    browser: Any, origin: str, live: LiveWorld
) -> None:
    page, errors = await _page(browser, origin, DESKTOP)
    response = await page.goto(origin + live.path)

    assert response.status == 200
    rows = await page.locator("#players tr").all_inner_texts()
    assert [" ".join(row.split()) for row in rows] == [
        "1 Bob 7,900 steps 27,200 steps",
        "2 Ana 8,500 steps ✓ 27,000 steps🔥3",
        "3 <b>Evil</b> & co — 100 steps",
        "4 Dee — no data yet",
    ]
    assert await page.title() == "June Steps · Stride"
    await page.wait_for_function(
        "() => { const chart = document.getElementById('chart');"
        " return chart.complete && chart.naturalWidth === 1200; }",
        timeout=WAIT_MS,
    )
    assert errors == []


async def test_on_a_phone_nothing_scrolls_sideways(
    browser: Any, origin: str, live: LiveWorld
) -> None:
    await live.world.add_player(live.challenge, ANA + 99, "Maximiliana-Alexandrina Throckmorton")
    page, errors = await _page(browser, origin, PHONE, is_mobile=True, has_touch=True)
    await page.goto(origin + live.path)
    await page.wait_for_function("() => document.getElementById('chart').complete")

    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    chart = await page.locator("#chart").bounding_box()
    assert chart is not None and chart["width"] <= PHONE["width"]
    assert errors == []


async def test_the_page_refreshes_itself(browser: Any, origin: str, live: LiveWorld) -> None:
    page, errors = await _page(browser, origin, DESKTOP)
    await page.goto(origin + live.path)
    chart_before = await page.get_attribute("#chart", "src")

    await live.set_value(ANA, 3, 12_000)  # Ana goes ahead: 30,500 steps

    await page.wait_for_function(
        "() => document.querySelector('#players tr').textContent.includes('30,500 steps')",
        timeout=WAIT_MS,
    )
    first = " ".join((await page.locator("#players tr").first.inner_text()).split())
    assert first == "1 Ana 12,000 steps ✓ 30,500 steps🔥3"
    assert await page.get_attribute("#chart", "src") != chart_before  # a new chart
    await page.wait_for_function("() => document.getElementById('chart').complete", timeout=WAIT_MS)
    assert errors == []


async def test_a_revoked_link_turns_into_the_404_page(
    browser: Any, origin: str, live: LiveWorld
) -> None:
    page, _errors = await _page(browser, origin, DESKTOP)
    await page.goto(origin + live.path)

    await live.links.unshare(live.challenge)

    # The open page finds out at its next refresh and reloads into the 404 page.
    await page.wait_for_function(
        "() => document.title.startsWith('Link not found')", timeout=WAIT_MS
    )
    assert "unknown or was turned off" in await page.inner_text("main")
    fresh, _ = await _page(browser, origin, DESKTOP)
    response = await fresh.goto(origin + live.path)
    assert response.status == 404
    assert await fresh.title() == "Link not found · Stride"
