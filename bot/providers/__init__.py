"""Wearable data providers, one module each, all behind `bot.providers.base.Provider`."""
