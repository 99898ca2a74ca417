-- Live standings (issue 12): shareable read-only links to a challenge's live page, and the
-- opt-in nudges members may get by DM.
--
-- A live link is a random token that only its URL holds: Stride keeps the token's SHA-256
-- digest (a BLOB, so a privacy export leaves it out), never the token. One link per
-- challenge; unsharing deletes the row, and the page answers 404 from then on.
CREATE TABLE share_links (
    challenge_id INTEGER PRIMARY KEY REFERENCES challenges (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,         -- SHA-256 of the token (32 bytes)
    created_by   INTEGER,                      -- the admin who shared it (NULL once they deleted their data)
    created_at   TEXT NOT NULL                 -- UTC
);

-- A member's own nudge switch (off unless they turned it on), and when they were last
-- nudged: claimed in the same statement that checks the interval, before the DM is sent.
CREATE TABLE nudge_members (
    discord_id     INTEGER PRIMARY KEY,
    enabled        INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    last_nudged_at TEXT,                       -- UTC
    updated_at     TEXT NOT NULL
);

-- An admin's nudge switch per challenge; a challenge without a row has nudges on.
CREATE TABLE challenge_nudges (
    challenge_id INTEGER PRIMARY KEY REFERENCES challenges (id) ON DELETE CASCADE,
    enabled      INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at   TEXT NOT NULL
);

-- Each player's rank as the nudges last saw it, to tell who just passed whom.
CREATE TABLE nudge_ranks (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    discord_id   INTEGER NOT NULL,
    rank         INTEGER NOT NULL,
    PRIMARY KEY (challenge_id, discord_id)
) WITHOUT ROWID;
