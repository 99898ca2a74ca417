"""Test doubles, one home for each.

`messenger` (the recording Discord transport, `RecordingTransport`, and `connected`),
`provider` (`FakeProvider`: a strict OAuth provider with scripted daily values),
`interaction` (`spec_set` doubles of discord.py's interaction, user, member, role, guild and
channel), `sync` (`RecordingSync`, a recording sync queue for the webhook routes).
"""
