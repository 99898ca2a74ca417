-- The publish cog: an outbox of anonymised daily messages, one row per challenge, day and
-- sink, written in the transaction that finalises the day; and the health of each sink.
-- Times are ISO-8601 UTC strings with microseconds; `day` is a civil date ("YYYY-MM-DD").

CREATE TABLE publish_outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,      -- challenge key ":" date ":" sink
    sink            TEXT NOT NULL,
    guild_id        INTEGER NOT NULL,          -- internal routing only; never in the payload
    challenge_id    INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    day             TEXT NOT NULL,
    payload         TEXT NOT NULL,             -- the JSON sent, byte for byte
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,                      -- written by Stride, never holds a secret
    created_at      TEXT NOT NULL
);
CREATE INDEX publish_outbox_pending ON publish_outbox (sink, next_attempt_at)
    WHERE delivered_at IS NULL;
CREATE INDEX publish_outbox_by_guild ON publish_outbox (guild_id, sink);

CREATE TABLE publish_sink_state (
    sink                 TEXT PRIMARY KEY,
    last_success_at      TEXT,
    last_error           TEXT,                 -- written by Stride, never holds a secret
    last_error_at        TEXT,
    failing_since        TEXT,                 -- first failure since the last success
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    reported_at          TEXT                  -- when admins were told; cleared on success
) WITHOUT ROWID;
