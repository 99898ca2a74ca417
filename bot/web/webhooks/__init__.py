"""The provider webhook routes (pushes from Google Health, Withings and Oura).

- `common`: the capped body, constant-time comparison, short answers, and `SyncDispatch`
  (queue a sync within a second; a slow or failing queue never fails the request).
- `signatures`: the ECDSA check of Google Health and the HMAC of Oura.
- `google_health`: `POST /webhooks/google-health`, the subscriber's verification handshake and
  its notifications.
- `withings`: `HEAD` and `POST /webhooks/withings/{secret}`, Withings Notify callbacks.
- `oura`: `GET` (verification challenge) and `POST /webhooks/oura`.
- `routes`: `webhook_routes`, the installer for `create_app(installers=…)`, and the
  `WebhookRoutes` it installs (only the providers whose push is configured).

Every route authenticates before it parses, reads at most `MAX_WEBHOOK_BODY_BYTES`, and
answers at once after handing the notification to `bot.sync.requests.SyncRequests` (a hint to
fetch again, never data): what it cannot verify gets 401 or 403, a body too large 413,
malformed input 400, never a 5xx, and nothing a request carried is logged or echoed.
"""

from bot.web.webhooks.common import MAX_WEBHOOK_BODY_BYTES
from bot.web.webhooks.routes import WebhookRoutes, build_webhooks, webhook_routes

__all__ = ["MAX_WEBHOOK_BODY_BYTES", "WebhookRoutes", "build_webhooks", "webhook_routes"]
