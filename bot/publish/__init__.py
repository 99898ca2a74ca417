"""The optional publish cog's domain: anonymised daily challenge aggregates sent to sinks.

- `aggregate`: statistics, k-anonymity and Laplace noise (pure functions);
- `keys`: HMAC pseudonyms for challenges and guilds, and the server secret;
- `schema`: the published message;
- `sinks`: Streamr node HTTP plugin, MQTT, signed webhook, JSON Lines file;
- `worker`: outbox delivery with retries, backoff and one report of a failing sink;
- `service`: the `day_finalised` handler, the delivery job and the admin commands' logic.

Nothing is imported here, so that `bot.storage.publish` can use `aggregate` without a cycle.
"""
