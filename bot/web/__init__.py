"""The aiohttp web server: health, metrics, and the OAuth and webhook routes."""
