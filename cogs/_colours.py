"""Embed colours the cogs share."""

from __future__ import annotations

import discord

# Challenge cards, the challenge list, teams and /settings.
COLOUR_CHALLENGES = discord.Colour.from_rgb(46, 160, 67)
