"""Stride: a Discord bot for group fitness challenges."""

__version__ = "0.1.0"
