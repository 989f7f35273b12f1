"""The server's settings, with defaults that are safe to expose."""

from dataclasses import dataclass

from pypush_server.history import (
    DEFAULT_HISTORY_BYTES,
    DEFAULT_HISTORY_MESSAGES,
    DEFAULT_HISTORY_SECONDS,
    HistoryBounds,
)


@dataclass(frozen=True)
class ServerConfig:
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed to open push sockets besides the server's own ("*": any)."""

    allowed_hosts: tuple[str, ...] = ()
    """Host names requests may be sent to besides IP addresses and localhost ("*": any).

    A DNS-rebinding guard: see :mod:`pypush_server.guard`."""

    api_token: str | None = None
    """With a token, /api/ answers any client that sends it; without, loopback only."""

    max_message_bytes: int = 10 * 1024 * 1024
    """The largest frame a push may send (and the largest API request body)."""

    max_sockets_per_channel: int | None = 1000
    """Sockets beyond this many on one channel are closed with 1008, as Mojarra does."""

    send_queue_bytes: int = 8 * 1024 * 1024
    """A socket whose unsent frames pass this many bytes is closed with 1013 (it fell behind)."""

    send_queue_seconds: float = 30.0
    """A socket whose oldest unsent frame waited this long is closed with 1013."""

    heartbeat: float | None = 25.0
    """Seconds between WebSocket pings, so proxies keep idle sockets open."""

    demo_clock: bool = True
    """Push the server clock to the demo's ``clock`` channel every second."""

    history_messages: int = DEFAULT_HISTORY_MESSAGES
    history_bytes: int = DEFAULT_HISTORY_BYTES
    history_seconds: float = DEFAULT_HISTORY_SECONDS
    """Each channelId keeps its last messages within these bounds, for clients that resume."""

    @property
    def history(self) -> HistoryBounds:
        return HistoryBounds(self.history_messages, self.history_bytes, self.history_seconds)
