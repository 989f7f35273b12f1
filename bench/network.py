"""A real link for start-up: Chromium's network emulation through the DevTools protocol.

Loopback hides what users wait for: bytes and round trips. The profile is
Lighthouse's mobile throttling (the "slow 4G" users of a phone get): 150 ms
round trip, 1.6 Mbit/s down, 750 kbit/s up, applied to every request of the page,
the WebSocket handshake included. The test server sends every file compressed, as
a production server would (the bundle's precompressed ``.br``/``.gz`` copies, and
the pages themselves compressed on the fly).
"""

from typing import Any

PROFILE_4G = {
    "offline": False,
    "latency": 150,  # ms, added to each request's round trip
    "downloadThroughput": 1.6e6 / 8,  # bytes per second
    "uploadThroughput": 750e3 / 8,
}
"""Lighthouse's mobile throttling: 150 ms, 1.6 Mbit/s down, 750 kbit/s up."""

NETWORK_TARGETS = (
    "js-floor",
    "bare-micropython",
    "pypush-micropython",
    "bare-pyodide",
    "pypush-pyodide",
)
"""What the network phase measures: the default path beside the JavaScript floor, and
Pyodide (for the pages that choose it) beside its bare boot."""


def throttle(context: Any, page: Any) -> Any:
    """Emulate :data:`PROFILE_4G` on ``page`` (before it navigates); its CDP session."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", PROFILE_4G)
    return cdp
