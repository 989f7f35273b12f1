"""Which sockets listen on which channel, and the three things done to them.

Modelled on Mojarra's push endpoint (spec section 7): a channel name has any
number of channelIds, each an unguessable token; every socket on the same URL
(channel + channelId) receives the same messages.
"""

import asyncio
import json
import logging
import re
import secrets

from aiohttp import web

log = logging.getLogger("pypush.server")

CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
"""The Faces rule for channel names: letters, digits, ``-``, ``_``, ``.``."""

CLOSE_EXPIRED = (1000, b"Expired")
CLOSE_UNKNOWN = (1008, b"Unknown channel")
CLOSE_GOING_AWAY = (1001, b"Server shutting down")


def valid_channel_name(name: str) -> bool:
    return bool(CHANNEL_NAME.match(name))


def sendable_close_code(code: object) -> bool:
    """Codes a server may put in a close frame (RFC 6455 7.4; 1005/1006/1015 are reserved)."""
    return type(code) is int and (
        1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
    )


def encode_message(message: object) -> str:
    """The wire frame of Mojarra's ``PushContext.send``: ``{"data": message}``."""
    return json.dumps({"data": message}, ensure_ascii=False, separators=(",", ":"))


class Channels:
    """The registered channelIds and the sockets open on each."""

    def __init__(self) -> None:
        self.channel_of: dict[str, str] = {}  # channelId -> channel name
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}  # channelId -> sockets

    def register(self, channel: str) -> str:
        """A fresh channelId for ``channel`` (a ValueError for an invalid name)."""
        if not valid_channel_name(channel):
            raise ValueError(
                "invalid channel name %r: use letters, digits, '-', '_', '.'" % channel
            )
        channel_id = secrets.token_urlsafe(24)
        self.channel_of[channel_id] = channel
        self.sockets[channel_id] = set()
        log.info("registered channel %s id %s…", channel, channel_id[:6])
        return channel_id

    def accepts(self, channel: str, channel_id: str) -> bool:
        return self.channel_of.get(channel_id) == channel

    def add(self, channel_id: str, socket: web.WebSocketResponse) -> None:
        self.sockets[channel_id].add(socket)

    def discard(self, channel_id: str, socket: web.WebSocketResponse) -> None:
        sockets = self.sockets.get(channel_id)
        if sockets is not None:
            sockets.discard(socket)

    def ids_of(self, channel: str) -> list[str]:
        return [cid for cid, name in self.channel_of.items() if name == channel]

    def sockets_of(
        self, channel: str, channel_id: str | None = None
    ) -> list[web.WebSocketResponse]:
        ids = [channel_id] if channel_id is not None else self.ids_of(channel)
        return [s for cid in ids if self.accepts(channel, cid) for s in self.sockets[cid]]

    async def push(
        self,
        channel: str,
        message: object,
        channel_id: str | None = None,
        level: int = logging.INFO,
    ) -> int:
        """Send ``message`` to every open socket of the channel; how many got it."""
        return await self.send_frame(channel, encode_message(message), channel_id, level)

    async def send_frame(
        self,
        channel: str,
        frame: str,
        channel_id: str | None = None,
        level: int = logging.INFO,
    ) -> int:
        """Send one text frame as it is (a push message, or a bad frame for a test)."""
        targets = [s for s in self.sockets_of(channel, channel_id) if not s.closed]
        results = await asyncio.gather(
            *(s.send_str(frame) for s in targets), return_exceptions=True
        )
        received = sum(1 for result in results if not isinstance(result, BaseException))
        log.log(
            level,
            "pushed %d bytes to %s: %d of %d sockets",
            len(frame),
            channel,
            received,
            len(targets),
        )
        return received

    async def expire(self, channel_id: str) -> int:
        """Deregister a channelId: its sockets close with 1000 ``Expired``."""
        self.channel_of.pop(channel_id, None)
        sockets = self.sockets.pop(channel_id, set())
        code, reason = CLOSE_EXPIRED
        await asyncio.gather(*(s.close(code=code, message=reason) for s in sockets))
        log.info("expired id %s…: closed %d sockets", channel_id[:6], len(sockets))
        return len(sockets)

    async def close_sockets(
        self, channel: str, code: int, reason: str, channel_id: str | None = None
    ) -> int:
        """Close the channel's sockets, keeping the channelIds valid (clients may reconnect)."""
        sockets = self.sockets_of(channel, channel_id)
        await asyncio.gather(*(s.close(code=code, message=reason.encode()) for s in sockets))
        log.info("closed %d sockets of %s with %d %r", len(sockets), channel, code, reason)
        return len(sockets)

    async def close_all(self, code: int, reason: bytes) -> None:
        sockets = [s for group in self.sockets.values() for s in group]
        await asyncio.gather(
            *(s.close(code=code, message=reason) for s in sockets), return_exceptions=True
        )
        log.info("closed %d sockets with %d", len(sockets), code)
