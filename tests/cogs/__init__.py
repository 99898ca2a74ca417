"""Tests of the cogs: command callbacks with interaction doubles built from discord.py classes."""
