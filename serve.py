"""pypush's demo and test server, and the bundle builder.

    python serve.py [--host 127.0.0.1] [--port 8080] [options]   serve demo, bundle, push endpoint
    python serve.py bundle DIR [--url-prefix PATH]                write the static bundle to DIR

The server prints ``pypush serving on http://HOST:PORT/`` once it listens
(``--port 0`` picks a free port). Ctrl-C (or SIGTERM) closes every socket with
1001 and exits. ``python serve.py --help`` lists the options.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from pypush_server.bundle import BundleError, write_bundle


async def serve(host: str, port: int, static: list[tuple[str, Path]], config) -> None:
    # Imported here so that `serve.py bundle` needs nothing beyond the standard library.
    from aiohttp import web

    from pypush_server.api import listener_key
    from pypush_server.app import make_app
    from pypush_server.faults import Listener

    app = make_app(config, static=static)
    listener = Listener(host, port)
    app[listener_key] = listener
    runner = web.AppRunner(app, shutdown_timeout=5, access_log=None)
    await runner.setup()
    listener.runner = runner
    actual_port = await listener.start()
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


def _answered_names(host: str, allowed: list[str]) -> tuple[str, ...]:
    """The names requests may be sent to: --allow-host's, and --host's when it is a name."""
    from pypush_server.guard import host_name, is_ip_address

    names = [name if name == "*" else host_name(name) or name for name in allowed]
    own = host_name(host)
    if own and not is_ip_address(own):
        names.append(own)
    return tuple(names)


def _bundle(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="serve.py bundle", description="Write the static pypush bundle."
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--url-prefix",
        metavar="PATH",
        help="the URL path the bundle is served under (e.g. /app/resources/pypush/), "
        "for its PyScript configurations; without it they suit pages in the bundle folder",
    )
    args = parser.parse_args(argv)
    prefix = args.url_prefix
    if prefix is not None and not prefix.endswith("/"):
        prefix += "/"
    try:
        out = write_bundle(args.directory, prefix)
    except BundleError as exc:
        print("serve.py bundle: %s" % exc, file=sys.stderr)
        return 1
    print("bundle written to %s (entry: %s)" % (out, out / "faces-push.js"))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["bundle"]:
        return _bundle(argv[1:])
    from pypush_server.config import ServerConfig

    defaults = ServerConfig()
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
    parser.add_argument(
        "--allow-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="let pages of ORIGIN (e.g. http://127.0.0.1:8000, or *) open push sockets; "
        "by default only this server's own pages may",
    )
    parser.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        default=[],
        help="answer requests sent to NAME too (a DNS name this server is reached by, "
        "e.g. push.example.org, or * for any); IP addresses, localhost and --host are "
        "always answered, other names get 421 (a DNS-rebinding guard)",
    )
    parser.add_argument(
        "--api-token",
        default=os.environ.get("PYPUSH_API_TOKEN"),
        help="let any client use /api/ with 'Authorization: Bearer TOKEN' "
        "(default: $PYPUSH_API_TOKEN; without a token /api/ answers loopback only)",
    )
    parser.add_argument("--max-message-bytes", type=int, default=defaults.max_message_bytes)
    parser.add_argument(
        "--max-sockets-per-channel", type=int, default=defaults.max_sockets_per_channel
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=defaults.heartbeat,
        help="seconds between WebSocket pings (0: none)",
    )
    parser.add_argument("--no-demo-clock", action="store_true", help="do not push the demo clock")
    args = parser.parse_args(argv)
    config = ServerConfig(
        allowed_origins=tuple(args.allow_origin),
        allowed_hosts=_answered_names(args.host, args.allow_host),
        api_token=args.api_token or None,
        max_message_bytes=args.max_message_bytes,
        max_sockets_per_channel=args.max_sockets_per_channel or None,
        heartbeat=args.heartbeat or None,
        demo_clock=not args.no_demo_clock,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        asyncio.run(serve(args.host, args.port, args.static, config))
    except BundleError as exc:
        print("serve.py: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
