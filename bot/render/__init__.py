"""Pure presentation of standings: embed content for the posts, a terminal table, the PNG chart.

No Discord import and no I/O here: `leaderboard` builds plain `EmbedContent` that a cog turns
into a `discord.Embed`, and `chart` returns PNG bytes (run it with `asyncio.to_thread`).
"""
