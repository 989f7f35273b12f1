"""pypush's demo and test server, and the bundle builder.

    python serve.py [--host 127.0.0.1] [--port 8080] [--static PREFIX=DIR ...]
                                                      serve the demo, bundle and push endpoint
    python serve.py bundle DIR                        write the static bundle to DIR

The server prints ``pypush serving on http://HOST:PORT/`` once it listens
(``--port 0`` picks a free port). Ctrl-C (or SIGTERM) closes every socket with
1001 and exits.
"""

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from pypush_server.bundle import BundleError, write_bundle


async def serve(host: str, port: int, static: list[tuple[str, Path]]) -> None:
    # Imported here so that `serve.py bundle` needs nothing beyond the standard library.
    from aiohttp import web

    from pypush_server.app import make_app

    runner = web.AppRunner(make_app(static=static), shutdown_timeout=5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    actual_port = runner.addresses[0][1]
    print("pypush serving on http://%s:%d/" % (host, actual_port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        logging.getLogger("pypush.server").info("shutting down")
        await runner.cleanup()


def _static_mount(text: str) -> tuple[str, Path]:
    prefix, sep, directory = text.partition("=")
    if not sep or not prefix.startswith("/") or not Path(directory).is_dir():
        raise argparse.ArgumentTypeError("expected PREFIX=DIR with an existing DIR, got %r" % text)
    return prefix, Path(directory)


def main(argv: list[str]) -> int:
    if argv[:1] == ["bundle"]:
        parser = argparse.ArgumentParser(
            prog="serve.py bundle", description="Write the static pypush bundle."
        )
        parser.add_argument("directory", type=Path)
        args = parser.parse_args(argv[1:])
        try:
            out = write_bundle(args.directory)
        except BundleError as exc:
            print("serve.py bundle: %s" % exc, file=sys.stderr)
            return 1
        print("bundle written to %s (entry: %s)" % (out, out / "faces-push.js"))
        return 0
    parser = argparse.ArgumentParser(
        prog="serve.py",
        description="Serve the pypush demo, bundle and push endpoint. "
        "`serve.py bundle DIR` writes the static bundle instead.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument(
        "--static",
        metavar="PREFIX=DIR",
        action="append",
        default=[],
        type=_static_mount,
        help="also serve the files of DIR under PREFIX (your own pages, for example)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        asyncio.run(serve(args.host, args.port, args.static))
    except BundleError as exc:
        print("serve.py: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
