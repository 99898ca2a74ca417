"""Makes the linking flow's fixtures (`tests.linking.flow`) available to the linking tests."""

from tests.linking.flow import client, env, provider

__all__ = ["client", "env", "provider"]
