"""The push server beside test pages of its own, as a process: the CSP site and the Faces site.

Each site module (``tests.browser.csp_site``, ``tests.browser.faces_site``) adds its routes
to ``serve.py``'s application (bundle, push endpoint, API, ``/test/`` pages) and runs it
with :func:`serve_site`; a test module starts it with :func:`started_site`, which reads
the line the site prints once it listens.
"""

import asyncio
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

from pypush_build.bundle import write_bundle
from pypush_server.config import ServerConfig
from pypush_server.server_app import make_app
from tests.support import ROOT, PushServer

PAGES = Path(__file__).parent / "pages"


async def serve_site(
    port: int, config: ServerConfig, add_routes: Callable[[web.Application], None], name: str
) -> None:
    """Serve the application with the site's routes until SIGINT or SIGTERM; print
    ``NAME on http://127.0.0.1:PORT`` once it listens."""
    with tempfile.TemporaryDirectory(prefix="pypush-bundle-") as folder:
        bundle = write_bundle(Path(folder), url_prefix="/pypush/")  # the build step
        app = make_app(config, bundle_dir=bundle, static=[("/test/", PAGES)])
        add_routes(app)
        runner = web.AppRunner(app, shutdown_timeout=2, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        print("%s on http://127.0.0.1:%d" % (name, runner.addresses[0][1]), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await runner.cleanup()


@contextmanager
def started_site(module: str, name: str, *options: str) -> Iterator[PushServer]:
    """``python -m MODULE [OPTIONS]`` until the block ends: its server, once it says it
    listens."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", module, *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if "%s on" % name not in line:
        process.kill()
        raise RuntimeError("%s did not start: %r" % (module, line))
    try:
        yield PushServer(line.split(" on ", 1)[1].strip())
    finally:
        process.terminate()
        process.wait(15)
