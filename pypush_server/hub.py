"""The push hub: channels, channelIds, sockets and their send queues, without I/O.

Like the client's ``pypush/core.py``, this module decides and the adapters act:
it imports neither aiohttp nor redis nor asyncio. An adapter (aiohttp, ASGI)
hands each accepted WebSocket to :meth:`Hub.connect` with a :class:`Sink`, the
few things the hub needs from a socket; a broker (in memory, or Redis for many
processes) keeps the registry of channelIds and carries pushes to every
process's hub, which fans them out to its own sockets with :meth:`Hub.deliver`.

A push never waits on a socket. Each socket takes a frame at once when its
transport can (:meth:`Sink.write`); otherwise the frame waits in that socket's
own queue, which its adapter drains. The queue is bounded in bytes and in age:
a socket that falls further behind is closed with 1013 (Try Again Later, a code
Faces clients retry, never 1008 or 1000 "Expired", which end them), its frames
are dropped, and the hub logs it. Frames are shared between sockets, so a push
to 10,000 sockets is one :class:`Frame`, encoded and framed once.

Per-push work is the sockets it goes to: channel -> channelId -> sockets are
indexes, never a scan of everything the hub knows.
"""

import collections
import itertools
import secrets
import struct
import time
from collections.abc import Callable, Iterable

from pypush_server.logs import log
from pypush_server.messages import check_text_frame, encode_message
from pypush_server.rules import valid_channel_name

CLOSE_EXPIRED = (1000, "Expired")
CLOSE_UNKNOWN = (1008, "Unknown channel")
CLOSE_TOO_MANY = (1008, "Too many sockets on this channel")
CLOSE_GOING_AWAY = (1001, "Server shutting down")
CLOSE_FELL_BEHIND = (1013, "Try Again Later: this socket fell behind")
"""Over its send queue's bound: a code Faces clients reconnect after (spec E7, E8)."""

DEFAULT_QUEUE_BYTES = 8 * 1024 * 1024
DEFAULT_QUEUE_SECONDS = 30.0


class Frame:
    """One WebSocket message as every socket sends it: payload bytes, framed once.

    ``header`` is the RFC 6455 (5.2) header of an unmasked, final, uncompressed
    frame, which is the same for every socket a server sends it to.
    """

    __slots__ = ("_header", "_text", "_wire", "binary", "data")

    def __init__(self, data: bytes, binary: bool = False, text: str | None = None) -> None:
        self.data = data
        self.binary = binary
        self._text = text
        self._header: bytes | None = None
        self._wire: bytes | None = None

    @classmethod
    def of(cls, frame: "str | bytes | Frame") -> "Frame":
        """A text frame from a str (UTF-8, checked), a binary frame from bytes."""
        if isinstance(frame, Frame):
            return frame
        if isinstance(frame, bytes | bytearray | memoryview):
            return cls(bytes(frame), binary=True)
        check_text_frame(frame)
        return cls(frame.encode("utf-8"), text=frame)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.data.decode("utf-8")
        return self._text

    @property
    def header(self) -> bytes:
        if self._header is None:
            first = 0x80 | (0x2 if self.binary else 0x1)  # FIN + opcode
            size = len(self.data)
            if size < 126:
                self._header = struct.pack("!BB", first, size)
            elif size < 65536:
                self._header = struct.pack("!BBH", first, 126, size)
            else:
                self._header = struct.pack("!BBQ", first, 127, size)
        return self._header

    @property
    def wire(self) -> bytes:
        """Header and payload in one piece (for small frames: one write, one syscall)."""
        if self._wire is None:
            self._wire = self.header + self.data
        return self._wire


class Sink:
    """What the hub needs from an open WebSocket; each adapter implements it."""

    def write(self, frame: Frame) -> bool:
        """Hand ``frame`` to the transport now if it can take it without waiting; else False."""
        raise NotImplementedError

    def wake(self) -> None:
        """Frames wait in the connection's queue: drain it (:meth:`Connection.next_frame`)."""
        raise NotImplementedError

    def close(self, code: int, reason: str) -> None:
        """Close the socket with this code (soon, in the background; give up after a while)."""
        raise NotImplementedError

    def abort(self) -> None:
        """Cut the connection without a close frame (the browser sees 1006)."""
        raise NotImplementedError


class Connection:
    """One socket on a channelId, as the hub sees it: its sink and its send queue."""

    __slots__ = ("channel", "channel_id", "hub", "id", "open", "peer", "queue", "queued", "sink")

    def __init__(self, hub: "Hub", number: int, channel: str, channel_id: str, sink: Sink, peer):
        self.hub = hub
        self.id = number
        self.channel = channel
        self.channel_id = channel_id
        self.sink = sink
        self.peer = peer
        self.queue: collections.deque[tuple[Frame, float]] = collections.deque()
        self.queued = 0  # bytes waiting in the queue
        self.open = True

    def next_frame(self) -> Frame | None:
        """The next frame to send (the adapter sends it, then asks again); None when empty."""
        if not self.queue:
            return None
        frame, _ = self.queue.popleft()
        self.queued -= frame.size
        if not self.queue:
            self.hub._backlogged.discard(self)
        self.hub._count_sent(self.channel_id, 1)
        return frame


class Hub:
    """Every socket of this process, and the registry and bus behind them (the broker).

    The application's side is async (``await hub.send(channel, message)``): with
    Redis, the registry and the bus are across the network. The adapters' side
    (:meth:`connect`, :meth:`disconnect`, :meth:`tick`) is synchronous and does no I/O.
    """

    def __init__(
        self,
        broker: object | None = None,
        *,
        max_queue_bytes: int = DEFAULT_QUEUE_BYTES,
        max_queue_seconds: float = DEFAULT_QUEUE_SECONDS,
        max_sockets_per_channel: int | None = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if broker is None:
            from pypush_server.brokers.memory import MemoryBroker

            broker = MemoryBroker()
        self.broker = broker
        self.max_queue_bytes = max_queue_bytes
        self.max_queue_seconds = max_queue_seconds
        self.max_sockets_per_channel = max_sockets_per_channel
        self.clock = clock
        self.sent: dict[str, int] = {}  # channelId -> frames written to this process's sockets
        self.stats = collections.Counter(handshakes=0, accepted=0, refused=0, fell_behind=0)
        self._numbers = itertools.count(1)
        self._by_channel: dict[str, dict[str, dict[int, Connection]]] = {}
        self._by_id: dict[int, Connection] = {}
        self._backlogged: set[Connection] = set()
        broker.attach(self)

    # -- the application's API ---------------------------------------------------------

    async def start(self) -> None:
        """Connect the broker (Redis); the in-memory broker needs nothing."""
        await self.broker.start()

    async def stop(self) -> None:
        """Close every socket of this process with 1001 and let the broker go."""
        for connection in list(self._by_id.values()):
            self._close(connection, *CLOSE_GOING_AWAY)
        await self.broker.stop()

    async def register(self, channel: str) -> str:
        """A fresh, unguessable channelId for ``channel`` (ValueError for a bad name)."""
        if not valid_channel_name(channel):
            raise ValueError(
                "invalid channel name %r: use letters, digits, '-', '_', '.'" % channel
            )
        channel_id = secrets.token_urlsafe(24)
        await self.broker.register(channel, channel_id)
        log.info("registered channel %s id %s…", channel, channel_id[:6])
        return channel_id

    async def expire(self, channel_id: str) -> int | None:
        """Forget a channelId: its sockets (in every process) close with 1000 ``Expired``.

        Returns how many sockets it had, or None when the channelId is unknown.
        """
        return await self.broker.expire(channel_id)

    async def send(self, channel: str, message: object, channel_id: str | None = None) -> int:
        """Push ``message`` (any JSON value) to the channel's sockets, or one channelId's.

        Returns how many sockets it was handed to. Never waits on a socket;
        raises MessageError for what JSON cannot carry, and the broker's error
        (with Redis) when the push could not be sent.
        """
        return await self.send_frames(channel, [encode_message(message)], channel_id)

    async def send_frames(
        self, channel: str, frames: Iterable["str | bytes | Frame"], channel_id: str | None = None
    ) -> int:
        """Send frames as they are (text, or bytes as binary frames), in order.

        Returns the sockets the frame was handed to for one frame, the frames
        handed to sockets in all for several.
        """
        frames = [Frame.of(frame) for frame in frames]
        return await self.broker.publish(channel, channel_id, frames)

    async def accepts(self, channel: str, channel_id: str) -> bool:
        """Is ``channel_id`` a registered channelId of ``channel``?"""
        return await self.broker.channel_of(channel_id) == channel

    async def channel_ids(self, channel: str) -> list[str]:
        return await self.broker.channel_ids(channel)

    async def socket_count(self, channel: str, channel_id: str | None = None) -> int:
        """Sockets open on the channel (or one channelId), in every process."""
        return await self.broker.socket_count(channel, channel_id)

    # -- the adapters' side ---------------------------------------------------------------

    def connect(self, channel: str, channel_id: str, sink: Sink, peer=None) -> Connection | None:
        """Take an accepted socket of a known channelId; None when the channel is full."""
        groups = self._by_channel.setdefault(channel, {})
        cap = self.max_sockets_per_channel
        if cap is not None and sum(len(g) for g in groups.values()) >= cap:
            return None
        connection = Connection(self, next(self._numbers), channel, channel_id, sink, peer)
        group = groups.setdefault(channel_id, {})
        group[connection.id] = connection
        self._by_id[connection.id] = connection
        self.sent.setdefault(channel_id, 0)
        self.broker.sockets_changed(channel_id, len(group))
        return connection

    def disconnect(self, connection: Connection) -> None:
        """The socket is gone (closed by either side): forget it and its queue."""
        if self._by_id.pop(connection.id, None) is None:
            return
        connection.open = False
        connection.queue.clear()
        connection.queued = 0
        self._backlogged.discard(connection)
        groups = self._by_channel.get(connection.channel, {})
        group = groups.get(connection.channel_id, {})
        group.pop(connection.id, None)
        self.broker.sockets_changed(connection.channel_id, len(group))
        if not group:
            groups.pop(connection.channel_id, None)
            if not groups:
                self._by_channel.pop(connection.channel, None)

    def deliver(self, channel: str, channel_id: str | None, frames: list[Frame]) -> int:
        """Fan frames out to this process's sockets of the channel (or one channelId).

        Called by the broker for every push, whichever process it came from.
        """
        groups = self._by_channel.get(channel)
        if not groups:
            return 0
        if channel_id is not None:
            group = groups.get(channel_id)
            targets = [(channel_id, group)] if group else []
        else:
            targets = list(groups.items())
        now = self.clock()
        handed = 0
        for target_id, group in targets:
            written = 0
            for connection in list(group.values()):
                for frame in frames:
                    outcome = self._offer(connection, frame, now)
                    if outcome is None:
                        break  # closed: it fell behind
                    handed += 1
                    written += outcome
            if written:
                self._count_sent(target_id, written)
        return handed

    def close_channel_id(self, channel_id: str, code: int, reason: str) -> int:
        """Close this process's sockets of a channelId (expiry); how many there were."""
        connections = [c for c in self._by_id.values() if c.channel_id == channel_id]
        for connection in connections:
            self._close(connection, code, reason)
        self.sent.pop(channel_id, None)
        return len(connections)

    def forget(self, channel_id: str) -> None:
        """An expired channelId: nothing of it may stay behind."""
        self.sent.pop(channel_id, None)

    def sockets(self, channel: str | None = None, channel_id: str | None = None) -> list:
        """This process's open sockets: all, a channel's, or a channelId's."""
        if channel is None:
            return list(self._by_id.values())
        groups = self._by_channel.get(channel, {})
        if channel_id is not None:
            return list(groups.get(channel_id, {}).values())
        return [c for group in groups.values() for c in group.values()]

    def socket(self, number: int) -> Connection | None:
        return self._by_id.get(number)

    def local_count(self, channel: str, channel_id: str | None = None) -> int:
        groups = self._by_channel.get(channel, {})
        if channel_id is not None:
            return len(groups.get(channel_id, {}))
        return sum(len(group) for group in groups.values())

    def local_counts(self) -> dict[str, int]:
        """Open sockets per channelId in this process (for a broker to publish)."""
        return {
            channel_id: len(group)
            for groups in self._by_channel.values()
            for channel_id, group in groups.items()
        }

    def tick(self) -> None:
        """Close the sockets whose oldest queued frame waited too long (call every second)."""
        now = self.clock()
        for connection in list(self._backlogged):
            if connection.queue and now - connection.queue[0][1] > self.max_queue_seconds:
                self._fell_behind(connection, now)

    # -- inside ----------------------------------------------------------------------------

    def _offer(self, connection: Connection, frame: Frame, now: float) -> int | None:
        """1: written now, 0: queued, None: the socket fell behind and is being closed."""
        queue = connection.queue
        if not queue:
            if connection.sink.write(frame):
                return 1
            queue.append((frame, now))
            connection.queued = frame.size  # an empty queue takes any frame
            self._backlogged.add(connection)
            connection.sink.wake()
            return 0
        if (
            connection.queued + frame.size > self.max_queue_bytes
            or now - queue[0][1] > self.max_queue_seconds
        ):
            self._fell_behind(connection, now)
            return None
        queue.append((frame, now))
        connection.queued += frame.size
        return 0

    def _fell_behind(self, connection: Connection, now: float) -> None:
        waited = now - connection.queue[0][1] if connection.queue else 0.0
        log.warning(
            "closing socket %d on %s with %d: %d bytes waited up to %.1f s "
            "(bounds: %d bytes, %g s)",
            connection.id,
            connection.channel,
            CLOSE_FELL_BEHIND[0],
            connection.queued,
            waited,
            self.max_queue_bytes,
            self.max_queue_seconds,
        )
        self.stats["fell_behind"] += 1
        self._close(connection, *CLOSE_FELL_BEHIND)

    def close(self, connection: Connection, code: int, reason: str) -> None:
        """Close one socket with a code (the fault API's close; expiry closes with 1000)."""
        self.disconnect(connection)
        connection.sink.close(code, reason)

    _close = close

    def _count_sent(self, channel_id: str, count: int) -> None:
        if channel_id in self.sent:
            self.sent[channel_id] += count
