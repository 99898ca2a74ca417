"""The live page's routes, all under one token: the page, its data and its chart.

* `GET /live/{token}`: the page (`page.live_page`).
* `GET /live/{token}/data.json`: what the page refreshes itself from (`LiveView.as_json`).
* `GET /live/{token}/chart.png`: the cumulative chart, one render per standings version.

Each request reads the challenge's standings as `/leaderboard` does (`StandingsReader.current`,
stored data only, no provider call). An unknown or revoked token gets the 404 page (404 JSON
from the data route) with the same headers as the page: never cached, never indexed, no
Referer. Nothing here logs a path: it holds the token (the error middleware logs the route's
pattern only).
"""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.challenges.service import ChallengeService
from bot.clock import Clock
from bot.daily import Board, StandingsReader
from bot.web.app import RouteInstaller
from bot.web.share.charts import ChartCache
from bot.web.share.links import LIVE_PATH, ShareLinks
from bot.web.share.page import (
    REFRESH_SECONDS,
    chart_path,
    live_page,
    not_found,
    security_headers,
)
from bot.web.share.view import chart_input, live_view

NONCE_BYTES = 16


class LiveBoards:
    """What the routes need: a token opened to its challenge's current standings."""

    def __init__(
        self,
        *,
        links: ShareLinks,
        challenges: ChallengeService,
        standings: StandingsReader,
        clock: Clock,
        charts: ChartCache,
        refresh_seconds: int,
    ) -> None:
        self._links = links
        self._challenges = challenges
        self._standings = standings
        self._clock = clock
        self.charts = charts
        self.refresh_seconds = refresh_seconds

    async def board_for(self, token: str) -> Board | None:
        """The standings the token opens, or None for a token unknown or revoked."""
        challenge_id = await self._links.challenge_id_for(token)
        if challenge_id is None:
            return None
        challenge = await self._challenges.get(challenge_id)
        return None if challenge is None else await self._standings.current(challenge)

    def updated(self, board: Board) -> str:
        """'Updated 14:05 BST': when the standings were read, in the challenge's time zone."""
        local = self._clock.now().astimezone(board.challenge.zone)
        return f"Updated {local:%H:%M} {local.tzname()}"


LIVE_KEY = web.AppKey("live_boards", LiveBoards)


async def page(request: web.Request) -> web.Response:
    live = request.app[LIVE_KEY]
    token = request.match_info["token"]
    board = await live.board_for(token)
    if board is None:
        return not_found()
    return live_page(
        live_view(board),
        token=token,
        nonce=secrets.token_urlsafe(NONCE_BYTES),
        updated=live.updated(board),
        refresh_seconds=live.refresh_seconds,
    )


async def data(request: web.Request) -> web.Response:
    live = request.app[LIVE_KEY]
    token = request.match_info["token"]
    board = await live.board_for(token)
    if board is None:
        return web.json_response({"error": "not found"}, status=404, headers=security_headers())
    view = live_view(board)
    body = view.as_json(updated=live.updated(board), chart=chart_path(token, view.version))
    return web.json_response(body, headers=security_headers())


async def chart(request: web.Request) -> web.Response:
    live = request.app[LIVE_KEY]
    board = await live.board_for(request.match_info["token"])
    if board is None:
        return not_found()
    version = live_view(board).version
    png = await live.charts.png((board.challenge.id, version), chart_input(board))
    return web.Response(body=png, content_type="image/png", headers=security_headers())


def share_routes(
    *,
    links: ShareLinks,
    challenges: ChallengeService,
    standings: StandingsReader,
    clock: Clock,
    charts: ChartCache | None = None,
    refresh_seconds: int = REFRESH_SECONDS,
) -> RouteInstaller:
    """The installer for `create_app(installers=…)`."""
    live = LiveBoards(
        links=links,
        challenges=challenges,
        standings=standings,
        clock=clock,
        charts=charts if charts is not None else ChartCache(),
        refresh_seconds=refresh_seconds,
    )

    def install(app: web.Application) -> None:
        app[LIVE_KEY] = live
        app.router.add_get(LIVE_PATH + "/{token}", page, name="live-page")
        app.router.add_get(LIVE_PATH + "/{token}/data.json", data, name="live-data")
        app.router.add_get(LIVE_PATH + "/{token}/chart.png", chart, name="live-chart")

    return install
