-- Claims: work that must happen once across several Stride processes sharing one database
-- (`bot.storage.claims`). A claim is a row per piece of work, taken with one atomic
-- INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING (portable: SQLite and PostgreSQL):
--   post:<challenge id>    scoring and posting a challenge's due work (a leased claim: a
--                          process that dies holding it is taken over once the lease ends)
--   fetch:<account id>     one account's provider fetch in a run (fresh for a few minutes
--                          after it is done, so a second process borrows it)
--   outbox:<sink>          delivering one publish sink's outbox
-- Times are ISO-8601 UTC text from the injected clock, compared as text.

CREATE TABLE claims (
    claim_key   TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,   -- the process holding it (host, pid, a random part)
    claimed_at  TEXT NOT NULL,
    lease_until TEXT NOT NULL,   -- another process may take it over after this instant
    done_at     TEXT,            -- NULL while the work is in flight
    detail      TEXT NOT NULL    -- what the holder does or did (a fetch: what it covered)
);
