"""The aiohttp application: push endpoint (spec section 7), HTTP API, bundle and demo.

Routes:

- ``GET /``, ``/pyodide``, ``/pyscript``, ``/pyscript-mpy``: the demo pages, rendered
  the way a Faces server renders push;
- ``/pypush/…``: the static bundle (``faces-push.js`` and what it loads);
- ``/demo/…``: the demo page's stylesheet and script; ``POST /demo/chat`` its form;
- ``GET /jakarta.faces.push/{channel}?{channelId}``: the WebSocket endpoint;
- ``/api/…``: channels, pushes and faults (:mod:`pypush_server.api`).
"""

import asyncio
import collections
import datetime
import logging
import tempfile
from pathlib import Path

from aiohttp import WSMsgType, web

from pypush_server import api
from pypush_server.api import (
    PUSH_PATH,
    channels_key,
    faults_key,
    push_url,
    stats_key,
)
from pypush_server.bundle import WEB, write_bundle
from pypush_server.channels import (
    CLOSE_GOING_AWAY,
    CLOSE_TOO_MANY,
    CLOSE_UNKNOWN,
    Channels,
    PushSocket,
    close_sockets,
    valid_channel_name,
)
from pypush_server.config import ServerConfig
from pypush_server.faults import FLAP, REFUSE, SLOW_CLOSE, Faults
from pypush_server.guard import config_key, json_error, request_guard, socket_origin_allowed
from pypush_server.logs import log, shown
from pypush_server.messages import MessageError, check_text_frame, parse_json

DEMO = WEB / "demo"
DEMO_CHANNELS = ("clock", "chat")
CHAT_MAX_CHARS = 500

demo_ids_key = web.AppKey("demo_ids", dict)
bundle_key = web.AppKey("bundle", Path)


async def push_socket(request: web.Request) -> web.StreamResponse:
    app = request.app
    channels, faults, stats = app[channels_key], app[faults_key], app[stats_key]
    # The name is checked before anything else, and only a valid one is ever logged as it is:
    # the path is percent-decoded, so it may hold line breaks meant to forge log lines.
    channel = request.match_info["channel"]
    known_name = valid_channel_name(channel)
    shown_channel = channel if known_name else shown(channel)
    channel_id = request.query_string
    stats["handshakes"] += 1
    if not socket_origin_allowed(request):
        stats["refused"] += 1
        log.info(
            "refused %s on %s: origin %s",
            request.remote,
            shown_channel,
            shown(request.headers["Origin"]),
        )
        raise web.HTTPForbidden(text="origin not allowed")
    refusal = faults.active(REFUSE, channel)
    if refusal is not None:
        stats["refused"] += 1
        return web.Response(status=refusal, text="refused by fault injection")
    config = app[config_key]
    ws = web.WebSocketResponse(heartbeat=config.heartbeat, autoclose=False)
    await ws.prepare(request)
    stats["accepted"] += 1
    if not known_name:
        # Like an unknown channelId (spec section 7): 1008, which ends a Faces client for good.
        log.info("refused %s: invalid channel name %s", request.remote, shown_channel)
        await ws.close(code=CLOSE_UNKNOWN[0], message=CLOSE_UNKNOWN[1].encode())
        return ws
    if not channels.accepts(channel, channel_id):
        log.info("refused %s on %s: unknown channelId", request.remote, channel)
        await ws.close(code=CLOSE_UNKNOWN[0], message=CLOSE_UNKNOWN[1].encode())
        return ws
    if channels.full(channel):
        log.info("refused %s on %s: channel full", request.remote, channel)
        await ws.close(code=CLOSE_TOO_MANY[0], message=CLOSE_TOO_MANY[1].encode())
        return ws
    socket = PushSocket(channel, channel_id, ws, request)
    flap = faults.active(FLAP, channel)
    if flap is not None:
        log.info("flap fault: %s on %s", flap, channel)
        if flap == "drop":
            socket.drop()
        else:
            await socket.close(*flap)
        return ws
    channels.add(socket)
    log.info("connected %s to %s (socket %d)", request.remote, channel, socket.id)
    try:
        await _read_until_closed(socket, faults)
    finally:
        channels.discard(socket)
        log.info("disconnected socket %d from %s (%s)", socket.id, channel, ws.close_code)
    return ws


async def _read_until_closed(socket: PushSocket, faults: Faults) -> None:
    """The client sends nothing but its close frame; answer that (late, if a fault says so)."""
    ws = socket.ws
    while True:
        message = await ws.receive()
        if message.type == WSMsgType.CLOSE:
            delay = faults.active(SLOW_CLOSE, socket.channel)
            if delay:
                log.info("slow-close fault: answering socket %d in %gs", socket.id, delay)
                await asyncio.sleep(delay)
            await ws.close()
            return
        if message.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return


# -- demo --------------------------------------------------------------------------------


# The demo pages: (path, template, title in the menu, substitutions).
DEMO_PAGES = (
    ("/", "index.html", "JavaScript + MicroPython", {"interpreter_attribute": ""}),
    (
        "/pyodide",
        "index.html",
        "JavaScript + Pyodide",
        {"interpreter_attribute": ' data-interpreter="pyodide"'},
    ),
    ("/pyscript", "pyscript.html", "PyScript + Pyodide", {"kind": "py", "runtime": "Pyodide"}),
    (
        "/pyscript-mpy",
        "pyscript.html",
        "PyScript + MicroPython",
        {"kind": "mpy", "runtime": "MicroPython"},
    ),
)


def demo_page(path: str, template: str, substitutions: dict):
    """A handler rendering ``template`` with push URLs, as a Faces server renders them."""

    async def handler(request: web.Request) -> web.Response:
        ids = request.app[demo_ids_key]
        html = (DEMO / template).read_text(encoding="utf-8")
        for channel in DEMO_CHANNELS:
            html = html.replace("{{%s_url}}" % channel, push_url(request, channel, ids[channel]))
        nav = " · ".join(
            ("<strong>%s</strong>" if other == path else '<a href="%s">%%s</a>' % other) % title
            for other, _, title, _ in DEMO_PAGES
        )
        for key, value in {**substitutions, "nav": nav}.items():
            html = html.replace("{{%s}}" % key, value)
        return web.Response(text=html, content_type="text/html")

    return handler


async def demo_chat(request: web.Request) -> web.Response:
    """The demo form: anyone who can see the page may broadcast a short text."""
    try:
        body = parse_json(await request.text())
    except ValueError:
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > CHAT_MAX_CHARS:
        raise json_error(web.HTTPBadRequest, 'give {"text": 1 to %d characters}' % CHAT_MAX_CHARS)
    try:
        check_text_frame(text, "the text")
    except MessageError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from exc
    at = datetime.datetime.now().astimezone().strftime("%H:%M:%S")
    received = await request.app[channels_key].push("chat", {"text": text.strip(), "at": at})
    return web.json_response({"received": received})


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

    task = asyncio.create_task(tick()) if app[config_key].demo_clock else None
    yield
    if task is not None:
        task.cancel()


BUNDLE_PREFIX = "/pypush/"
ASSETS_PREFIX = BUNDLE_PREFIX + "v-"
CACHE_FOREVER = "public, max-age=31536000, immutable"


async def cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Warm visits load only what changed.

    The bundle's assets live under a folder named after their hash, so they are
    cached for a year; everything else static (the loader, PyScript's entry,
    the demo's files) is revalidated on each visit (a 304 when unchanged).
    """
    if request.method != "GET" or response.status != 200:
        return
    if request.path.startswith(ASSETS_PREFIX):
        response.headers["Cache-Control"] = CACHE_FOREVER
    elif request.path.startswith((BUNDLE_PREFIX, "/demo/")):
        response.headers.setdefault("Cache-Control", "no-cache")


async def close_sockets_on_shutdown(app: web.Application) -> None:
    sockets = app[channels_key].all_sockets()
    await close_sockets(sockets, *CLOSE_GOING_AWAY)
    log.info("closed %d sockets with %d", len(sockets), CLOSE_GOING_AWAY[0])


def make_app(
    config: ServerConfig | None = None,
    bundle_dir: Path | None = None,
    static: list[tuple[str, Path]] = (),
) -> web.Application:
    """The whole server. Without ``bundle_dir`` a fresh bundle is written to a temp folder.

    ``static`` mounts more folders (prefix, folder): the pages of an application
    that uses pypush, or the browser tests' harness.
    """
    config = config or ServerConfig()
    # The largest API body is a pushed message; leave room for its JSON around it.
    app = web.Application(
        middlewares=[request_guard], client_max_size=config.max_message_bytes + 64 * 1024
    )
    channels = Channels(config.max_sockets_per_channel)
    app[config_key] = config
    app[channels_key] = channels
    app[faults_key] = Faults()
    app[stats_key] = collections.Counter(handshakes=0, accepted=0, refused=0)
    app[demo_ids_key] = {channel: channels.register(channel) for channel in DEMO_CHANNELS}
    if bundle_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="pypush-bundle-")
        bundle_dir = write_bundle(Path(temporary.name), url_prefix="/pypush/")

        async def remove_bundle(app: web.Application) -> None:
            temporary.cleanup()

        app.on_cleanup.append(remove_bundle)
    for path, template, _, substitutions in DEMO_PAGES:
        app.router.add_get(path, demo_page(path, template, substitutions))
    app.router.add_post("/demo/chat", demo_chat)
    app.router.add_static("/demo/", DEMO)
    app[bundle_key] = bundle_dir
    app.router.add_static(BUNDLE_PREFIX, bundle_dir)
    app.on_response_prepare.append(cache_headers)
    for prefix, directory in static:
        app.router.add_static(prefix, directory)
    app.router.add_get(PUSH_PATH + "{channel}", push_socket)
    app.router.add_routes(api.routes)
    app.cleanup_ctx.append(clock_pusher)
    app.on_shutdown.append(close_sockets_on_shutdown)
    return app
