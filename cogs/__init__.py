"""Discord-facing extensions, each loaded at start-up; they call services in `bot/`."""
