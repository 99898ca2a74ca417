"""The daily run: fetch, score, finalise and post every due challenge (`DailyRunner`)."""

from bot.daily.calendar import ChallengeCalendar
from bot.daily.runner import Board, DailyRunner, RunReport, calendar_of, fallback_name

__all__ = ["Board", "ChallengeCalendar", "DailyRunner", "RunReport", "calendar_of", "fallback_name"]
