"""The server's settings, with defaults that are safe to expose."""

from dataclasses import dataclass

from pypush_server.history import (
    DEFAULT_HISTORY_BYTES,
    DEFAULT_HISTORY_MESSAGES,
    DEFAULT_HISTORY_SECONDS,
    HistoryBounds,
)
from pypush_server.hub import DEFAULT_HEARTBEAT_SECONDS


@dataclass(frozen=True)
class ServerConfig:
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed to open push sockets besides the server's own ("*": any)."""

    allowed_hosts: tuple[str, ...] = ()
    """Host names requests may be sent to besides IP addresses and localhost ("*": any).

    A DNS-rebinding guard: see :mod:`pypush_server.guard`."""

    api_token: str | None = None
    """With a token, /api/ answers any client that sends it (``Authorization: Bearer``)."""

    trust_loopback: bool = False
    """Let loopback clients use /api/ without the token. Off unless asked for: behind a
    proxy on the same machine every client is loopback (``serve.py`` turns it on when it
    listens on loopback only, with no token and no proxy: the demo's case)."""

    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of the reverse proxies in front of the server: only from them
    are forwarding headers believed (:mod:`pypush_server.proxies`)."""

    proxy_headers: str = "x-forwarded"
    """Which headers those proxies write: ``x-forwarded`` (X-Forwarded-For, -Proto and
    -Host) or ``forwarded`` (RFC 7239); the other kind is ignored, whoever sent it."""

    proxy_host_header: bool = False
    """Believe the host those proxies name (X-Forwarded-Host, Forwarded's ``host=``). Off
    unless asked for: a proxy that passes the Host header on (nginx's ``proxy_set_header
    Host``) passes a client's own X-Forwarded-Host through untouched."""

    max_message_bytes: int = 10 * 1024 * 1024
    """The largest frame a push may send."""

    max_burst_bytes: int = 64 * 1024 * 1024
    """The most one ``/api/channels/{channel}/burst`` request may push: its count times its
    frame's size (413 beyond it). The frames are built as they go out, part by part."""

    max_request_bytes: int | None = None
    """The largest request body the server reads (413 beyond it); None: the largest message
    and 64 KiB for the JSON around it."""

    max_handshakes_per_second: float | None = 20.0
    """Handshakes one client address may make per second (a burst of as many); None: any."""

    max_sockets_per_address: int | None = 500
    """Push sockets one client address may hold open (an IPv6 address counts as its /64)."""

    max_sockets_per_channel_id: int | None = 1000
    """Sockets one channelId may have open in a process; one more is closed with 1013, which
    Faces clients retry (spec E8), never 1008, which ends them (E7). Per channelId, not per
    channel: one page cannot lock the channel's other pages out. None: no limit."""

    send_queue_bytes: int = 8 * 1024 * 1024
    """A socket whose unsent frames pass this many bytes is closed with 1013 (it fell behind)."""

    send_queue_seconds: float = 30.0
    """A socket whose oldest unsent frame waited this long is closed with 1013."""

    heartbeat: float | None = 25.0
    """Seconds between WebSocket pings, so proxies keep idle sockets open."""

    client_heartbeat: float | None = DEFAULT_HEARTBEAT_SECONDS
    """Seconds between heartbeat frames to pypush clients that resumed (spec H7), which
    take a socket silent 1.5 times as long for dead (N4); None: none, and none announced."""

    demo_clock: bool = True
    """Push the server clock to the demo's ``clock`` channel every second."""

    faults: bool = False
    """Mount the fault API (/api/faults/…, closing and dropping sockets): a test tool, off
    unless asked for (``serve.py --faults``; PushTestServer always has it)."""

    @property
    def request_bytes_limit(self) -> int:
        """``max_request_bytes``, or the largest message and room for its JSON."""
        if self.max_request_bytes is not None:
            return self.max_request_bytes
        return self.max_message_bytes + 64 * 1024

    history_messages: int = DEFAULT_HISTORY_MESSAGES
    history_bytes: int = DEFAULT_HISTORY_BYTES
    history_seconds: float = DEFAULT_HISTORY_SECONDS
    """Each channelId keeps its last messages within these bounds, for clients that resume."""

    @property
    def history(self) -> HistoryBounds:
        return HistoryBounds(self.history_messages, self.history_bytes, self.history_seconds)
