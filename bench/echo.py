"""The echo endpoint: where a page's handler reports each latency probe it received.

Latency is measured on one clock, the bench process's ``time.perf_counter``:
the bench stamps a probe just before handing it to the push server
(``PushChannel.send``), the page's handler sends the probe's sequence number
back over a second, plain WebSocket to this endpoint, and the endpoint stamps
its arrival. The figure thus includes the hand-over to the server's thread and
the echo's own way back; both are the same for every target, so differences
between targets are the targets' own.

(Stamping on the server's loop after the write, from its "pushed" log record,
was tried: the server thread is sometimes preempted between the write and the
log on this 2-core machine, and echoes then arrived "before" they were sent.
A stamp taken before the send can only overstate latency, never invert it.)

The endpoint is a tiny aiohttp application on its own loopback port and
thread, so nothing it does runs on the push server's event loop.
"""

import asyncio
import socket
import threading
import time

from aiohttp import WSMsgType, web


class EchoServer:
    """``ws://127.0.0.1:PORT/echo``: records ``perf_counter`` per sequence number received."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    @property
    def url(self) -> str:
        return "ws://127.0.0.1:%d/echo" % self.port

    async def _echo(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            now = time.perf_counter()  # first: nothing of ours before the stamp
            if message.type == WSMsgType.TEXT:
                self.arrivals[int(message.data)] = now
        return ws

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/echo", self._echo)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    def start(self) -> "EchoServer":
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="bench-echo", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the echo server did not start")
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = None

    def reset(self) -> None:
        """Forget earlier arrivals (between runs)."""
        self.arrivals = {}

    def wait_for(self, count: int, timeout: float) -> None:
        """Wait until ``count`` distinct sequence numbers have come back."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "only %d of %d echoes within %g s" % (len(self.arrivals), count, timeout)
                )
            time.sleep(0.01)

    def __enter__(self) -> "EchoServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
