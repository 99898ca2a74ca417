-- OAuth grants (issue 14, issue 13).
-- A provider that refuses a member's data because their membership lapsed (Oura's 403): when
-- it was first seen, and when the member was told (once; both cleared when data flows again).
ALTER TABLE linked_accounts ADD COLUMN membership_lapsed_at TEXT;
ALTER TABLE linked_accounts ADD COLUMN lapsed_notified_at TEXT;
-- The lease on an account's token refresh, so two Stride processes never spend one
-- single-use refresh token twice: who holds it, and until when (ISO-8601 UTC, fixed width).
ALTER TABLE linked_accounts ADD COLUMN refresh_owner TEXT;
ALTER TABLE linked_accounts ADD COLUMN refresh_lease_until TEXT;
