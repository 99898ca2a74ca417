"""The live page as HTML: self-contained, escaped, readable on a phone, refreshing itself.

Server-rendered; a small inline script (allowed by its nonce alone) fetches the page's JSON
every `refresh_seconds` and sets every text with `textContent`, never as HTML. The chart is
reloaded only when the standings' version changed. When the data endpoint answers 404 (the
link was revoked) the page reloads, and so shows the 404 page. Without scripts a `<noscript>`
refresh reloads the whole page instead. Links inside the page are relative to it, so Stride
also works behind a proxy that serves it under a path.
"""

from __future__ import annotations

import html

from aiohttp import web

from bot.web.pages import Page, html_page, page_response
from bot.web.share.view import LiveRow, LiveTeam, LiveView

REFRESH_SECONDS = 60

# The live page's own rules, after the shared layout (`bot.web.pages`).
_STYLE = """
body { padding: 1rem .75rem; }
main { padding: 1.25rem 1rem; }
h1 { margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.sub, .notice, footer { color: #57606a; }
.sub { margin: 0 0 .75rem; overflow-wrap: anywhere; }
.notice { margin: 0 0 .75rem; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: .5rem .3rem; border-bottom: 1px solid #eaeef2; text-align: left;
         vertical-align: top; }
th { font-size: .85rem; color: #57606a; font-weight: 600; }
.rank { width: 2.5rem; font-variant-numeric: tabular-nums; }
.who { overflow-wrap: anywhere; }
.name { display: block; font-weight: 600; }
.day { display: block; color: #57606a; font-size: .9rem; }
.score { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.streak { margin-left: .25rem; }
img { display: block; width: 100%; height: auto; margin-top: 1.25rem; }
footer { font-size: .85rem; margin-top: 1rem; }
"""

# Rebuilds the tables from the JSON with textContent only; any failure waits for the next turn.
_SCRIPT = """
(() => {
  const root = document.getElementById("live");
  const every = Number(root.dataset.refresh) * 1000;
  const make = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    node.textContent = text;
    return node;
  };
  const playerRow = (row) => {
    const tr = document.createElement("tr");
    const who = make("td", "who", "");
    who.append(make("span", "name", row.name), make("span", "day", row.day));
    const score = make("td", "score", row.score);
    if (row.streak) score.append(make("span", "streak", row.streak));
    tr.append(make("td", "rank", row.rank), who, score);
    return tr;
  };
  const teamRow = (team) => {
    const tr = document.createElement("tr");
    const who = make("td", "who", "");
    who.append(make("span", "name", team.name), make("span", "day", team.syncing));
    tr.append(make("td", "rank", team.rank), who, make("td", "score", team.score));
    return tr;
  };
  const show = (data) => {
    for (const node of document.querySelectorAll("[data-field]")) {
      node.textContent = data[node.dataset.field];
      node.hidden = !data[node.dataset.field];
    }
    document.getElementById("players").replaceChildren(...data.rows.map(playerRow));
    document.getElementById("teams").replaceChildren(...data.teams.map(teamRow));
    document.getElementById("team-section").hidden = data.teams.length === 0;
    if (root.dataset.version !== data.version) {
      document.getElementById("chart").src = data.chart;
      root.dataset.version = data.version;
    }
  };
  const refresh = async () => {
    try {
      const response = await fetch(root.dataset.source, {cache: "no-store", credentials: "omit"});
      if (response.status === 404) {
        location.reload();
        return;
      }
      if (response.ok) show(await response.json());
    } catch (error) {
      // Offline or a server restart: the next turn tries again.
    }
    setTimeout(refresh, every);
  };
  setTimeout(refresh, every);
})();
"""


def security_headers(nonce: str | None = None) -> dict[str, str]:
    """Never cached, never indexed, never framed, no Referer; nothing loads but Stride's own
    images and the one script with this nonce (and what it fetches from Stride)."""
    script = f"script-src 'nonce-{nonce}'; connect-src 'self'; " if nonce else ""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; {script}"
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }


def not_found() -> web.Response:
    """Stride's 404 page, for a link that is unknown or was revoked."""
    return html_page(
        "Link not found",
        "This live leaderboard link is unknown or was turned off. Ask the server's admins "
        "for a new one.",
        status=404,
        headers=security_headers(),
    )


def live_page(
    view: LiveView, *, token: str, nonce: str, updated: str, refresh_seconds: int
) -> web.Response:
    """The page of `view`; `token` only builds the page's own relative links."""
    chart = _attribute(chart_path(token, view.version))
    team_section = "" if view.teams else " hidden"
    body = f"""<h1 data-field="title">{_text(view.title)}</h1>
<p class="sub" data-field="subtitle">{_text(view.subtitle)}</p>
<p class="notice" data-field="notice"{_hidden(view.notice)}>{_text(view.notice)}</p>
<table><thead><tr><th class="rank">#</th><th class="who">Player
<span class="day" data-field="day"{_hidden(view.day)}>{_text(view.day)}</span></th>
<th class="score">Score</th></tr></thead>
<tbody id="players">{"".join(_player_row(row) for row in view.rows)}</tbody></table>
<section id="team-section"{team_section}><h2>Teams</h2><table>
<tbody id="teams">{"".join(_team_row(team) for team in view.teams)}</tbody></table></section>
<img id="chart" src="{chart}" alt="Each player's score over the challenge's days"
 width="1200" height="700">
<footer>Live standings from Stride · <span data-field="updated">{_text(updated)}</span> ·
refreshes every minute · ✓ goal met · 🔥 goal-day streak · ⏳ provisional</footer>
"""
    page = Page(
        title=view.title,
        body=body,
        style=_STYLE,
        head=(
            '<meta name="robots" content="noindex, nofollow">\n'
            f'<noscript><meta http-equiv="refresh" content="{refresh_seconds}"></noscript>\n'
        ),
        main_attributes=(
            f' id="live" data-refresh="{refresh_seconds}"'
            f' data-version="{_attribute(view.version)}"'
            f' data-source="{_attribute(data_path(token))}"'
        ),
        script=f'<script nonce="{_attribute(nonce)}">{_SCRIPT}</script>',
        wide=True,
    )
    return page_response(page, headers=security_headers(nonce=nonce))


def data_path(token: str) -> str:
    """The page's JSON, relative to the page (`/live/{token}`)."""
    return f"{token}/data.json"


def chart_path(token: str, version: str) -> str:
    """The chart, relative to the page; the version only makes a new chart a new URL."""
    return f"{token}/chart.png?v={version}"


def _player_row(row: LiveRow) -> str:
    streak = f'<span class="streak">{_text(row.streak)}</span>' if row.streak else ""
    return (
        f'<tr><td class="rank">{_text(row.rank)}</td><td class="who">'
        f'<span class="name">{_text(row.name)}</span><span class="day">{_text(row.day)}</span>'
        f'</td><td class="score">{_text(row.score)}{streak}</td></tr>'
    )


def _team_row(team: LiveTeam) -> str:
    return (
        f'<tr><td class="rank">{_text(team.rank)}</td><td class="who">'
        f'<span class="name">{_text(team.name)}</span>'
        f'<span class="day">{_text(team.syncing)}</span></td>'
        f'<td class="score">{_text(team.score)}</td></tr>'
    )


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _attribute(text: str) -> str:
    return html.escape(text, quote=True)


def _hidden(text: str) -> str:
    return "" if text else " hidden"
