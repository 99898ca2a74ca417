"""Stand-ins for the wearable providers' APIs, shared by the tests, the e2e harness and `bench/`.

Each is an aiohttp app on 127.0.0.1 with the provider's OAuth rules, data shapes, fault
injection and request counting; see `base.StandinBase` for the common test-facing API and
`stack.start_provider_standins` to run all four with a matching `Settings`. The Google Health,
Withings and Oura stand-ins also serve their provider's subscription API and call Stride's
webhooks as the real ones do (`sync_watch`: a member syncs their watch; `push.Delivery` records
each call). Their OAuth side follows RFC 6749 more strictly than Stride needs: both client
authentication methods (configurable per stand-in), granular consent (`consent(scopes=…)`
grants a subset, and data endpoints answer 403 without their scope), any `token_type`, and
single-use rotating refresh tokens at Oura (a reused one is `invalid_grant`).
"""

from .base import ConsentError, IssuedTokens, RecordedRequest, StandinBase
from .discovery import DiscoveryChecker, google_fit_checker, google_health_checker
from .google import GoogleFitStandin, GoogleHealthStandin
from .oura import OuraStandin
from .push import Delivery
from .stack import ProviderStandins, provider_standins, start_provider_standins
from .withings import WithingsStandin

__all__ = [
    "ConsentError",
    "Delivery",
    "DiscoveryChecker",
    "GoogleFitStandin",
    "GoogleHealthStandin",
    "IssuedTokens",
    "OuraStandin",
    "ProviderStandins",
    "RecordedRequest",
    "StandinBase",
    "WithingsStandin",
    "google_fit_checker",
    "google_health_checker",
    "provider_standins",
    "start_provider_standins",
]
