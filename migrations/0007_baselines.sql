-- Baselines: each player's own usual day in a challenge, the median of the 14 days before its
-- start, worked out from a fetch of that fortnight for them alone when they join (or at the
-- first run after the start, for those who joined before it) and kept as it was: what another
-- challenge fetches later never moves it. A player without a row has not been fetched yet
-- (players already in a challenge get theirs at its next run); leaving drops it.

CREATE TABLE participant_baselines (
    challenge_id INTEGER NOT NULL,
    discord_id   INTEGER NOT NULL,
    value        REAL,                         -- NULL: no usable data in the fortnight
    fetched_at   TEXT NOT NULL,                -- when their fetch gave it (UTC)
    PRIMARY KEY (challenge_id, discord_id),
    FOREIGN KEY (challenge_id, discord_id)
        REFERENCES participants (challenge_id, discord_id) ON DELETE CASCADE
) WITHOUT ROWID;
