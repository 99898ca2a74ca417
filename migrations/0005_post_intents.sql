-- Post intents: a daily, catch-up or results post is recorded here before it is sent, and
-- cleared in the same transaction that records it as posted. A process that dies between
-- the send and that transaction leaves its intent behind; the next run looks for the post in
-- the channel's history (by `post_key`, the chart's file name) before sending it again, and
-- sends it with the same `nonce`, which Discord de-duplicates for a few minutes.
-- A challenge has at most one post in flight.

CREATE TABLE post_intents (
    challenge_id INTEGER PRIMARY KEY REFERENCES challenges (id) ON DELETE CASCADE,
    post_key     TEXT NOT NULL,                -- what marks the message: the chart's file name
    nonce        TEXT NOT NULL,                -- sent with enforce_nonce; at most 25 characters
    created_at   TEXT NOT NULL                 -- when the send began (UTC)
);

-- The run records a post intent covers (one for a daily post, several for a catch-up, the
-- results record and any days posted with it for the results).
CREATE TABLE post_intent_runs (
    challenge_id INTEGER NOT NULL REFERENCES post_intents (challenge_id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    PRIMARY KEY (challenge_id, day, kind),
    FOREIGN KEY (challenge_id, day, kind)
        REFERENCES scheduled_runs (challenge_id, day, kind) ON DELETE CASCADE
) WITHOUT ROWID;
