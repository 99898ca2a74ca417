-- Linking: remember when an OAuth state was used, so a second click on the same link is told
-- "already used" rather than "unknown"; and find expired states quickly to purge them.
ALTER TABLE oauth_states ADD COLUMN used_at TEXT;
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);
