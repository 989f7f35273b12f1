"""The push endpoint for ASGI: mount it in Starlette or FastAPI (any ASGI server runs it).

    from fastapi import FastAPI
    from pypush_server.asgi import PushEndpoint
    from pypush_server.hub import Hub

    hub = Hub()
    app = FastAPI()
    app.mount("/jakarta.faces.push", PushEndpoint(hub))   # /jakarta.faces.push/{channel}?{id}

It answers WebSocket handshakes of ``/{channel}?{channelId}`` under its mount
point as the aiohttp endpoint does (spec section 7): an unknown channelId or an
invalid name is accepted and closed with 1008, pages of other origins get 403
unless allowed. ASGI has no write that cannot wait, so every frame goes through
the socket's bounded queue (:mod:`pypush_server.hub`), which one task per
backlogged socket drains with ``websocket.send``: a push still never waits.
Start and stop the hub with the application (``await hub.start()`` /
``await hub.stop()`` in its lifespan) when it has a Redis broker.
"""

import asyncio
import contextlib
from urllib.parse import urlsplit

from pypush_server.hub import (
    CLOSE_TOO_MANY,
    CLOSE_UNKNOWN,
    Connection,
    Frame,
    Hub,
    Sink,
    split_query,
)
from pypush_server.logs import log, shown
from pypush_server.rules import valid_channel_name

CLOSE_GRACE = 2.0


class AsgiSink(Sink):
    def __init__(self, send) -> None:
        self.send = send
        self.connection: Connection | None = None
        self.closed = asyncio.Event()
        self._writer: asyncio.Future | None = None
        self._closer: asyncio.Future | None = None

    def write(self, frame: Frame) -> bool:
        return False  # ASGI's send may wait: the frame waits in the hub's bounded queue

    def wake(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        connection = self.connection
        while connection is not None and (frame := connection.next_frame()) is not None:
            message = {"type": "websocket.send"}
            if frame.binary:
                message["bytes"] = frame.data
            else:
                message["text"] = frame.text
            try:
                await self.send(message)
            except (OSError, RuntimeError):  # the client is gone (servers raise either)
                return

    def close(self, code: int, reason: str) -> None:
        if self._closer is None:
            self._closer = asyncio.ensure_future(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if self._writer is not None:
            self._writer.cancel()
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            await asyncio.wait_for(
                self.send({"type": "websocket.close", "code": code, "reason": reason}),
                CLOSE_GRACE,
            )
        self.closed.set()

    def abort(self) -> None:
        self.close(1011, "")  # ASGI cannot cut a connection: the nearest is a close


class PushEndpoint:
    """An ASGI application: the push endpoint of ``hub``, for ``/{channel}?{channelId}``."""

    def __init__(self, hub: Hub, allowed_origins: tuple[str, ...] = ()) -> None:
        self.hub = hub
        self.allowed_origins = allowed_origins
        self._ticker: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "websocket":
            await self._not_found(scope, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # Starlette >= 0.33 keeps the mount in "path"
            path = path[len(root) :]
        channel = path.lstrip("/")
        known_name = valid_channel_name(channel)
        shown_channel = channel if known_name else shown(channel)
        channel_id, resume = split_query(scope.get("query_string", b"").decode("latin-1"))
        peer = (scope.get("client") or ("?",))[0]
        hub = self.hub
        hub.stats["handshakes"] += 1
        if (await receive())["type"] != "websocket.connect":
            return
        if not self._origin_allowed(scope):
            hub.stats["refused"] += 1
            log.info("refused %s on %s: origin not allowed", peer, shown_channel)
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        try:
            known = known_name and await hub.accepts(channel, channel_id)
        except ConnectionError as exc:
            hub.stats["refused"] += 1
            log.warning("refused %s on %s: %s", peer, shown_channel, exc)
            await send({"type": "websocket.close", "code": 1013})
            return
        await send({"type": "websocket.accept"})
        hub.stats["accepted"] += 1
        if not known:
            log.info("refused %s on %s: unknown channel", peer, shown_channel)
            await send({"type": "websocket.close", "code": 1008, "reason": CLOSE_UNKNOWN[1]})
            return
        sink = AsgiSink(send)
        connection = hub.connect(channel, channel_id, sink, peer, resume=resume)
        if connection is None:
            log.info("refused %s on %s: channelId at its cap of sockets", peer, channel)
            code, reason = CLOSE_TOO_MANY  # 1013: the client retries (spec E8)
            await send({"type": "websocket.close", "code": code, "reason": reason})
            return
        sink.connection = connection
        self._start_ticker()
        log.info("connected %s to %s (socket %d)", peer, channel, connection.id)
        try:
            if connection.resuming:
                await hub.resume(connection)
            await self._read_until_closed(receive, sink, connection)
        finally:
            hub.disconnect(connection)
            if sink._writer is not None:
                sink._writer.cancel()
            log.info("disconnected socket %d from %s", connection.id, channel)

    async def _read_until_closed(self, receive, sink: AsgiSink, connection) -> None:
        """A Faces client sends nothing but its close (a pypush client may say hello, H8);
        end when it goes or the hub closes it."""
        receiving = asyncio.ensure_future(receive())
        closing = asyncio.ensure_future(sink.closed.wait())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {receiving, closing}, return_when=asyncio.FIRST_COMPLETED
                )
                if closing in done:
                    return
                event = receiving.result()
                if event["type"] == "websocket.disconnect":
                    return
                if event.get("text") is not None:
                    self.hub.client_frame(connection, event["text"])
                receiving = asyncio.ensure_future(receive())
        finally:
            receiving.cancel()
            closing.cancel()

    def _origin_allowed(self, scope) -> bool:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is None or origin in self.allowed_origins or "*" in self.allowed_origins:
            return True
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:  # no URL ("http://[" has an unclosed IPv6 address): no page's
            return False
        return netloc.lower() == headers.get("host", "").lower()

    async def _not_found(self, scope, send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"a push endpoint: WebSocket only"})

    def _start_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        while self.hub.sockets():
            await asyncio.sleep(self.hub.tick_seconds)
            self.hub.tick()
