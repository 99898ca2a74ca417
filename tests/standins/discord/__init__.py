"""A local Discord for end-to-end tests: `discord_standin.DiscordStandIn` and `patch_discord`.

`openapi` (Discord's spec, validation, response shapes), `entities` and `world` (users, guilds,
channels, messages), `payloads` (JSON builders), `rest` and `rest_routes` (the REST API),
`gateway` (the WebSocket), `interactions` (interaction payloads and records), `fixtures` (the
pytest fixtures, `make_discord_standin` among them); `test_discord_standin` tests the stand-in.
"""
