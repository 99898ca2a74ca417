"""Tests of `bot.privacy`: export, delete everything, publish opt-out."""
