"""Linking wearable accounts and keeping their tokens fresh.

Two services, built once per app by `bot.services.build_services` (reach them as
`services.linking` and `services.tokens`):

- `links`: `LinkService`, the `/link` flow from a single-use link through the provider's
  consent page to encrypted tokens, and `/accounts`, `/unlink` (`LinkOffer`, `AccountView`,
  `UnlinkResult`, `mask_user_id`).
- `failures`: `LinkError` and `LinkFailure`, every way a start or callback request cannot
  link, and the checks of those requests' parameters.
- `tokens`: `TokenManager`, the only way to use an account's tokens (`call_with_token`,
  refreshing one at a time per account; a revoked grant marks the account `needs_relink`, a
  lapsed membership is told once), and revoking a grant (`RevokeOutcome`); `AccountUnusable`
  for an account with nothing to call.
- `lease`: `RefreshLeases`, the per-account lease in the database that keeps two Stride
  processes from refreshing (spending a single-use refresh token) at once.
- `grants`: what a grant lacks (scopes unticked on the consent screen), refusing one that is of
  no use, and the text that tells the member how to fix it.
- `colours`: the embed colours of the DMs linking sends.

The OAuth `state`, codes, tokens and PKCE verifiers never appear in a log line, an exception
message or a page. The user's data rights are in `bot.privacy`; log redaction in
`bot.redaction`.
"""

from bot.linking.failures import LinkError, LinkFailure
from bot.linking.links import AccountView, LinkOffer, LinkService, UnlinkResult
from bot.linking.tokens import AccountUnusable, RevokeOutcome, TokenManager

__all__ = [
    "AccountUnusable",
    "AccountView",
    "LinkError",
    "LinkFailure",
    "LinkOffer",
    "LinkService",
    "RevokeOutcome",
    "TokenManager",
    "UnlinkResult",
]
