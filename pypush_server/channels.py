"""Which sockets listen on which channel, and what is done to them.

Modelled on Mojarra's push endpoint (spec section 7): a channel name has any
number of channelIds, each an unguessable token; every socket on the same URL
(channel + channelId) receives the same messages.
"""

import asyncio
import itertools
import logging
import re
import secrets
from collections.abc import Iterable

from aiohttp import web

from pypush_server.logs import log, shown
from pypush_server.messages import encode_message

CHANNEL_NAME = re.compile(r"[A-Za-z0-9_.-]+")
"""The Faces rule for channel names: letters, digits, ``-``, ``_``, ``.``."""

CLOSE_EXPIRED = (1000, "Expired")
CLOSE_UNKNOWN = (1008, "Unknown channel")
CLOSE_TOO_MANY = (1008, "Too many sockets on this channel")
CLOSE_GOING_AWAY = (1001, "Server shutting down")


MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 5.5: 125 bytes of payload, 2 of them the code


def valid_channel_name(name: object) -> bool:
    # fullmatch: "$" would let one final line break through ("news\n").
    return isinstance(name, str) and CHANNEL_NAME.fullmatch(name) is not None


def sendable_close_code(code: object) -> bool:
    """Codes a server may put in a close frame (RFC 6455 7.4; 1005/1006/1015 are reserved)."""
    return type(code) is int and (
        1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
    )


def close_problem(code: object, reason: object) -> str | None:
    """Why ``code`` and ``reason`` cannot make a close frame; None when they can."""
    if not sendable_close_code(code):
        return "%s is not a close code a server may send (1000-1003, 1007-1014, 3000-4999)" % (
            shown(code)
        )
    if not isinstance(reason, str):
        return "the reason must be a string"
    try:
        size = len(reason.encode("utf-8"))
    except UnicodeEncodeError:
        return "the reason holds a lone surrogate, which UTF-8 cannot carry"
    if size > MAX_CLOSE_REASON_BYTES:
        return "the reason is %d bytes of UTF-8; a close frame holds %d" % (
            size,
            MAX_CLOSE_REASON_BYTES,
        )
    return None


class PushSocket:
    """One open WebSocket on a channelId, with a number the fault API can name it by."""

    _numbers = itertools.count(1)

    def __init__(self, channel: str, channel_id: str, ws: web.WebSocketResponse, request) -> None:
        self.id = next(self._numbers)
        self.channel = channel
        self.channel_id = channel_id
        self.ws = ws
        self.transport = request.transport
        self.peer = request.remote

    async def close(self, code: int, reason: str) -> None:
        await self.ws.close(code=code, message=reason.encode())

    def drop(self) -> None:
        """Cut the TCP connection with no close frame: the browser sees 1006."""
        if self.transport is not None:
            self.transport.abort()


class Channels:
    """The registered channelIds, the sockets open on each, and what was sent to them."""

    def __init__(self, max_sockets_per_channel: int | None = None) -> None:
        self.max_sockets_per_channel = max_sockets_per_channel
        self.channel_of: dict[str, str] = {}  # channelId -> channel name
        self.sockets: dict[str, dict[int, PushSocket]] = {}  # channelId -> {socket id: socket}
        self.sent: dict[str, int] = {}  # channelId -> frames delivered to its sockets

    # -- registration -----------------------------------------------------------------

    def register(self, channel: str) -> str:
        """A fresh channelId for ``channel`` (a ValueError for an invalid name)."""
        if not valid_channel_name(channel):
            raise ValueError(
                "invalid channel name %r: use letters, digits, '-', '_', '.'" % channel
            )
        channel_id = secrets.token_urlsafe(24)
        self.channel_of[channel_id] = channel
        self.sockets[channel_id] = {}
        self.sent[channel_id] = 0
        log.info("registered channel %s id %s…", channel, channel_id[:6])
        return channel_id

    def accepts(self, channel: str, channel_id: str) -> bool:
        return self.channel_of.get(channel_id) == channel

    def ids_of(self, channel: str) -> list[str]:
        return [cid for cid, name in self.channel_of.items() if name == channel]

    # -- sockets ------------------------------------------------------------------------

    def full(self, channel: str) -> bool:
        cap = self.max_sockets_per_channel
        return cap is not None and len(self.sockets_of(channel)) >= cap

    def add(self, socket: PushSocket) -> None:
        self.sockets[socket.channel_id][socket.id] = socket

    def discard(self, socket: PushSocket) -> None:
        self.sockets.get(socket.channel_id, {}).pop(socket.id, None)

    def sockets_of(self, channel: str, channel_id: str | None = None) -> list[PushSocket]:
        ids = [channel_id] if channel_id is not None else self.ids_of(channel)
        return [s for cid in ids if self.accepts(channel, cid) for s in self.sockets[cid].values()]

    def all_sockets(self) -> list[PushSocket]:
        return [s for group in self.sockets.values() for s in group.values()]

    def socket(self, socket_id: int) -> PushSocket | None:
        for group in self.sockets.values():
            if socket_id in group:
                return group[socket_id]
        return None

    # -- sending ------------------------------------------------------------------------

    async def push(
        self,
        channel: str,
        message: object,
        channel_id: str | None = None,
        level: int = logging.INFO,
    ) -> int:
        """Send ``message`` to every open socket of the channel; how many got it."""
        return await self.send_frames(channel, [encode_message(message)], channel_id, level)

    async def send_frames(
        self,
        channel: str,
        frames: Iterable[str | bytes],
        channel_id: str | None = None,
        level: int = logging.INFO,
    ) -> int:
        """Send frames as they are (text, or bytes as binary frames), in order, to each socket.

        Answers how many sockets received the first frame of a single-frame call,
        or the total frames delivered otherwise.
        """
        frames = list(frames)
        targets = [s for s in self.sockets_of(channel, channel_id) if not s.ws.closed]
        results = await asyncio.gather(*(self._send(s, frames) for s in targets))
        delivered = sum(results)
        if len(frames) == 1:
            size = len(frames[0])
            log.log(
                level,
                "pushed %d bytes to %s: %d of %d sockets",
                size,
                channel,
                delivered,
                len(targets),
            )
        else:
            log.log(level, "pushed %d frames to %s: %d deliveries", len(frames), channel, delivered)
        return delivered

    async def _send(self, socket: PushSocket, frames: list[str | bytes]) -> int:
        delivered = 0
        for frame in frames:
            if socket.ws.closed:
                break
            try:
                if isinstance(frame, bytes):
                    await socket.ws.send_bytes(frame)
                else:
                    await socket.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                break
            delivered += 1
        self.sent[socket.channel_id] = self.sent.get(socket.channel_id, 0) + delivered
        return delivered

    # -- closing ------------------------------------------------------------------------

    async def expire(self, channel_id: str) -> int:
        """Deregister a channelId: its sockets close with 1000 ``Expired``."""
        self.channel_of.pop(channel_id, None)
        self.sent.pop(channel_id, None)
        sockets = list(self.sockets.pop(channel_id, {}).values())
        await close_sockets(sockets, *CLOSE_EXPIRED)
        log.info("expired id %s…: closed %d sockets", channel_id[:6], len(sockets))
        return len(sockets)


async def close_sockets(sockets: list[PushSocket], code: int, reason: str) -> None:
    """Close each socket with ``code`` and ``reason`` (ValueError when they make no close frame)."""
    problem = close_problem(code, reason)
    if problem is not None:
        raise ValueError(problem)
    await asyncio.gather(*(s.close(code, reason) for s in sockets), return_exceptions=True)
