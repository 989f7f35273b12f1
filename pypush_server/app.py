"""The aiohttp application: push endpoint (spec section 7), HTTP API, bundle and demo.

Routes:

- ``GET /``: the demo page, rendered the way a Faces server renders push;
- ``/pypush/…``: the static bundle (``faces-push.js`` and what it loads);
- ``/demo/…``: the demo page's stylesheet and script;
- ``GET /jakarta.faces.push/{channel}?{channelId}``: the WebSocket endpoint;
- ``/api/…``: register channels, push messages, expire channelIds (README).
"""

import asyncio
import datetime
import json
import logging
import tempfile
from pathlib import Path

from aiohttp import WSMsgType, web

from pypush_server.bundle import WEB, write_bundle
from pypush_server.channels import (
    CLOSE_GOING_AWAY,
    CLOSE_UNKNOWN,
    Channels,
    sendable_close_code,
    valid_channel_name,
)

log = logging.getLogger("pypush.server")

PUSH_PATH = "/jakarta.faces.push/"
DEMO = WEB / "demo"
DEMO_CHANNELS = ("clock", "chat")

channels_key = web.AppKey("channels", Channels)
demo_ids_key = web.AppKey("demo_ids", dict)


def push_url(request: web.Request, channel: str, channel_id: str) -> str:
    """The ws: URL of a channelId as this request reached the server."""
    scheme = "wss" if request.secure else "ws"
    return "%s://%s%s%s?%s" % (scheme, request.host, PUSH_PATH, channel, channel_id)


async def push_socket(request: web.Request) -> web.WebSocketResponse:
    channels = request.app[channels_key]
    channel = request.match_info["channel"]
    channel_id = request.query_string
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    peer = request.remote
    if not channels.accepts(channel, channel_id):
        log.info("refused %s on %s: unknown channelId", peer, channel)
        code, reason = CLOSE_UNKNOWN
        await socket.close(code=code, message=reason)
        return socket
    channels.add(channel_id, socket)
    log.info("connected %s to %s", peer, channel)
    try:
        async for message in socket:  # the client sends nothing; read until it closes
            if message.type == WSMsgType.ERROR:
                break
    finally:
        channels.discard(channel_id, socket)
        log.info("disconnected %s from %s (%s)", peer, channel, socket.close_code)
    return socket


# -- HTTP API --------------------------------------------------------------------


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


async def _json_body(request: web.Request) -> object:
    try:
        return await request.json()
    except ValueError as exc:
        raise _json_error(web.HTTPBadRequest, "the body is not JSON: %s" % exc) from exc


def _channel_name(request: web.Request) -> str:
    channel = request.match_info["channel"]
    if not valid_channel_name(channel):
        raise _json_error(web.HTTPBadRequest, "invalid channel name %r" % channel)
    return channel


async def register_channel(request: web.Request) -> web.Response:
    """``POST /api/channels`` with ``{"channel": name}``: a fresh channelId and its URL."""
    body = await _json_body(request)
    channel = body.get("channel") if isinstance(body, dict) else None
    if not isinstance(channel, str) or not valid_channel_name(channel):
        raise _json_error(web.HTTPBadRequest, 'give {"channel": name} with a valid name')
    channel_id = request.app[channels_key].register(channel)
    return web.json_response(
        {
            "channel": channel,
            "channelId": channel_id,
            "path": "%s%s?%s" % (PUSH_PATH, channel, channel_id),
            "url": push_url(request, channel, channel_id),
        },
        status=201,
    )


async def push_message(request: web.Request) -> web.Response:
    """``POST /api/channels/{channel}/push``: the body (any JSON) is the message.

    ``?channelId=`` limits it to one URL; ``?raw=1`` sends the body as the frame
    itself, unwrapped and unchecked (to try a client on frames that are not JSON).
    """
    channel = _channel_name(request)
    channels = request.app[channels_key]
    channel_id = request.query.get("channelId")
    if request.query.get("raw") == "1":
        received = await channels.send_frame(channel, await request.text(), channel_id)
    else:
        received = await channels.push(channel, await _json_body(request), channel_id)
    return web.json_response({"received": received})


async def close_channel_sockets(request: web.Request) -> web.Response:
    """``POST /api/channels/{channel}/close`` with ``{"code": 1011, "reason": ""}``.

    Closes the sockets as a server-side failure would, keeping the channelIds
    valid, so clients reconnect (or end, for a final code such as 1008).
    """
    channel = _channel_name(request)
    body = await _json_body(request)
    code = body.get("code") if isinstance(body, dict) else None
    reason = body.get("reason", "") if isinstance(body, dict) else None
    if not sendable_close_code(code) or not isinstance(reason, str):
        raise _json_error(
            web.HTTPBadRequest, 'give {"code": a sendable close code, "reason": text}'
        )
    closed = await request.app[channels_key].close_sockets(
        channel, code, reason, request.query.get("channelId")
    )
    return web.json_response({"closed": closed})


async def channel_status(request: web.Request) -> web.Response:
    """``GET /api/channels/{channel}``: its channelIds and how many sockets are open."""
    channel = _channel_name(request)
    channels = request.app[channels_key]
    return web.json_response(
        {
            "channel": channel,
            "channelIds": channels.ids_of(channel),
            "sockets": len(channels.sockets_of(channel)),
        }
    )


async def expire_channel_id(request: web.Request) -> web.Response:
    """``DELETE /api/channel-ids/{channelId}``: its sockets close with 1000 ``Expired``."""
    channels = request.app[channels_key]
    channel_id = request.match_info["channel_id"]
    if channel_id not in channels.channel_of:
        raise _json_error(web.HTTPNotFound, "unknown channelId")
    closed = await channels.expire(channel_id)
    return web.json_response({"closed": closed})


# -- demo ------------------------------------------------------------------------


async def demo_page(request: web.Request) -> web.Response:
    """The demo, with push URLs filled in as a Faces server would render them."""
    ids = request.app[demo_ids_key]
    html = (DEMO / "index.html").read_text(encoding="utf-8")
    for channel in DEMO_CHANNELS:
        html = html.replace("{{%s_url}}" % channel, push_url(request, channel, ids[channel]))
    return web.Response(text=html, content_type="text/html")


async def clock_pusher(app: web.Application):
    """Push the server's clock to the demo's ``clock`` channel every second."""

    async def tick() -> None:
        channels = app[channels_key]
        while True:
            now = datetime.datetime.now().astimezone()
            await channels.push(
                "clock",
                {"time": now.strftime("%H:%M:%S"), "zone": now.strftime("%Z")},
                level=logging.DEBUG,  # once a second: too chatty for the log
            )
            await asyncio.sleep(1 - now.microsecond / 1_000_000)

    task = asyncio.create_task(tick())
    yield
    task.cancel()


async def close_sockets_on_shutdown(app: web.Application) -> None:
    code, reason = CLOSE_GOING_AWAY
    await app[channels_key].close_all(code, reason)


def make_app(
    bundle_dir: Path | None = None, static: list[tuple[str, Path]] = ()
) -> web.Application:
    """The whole server. Without ``bundle_dir`` a fresh bundle is written to a temp folder.

    ``static`` mounts more folders (prefix, folder): the pages of an application
    that uses pypush, or the browser tests' harness.
    """
    app = web.Application()
    channels = Channels()
    app[channels_key] = channels
    app[demo_ids_key] = {channel: channels.register(channel) for channel in DEMO_CHANNELS}
    if bundle_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="pypush-bundle-")
        bundle_dir = write_bundle(Path(temporary.name))

        async def remove_bundle(app: web.Application) -> None:
            temporary.cleanup()

        app.on_cleanup.append(remove_bundle)
    app.router.add_get("/", demo_page)
    app.router.add_static("/demo/", DEMO)
    app.router.add_static("/pypush/", bundle_dir)
    for prefix, directory in static:
        app.router.add_static(prefix, directory)
    app.router.add_get(PUSH_PATH + "{channel}", push_socket)
    app.router.add_post("/api/channels", register_channel)
    app.router.add_get("/api/channels/{channel}", channel_status)
    app.router.add_post("/api/channels/{channel}/push", push_message)
    app.router.add_post("/api/channels/{channel}/close", close_channel_sockets)
    app.router.add_delete("/api/channel-ids/{channel_id}", expire_channel_id)
    app.cleanup_ctx.append(clock_pusher)
    app.on_shutdown.append(close_sockets_on_shutdown)
    return app
