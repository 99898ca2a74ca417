"""The shareable live leaderboard: a read-only page per challenge behind an unguessable link.

Admins make and revoke links with `/challenge share` and `/challenge unshare`; anyone with the
link sees what the Discord post shows (ranks, display names, values, streaks, teams, the
chart), refreshing itself every minute. The modules, one job each:

- `links`: `ShareLinks`, a challenge's link made (its token shown once, only its digest
  stored), found by token and revoked.
- `routes`: `share_routes`, the page, its JSON and its chart under `/live/{token}`.
- `view`: what the page shows of a `Board`, as plain text (`live_view`), and who is shown
  (`shown_players`, the one place for a filter of hidden members).
- `page`: the HTML, its inline script and the security headers.
- `charts`: `ChartCache`, one chart render per standings version, off the event loop.
"""

from bot.web.share.charts import ChartCache
from bot.web.share.links import Shared, ShareLinks
from bot.web.share.routes import share_routes

__all__ = ["ChartCache", "ShareLinks", "Shared", "share_routes"]
