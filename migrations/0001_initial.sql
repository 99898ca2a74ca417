-- Initial schema: users and their linked accounts, OAuth links in flight, guild settings,
-- challenges and their players, fetched daily values, scores, streaks and daily runs.
-- Times are ISO-8601 UTC strings ("...+00:00"); challenge days are civil dates ("YYYY-MM-DD").

CREATE TABLE users (
    discord_id      INTEGER PRIMARY KEY,
    display_name    TEXT,
    time_zone       TEXT NOT NULL DEFAULT 'UTC',
    publish_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (publish_opt_out IN (0, 1)),
    created_at      TEXT NOT NULL
);

CREATE TABLE linked_accounts (
    id                 INTEGER PRIMARY KEY,
    discord_id         INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    provider           TEXT NOT NULL,
    provider_user_id   TEXT NOT NULL,
    access_token       BLOB NOT NULL,          -- Fernet ciphertext
    refresh_token      BLOB,                   -- Fernet ciphertext
    expires_at         TEXT NOT NULL,
    scopes             TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'needs_relink', 'revoked')),
    relink_notified_at TEXT,
    last_sync_at       TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (provider, provider_user_id),
    UNIQUE (discord_id, provider)
);

CREATE TABLE oauth_states (
    state_hash    TEXT PRIMARY KEY,            -- SHA-256 of the state; the state itself is never stored
    discord_id    INTEGER NOT NULL,
    provider      TEXT NOT NULL,
    code_verifier BLOB,                        -- Fernet ciphertext
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX oauth_states_by_user ON oauth_states (discord_id);

CREATE TABLE guild_settings (
    guild_id               INTEGER PRIMARY KEY,
    time_zone              TEXT NOT NULL DEFAULT 'UTC',
    leaderboard_channel_id INTEGER,
    post_time              TEXT NOT NULL DEFAULT '09:00',
    admin_role_id          INTEGER,
    publish_enabled        INTEGER NOT NULL DEFAULT 0 CHECK (publish_enabled IN (0, 1)),
    updated_at             TEXT NOT NULL
);

CREATE TABLE challenges (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    channel_id         INTEGER NOT NULL,
    name               TEXT NOT NULL COLLATE NOCASE,
    metric             TEXT NOT NULL,
    scoring_mode       TEXT NOT NULL,
    start_date         TEXT NOT NULL,
    end_date           TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    post_time          TEXT NOT NULL,          -- "HH:MM" in the challenge's time zone
    daily_goal         REAL,
    daily_cap          REAL,
    allow_manual       INTEGER NOT NULL DEFAULT 0 CHECK (allow_manual IN (0, 1)),
    grace_hours        INTEGER NOT NULL DEFAULT 24,
    team_mode          TEXT NOT NULL DEFAULT 'sum' CHECK (team_mode IN ('sum', 'mean')),
    points_table       TEXT,                   -- JSON list, daily_rank mode
    tiers              TEXT,                   -- JSON list of [threshold, points], tiers mode
    max_players        INTEGER,
    late_join_backfill INTEGER NOT NULL DEFAULT 0 CHECK (late_join_backfill IN (0, 1)),
    preset             TEXT,
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    ended_at           TEXT,
    created_by         INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    UNIQUE (guild_id, name)
);
CREATE INDEX challenges_by_status ON challenges (status, end_date);

CREATE TABLE participants (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    discord_id   INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    team         TEXT,
    joined_on    TEXT NOT NULL,                -- first civil date that counts for this player
    joined_at    TEXT NOT NULL,
    PRIMARY KEY (challenge_id, discord_id)
);
CREATE INDEX participants_by_user ON participants (discord_id);

CREATE TABLE daily_values (
    discord_id      INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    metric          TEXT NOT NULL,
    day             TEXT NOT NULL,
    includes_manual INTEGER NOT NULL CHECK (includes_manual IN (0, 1)),
    value           REAL NOT NULL,
    fetched_at      TEXT NOT NULL,
    PRIMARY KEY (discord_id, metric, day, provider, includes_manual)
) WITHOUT ROWID;

CREATE TABLE daily_scores (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    discord_id   INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    value        REAL,
    points       REAL NOT NULL,
    goal_met     INTEGER NOT NULL CHECK (goal_met IN (0, 1)),
    final        INTEGER NOT NULL CHECK (final IN (0, 1)),
    PRIMARY KEY (challenge_id, discord_id, day)
) WITHOUT ROWID;

CREATE TABLE streaks (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    discord_id   INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    current      INTEGER NOT NULL DEFAULT 0,
    best         INTEGER NOT NULL DEFAULT 0,
    through_day  TEXT,
    PRIMARY KEY (challenge_id, discord_id)
) WITHOUT ROWID;

-- One row per challenge and day that the daily run has handled; the key to idempotent runs.
CREATE TABLE scheduled_runs (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('scored', 'posted', 'failed')),
    kind         TEXT NOT NULL DEFAULT 'daily' CHECK (kind IN ('daily', 'catch_up', 'results')),
    message_id   INTEGER,
    error_code   TEXT,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    PRIMARY KEY (challenge_id, day, kind)
) WITHOUT ROWID;

-- The ranks shown in each post, so the next post can show rank changes.
CREATE TABLE posted_ranks (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    discord_id   INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    rank         INTEGER NOT NULL,
    score        REAL NOT NULL,
    PRIMARY KEY (challenge_id, day, discord_id)
) WITHOUT ROWID;

-- Small key/value state of the bot itself (e.g. the hash of the last synced command tree).
CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
