"""Apple Health for iPhone users: uploads from the phone instead of a web API.

Apple offers no web API; the member's iPhone posts its Health data to a personal upload
address instead (the Health Auto Export app's REST API automation, or an Apple Shortcut).
The modules, one job each:

- `provider`: `AppleHealthProvider`, the provider protocol's face of it (no OAuth, nothing
  to fetch: `info.fetches` is False), its `NAME` and the `UPLOAD_METRICS` it provides.
- `service`: `AppleHealthUploads`, `/link apple_health` (an address and a secret, replaced by
  linking again) and taking an upload (authenticate, read, add up, leave final days
  out, store, review, notify).
- `formats`: the two body shapes (Health Auto Export's JSON export, a Shortcut's samples)
  read into samples; `UploadRejected` for what Stride refuses.
- `days`: samples added up to daily totals; the window of days and the daily limits.
- `units`: the units a phone may send, converted to Stride's.
- `setup`: the setup DM (`UploadLink`, `setup_embed`), the secret header, and the log filter
  that keeps secrets out of discord.py's debug log.

The web route lives in `bot.web.uploads`, the storage in `bot.storage.uploads`.
"""

from bot.providers.apple_health.formats import UploadRejected
from bot.providers.apple_health.provider import NAME, UPLOAD_METRICS, AppleHealthProvider
from bot.providers.apple_health.service import UPLOAD_PATH, AppleHealthUploads, UploadResult
from bot.providers.apple_health.setup import SECRET_HEADER, UploadLink

__all__ = [
    "NAME",
    "SECRET_HEADER",
    "UPLOAD_METRICS",
    "UPLOAD_PATH",
    "AppleHealthProvider",
    "AppleHealthUploads",
    "UploadLink",
    "UploadRejected",
    "UploadResult",
]
