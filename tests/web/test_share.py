"""The live page over HTTP, through the real aiohttp app: what it shows, what it never shows,
its headers, its JSON and chart, and the 404 page once a link is revoked.

`LiveWorld` seeds a finished-but-not-final three-day challenge (1 to 3 June, read on 4 June),
so the standings are the same whether or not they also show today's provisional values.
`tests.web.test_share_browser` drives the same world in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.challenges.model import Challenge
from bot.crypto import TokenCipher
from bot.metrics import Metrics
from bot.render.chart import ChartInput, render_cumulative_chart
from bot.storage import Database
from bot.web.app import create_app
from bot.web.metrics_routes import metrics_routes
from bot.web.share import ChartCache, ShareLinks, share_routes
from bot.web.share.view import chart_input, live_view
from tests.daily.world import World, day, local
from tests.nudges.world import store
from tests.web.pagecheck import assert_stride_page

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]

ANA, BOB, EVIL, DEE = (730_000_000_000_000_000 + n for n in (1, 2, 3, 4))
EVIL_NAME = "<b>Evil</b> & co"
ADMIN = 720_000_000_000_000_001


@dataclass
class LiveWorld:
    """A seeded challenge, its live link and the app that serves it."""

    world: World
    links: ShareLinks
    challenge: Challenge
    path: str  # /live/{token}
    renders: list[str] = field(default_factory=list)  # the title of each chart rendered

    def render(self, chart: ChartInput) -> bytes:
        self.renders.append(chart.title)
        return render_cumulative_chart(chart)

    def app(self, *, refresh_seconds: int = 60) -> web.Application:
        routes = share_routes(
            links=self.links,
            challenges=self.world.challenges,
            standings=self.world.standings,
            clock=self.world.clock,
            charts=ChartCache(render=self.render),
            refresh_seconds=refresh_seconds,
        )
        # /metrics on the same app, as with METRICS_PORT empty, to see what it counts.
        installers = [routes, metrics_routes()]
        return create_app(db=self.world.db, metrics=Metrics(), installers=installers)

    async def set_value(self, member: int, day_number: int, value: float) -> None:
        await store(self.world.db, member, day(day_number), value, now=self.world.clock.now())


async def seeded(db: Database, cipher: TokenCipher) -> LiveWorld:
    """Bob 27,200 (1st, no streak), Ana 27,000 with a three-day streak (2nd), Evil 100, Dee
    without data."""
    world = World(db, cipher)
    challenge = await world.add_challenge(days=3, goal=8_000)
    for member, name in ((ANA, "Ana"), (BOB, "Bob"), (EVIL, EVIL_NAME), (DEE, "Dee")):
        await world.add_player(challenge, member, name)
    world.clock.set(local(day(4), 10))
    links = ShareLinks(db=db, clock=world.clock, public_base_url="http://127.0.0.1:8080")
    shared = await links.share(challenge, by=ADMIN)
    assert shared.url is not None
    live = LiveWorld(world, links, challenge, urlsplit(shared.url).path)
    for member, values in ((ANA, (9_000, 9_500, 8_500)), (BOB, (12_300, 7_000, 7_900))):
        for number, value in enumerate(values, start=1):
            await live.set_value(member, number, value)
    await live.set_value(EVIL, 1, 100)
    return live


# What the page shows for `seeded`, row by row.
SEEDED_ROWS = [
    {"rank": "1", "name": "Bob", "day": "7,900 steps", "score": "27,200 steps", "streak": ""},
    {"rank": "2", "name": "Ana", "day": "8,500 steps ✓", "score": "27,000 steps", "streak": "🔥3"},
    {"rank": "3", "name": EVIL_NAME, "day": "—", "score": "100 steps", "streak": ""},
    {"rank": "4", "name": "Dee", "day": "—", "score": "no data yet", "streak": ""},
]


@pytest.fixture
async def live(db: Database, cipher: TokenCipher) -> LiveWorld:
    return await seeded(db, cipher)


@pytest.fixture
async def client(live: LiveWorld, aiohttp_client: ClientFactory) -> TestClient:
    return await aiohttp_client(live.app())


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(rank, name, score) of each player row, as the HTML has them (still escaped)."""
    pattern = re.compile(
        r'<tr><td class="rank">(\d+)</td><td class="who"><span class="name">(.*?)</span>'
        r'.*?<td class="score">(.*?)(?:<span class="streak">.*?</span>)?</td></tr>'
    )
    body = page.split('<tbody id="players">', 1)[1].split("</tbody>", 1)[0]
    return pattern.findall(body)


def _assert_private(response: web.StreamResponse | object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in headers["X-Robots-Tag"]
    assert headers["Content-Security-Policy"].startswith(
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline';"
    )


async def test_the_page_shows_ranks_names_values_and_streaks(
    client: TestClient, live: LiveWorld
) -> None:
    response = await client.get(live.path)
    page = await response.text()

    assert response.status == 200
    assert response.content_type == "text/html"
    assert _rows(page) == [
        ("1", "Bob", "27,200 steps"),
        ("2", "Ana", "27,000 steps"),
        ("3", "&lt;b&gt;Evil&lt;/b&gt; &amp; co", "100 steps"),
        ("4", "Dee", "no data yet"),
    ]
    assert '<span class="day">8,500 steps ✓</span>' in page
    assert '<span class="streak">🔥3</span>' in page
    assert "<h1" in page and "June Steps</h1>" in page
    assert "Steps · total · goal 8,000 steps/day · day 3 of 3" in page
    assert "Wed 3 Jun ⏳" in page
    assert "Updated 10:00 UTC" in page


async def test_the_page_and_its_404_carry_the_wordmark(client: TestClient, live: LiveWorld) -> None:
    assert_stride_page(await (await client.get(live.path)).text(), "June Steps")
    missing = await client.get("/live/" + "B" * 43)
    assert missing.status == 404
    assert_stride_page(await missing.text(), "Link not found")


async def test_names_are_escaped_and_no_id_is_ever_shown(
    client: TestClient, live: LiveWorld
) -> None:
    page = await (await client.get(live.path)).text()
    data = await (await client.get(f"{live.path}/data.json")).text()

    assert "<b>Evil" not in page
    for text in (page, data):
        for member in (ANA, BOB, EVIL, DEE, ADMIN):
            assert str(member) not in text
            assert f"user{member}" not in text  # their provider ids


async def test_headers_keep_the_page_private_and_allow_only_its_own_script(
    client: TestClient, live: LiveWorld
) -> None:
    response = await client.get(live.path)
    page = await response.text()

    _assert_private(response)
    policy = response.headers["Content-Security-Policy"]
    nonces = re.findall(r'<script nonce="([^"]+)">', page)
    assert len(nonces) == 1 and f"script-src 'nonce-{nonces[0]}'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http" not in page.split("<body>", 1)[1]  # no external link or asset
    again = await client.get(live.path)
    assert again.headers["Content-Security-Policy"] != policy  # a new nonce every time


async def test_the_token_never_reaches_the_metrics(client: TestClient, live: LiveWorld) -> None:
    await client.get(live.path)
    await client.get("/live/" + "B" * 43)

    metrics = await (await client.get("/metrics")).text()

    assert 'route="/live/{token}",status="200"' in metrics
    assert 'route="/live/{token}",status="404"' in metrics
    assert live.path.rsplit("/", 1)[1] not in metrics


async def test_the_json_carries_the_same_rows_and_the_version(
    client: TestClient, live: LiveWorld
) -> None:
    page = await (await client.get(live.path)).text()
    response = await client.get(f"{live.path}/data.json")
    data = await response.json()

    _assert_private(response)
    assert data["rows"] == SEEDED_ROWS
    assert data["teams"] == []
    assert data["title"] == "June Steps"
    token = live.path.rsplit("/", 1)[1]
    assert data["chart"] == f"{token}/chart.png?v={data['version']}"
    assert f'data-version="{data["version"]}"' in page

    await live.set_value(ANA, 3, 12_000)
    changed = await (await client.get(f"{live.path}/data.json")).json()
    assert changed["version"] != data["version"]
    assert changed["rows"][0] == {
        "rank": "1",
        "name": "Ana",
        "day": "12,000 steps ✓",
        "score": "30,500 steps",
        "streak": "🔥3",
    }


async def test_the_chart_is_rendered_once_per_standings_version(
    client: TestClient, live: LiveWorld
) -> None:
    first = await client.get(f"{live.path}/chart.png?v=1")
    second = await client.get(f"{live.path}/chart.png?v=whatever")

    assert first.status == 200 and first.content_type == "image/png"
    _assert_private(first)
    body = await first.read()
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert await second.read() == body
    assert live.renders == ["June Steps: standings so far"]

    await live.set_value(DEE, 2, 5_000)
    await client.get(f"{live.path}/chart.png")
    assert len(live.renders) == 2


async def test_a_revoked_link_gives_the_404_page_everywhere(
    client: TestClient, live: LiveWorld
) -> None:
    assert (await client.get(live.path)).status == 200
    assert await live.links.unshare(live.challenge)

    page = await client.get(live.path)
    assert page.status == 404
    assert "Link not found" in await page.text()
    _assert_private(page)
    data = await client.get(f"{live.path}/data.json")
    assert data.status == 404 and await data.json() == {"error": "not found"}
    assert (await client.get(f"{live.path}/chart.png")).status == 404


@pytest.mark.parametrize("token", ["A" * 43, "short", "%00", "A" * 43 + "%2F"])
async def test_an_unknown_token_gives_the_404_page(client: TestClient, token: str) -> None:
    response = await client.get(f"/live/{token}")
    assert response.status == 404
    assert "Link not found" in await response.text()
    _assert_private(response)
    data = await client.get(f"/live/{token}/data.json")
    assert data.status == 404 and await data.json() == {"error": "not found"}


async def test_before_the_first_day_the_page_says_when_it_starts(
    db: Database, cipher: TokenCipher, aiohttp_client: ClientFactory
) -> None:
    live = await seeded(db, cipher)
    upcoming = await live.world.add_challenge(name="Later", start=day(10))
    await live.world.add_player(upcoming, ANA, "Ana")
    shared = await live.links.share(upcoming, by=ADMIN)
    assert shared.url is not None
    client = await aiohttp_client(live.app())

    response = await client.get(urlsplit(shared.url).path)
    page = await response.text()

    assert response.status == 200
    assert "Starts Wed 10 Jun: standings after its first day." in page


async def test_teams_show_their_totals(live: LiveWorld, aiohttp_client: ClientFactory) -> None:
    await live.world.players.set_teams(
        live.challenge.id, {ANA: "Red", BOB: "Blue", EVIL: "Red", DEE: "Blue"}
    )
    client = await aiohttp_client(live.app())

    data = await (await client.get(f"{live.path}/data.json")).json()

    assert data["teams"] == [
        {"rank": "1", "name": "Blue", "score": "27,200 steps", "syncing": "1/2 syncing"},
        {"rank": "2", "name": "Red", "score": "27,100 steps", "syncing": "2/2 syncing"},
    ]


async def test_once_the_results_are_in_the_page_says_so(live: LiveWorld) -> None:
    world = live.world
    players = await world.challenges.participants(live.challenge.id)
    board = await world.standings.as_of(live.challenge, players, day(3), frozenset(), final=True)

    view = live_view(board)

    assert (view.title, view.notice) == ("June Steps — final results", "Final results.")
    assert [row.name for row in view.rows] == ["Bob", "Ana", EVIL_NAME, "Dee"]
    assert chart_input(board).title == "June Steps: final standings"
