-- Issue 15: a server's units (metric or imperial), and how a member is shown in a server: a
-- nickname for public posts and pages, or hidden from them. Values stay stored in metric.
ALTER TABLE guild_settings ADD COLUMN units TEXT NOT NULL DEFAULT 'metric'
    CHECK (units IN ('metric', 'imperial'));

CREATE TABLE member_profiles (
    guild_id   INTEGER NOT NULL,
    discord_id INTEGER NOT NULL,
    nickname   TEXT,
    hidden     INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, discord_id)
);
