"""How names compare: the key under which a challenge (or team) name is unique and found.

Names compare case-insensitively, for every script: the key is the trimmed name in Unicode's
compatibility form (NFKC), case-folded ("Ärger" and "ÄRGER" are one name, and so are
"Straße" and "STRASSE"). Stride computes it, so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

import unicodedata


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name.strip()).casefold()
