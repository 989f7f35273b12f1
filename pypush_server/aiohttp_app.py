"""The push endpoint for aiohttp: ``GET {prefix}{channel}?{channelId}`` (spec section 7).

An aiohttp application mounts it with :func:`add_push_endpoint` and pushes with the
hub's Python API; ``serve.py`` (:mod:`pypush_server.server_app`) mounts it beside
its HTTP API, demo and bundle. Each socket is a :class:`AiohttpSink` for the hub: a
frame goes straight into the transport when its buffer is short (one write of a
frame framed once for every socket), else into the socket's bounded queue, which
one task per backlogged socket drains with aiohttp's own flow control.
"""

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from pypush_server.guard import request_origin, socket_origin_allowed
from pypush_server.hub import (
    CLOSE_TOO_MANY,
    CLOSE_UNKNOWN,
    Connection,
    Frame,
    Hub,
    Sink,
    split_query,
)
from pypush_server.limits import ClientLimits
from pypush_server.logs import log, shown
from pypush_server.rules import valid_channel_name

PUSH_PATH = "/jakarta.faces.push/"
WRITE_NOW_BELOW = 64 * 1024
"""A frame is written at once while the transport holds less than this; else it queues."""
CLIENT_FRAME_BYTES = 4096
"""aiohttp's max_msg_size for what a client sends (a pypush client's hello is 18 bytes): a
frame of this size or more closes the socket with 1009."""
CLOSE_GRACE = 2.0
"""Seconds a close may take (the client's answer) before the connection is cut."""

hub_key = web.AppKey("hub", Hub)
endpoint_key = web.AppKey("push_endpoint", object)


class AiohttpSink(Sink):
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        self.ws = ws
        self.transport = transport
        self.connection: Connection | None = None
        self._writer: asyncio.Future | None = None
        self._closer: asyncio.Future | None = None
        self.closed_with: int | None = None  # the code this side closed the socket with
        self.vanished = False

    def vanish(self) -> None:
        """A fault (the fault API's ``vanish``): this side goes silent without a word, as a
        server behind a dead link or a frozen process does. Frames go nowhere, nothing is
        read (not even a close frame), the TCP connection stays open: only a client that
        watches for heartbeats (spec N4) notices. aiohttp's own pings, unanswered, end it
        after a while."""
        self.vanished = True
        self.transport.pause_reading()

    def write(self, frame: Frame) -> bool:
        if self.vanished:
            return True  # into the void
        transport = self.transport
        if transport.is_closing() or transport.get_write_buffer_size() >= WRITE_NOW_BELOW:
            return False
        if frame.size < WRITE_NOW_BELOW:
            transport.write(frame.wire)
        else:  # no copy of a large payload: header, then the shared bytes
            transport.write(frame.header)
            transport.write(frame.data)
        return True

    def wake(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        connection = self.connection
        while connection is not None and (frame := connection.next_frame()) is not None:
            if self.vanished:
                continue
            try:
                # aiohttp's writer waits for the transport to drain: only this socket waits.
                await self.ws.send_frame(
                    frame.data, WSMsgType.BINARY if frame.binary else WSMsgType.TEXT
                )
            except (ConnectionError, RuntimeError):
                return

    def close(self, code: int, reason: str) -> None:
        if self._closer is None:
            self.closed_with = code
            self._closer = asyncio.ensure_future(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if self._writer is not None:
            self._writer.cancel()
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), CLOSE_GRACE)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            self.transport.abort()  # a socket that reads nothing never takes the close frame

    def abort(self) -> None:
        self.transport.abort()


def closed_by(sink: AiohttpSink) -> str:
    """The code that ended a socket, for the log. When the server closed it (shutdown: 1001,
    expiry, a slow client, a fault), that code: ``ws.close_code`` is then only the client's
    answering close frame (aiohttp's client answers 1000 to anything). Otherwise the
    client's code, or what aiohttp makes of a connection that went away."""
    if sink.closed_with is not None:
        return "%d from the server" % sink.closed_with
    return str(sink.ws.close_code)


class NoFaults:
    """What the endpoint asks at each handshake: no faults. In the demo and test server,
    :class:`pypush_server.testing.faults.Faults` answers instead."""

    def refusal(self, channel: str) -> int | None:
        return None

    def flap(self, channel: str) -> object | None:
        return None

    def close_delay(self, channel: str) -> float:
        return 0.0


class PushEndpoint:
    """The handler of ``{prefix}{channel}``; one per application."""

    def __init__(
        self,
        hub: Hub,
        allowed_origins: tuple[str, ...] = (),
        heartbeat: float | None = 25.0,
        faults=None,
        limits: ClientLimits | None = None,
    ) -> None:
        self.hub = hub
        self.allowed_origins = allowed_origins
        self.heartbeat = heartbeat
        self.faults = faults or NoFaults()
        self.limits = limits
        self._ticker: asyncio.Task | None = None

    async def route(self, request: web.Request) -> web.StreamResponse:
        """The route's handler: :meth:`handle` within the per-address limits, if any."""
        limits = self.limits
        if limits is None:
            return await self.handle(request)
        address = request.remote
        limit = limits.admit(address)
        if limit is not None:
            self.hub.stats["handshakes"] += 1
            self.hub.stats["refused"] += 1
            log.info("refused %s: %s", address, limits.describe(limit))
            raise web.HTTPTooManyRequests(
                text="too many handshakes or sockets from your address; try again later",
                headers={"Retry-After": "1"},
            )
        try:
            return await self.handle(request)
        finally:  # the socket is closed (or there never was one): its slot is free
            limits.release(address)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        hub = self.hub
        # The name is checked before anything else, and only a valid one is ever logged as it
        # is: the path is percent-decoded, so it may hold line breaks meant to forge log lines.
        channel = request.match_info["channel"]
        known_name = valid_channel_name(channel)
        shown_channel = channel if known_name else shown(channel)
        channel_id, resume = split_query(request.query_string)
        hub.stats["handshakes"] += 1
        if not socket_origin_allowed(request, self.allowed_origins):
            hub.stats["refused"] += 1
            log.info(
                "refused %s on %s: origin %s is neither this server's (%s) nor allowed "
                "(--allow-origin; behind a proxy, --trusted-proxy)",
                request.remote,
                shown_channel,
                shown(request.headers["Origin"]),
                shown(request_origin(request)),
            )
            raise web.HTTPForbidden(text="origin not allowed")
        refusal = self.faults.refusal(channel)
        if refusal is not None:
            hub.stats["refused"] += 1
            return web.Response(status=refusal, text="refused by fault injection")
        try:
            known = known_name and await hub.accepts(channel, channel_id)
        except ConnectionError as exc:
            hub.stats["refused"] += 1
            log.warning("refused %s on %s: %s", request.remote, shown_channel, exc)
            raise web.HTTPServiceUnavailable(text="the push bus is unavailable") from exc
        ws = web.WebSocketResponse(
            heartbeat=self.heartbeat,
            autoclose=False,
            compress=False,
            max_msg_size=CLIENT_FRAME_BYTES,
        )
        await ws.prepare(request)
        hub.stats["accepted"] += 1
        if not known_name:
            # Like an unknown channelId (spec section 7): 1008, which ends a Faces client for good.
            log.info("refused %s: invalid channel name %s", request.remote, shown_channel)
            await ws.close(code=CLOSE_UNKNOWN[0], message=CLOSE_UNKNOWN[1].encode())
            return ws
        if not known:
            log.info("refused %s on %s: unknown channelId", request.remote, channel)
            await ws.close(code=CLOSE_UNKNOWN[0], message=CLOSE_UNKNOWN[1].encode())
            return ws
        flap = self.faults.flap(channel)
        if flap is not None:
            log.info("flap fault: %s on %s", flap, channel)
            if flap == "drop":
                request.transport.abort()
            else:
                await ws.close(code=flap[0], message=flap[1].encode())
            return ws
        sink = AiohttpSink(ws, request.transport)
        connection = hub.connect(channel, channel_id, sink, request.remote, resume=resume)
        if connection is None:
            log.info("refused %s on %s: channelId at its cap of sockets", request.remote, channel)
            await ws.close(code=CLOSE_TOO_MANY[0], message=CLOSE_TOO_MANY[1].encode())
            return ws
        sink.connection = connection
        self._start_ticker()
        log.info(
            "connected %s to %s (socket %d%s)",
            request.remote,
            channel,
            connection.id,
            "" if resume is None else ", resuming from %s" % shown(resume),
        )
        try:
            if connection.resuming:
                await hub.resume(connection)
            await self._read_until_closed(ws, channel, connection)
        finally:
            hub.disconnect(connection)
            log.info("disconnected socket %d from %s (%s)", connection.id, channel, closed_by(sink))
        return ws

    async def _read_until_closed(self, ws, channel: str, connection: Connection) -> None:
        """A Faces client sends nothing but its close frame; answer that (late, if a fault says
        so). A pypush client may say hello (H8)."""
        while True:
            message = await ws.receive()
            if message.type == WSMsgType.TEXT:
                self.hub.client_frame(connection, message.data)
                continue
            if message.type == WSMsgType.CLOSE:
                delay = self.faults.close_delay(channel)
                if delay:
                    log.info("slow-close fault: answering socket %d in %gs", connection.id, delay)
                    await asyncio.sleep(delay)
                await ws.close()
                return
            if message.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return

    def _start_ticker(self) -> None:
        """Once a second the hub checks how long frames have waited (the age bound)."""
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        while self.hub.sockets():
            await asyncio.sleep(self.hub.tick_seconds)
            self.hub.tick()

    async def shutdown(self, app: web.Application | None = None) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker


def add_push_endpoint(
    app: web.Application,
    hub: Hub,
    prefix: str = PUSH_PATH,
    allowed_origins: tuple[str, ...] = (),
    heartbeat: float | None = 25.0,
    faults=None,
    limits: ClientLimits | None = None,
) -> PushEndpoint:
    """Serve ``{prefix}{channel}?{channelId}`` from ``hub`` in ``app``.

    The hub is started and stopped with the application (``on_startup`` and
    ``on_shutdown``: every socket closed with 1001). Pages of the application's own
    origin may connect, and those of ``allowed_origins`` (``"*"``: any). ``limits``
    (:class:`pypush_server.limits.ClientLimits`) bounds handshakes and sockets per
    client address: beyond them a handshake gets 429.
    """
    endpoint = PushEndpoint(hub, allowed_origins, heartbeat, faults, limits)
    app[hub_key] = hub
    app[endpoint_key] = endpoint
    app.router.add_get(prefix + "{channel}", endpoint.route)

    async def start(app: web.Application) -> None:
        await hub.start()

    async def stop(app: web.Application) -> None:
        await endpoint.shutdown()
        sinks = [connection.sink for connection in hub.sockets()]
        await hub.stop()  # every socket closed with 1001: wait until they are
        closing = [sink._closer for sink in sinks if getattr(sink, "_closer", None)]
        await asyncio.gather(*closing, return_exceptions=True)
        log.info("closed %d sockets with 1001", len(sinks))

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return endpoint
