"""Positions and history: each channelId's recent messages, so a client that reconnects
gets what it missed (spec section 7a).

Every message pushed to a channelId takes the next *offset* of that channelId's stream
(1, 2, 3, …) and goes out as ``{"data": message, "id": "EPOCH:OFFSET"}``. The *epoch*
names the stream: a random token made with it, so a position from another channelId, or
from a stream that was lost (the process restarted without Redis), is recognised as not
this stream's and never guessed at. The stream keeps its last messages within three
bounds (count, bytes, age) for clients that reconnect; the defaults cover the whole
reconnect window of a Faces client (25 attempts, 500 ms x n: about 150 s).

This module holds what needs no I/O: :class:`Position` (the wire form and its checks),
:class:`HistoryBounds`, what a store answers (:class:`Stored`), and the in-memory store
(:class:`MemoryHistory`, the embedded broker's). The Redis broker keeps the same streams
in Redis Streams (:mod:`pypush_server.brokers.redis`). What a reconnecting socket is sent
(replay, gap) is decided by :func:`pypush_server.hub.plan_resume`.
"""

import collections
import itertools
import re
import secrets
from collections.abc import Callable, Iterable

from sortedcontainers import SortedList

DEFAULT_HISTORY_MESSAGES = 10_000
DEFAULT_HISTORY_BYTES = 8 * 1024 * 1024
DEFAULT_HISTORY_SECONDS = 180.0
"""A Faces client retries for about 150 s (E8); a little more covers its slowest attempts."""

_POSITION = re.compile(r"([A-Za-z0-9_-]{1,64}):(0|[1-9][0-9]{0,17})")


def new_epoch() -> str:
    """A fresh epoch: 8 URL-safe characters, unguessable, so streams never share one."""
    return secrets.token_urlsafe(6)


class Position:
    """A place in one channelId's stream: ``EPOCH:OFFSET`` on the wire."""

    __slots__ = ("epoch", "offset")

    def __init__(self, epoch: str, offset: int) -> None:
        self.epoch = epoch
        self.offset = offset

    @classmethod
    def parse(cls, text: object) -> "Position | None":
        """The position ``text`` names, or None when it is not one (malformed: fail closed)."""
        if type(text) is not str:
            return None
        found = _POSITION.fullmatch(text)
        if found is None:
            return None
        return cls(found.group(1), int(found.group(2)))

    def __str__(self) -> str:
        return "%s:%d" % (self.epoch, self.offset)

    def __repr__(self) -> str:
        return "Position(%r, %d)" % (self.epoch, self.offset)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Position)
            and other.epoch == self.epoch
            and other.offset == self.offset
        )

    def __hash__(self) -> int:
        return hash((self.epoch, self.offset))


class HistoryBounds:
    """How much of each channelId's stream is kept: at most ``messages`` messages of
    ``bytes`` bytes in all (their JSON), none older than ``seconds``."""

    __slots__ = ("bytes", "messages", "seconds")

    def __init__(
        self,
        messages: int = DEFAULT_HISTORY_MESSAGES,
        bytes: int = DEFAULT_HISTORY_BYTES,
        seconds: float = DEFAULT_HISTORY_SECONDS,
    ) -> None:
        if type(messages) is not int or messages < 0:
            raise ValueError("history messages must be a whole number >= 0, not %r" % messages)
        if type(bytes) is not int or bytes < 0:
            raise ValueError("history bytes must be a whole number >= 0, not %r" % bytes)
        if type(seconds) not in (int, float) or not seconds >= 0:
            raise ValueError("history seconds must be a number >= 0, not %r" % seconds)
        self.messages = messages
        self.bytes = bytes
        self.seconds = float(seconds)

    def __repr__(self) -> str:
        return "HistoryBounds(messages=%d, bytes=%d, seconds=%g)" % (
            self.messages,
            self.bytes,
            self.seconds,
        )


class Stored:
    """What a store holds of one channelId's stream after a given offset.

    ``epoch`` is None when the store knows no stream of that channelId. ``last`` is
    the offset of the stream's last message (0: none yet). ``entries`` are the
    ``(offset, body)`` pairs it still holds after the offset asked for, in order,
    within the bounds (nothing older than the age bound).
    """

    __slots__ = ("entries", "epoch", "last")

    def __init__(self, epoch: str | None, last: int, entries: list[tuple[int, bytes]]) -> None:
        self.epoch = epoch
        self.last = last
        self.entries = entries

    def __repr__(self) -> str:
        return "Stored(%r, %d, %d entries)" % (self.epoch, self.last, len(self.entries))


class _Stream:
    __slots__ = ("bytes", "entries", "epoch", "indexed", "last")

    def __init__(self) -> None:
        self.epoch = new_epoch()
        self.last = 0
        self.bytes = 0
        self.entries: collections.deque[tuple[int, bytes, float]] = collections.deque()
        self.indexed: float | None = None
        """The stream's key in the age index while it holds messages, else None."""


class MemoryHistory:
    """Every channelId's stream in this process's memory (the embedded broker's store).

    A stream lives as long as its channelId: its epoch and last offset stay after its
    messages have aged out, so a client idle for longer than the age bound still
    resumes with nothing missed. Bodies are shared: a push to a channel keeps one bytes
    object in the history of each of its channelIds.

    The age bound needs to find the oldest messages of all streams. Each message keeps
    its time in its own stream; the age index (a sorted list) has one entry per stream
    that holds messages, keyed by a time no later than its oldest message's. So the
    index never holds more entries than the history holds messages (H6: its three
    bounds bound everything kept), whatever the rate of pushes. A stream trimmed by
    its count or byte bound keeps its key (then too early): the sweep, reaching it,
    lets go of what is too old and files it again under its oldest message's time.
    """

    def __init__(self, bounds: HistoryBounds, clock: Callable[[], float]) -> None:
        self.bounds = bounds
        self.clock = clock
        self._streams: dict[str, _Stream] = {}
        self._ages: SortedList[tuple[float, str]] = SortedList()

    def create(self, channel_id: str) -> _Stream:
        """The channelId's stream, made (with a fresh epoch) if it has none yet."""
        stream = self._streams.get(channel_id)
        if stream is None:
            stream = self._streams[channel_id] = _Stream()
        return stream

    def append(self, channel_id: str, bodies: Iterable[bytes]) -> tuple[str, int]:
        """Give each body the next offset and keep it: (epoch, offset of the first)."""
        now = self.clock()
        stream = self.create(channel_id)
        first = stream.last + 1
        bounds = self.bounds
        entries = stream.entries
        for body in bodies:
            stream.last += 1
            if bounds.messages and len(body) <= bounds.bytes:
                entries.append((stream.last, body, now))
                stream.bytes += len(body)
        while entries and (len(entries) > bounds.messages or stream.bytes > bounds.bytes):
            stream.bytes -= len(entries.popleft()[1])
        self._file(channel_id, stream)
        self.sweep(now)
        return stream.epoch, first

    def read(self, channel_id: str, after: int | None) -> Stored:
        """What is held of the stream after offset ``after`` (None: nothing but its state)."""
        stream = self._streams.get(channel_id)
        if stream is None:
            return Stored(None, 0, [])
        self.sweep(self.clock())
        entries = stream.entries
        if after is None or not entries or after >= stream.last:
            return Stored(stream.epoch, stream.last, [])
        start = max(0, after + 1 - entries[0][0])
        held = [(offset, body) for offset, body, _ in itertools.islice(entries, start, None)]
        return Stored(stream.epoch, stream.last, held)

    def forget(self, channel_id: str) -> None:
        """An expired channelId: its stream goes, and its entry in the age index."""
        stream = self._streams.pop(channel_id, None)
        if stream is not None and stream.indexed is not None:
            self._ages.remove((stream.indexed, channel_id))

    def sweep(self, now: float) -> None:
        """Let go of messages older than the age bound, oldest first, in any stream."""
        oldest = now - self.bounds.seconds
        ages = self._ages
        while ages and ages[0][0] < oldest:
            _, channel_id = ages.pop(0)
            stream = self._streams[channel_id]
            stream.indexed = None
            entries = stream.entries
            while entries and entries[0][2] < oldest:
                stream.bytes -= len(entries.popleft()[1])
            self._file(channel_id, stream)

    def held(self, channel_id: str) -> int:
        """How many messages the channelId's stream holds now (for tests and stats)."""
        stream = self._streams.get(channel_id)
        return len(stream.entries) if stream is not None else 0

    def index_size(self) -> int:
        """Entries in the age index: one per stream that holds messages (for tests and stats)."""
        return len(self._ages)

    def _file(self, channel_id: str, stream: _Stream) -> None:
        """Keep the stream in the age index exactly while it holds messages."""
        if stream.entries and stream.indexed is None:
            stream.indexed = stream.entries[0][2]
            self._ages.add((stream.indexed, channel_id))
        elif not stream.entries and stream.indexed is not None:
            self._ages.remove((stream.indexed, channel_id))
            stream.indexed = None
