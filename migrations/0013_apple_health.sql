-- Apple Health: the personal upload address of each linked member, and where a value came from.
--
-- Apple has no web API: a member's iPhone posts their Health data to Stride (the Health Auto
-- Export app or an Apple Shortcut). `/link apple_health` creates a `linked_accounts` row (no
-- tokens to speak of) and one row here: the upload id in the address and a fingerprint
-- (SHA-256) of the secret header value, never the secret itself (a BLOB, so `/privacy export`
-- leaves it out). Unlinking deletes the account and, with it, this row.
CREATE TABLE apple_health_uploads (
    account_id     INTEGER PRIMARY KEY REFERENCES linked_accounts (id) ON DELETE CASCADE,
    discord_id     INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    upload_id      TEXT NOT NULL UNIQUE,       -- the last part of the upload address
    secret_hash    BLOB NOT NULL,              -- SHA-256 of the secret header value
    created_at     TEXT NOT NULL,
    last_upload_at TEXT                        -- the last upload that was accepted (UTC)
);
CREATE INDEX apple_health_uploads_by_user ON apple_health_uploads (discord_id);

-- Where a stored value came from, beside it in `daily_values` (same key, written in the same
-- transaction): 'phone' for what a member's phone uploaded, values Stride cannot tell apart
-- from entries typed into the Health app. A value with no row here came from a provider's API.
CREATE TABLE value_provenance (
    discord_id  INTEGER NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    metric      TEXT NOT NULL,
    day         TEXT NOT NULL,                 -- civil date "YYYY-MM-DD"
    provenance  TEXT NOT NULL CHECK (provenance IN ('phone')),
    recorded_at TEXT NOT NULL,                 -- when that value was stored (UTC)
    PRIMARY KEY (discord_id, metric, day, provider)
);
