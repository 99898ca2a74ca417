"""The embed colours of the DMs linking sends: linked, a fresh link, please link again."""

from __future__ import annotations

COLOUR_OK = 0x2DA44E
COLOUR_INFO = 0x0969DA
COLOUR_WARN = 0xBF8700
