-- Issue 15: reminders, weekly recaps and corrections by admins.
--
-- A member's reminder: the local time of day, their own time zone if they gave one, and the
-- local date of the last check, claimed in the statement that tests it before anything is
-- looked at or sent (so at most one a day, across restarts). No row: no reminders.
CREATE TABLE reminders (
    discord_id   INTEGER PRIMARY KEY,
    remind_at    TEXT NOT NULL,                -- "HH:MM", local
    time_zone    TEXT,                         -- IANA name; NULL: the member's, else the challenge's
    last_run_on  TEXT,                         -- local civil date of the last reminder check
    updated_at   TEXT NOT NULL                 -- UTC
);

-- An admin's recap settings per challenge; a challenge without a row has its recap on
-- Mondays and its daily posts on.
CREATE TABLE challenge_recaps (
    challenge_id INTEGER PRIMARY KEY REFERENCES challenges (id) ON DELETE CASCADE,
    recap_day    INTEGER NOT NULL CHECK (recap_day BETWEEN 0 AND 6),   -- Monday = 0
    daily_posts  TEXT NOT NULL CHECK (daily_posts IN ('daily', 'weekly_only')),
    updated_by   INTEGER,                      -- the admin (NULL once they deleted their data)
    updated_at   TEXT NOT NULL
);

-- Each weekly recap: recorded (an intent, with its key and nonce) before it is sent, and
-- marked posted with its message once it went out; one per challenge and recap day.
CREATE TABLE recap_posts (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    recap_on     TEXT NOT NULL,                -- the civil date it is posted on
    post_key     TEXT NOT NULL,                -- what marks the message: its chart's file name
    nonce        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('intent', 'posted')),
    message_id   INTEGER,
    created_at   TEXT NOT NULL,                -- when the send began (UTC)
    posted_at    TEXT,
    PRIMARY KEY (challenge_id, recap_on)
);

-- Every correction an admin made to a player's day: the latest one per day counts.
CREATE TABLE score_adjustments (
    id           INTEGER PRIMARY KEY,
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    discord_id   INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    day          TEXT NOT NULL,                -- civil date in the challenge's time zone
    old_value    REAL,                         -- what counted before (NULL: no data)
    new_value    REAL NOT NULL,
    reason       TEXT NOT NULL,
    was_final    INTEGER NOT NULL CHECK (was_final IN (0, 1)),
    adjusted_by  INTEGER,                      -- the admin (NULL once they deleted their data)
    adjusted_at  TEXT NOT NULL,                -- UTC
    -- The key of the one post (daily, catch-up, results, or a recap in "weekly only" mode)
    -- that says so, claimed when that post's intent is recorded; NULL until then.
    mentioned_in TEXT
);
CREATE INDEX score_adjustments_by_challenge ON score_adjustments (challenge_id, day);
