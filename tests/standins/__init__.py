"""Stand-ins reached over the network: local servers that speak a real service's protocol.

`discord/` is Discord (REST API v10 and gateway) for an unmodified discord.py bot, with its
fixtures in `discord.fixtures` and its own tests; `providers/` are the wearable providers'
APIs (OAuth, data, subscriptions and webhook calls); `publish/` are the publish sinks' far ends
(an MQTT broker, a Streamr node, a webhook receiver). In-process doubles live in
`tests/doubles/`.
"""
