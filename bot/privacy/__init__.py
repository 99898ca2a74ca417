"""The user's data rights.

- `service`: `PrivacyService`, built once per app by `bot.services.build_services` (reach it
  as `services.privacy`): export everything Stride stores about a user, delete all of it
  (`DeletionReport` says which grants were revoked), and the publish opt-out.
"""

from bot.privacy.service import DeletionReport, PrivacyService

__all__ = ["DeletionReport", "PrivacyService"]
