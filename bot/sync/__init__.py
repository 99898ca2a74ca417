"""Live sync: provider notifications, intraday polls and /sync, fetched within seconds.

A notification, a poll's turn or a member's /sync becomes a row of the durable sync queue
(one per account, however many requests); workers fetch the member's days that are not
frozen yet, today included, and store them, so the standings read from stored data show
them at once. The modules, one job each:

- `requests`: `SyncRequests`, what webhook routes call (the queue implements it).
- `queue`: `SyncQueue`, requests in (coalesced, group-committed), the leasing dispatcher and
  its bounded pool of fetches, `watch` for whoever waits on a fetch.
- `worker`: `SyncWorker`, one live fetch: what a leased account needs (the daily run's own
  planning), fetching it (the daily run's `fetch_one`), recording it, and the `Backoff`.
- `poll`: `Poller`, the minute job that queues the accounts whose polling turn has come,
  spread over POLL_MINUTES and within each provider's quota.
- `member`: `MemberSync`, `/sync` with its per-member cooldown.
- `batch`: `GroupCommit`, many callers' small writes made as one transaction.
"""
