"""Option types that parse what a member typed: a date (YYYY-MM-DD) and a time of day (HH:MM).

A value that does not parse raises `OptionError`, which the tree's error handler shows as
written, so the member reads how to write it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
from discord import app_commands

from bot.challenges.inputs import parse_day, parse_time_of_day
from bot.errors import UserError


class OptionError(UserError, app_commands.AppCommandError):
    """A bad option value: a UserError (shown as written) that discord.py passes through
    transformers unwrapped (it re-raises AppCommandErrors as they are)."""


class DateOption(app_commands.Transformer):
    """A civil date written YYYY-MM-DD."""

    async def transform(self, interaction: discord.Interaction[Any], value: str) -> dt.date:
        try:
            return parse_day(str(value))
        except UserError as exc:
            raise OptionError(str(exc)) from None


class TimeOption(app_commands.Transformer):
    """A time of day written HH:MM."""

    async def transform(self, interaction: discord.Interaction[Any], value: str) -> dt.time:
        try:
            return parse_time_of_day(str(value))
        except UserError as exc:
            raise OptionError(str(exc)) from None


DateArg = app_commands.Transform[dt.date, DateOption]
TimeArg = app_commands.Transform[dt.time, TimeOption]
