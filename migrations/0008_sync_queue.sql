-- Live sync: the durable queue of linked accounts to fetch again soon (a provider notified,
-- the poller's turn came, or the member asked with /sync), and when each member last asked.
--
-- One row per account, however many requests: a request for a waiting account changes
-- nothing, and one for an account being fetched marks it `dirty`, so exactly one more fetch
-- follows. A fetch holds a lease (`lease_owner`, `lease_id`, `leased_at`); a lease older than
-- the queue's lease time is taken as abandoned (the process died) and the row is fetched
-- again. A finished fetch deletes its row (or re-arms it when dirty), in the transaction
-- that stores the values: nothing is lost across a restart, and nothing is fetched twice.

CREATE TABLE sync_queue (
    account_id   INTEGER PRIMARY KEY REFERENCES linked_accounts (id) ON DELETE CASCADE,
    reason       TEXT NOT NULL,                -- what asked first: a push, 'poll' or 'member'
    requested_at TEXT NOT NULL,                -- the first request this row serves (UTC)
    due_at       TEXT NOT NULL,                -- not fetched before (a poll slot, a retry's backoff)
    attempts     INTEGER NOT NULL DEFAULT 0,   -- failed fetches so far
    dirty        INTEGER NOT NULL DEFAULT 0 CHECK (dirty IN (0, 1)),
    lease_owner  TEXT,                         -- the process fetching it; NULL while it waits
    lease_id     TEXT,                         -- one lease, so a stale owner cannot finish it
    leased_at    TEXT                          -- when the lease began (UTC)
);
CREATE INDEX sync_queue_by_due ON sync_queue (due_at);

-- A member's last /sync, where the cooldown starts.
CREATE TABLE member_syncs (
    discord_id   INTEGER PRIMARY KEY REFERENCES users (discord_id) ON DELETE CASCADE,
    requested_at TEXT NOT NULL
);
