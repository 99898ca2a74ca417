"""Tests of `bot.linking`: links, tokens, the real providers end to end, no secret leaks."""
