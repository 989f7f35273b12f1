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
import json
import secrets
import struct
import time
from collections.abc import Callable, Iterable

from pypush_server.brokers import check_idempotency_key
from pypush_server.history import HistoryBounds, Position, Stored
from pypush_server.logs import log, shown
from pypush_server.messages import MessageError, check_text_frame, encode_data
from pypush_server.rules import valid_channel_name

CLOSE_EXPIRED = (1000, "Expired")
CLOSE_UNKNOWN = (1008, "Unknown channel")
CLOSE_TOO_MANY = (1013, "Try Again Later: too many sockets on this channelId")
"""Over the cap of sockets per channelId: a code Faces clients reconnect after (spec E8),
never 1008, which ends them (E7); the channel's other channelIds are not concerned."""
CLOSE_GOING_AWAY = (1001, "Server shutting down")
CLOSE_FELL_BEHIND = (1013, "Try Again Later: this socket fell behind")
"""Over its send queue's bound: a code Faces clients reconnect after (spec E7, E8)."""
CLOSE_NO_HISTORY = (1013, "Try Again Later: history unavailable")
"""A resume the store could not answer (Redis away): the client retries, nothing is guessed."""

RESUME_PARAMETER = "pypush-resume"
"""``{channel}?{channelId}&pypush-resume=EPOCH:OFFSET``: a pypush client's reconnect (H2)."""

GAP_TRIMMED = "trimmed"
GAP_UNKNOWN = "unknown-position"
GAP_MALFORMED = "malformed-position"

SEND_PART_MESSAGES = 1000
SEND_PART_BYTES = 1024 * 1024
"""A push of many messages reaches the broker in parts of at most SEND_PART_MESSAGES
messages and SEND_PART_BYTES bytes (a larger message is a part of its own): with Redis a
part is one script, and Redis runs nothing else while a script runs (a burst of 100,000
held it 0.6 s in one); in memory, a part's frames are built as it is sent."""

DEFAULT_QUEUE_BYTES = 8 * 1024 * 1024
DEFAULT_QUEUE_SECONDS = 30.0
DEFAULT_HEARTBEAT_SECONDS = 25.0
"""H7: how often a pypush client that resumed is sent a heartbeat frame (spec N4)."""


class Frame:
    """One WebSocket message as every socket sends it: payload bytes, framed once.

    ``header`` is the RFC 6455 (5.2) header of an unmasked, final, uncompressed
    frame, which is the same for every socket a server sends it to.
    """

    __slots__ = ("_header", "_text", "_wire", "binary", "data", "is_control", "offset")

    def __init__(
        self, data: bytes, binary: bool = False, text: str | None = None, offset: int | None = None
    ) -> None:
        self.data = data
        self.binary = binary
        self.is_control = False
        self._text = text
        self._header: bytes | None = None
        self._wire: bytes | None = None
        self.offset = offset
        """The message's offset in its channelId's stream; None for frames sent as they are."""

    @classmethod
    def of(cls, frame: "str | bytes | Frame") -> "Frame":
        """A text frame from a str (UTF-8, checked), a binary frame from bytes."""
        if isinstance(frame, Frame):
            return frame
        if isinstance(frame, bytes | bytearray | memoryview):
            return cls(bytes(frame), binary=True)
        check_text_frame(frame)
        return cls(frame.encode("utf-8"), text=frame)

    @classmethod
    def message(cls, body: bytes, epoch: str, offset: int) -> "Frame":
        """A push message with its position: ``{"data":BODY,"id":"EPOCH:OFFSET"}`` (H1).

        Mojarra's and MyFaces' clients read only ``data``; pypush's keep the position.
        """
        tail = (',"id":"%s:%d"}' % (epoch, offset)).encode()
        return cls(b'{"data":' + body + tail, offset=offset)

    @classmethod
    def control(cls, fields: dict) -> "Frame":
        """A frame for a pypush client only (no ``data``): ``{"pypush": kind, …}`` (H3)."""
        frame = cls(json.dumps(fields, separators=(",", ":")).encode())
        frame.is_control = True
        return frame

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
    """One socket on a channelId, as the hub sees it: its sink and its send queue.

    A socket that asked to resume (``asked``: the position its client gave) is
    *negotiated*: its client is pypush, so it may be sent frames other than push
    messages. Until :meth:`Hub.resume` has sent it what it missed, live messages wait
    in ``pending``; afterwards any message at or before ``skip_through`` (already
    replayed) is not sent again.
    """

    __slots__ = (
        "asked",
        "channel",
        "channel_id",
        "hub",
        "id",
        "negotiated",
        "open",
        "peer",
        "pending",
        "pending_bytes",
        "queue",
        "queued",
        "resuming",
        "sink",
        "skip_through",
    )

    def __init__(
        self,
        hub: "Hub",
        number: int,
        channel: str,
        channel_id: str,
        sink: Sink,
        peer,
        asked: str | None = None,
    ):
        self.hub = hub
        self.id = number
        self.channel = channel
        self.channel_id = channel_id
        self.sink = sink
        self.peer = peer
        self.queue: collections.deque[tuple[Frame, float]] = collections.deque()
        self.queued = 0  # bytes waiting in the queue
        self.open = True
        self.asked = asked
        self.negotiated = asked is not None
        self.resuming = asked is not None
        self.pending: list[Frame] = []
        self.pending_bytes = 0
        self.skip_through: int | None = None

    def next_frame(self) -> Frame | None:
        """The next frame to send (the adapter sends it, then asks again); None when empty."""
        if not self.queue:
            return None
        frame, _ = self.queue.popleft()
        self.queued -= frame.size
        if not self.queue:
            self.hub._backlogged.discard(self)
        if not frame.is_control:
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
        max_sockets_per_channel_id: int | None = 1000,
        history: HistoryBounds | None = None,
        heartbeat_seconds: float | None = DEFAULT_HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if heartbeat_seconds is not None and not heartbeat_seconds > 0:
            raise ValueError("heartbeat_seconds must be > 0, or None for no heartbeats")
        self.heartbeat_seconds = heartbeat_seconds
        """H7: seconds between heartbeat frames to negotiated sockets; None: none, unannounced."""
        self.history = history if history is not None else HistoryBounds()
        """How much of each channelId's stream is kept for clients that resume (H6)."""
        if broker is None:
            from pypush_server.brokers.memory import MemoryBroker

            broker = MemoryBroker()
        self.broker = broker
        self.max_queue_bytes = max_queue_bytes
        self.max_queue_seconds = max_queue_seconds
        self.max_sockets_per_channel_id = max_sockets_per_channel_id
        """Sockets one channelId may have open in this process; None: any."""
        self.clock = clock
        self.sent: dict[str, int] = {}  # channelId -> frames written to this process's sockets
        self.stats = collections.Counter(
            handshakes=0, accepted=0, refused=0, fell_behind=0, resumed=0, gaps=0
        )
        self._numbers = itertools.count(1)
        self._by_channel: dict[str, dict[str, dict[int, Connection]]] = {}
        self._by_id: dict[int, Connection] = {}
        self._backlogged: set[Connection] = set()
        self._negotiated: set[Connection] = set()  # the sockets heartbeats go to (H7)
        self._next_heartbeat = 0.0
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

    async def send(
        self,
        channel: str,
        message: object,
        channel_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        """Push ``message`` (any JSON value) to the channel's sockets, or one channelId's.

        Returns how many sockets it was handed to. Never waits on a socket;
        raises MessageError for what JSON cannot carry, BrokerUnavailable (with
        Redis) when the push could not be sent, and OutcomeUnknown when it was sent
        and no answer came (it may or may not be delivered). The message takes the next
        position of each channelId it goes to and stays in their history (H1).

        ``idempotency_key`` (1 to 128 visible ASCII characters): a push sent again with
        the key of one this channel had within 5 minutes (IDEMPOTENCY_SECONDS) is not
        published again and answers as the first did; so a push retried after
        OutcomeUnknown is delivered once. With Redis, every process agrees.
        """
        return await self.send_encoded(
            channel, [encode_data(message)], channel_id, idempotency_key=idempotency_key
        )

    async def send_many(
        self,
        channel: str,
        messages: Iterable[object],
        channel_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        """Push several messages, in order (in parts: :meth:`send_encoded`); the frames
        handed to sockets in all. Every message is checked before the first goes out."""
        return await self.send_encoded(
            channel,
            [encode_data(m) for m in messages],
            channel_id,
            idempotency_key=idempotency_key,
        )

    async def send_encoded(
        self,
        channel: str,
        bodies: Iterable[str],
        channel_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        """Push messages already JSON text (as :func:`~pypush_server.messages.encode_data`
        writes them), in order, each with its position and kept in history.

        Many messages go to the broker in parts (:data:`SEND_PART_MESSAGES`), one after
        the other, read from ``bodies`` as they go (a generator is never held whole): the
        parts keep their order, and each part's messages take consecutive positions of
        each channelId; a push from elsewhere may come between two parts. A body that
        UTF-8 cannot carry (a lone surrogate) raises MessageError, a broker that fails
        its error (BrokerUnavailable or OutcomeUnknown with Redis); after the first part,
        either says which messages went out before it. With ``idempotency_key`` each
        part is remembered under its own key (the key itself, then ``KEY/2``, ``KEY/3``
        ...), so a push retried after a failure publishes only the parts that did not
        go out.
        """
        check_idempotency_key(idempotency_key)
        handed = sent = size = parts = 0
        part: list[bytes] = []
        previous, data = None, b""
        for body in bodies:
            if body is not previous:  # a burst repeats one message: one encoding of it
                data = _encoded_body(body, sent + len(part) + 1, sent)
                previous = body
            if part and (len(part) == SEND_PART_MESSAGES or size + len(data) > SEND_PART_BYTES):
                parts += 1
                key = _part_key(idempotency_key, parts)
                handed += await self._publish_part(channel, channel_id, part, sent, key)
                sent, part, size = sent + len(part), [], 0
            part.append(data)
            size += len(data)
        if part:  # nothing to send publishes nothing
            key = _part_key(idempotency_key, parts + 1)
            handed += await self._publish_part(channel, channel_id, part, sent, key)
        return handed

    async def _publish_part(
        self,
        channel: str,
        channel_id: str | None,
        part: list[bytes],
        sent: int,
        idempotency_key: str | None,
    ) -> int:
        try:
            return await self.broker.publish_messages(
                channel, channel_id, part, idempotency_key=idempotency_key
            )
        except ConnectionError as exc:
            if not sent:
                raise
            # The broker's own kind of error (what the caller may do next depends on it),
            # and what of the push went out before this part.
            raise type(exc)(
                "%s; messages 1 to %d of this push went out before it" % (exc, sent)
            ) from exc

    async def send_frames(
        self,
        channel: str,
        frames: Iterable["str | bytes | Frame"],
        channel_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        """Send frames as they are (text, or bytes as binary frames), in order.

        Returns the sockets the frame was handed to for one frame, the frames
        handed to sockets in all for several. Such frames have no position and no
        history: a test tool for frames that are not push messages.
        """
        check_idempotency_key(idempotency_key)
        frames = [Frame.of(frame) for frame in frames]
        if not frames:  # no frames: no push (a bus entry of none is one no reader can use)
            return 0
        return await self.broker.publish(
            channel, channel_id, frames, idempotency_key=idempotency_key
        )

    async def accepts(self, channel: str, channel_id: str) -> bool:
        """Is ``channel_id`` a registered channelId of ``channel``?"""
        return await self.broker.channel_of(channel_id) == channel

    async def channel_ids(self, channel: str) -> list[str]:
        return await self.broker.channel_ids(channel)

    async def socket_count(self, channel: str, channel_id: str | None = None) -> int:
        """Sockets open on the channel (or one channelId), in every process."""
        return await self.broker.socket_count(channel, channel_id)

    # -- the adapters' side ---------------------------------------------------------------

    def connect(
        self, channel: str, channel_id: str, sink: Sink, peer=None, resume: str | None = None
    ) -> Connection | None:
        """Take an accepted socket of a known channelId; None when that channelId has its
        cap of sockets (close it with :data:`CLOSE_TOO_MANY`).

        The cap counts one channelId's sockets, never the channel's: the channelIds of
        a channel are different pages (or users), and one must not lock the others out.

        ``resume`` is the position a pypush client asked to resume from (the handshake's
        ``pypush-resume``, see :func:`split_query`): then call :meth:`resume` next.
        """
        groups = self._by_channel.get(channel)
        group = groups.get(channel_id) if groups else None
        cap = self.max_sockets_per_channel_id
        if cap is not None and (len(group) if group is not None else 0) >= cap:
            return None
        connection = Connection(
            self, next(self._numbers), channel, channel_id, sink, peer, asked=resume
        )
        if group is None:
            group = self._by_channel.setdefault(channel, {}).setdefault(channel_id, {})
        group[connection.id] = connection
        self._by_id[connection.id] = connection
        if connection.negotiated:
            self._negotiated.add(connection)
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
        connection.pending = []
        connection.pending_bytes = 0
        self._backlogged.discard(connection)
        self._negotiated.discard(connection)
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
            handed += self._deliver_group(target_id, group, frames, now)
        return handed

    def deliver_messages(
        self, channel: str, channel_id: str, epoch: str, first: int, bodies: list[bytes]
    ) -> int:
        """Messages of one channelId's stream, at offsets ``first``, ``first + 1``, …

        Called by the broker for every push of messages, whichever process it came
        from; builds the frames only when this process has sockets of the channelId.
        """
        groups = self._by_channel.get(channel)
        group = groups.get(channel_id) if groups else None
        if not group:
            return 0
        frames = [Frame.message(body, epoch, first + n) for n, body in enumerate(bodies)]
        return self._deliver_group(channel_id, group, frames, self.clock())

    def _deliver_group(
        self, channel_id: str, group: dict[int, Connection], frames: list[Frame], now: float
    ) -> int:
        handed = written = 0
        for connection in list(group.values()):
            if connection.resuming:
                handed += self._hold(connection, frames, now)
                continue
            for frame in frames:
                through = connection.skip_through
                if through is not None and frame.offset is not None:
                    if frame.offset <= through:
                        handed += 1  # H4: replayed already, never twice
                        continue
                    connection.skip_through = None  # the stream is past the replay now
                outcome = self._offer(connection, frame, now)
                if outcome is None:
                    break  # closed: it fell behind
                handed += 1
                written += outcome
        if written:
            self._count_sent(channel_id, written)
        return handed

    def _hold(self, connection: Connection, frames: list[Frame], now: float) -> int:
        """Live frames for a socket whose replay is not out yet: they wait behind it (H4)."""
        for frame in frames:
            connection.pending.append(frame)
            connection.pending_bytes += frame.size
        if connection.pending_bytes > self.max_queue_bytes:
            connection.pending.clear()
            self._fell_behind(connection, now)
            return 0
        return len(frames)

    def client_frame(self, connection: Connection, text: str) -> None:
        """H8: a text frame a client sent. ``{"pypush":"hello"}`` is a pypush client that saw
        positions on a socket that did not resume: it is negotiated from now on (told of
        heartbeats, and sent them). Anything else is ignored, as a Faces server does."""
        if len(text) > 64 or connection.negotiated or not connection.open:
            return
        try:
            fields = json.loads(text)
        except ValueError:
            return
        if fields != {"pypush": "hello"}:
            return
        connection.negotiated = True
        self._negotiated.add(connection)
        answer = {"pypush": "hello"}
        if self.heartbeat_seconds is not None:
            answer["heartbeat"] = round(self.heartbeat_seconds * 1000)
        self._offer(connection, Frame.control(answer), self.clock())

    # -- resuming (H2-H5) ---------------------------------------------------------------

    async def resume(self, connection: Connection) -> None:
        """Send a socket that asked to resume what it missed, then its live messages.

        First a ``resume`` frame (H3) saying whether anything was lost, then the
        messages after the client's position that the history holds, in order, then
        the live messages that came meanwhile, never one twice (H4). What cannot be
        recovered is said, never guessed at (H5): see :func:`plan_resume`.
        """
        asked = Position.parse(connection.asked)
        try:
            stored = await self.broker.read_history(
                connection.channel_id, asked.offset if asked is not None else None
            )
        except ConnectionError as exc:  # the broker is away (Redis): the client tries again
            if connection.open:
                log.warning("cannot resume socket %d: %s", connection.id, exc)
                self._close(connection, *CLOSE_NO_HISTORY)
            return
        if connection.open:
            self.replay(connection, plan_resume(asked, stored), stored)

    def replay(self, connection: Connection, plan: "ResumePlan", stored: Stored) -> None:
        """Carry out a resume plan on a socket that is still resuming."""
        connection.resuming = False
        pending, connection.pending, connection.pending_bytes = connection.pending, [], 0
        fields = {
            "pypush": "resume",
            "id": None if plan.position is None else str(plan.position),
            "missed": plan.missed,
        }
        if self.heartbeat_seconds is not None:  # H7: announced, in milliseconds
            fields["heartbeat"] = round(self.heartbeat_seconds * 1000)
        if plan.reason is not None:
            fields["reason"] = plan.reason
            self.stats["gaps"] += 1
            log.info(
                "socket %d on %s resumes with a gap (%s, asked %s): %s messages missed",
                connection.id,
                connection.channel,
                plan.reason,
                shown(connection.asked),
                "unknown" if plan.missed is None else plan.missed,
            )
        self.stats["resumed"] += 1
        through = stored.last if stored.epoch is not None else None
        connection.skip_through = through
        frames = [Frame.control(fields)]
        frames += [Frame.message(body, stored.epoch, offset) for offset, body in plan.replay]
        frames += [f for f in pending if f.offset is None or through is None or f.offset > through]
        now = self.clock()
        written = 0
        for frame in frames:
            outcome = self._offer(connection, frame, now)
            if outcome is None:
                return  # it fell behind and is being closed
            if not frame.is_control:
                written += outcome
        if written:
            self._count_sent(connection.channel_id, written)

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

    @property
    def tick_seconds(self) -> float:
        """How often the adapters call :meth:`tick`: every second, or a quarter of the
        heartbeat interval when that is shorter (so each comes within a quarter of it)."""
        if self.heartbeat_seconds is None:
            return 1.0
        return min(1.0, self.heartbeat_seconds / 4)

    def tick(self) -> None:
        """Close the sockets whose oldest queued frame waited too long, send heartbeats
        when they are due (call every :attr:`tick_seconds`)."""
        now = self.clock()
        self.broker.tick(now)
        for connection in list(self._backlogged):
            if connection.queue and now - connection.queue[0][1] > self.max_queue_seconds:
                self._fell_behind(connection, now)
        if self.heartbeat_seconds is not None and now >= self._next_heartbeat:
            self._next_heartbeat = now + self.heartbeat_seconds
            self.send_heartbeats(now)

    def send_heartbeats(self, now: float) -> int:
        """H7: one small frame to every socket that negotiated (asked to resume) and has had
        its replay; never to any other (a Faces client would take it for a message)."""
        frame = HEARTBEAT_FRAME
        sent = 0
        for connection in list(self._negotiated):
            if connection.open and not connection.resuming:
                if self._offer(connection, frame, now) is not None:
                    sent += 1
        return sent

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


def _part_key(key: str | None, part: int) -> str | None:
    """The idempotency key of a push's ``part`` (1, 2, ...): the key itself for the first."""
    return key if key is None or part == 1 else "%s/%d" % (key, part)


def _encoded_body(body: str, number: int, sent: int) -> bytes:
    """Message ``number`` of a push as UTF-8, or MessageError saying why it cannot be sent
    (RFC 6455 5.6) and how many messages of its push went out before it."""
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        try:
            check_text_frame(body, "message %d" % number)
        except MessageError as exc:
            if not sent:
                raise
            raise MessageError(
                "%s; messages 1 to %d of this push went out before it" % (exc, sent)
            ) from None
        raise


# -- resuming: what a reconnecting socket is sent (spec section 7a) ---------------------------


class ResumePlan:
    """What a socket that asked to resume is sent.

    ``missed``: 0 when nothing was lost, the number of messages lost when the history
    no longer holds them (``reason`` "trimmed"), None when the position cannot be
    placed in this stream ("unknown-position", "malformed-position"). ``position``:
    where the client goes on from (what it is told in the ``resume`` frame), None when
    the channelId has no stream. ``replay``: the ``(offset, body)`` pairs to send.
    """

    __slots__ = ("missed", "position", "reason", "replay")

    def __init__(
        self,
        missed: int | None,
        reason: str | None,
        position: Position | None,
        replay: list[tuple[int, bytes]],
    ) -> None:
        self.missed = missed
        self.reason = reason
        self.position = position
        self.replay = replay

    def __repr__(self) -> str:
        return "ResumePlan(missed=%r, reason=%r, position=%s, replay=%d)" % (
            self.missed,
            self.reason,
            self.position,
            len(self.replay),
        )


HEARTBEAT_FRAME = Frame.control({"pypush": "heartbeat"})
"""H7: what a negotiated socket is sent every heartbeat interval (shared by every socket)."""


def plan_resume(asked: Position | None, stored: Stored) -> ResumePlan:
    """H5: replay what the history holds after ``asked``; say what it cannot, never guess.

    A position that is not one (None: malformed), names another stream (another
    channelId's, or one lost since) or lies ahead of the stream replays nothing: the
    client is told the stream's position and goes on with live messages. A position
    whose next messages were trimmed gets what is still held, and the count of what
    is not.
    """
    current = Position(stored.epoch, stored.last) if stored.epoch is not None else None
    if asked is None:
        return ResumePlan(None, GAP_MALFORMED, current, [])
    if current is None or asked.epoch != current.epoch or asked.offset > current.offset:
        return ResumePlan(None, GAP_UNKNOWN, current, [])
    replay = [entry for entry in stored.entries if entry[0] > asked.offset]
    missed = current.offset - asked.offset - len(replay)  # offsets are 1 apart
    if missed > 0:
        go_on_from = replay[0][0] - 1 if replay else current.offset
        return ResumePlan(missed, GAP_TRIMMED, Position(current.epoch, go_on_from), replay)
    return ResumePlan(0, None, asked, replay)


def split_query(query: str) -> tuple[str, str | None]:
    """A handshake's query: (channelId, the position to resume from or None).

    Faces clients send ``?{channelId}``; a pypush client that has seen positions
    from this server reconnects with ``?{channelId}&pypush-resume=EPOCH:OFFSET`` (H2).
    """
    marker = "&%s=" % RESUME_PARAMETER
    at = query.find(marker)
    if at < 0:
        return query, None
    return query[:at], query[at + len(marker) :]
