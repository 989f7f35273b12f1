"""Per client address: how fast it may open push sockets and how many it may hold open.

No I/O here (the push endpoint asks, :mod:`pypush_server.aiohttp_app`). A client's
address is the one the server takes for it: the peer's, or what a trusted proxy says
(:mod:`pypush_server.proxies`). An IPv6 address counts as its /64 network, which one
host commonly holds whole: otherwise it could open sockets from as many addresses as it
likes. The limits are per process (``--workers N`` has N of them).

Handshakes are a token bucket per address: ``handshakes_per_second`` tokens a second, as
many at most, so a page that reconnects several clients at once is not refused. A
handshake holds one of its address's socket slots from the moment it is admitted until
its socket closes (or the handshake ends without one), so concurrent handshakes count too.
"""

import collections
import ipaddress
import time
from collections.abc import Callable

HANDSHAKE_RATE = "handshakes_per_second"
SOCKETS = "sockets_per_address"
REQUEST_SIZE = "request_bytes"
KINDS = (HANDSHAKE_RATE, SOCKETS, REQUEST_SIZE)
PRUNE_ABOVE = 4096
"""Buckets kept before idle ones (full again) are let go."""


def client_key(address: str | None) -> str:
    """What the limits count by: an IPv4 address, an IPv6 address's /64, else the text."""
    if address is None:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network((ip, 64), strict=False))
    return str(ip)


class ClientLimits:
    """The limits of one process, and how often each refused something (``refused``)."""

    def __init__(
        self,
        handshakes_per_second: float | None = 20.0,
        sockets_per_address: int | None = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = handshakes_per_second or None
        self.burst = max(1.0, self.rate or 1.0)
        self.sockets = sockets_per_address or None
        self.clock = clock
        self.refused = collections.Counter(dict.fromkeys(KINDS, 0))
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._prune_above = PRUNE_ABOVE
        self._open: collections.Counter[str] = collections.Counter()

    def admit(self, address: str | None) -> str | None:
        """A handshake from ``address``: None when it may go on (it then holds a socket slot
        until :meth:`release`), else the limit it met (``HANDSHAKE_RATE`` or ``SOCKETS``)."""
        key = client_key(address)
        if self.rate is not None and not self._take_token(key):
            self.refused[HANDSHAKE_RATE] += 1
            return HANDSHAKE_RATE
        if self.sockets is not None and self._open[key] >= self.sockets:
            self.refused[SOCKETS] += 1
            return SOCKETS
        self._open[key] += 1
        return None

    def release(self, address: str | None) -> None:
        """The handshake admitted for ``address`` is over, and its socket (if any) closed."""
        key = client_key(address)
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]

    def open_sockets(self, address: str | None) -> int:
        return self._open[client_key(address)]

    def request_too_large(self) -> None:
        """Count a request refused for its size (the HTTP layer refuses it)."""
        self.refused[REQUEST_SIZE] += 1

    def describe(self, kind: str) -> str:
        """Why a refusal happened, for the log."""
        if kind == HANDSHAKE_RATE:
            return "more than %g handshakes per second from that address" % self.rate
        if kind == SOCKETS:
            return "%d sockets open from that address already" % self.sockets
        return kind

    def _take_token(self, key: str) -> bool:
        now = self.clock()
        tokens, when = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - when) * self.rate)
        taken = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if taken else tokens, now)
        if len(self._buckets) > self._prune_above:
            self._prune(now)
        return taken

    def _prune(self, now: float) -> None:
        """Let go of the buckets that are full again: they are as if never used."""
        rate, burst = self.rate, self.burst
        self._buckets = {
            key: (tokens, when)
            for key, (tokens, when) in self._buckets.items()
            if tokens + (now - when) * rate < burst
        }
        # Amortised: the next prune waits until the table has doubled again.
        self._prune_above = max(PRUNE_ABOVE, 2 * len(self._buckets))
