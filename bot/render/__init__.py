"""Pure presentation: text for the posts, cards and replies, a terminal table, the PNG chart.

No Discord import and no I/O here; a cog turns what these return into a `discord.Embed`.

* `text`: Discord's length limits, cutting text to fit (`truncate`, `fit_lines`), names made
  safe to show (`printable_name`, `escape_markdown`, `display_name`), and the one format of an
  amount (`format_amount`, in the server's metric or imperial units) and of a date
  (`format_date`, with or without weekday and year).
* `standings`: scores in a challenge's own terms (`format_score`) and the rows of players and
  teams that the posts, the table and `/me` share.
* `leaderboard`: the daily, catch-up and results posts as `EmbedContent`, within every embed
  limit.
* `table`: the standings as a fixed-width terminal table (`stride demo`).
* `chart_data`: what the chart shows (`ChartInput`): each player's line in the server's units,
  the legend's scores, one colour slot per player for the whole challenge, hidden members left
  out.
* `chart`: the cumulative-score chart as PNG bytes (run it with `asyncio.to_thread`).
"""
