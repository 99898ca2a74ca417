"""The aiohttp web server: health, metrics, the OAuth, sandbox, share and webhook routes.

- `app`: `create_app` (the app, its keys, `/healthz`) and `RouteInstaller`.
- `server`: `WebServer`, which runs an app with header, body and keep-alive timeouts, a
  connection cap and short, rate-limited lines for bad requests (`ratelimit`).
- `listeners`: which servers the settings open (public, and `/metrics` on its own port).
- `errors`: the error middleware (body errors are 400, a bug is a 500 with a code).
- `pages`: the one page template (the wordmark, the card, the friendly 404).
- `metrics_routes`: `/metrics`, optionally behind a bearer token.
- `oauth`, `sandbox`, `share`, `webhooks`: the route families.
"""
