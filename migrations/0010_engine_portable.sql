-- One schema on SQLite and PostgreSQL (issue 13). Challenge names are unique per guild and
-- found case-insensitively through `name_key`: the trimmed name, NFKC-normalised and
-- case-folded by Stride (`bot.storage.names.name_key`), because SQLite's COLLATE NOCASE folds
-- only ASCII and PostgreSQL has no such collation. Stride fills it for the challenges already
-- stored (`bot.storage.engine.backfills`) right after these statements, in the same
-- transaction; NULLs (before that) do not collide in a unique index on either engine.
ALTER TABLE challenges ADD COLUMN name_key TEXT;
CREATE UNIQUE INDEX challenges_by_name_key ON challenges (guild_id, name_key);
