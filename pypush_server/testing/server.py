"""The push server in-process, for tests: start it, drive it, stop it, from plain Python.

:class:`PushTestServer` runs the real server (the same aiohttp application as
``serve.py``) on a free loopback port in a background thread with its own event
loop, so a synchronous test (pytest, Playwright's sync API) can use it. Every
method is synchronous and thread-safe. The pytest plugin
(:mod:`pypush_server.testing.pytest_plugin`) hands it out as the ``push_server`` fixture.
"""

import asyncio
import dataclasses
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from pypush_build.bundle import assets_folder, write_bundle
from pypush_server.aiohttp_app import hub_key
from pypush_server.config import ServerConfig
from pypush_server.messages import check_text_frame
from pypush_server.server_app import bundle_key, make_app
from pypush_server.testing.fault_api import close_sockets, faults_key, listener_key
from pypush_server.testing.faults import FLAP, REFUSE, SLOW_CLOSE, Listener

log = logging.getLogger(__name__)

START_TIMEOUT = 30
PAGES_PREFIX = "/pages/"
BLANK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pypush test page</title>
<link rel="icon" href="data:,"><script src="/pypush/faces-push.js"></script></head>
<body></body></html>
"""


@dataclass(frozen=True)
class PushChannel:
    """One registered channelId: the URL a page passes to ``faces.push.init``."""

    server: "PushTestServer"
    name: str
    channel_id: str
    url: str
    """The absolute ``ws://`` URL."""
    path: str
    """The same URL as a path, as a Faces server usually renders it."""

    def send(self, message: object) -> int:
        """Push ``message`` (any JSON value) to this URL's sockets; how many received it."""
        return self.server.send(self.name, message, channel_id=self.channel_id)

    def sockets(self) -> int:
        """How many sockets are open on this URL now."""
        return self.server.sockets(self.name, channel_id=self.channel_id)

    def wait_for_sockets(self, count: int, timeout: float = 10.0) -> None:
        """Wait until exactly ``count`` sockets are open on this URL (AssertionError if not)."""
        self.server.wait_until(
            lambda: self.sockets() == count, timeout, "%d sockets on %s" % (count, self.name)
        )

    def expire(self) -> int:
        """Deregister the channelId: its sockets close with 1000 ``Expired`` (final)."""
        return self.server.expire(self.channel_id)

    def close(self, code: int = 1011, reason: str = "") -> int:
        """Close this URL's sockets with ``code``; the channelId stays valid."""
        return self.server.close(self.name, code, reason, channel_id=self.channel_id)

    def drop(self) -> int:
        """Cut this URL's connections without a close frame (the browser sees 1006)."""
        return self.server.drop(self.name, channel_id=self.channel_id)

    def vanish(self) -> int:
        """Go silent on this URL's sockets without closing them (spec N4: only heartbeats
        tell the page)."""
        return self.server.vanish(self.name, channel_id=self.channel_id)


def testing_config(**changes: Any) -> ServerConfig:
    """A test server's configuration: pages of any origin may connect (tests often serve
    their pages elsewhere), loopback may use the API, the fault API is on, no per-address
    limits (every test client is 127.0.0.1), no demo clock; ``changes`` on top."""
    defaults: dict[str, Any] = dict(
        allowed_origins=("*",),
        demo_clock=False,
        trust_loopback=True,
        faults=True,
        max_handshakes_per_second=None,
        max_sockets_per_address=None,
    )
    return ServerConfig(**{**defaults, **changes})


class PushTestServer:
    """The real push server on ``127.0.0.1`` in a background thread."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        bundle_dir: Path | None = None,
        port: int = 0,
    ) -> None:
        """``port``: where to listen on 127.0.0.1 (0, the default: a free port).

        ``config`` is the server's (by default pages of any origin may connect: tests often
        serve their pages elsewhere); the fault API is always on, whatever it says.
        """
        config = config or testing_config()
        self.config = dataclasses.replace(config, faults=True)
        self._bundle_dir = bundle_dir
        self._pages: dict[str, str] = {"index.html": BLANK_PAGE}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self._temporary: tempfile.TemporaryDirectory | None = None
        self.port = port
        self._wanted_port = port

    # -- life ------------------------------------------------------------------------------

    def start(self) -> "PushTestServer":
        """Start listening on a free port; returns once it accepts connections.

        When the application cannot start (the runtimes are missing, say), the
        cause is raised at once and the server is left stopped, ready to start again.
        """
        if self._thread is not None:
            raise RuntimeError("the push test server is already running")
        # The bundle first, with no time limit: a first build compresses every file (a
        # minute or more on a fresh machine, with Pyodide); START_TIMEOUT is for listening.
        bundle_dir = self._bundle_dir
        if bundle_dir is None:  # a bundle of its own, removed at stop()
            self._temporary = tempfile.TemporaryDirectory(prefix="pypush-bundle-")
            try:
                bundle_dir = write_bundle(Path(self._temporary.name), url_prefix="/pypush/")
            except BaseException:
                self._temporary.cleanup()
                self._temporary = None
                raise
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failures: list[BaseException] = []
        self._loop = loop

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_app(bundle_dir))
            except BaseException as exc:  # handed to start(), which raises it
                failures.append(exc)
                loop.run_until_complete(self._abandon_app())
                started.set()
                return
            started.set()
            loop.run_forever()

        self._thread = threading.Thread(target=serve, name="pypush-test-server", daemon=True)
        self._thread.start()
        if not started.wait(START_TIMEOUT):
            loop.call_soon_threadsafe(loop.stop)  # ends run_until_complete with an error
            self._end_thread()
            raise RuntimeError("the push test server did not start within %d s" % START_TIMEOUT)
        if failures:
            self._end_thread()
            self._app = None
            raise failures[0]
        return self

    def _end_thread(self) -> None:
        self._thread.join(10)
        if self._thread.is_alive():  # stuck: leave its loop to it (closing it would raise)
            log.warning("the push test server's thread did not end within 10 s")
        else:
            self._loop.close()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None
        self._thread = self._loop = self._runner = None

    async def _abandon_app(self) -> None:
        """Undo what a failed start did (a runner set up, a port taken)."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _start_app(self, bundle_dir: Path) -> None:
        app = make_app(self.config, bundle_dir=bundle_dir)
        app.router.add_get(PAGES_PREFIX + "{name:.+}", self._page)
        self._app = app
        listener = Listener("127.0.0.1", self._wanted_port)
        app[listener_key] = listener
        self._runner = web.AppRunner(app, shutdown_timeout=2, access_log=None)
        await self._runner.setup()
        listener.runner = self._runner
        self.port = await listener.start()
        listener.port = self.port

    async def _page(self, request: web.Request) -> web.Response:
        html = self._pages.get(request.match_info["name"])
        if html is None:
            raise web.HTTPNotFound()
        response = web.Response(text=html, content_type="text/html")
        response.enable_compression()  # as a production server sends pages (and the bench)
        return response

    def stop(self) -> None:
        """Close every socket (1001), stop listening and end the thread. Idempotent."""
        if self._thread is None:
            return
        try:
            self._call(self._stop_app())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._end_thread()

    async def _stop_app(self) -> None:
        listener = self._app[listener_key]
        if listener.task is not None:
            listener.task.cancel()
        await self._runner.cleanup()

    def __enter__(self) -> "PushTestServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where things are -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``"""
        return "http://127.0.0.1:%d" % self.port

    @property
    def script_url(self) -> str:
        """The bundle's ``faces-push.js``, for a page's ``<script src>``."""
        return self.base_url + "/pypush/faces-push.js"

    @property
    def assets_url(self) -> str:
        """The bundle's hashed assets folder (``.../pypush/v-<hash>/``): the runtimes live here."""
        return "%s/pypush/%s/" % (self.base_url, assets_folder(self._app[bundle_key]))

    def add_page(self, name: str, html: str) -> str:
        """Serve ``html`` at ``/pages/NAME`` (same origin as the push endpoint); its URL."""
        self._pages[name] = html
        return self.base_url + PAGES_PREFIX + name

    @property
    def blank_page_url(self) -> str:
        """A page that loads only ``faces-push.js``."""
        return self.base_url + PAGES_PREFIX + "index.html"

    # -- channels and messages ---------------------------------------------------------------

    def channel(self, name: str = "test") -> PushChannel:
        """Register a fresh channelId on channel ``name``."""
        channel_id = self._call(self._hub.register(name))
        path = "/jakarta.faces.push/%s?%s" % (name, channel_id)
        return PushChannel(self, name, channel_id, "ws://127.0.0.1:%d%s" % (self.port, path), path)

    def send(self, channel: str, message: object, channel_id: str | None = None) -> int:
        """Push ``message`` to every socket of ``channel``; how many received it."""
        return self._call(self._hub.send(channel, message, channel_id))

    def send_many(self, channel: str, messages: list, channel_id: str | None = None) -> int:
        """Push each message in order, as fast as the server can; total deliveries."""
        return self._call(self._hub.send_many(channel, messages, channel_id))

    def send_raw(self, channel: str, frame: str | bytes, channel_id: str | None = None) -> int:
        """Send a frame as it is (text, or bytes as a binary frame), to try bad input.

        Text must still be UTF-8 (a lone surrogate raises ValueError): a WebSocket text
        frame cannot hold anything else."""
        if isinstance(frame, str):
            check_text_frame(frame)
        return self._call(self._hub.send_frames(channel, [frame], channel_id))

    def sockets(self, channel: str, channel_id: str | None = None) -> int:
        return self._call_sync(lambda: len(self._hub.sockets(channel, channel_id)))

    def wait_for_sockets(self, channel: str, count: int, timeout: float = 10.0) -> None:
        """Wait until exactly ``count`` sockets are open on ``channel``."""
        self.wait_until(
            lambda: self.sockets(channel) == count, timeout, "%d sockets on %s" % (count, channel)
        )

    def expire(self, channel_id: str) -> int:
        return self._call(self._hub.expire(channel_id)) or 0

    # -- faults ------------------------------------------------------------------------------

    def close(
        self, channel: str, code: int = 1011, reason: str = "", channel_id: str | None = None
    ) -> int:
        """Close the channel's sockets with ``code`` and ``reason``; channelIds stay valid."""

        async def close() -> int:
            sockets = self._hub.sockets(channel, channel_id)
            await close_sockets(self._hub, sockets, code, reason)
            return len(sockets)

        return self._call(close())

    def drop(self, channel: str, channel_id: str | None = None) -> int:
        """Cut the channel's connections without a close frame (the browser sees 1006)."""

        def drop() -> int:
            sockets = self._hub.sockets(channel, channel_id)
            for socket in sockets:
                socket.sink.abort()
            return len(sockets)

        return self._call_sync(drop)

    def vanish(self, channel: str, channel_id: str | None = None) -> int:
        """Go silent on the channel's sockets: nothing sent or read, connections left open."""

        def vanish() -> int:
            sockets = self._hub.sockets(channel, channel_id)
            for socket in sockets:
                socket.sink.vanish()
            return len(sockets)

        return self._call_sync(vanish)

    def refuse(self, channel: str = "*", status: int = 503, seconds: float | None = None) -> None:
        """Answer new handshakes with an HTTP error (until :meth:`accept`, or ``seconds``)."""
        self._call_sync(lambda: self._faults.set(REFUSE, channel, status, seconds))

    def accept(self, channel: str = "*") -> None:
        """Undo :meth:`refuse`."""
        self._call_sync(lambda: self._faults.clear(REFUSE, channel))

    def flap(self, channel: str = "*", code: int | None = 1011, seconds: float | None = None):
        """Accept each handshake and at once close it with ``code`` (None: drop it)."""
        value = "drop" if code is None else (code, "")
        self._call_sync(lambda: self._faults.set(FLAP, channel, value, seconds))

    def slow_close(self, channel: str = "*", delay: float = 2.0, seconds: float | None = None):
        """Answer a client's close frame only after ``delay`` seconds."""
        self._call_sync(lambda: self._faults.set(SLOW_CLOSE, channel, delay, seconds))

    def down(self, seconds: float) -> None:
        """Stop listening and drop every socket, then listen again on the same port."""

        def go_down() -> None:
            hub = self._hub
            self._app[listener_key].schedule_down(
                seconds, lambda: [socket.sink.abort() for socket in hub.sockets()]
            )

        self._call_sync(go_down)

    def clear_faults(self) -> None:
        for kind in (REFUSE, FLAP, SLOW_CLOSE):
            for scope in self._faults.scopes(kind):
                self._call_sync(lambda k=kind, s=scope: self._faults.clear(k, s))

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def _hub(self):
        return self._app[hub_key]

    @property
    def _faults(self):
        return self._app[faults_key]

    def _call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        if self._thread is None:
            coroutine.close()
            raise RuntimeError("the push test server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _call_sync(self, function: Callable[[], Any]) -> Any:
        async def call() -> Any:
            return function()

        return self._call(call())

    @staticmethod
    def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
            time.sleep(0.02)
