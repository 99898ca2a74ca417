"""The upload routes members' phones post to (Apple Health, `bot.providers.apple_health`).

- `routes`: `POST /upload/apple-health/{upload_id}` and `upload_routes`, its installer for
  `create_app` (mounted by `bot.app.route_installers` when Apple Health is enabled).
- `limits`: `UploadRateLimit`, the per-address upload rate.
"""

from bot.web.uploads.limits import UploadRateLimit
from bot.web.uploads.routes import upload_routes

__all__ = ["UploadRateLimit", "upload_routes"]
