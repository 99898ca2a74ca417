-- Fair play: daily values flagged as suspicious, waiting for (or after) an admin's review.
-- A flagged value is never deleted: "excluded" only keeps it out of the challenge's scores.

CREATE TABLE value_reviews (
    id           INTEGER PRIMARY KEY,
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    discord_id   INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    metric       TEXT NOT NULL,
    day          TEXT NOT NULL,                -- civil date "YYYY-MM-DD"
    value        REAL NOT NULL,                -- the value as flagged (the day's highest reading)
    reason       TEXT NOT NULL,                -- plain words for the admins
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'excluded', 'accepted')),
    reviewed_by  INTEGER,                      -- Discord id of the admin who decided
    reviewed_at  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (challenge_id, discord_id, metric, day)
);
CREATE INDEX value_reviews_by_status ON value_reviews (challenge_id, status);
CREATE INDEX value_reviews_by_user ON value_reviews (discord_id);
