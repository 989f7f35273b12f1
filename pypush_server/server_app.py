"""serve.py's aiohttp application: push endpoint (spec section 7), HTTP API, bundle, demo.

Routes:

- ``GET /``, ``/pyodide``, ``/pyscript``, ``/pyscript-mpy``: the demo pages, rendered
  the way a Faces server renders push;
- ``/pypush/…``: the static bundle (``faces-push.js`` and what it loads);
- ``/demo/…``: the demo page's stylesheet and script; ``POST /demo/chat`` its form;
- ``GET /jakarta.faces.push/{channel}?{channelId}``: the WebSocket endpoint;
- ``/api/…``: channels and pushes (:mod:`pypush_server.api`); with ``config.faults``, the
  fault API too (:mod:`pypush_server.testing.fault_api`).
"""

import asyncio
import datetime
from pathlib import Path

from aiohttp import web

from pypush_server import api
from pypush_server.aiohttp_app import PUSH_PATH, add_push_endpoint, hub_key
from pypush_server.api import push_url
from pypush_server.config import ServerConfig
from pypush_server.guard import config_key, json_error, limits_key, request_guard
from pypush_server.hub import Hub
from pypush_server.limits import ClientLimits
from pypush_server.logs import log
from pypush_server.proxies import TrustedProxies
from pypush_server.testing import fault_api
from pypush_server.testing.fault_api import faults_key
from pypush_server.testing.faults import Faults

DEMO = Path(__file__).resolve().parent.parent / "web" / "demo"
if not DEMO.is_dir():  # an installed wheel: its build put the demo in this package
    DEMO = Path(__file__).resolve().parent / "demo"
DEMO_CHANNELS = ("clock", "chat")
CHAT_MAX_CHARS = 500

demo_ids_key = web.AppKey("demo_ids", dict)
bundle_key = web.AppKey("bundle", Path)


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
    """The demo form: anyone who can see the page may broadcast a short text.
    Its body is read as the API reads one (400 for what is not JSON, however broken)."""
    body = await api._json_body(request)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > CHAT_MAX_CHARS:
        raise json_error(web.HTTPBadRequest, 'give {"text": 1 to %d characters}' % CHAT_MAX_CHARS)
    at = datetime.datetime.now().astimezone().strftime("%H:%M:%S")
    received = await api._bus(request.app[hub_key].send("chat", {"text": text.strip(), "at": at}))
    return web.json_response({"received": received})


clock_key = web.AppKey("clock", asyncio.Task)


async def start_clock(app: web.Application) -> None:
    """Push the server's clock to the demo's ``clock`` channel every second."""

    async def tick() -> None:
        hub = app[hub_key]
        while True:
            now = datetime.datetime.now().astimezone()
            try:
                await hub.send(
                    "clock", {"time": now.strftime("%H:%M:%S"), "zone": now.strftime("%Z")}
                )
            except ConnectionError as exc:  # the bus is away (Redis): the next tick tries again
                log.debug("clock tick not sent: %s", exc)
            await asyncio.sleep(1 - now.microsecond / 1_000_000)

    app[clock_key] = asyncio.ensure_future(tick())


async def stop_clock(app: web.Application) -> None:
    app[clock_key].cancel()


BUNDLE_PREFIX = "/pypush/"
ASSETS_PREFIX = BUNDLE_PREFIX + "v-"
CACHE_FOREVER = "public, max-age=31536000, immutable"


LOADER = BUNDLE_PREFIX + "faces-push.js"
CACHE_LOADER = "public, max-age=600"
"""Ten minutes: a warm visit within them fetches nothing before Python starts (not even
a 304, a round trip on a slow link). A loader kept across an upgrade finds the new
assets by itself (faces-push.js, currentAssets)."""


async def cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Warm visits load only what changed.

    The bundle's assets live under a folder named after their hash, so they are
    cached for a year; the loader for ten minutes; everything else static
    (PyScript's entry, the demo's files) is revalidated on each visit (a 304 when
    unchanged).
    """
    if request.method != "GET" or response.status != 200:
        return
    if request.path.startswith(ASSETS_PREFIX):
        response.headers["Cache-Control"] = CACHE_FOREVER
    elif request.path == LOADER:
        response.headers["Cache-Control"] = CACHE_LOADER
    elif request.path.startswith((BUNDLE_PREFIX, "/demo/")):
        response.headers.setdefault("Cache-Control", "no-cache")


def make_app(
    config: ServerConfig | None = None,
    bundle_dir: Path | None = None,
    static: list[tuple[str, Path]] = (),
    hub: Hub | None = None,
) -> web.Application:
    """The whole server, serving the bundle ``bundle_dir`` (written by the build step,
    :mod:`pypush_build.bundle`) under /pypush/; without it, no bundle.

    ``static`` mounts more folders (prefix, folder): the pages of an application
    that uses pypush, or the browser tests' harness. ``hub`` (default: one in
    memory, with the config's bounds) is what the push endpoint, the API and the
    demo use: give one with a Redis broker to share it with other processes.
    """
    config = config or ServerConfig()
    middlewares = [request_guard]
    if config.trusted_proxies:  # first: every check after it reads what the proxy says
        middlewares.insert(
            0,
            TrustedProxies(
                config.trusted_proxies, config.proxy_headers, config.proxy_host_header
            ).middleware,
        )
    app = web.Application(middlewares=middlewares, client_max_size=config.request_bytes_limit)
    hub = hub or Hub(
        max_queue_bytes=config.send_queue_bytes,
        max_queue_seconds=config.send_queue_seconds,
        max_sockets_per_channel_id=config.max_sockets_per_channel_id,
        history=config.history,
        heartbeat_seconds=config.client_heartbeat,
    )
    app[config_key] = config
    faults = None
    if config.faults:  # a test tool: without the flag its routes do not exist
        faults = app[faults_key] = Faults()
    limits = app[limits_key] = ClientLimits(
        config.max_handshakes_per_second, config.max_sockets_per_address
    )
    add_push_endpoint(
        app, hub, PUSH_PATH, config.allowed_origins, config.heartbeat, faults=faults, limits=limits
    )

    async def register_demo_channels(app: web.Application) -> None:
        app[demo_ids_key].update(
            {channel: await hub.register(channel) for channel in DEMO_CHANNELS}
        )

    app[demo_ids_key] = {}
    app.on_startup.append(register_demo_channels)
    for path, template, _, substitutions in DEMO_PAGES:
        app.router.add_get(path, demo_page(path, template, substitutions))
    app.router.add_post("/demo/chat", demo_chat)
    app.router.add_static("/demo/", DEMO)
    if bundle_dir is not None:
        app[bundle_key] = bundle_dir
        app.router.add_static(BUNDLE_PREFIX, bundle_dir)
    app.on_response_prepare.append(cache_headers)
    for prefix, directory in static:
        app.router.add_static(prefix, directory)
    app.router.add_routes(api.routes)
    if config.faults:
        app.router.add_routes(fault_api.routes)
    if config.demo_clock:  # after the hub and the demo channels, which on_startup sets up first
        app.on_startup.append(start_clock)
        app.on_cleanup.append(stop_clock)
    return app
