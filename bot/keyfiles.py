"""Secrets Stride generates once and keeps beside the database when none is configured.

The token-encryption key (`bot.crypto`), the publish secret (`bot.publish.keys`) and the
Withings callback secret (`bot.providers.withings_notify`) all follow one rule: created
exclusively with mode 0600 (two processes starting together read the same one), a warning
naming the file so it gets backed up, and never the secret itself in a log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def read_or_create(path: Path, generate: Callable[[], str], *, warning: str) -> str:
    """The secret stored in `path`, generated and written first if the file does not exist.

    `warning` is logged once, when the file is created; `%s` in it stands for the path."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(generate() + "\n")
            log.warning(warning, path)
    return path.read_text("ascii").strip()
