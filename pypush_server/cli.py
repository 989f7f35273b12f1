"""The command line of ``serve.py``: the demo and test server, its workers, the bundle.

    python serve.py [--host 127.0.0.1] [--port 8080] [options]   serve demo, bundle, push endpoint
    python serve.py bundle DIR [--url-prefix PATH]                write the static bundle to DIR
    python serve.py bundle --jar FILE [--url-prefix PATH]         write it as a Faces resource jar

An installed wheel has the same as the ``pypush`` command (:func:`pypush`):
``pypush serve [options]`` and ``pypush bundle DIR`` / ``pypush bundle --jar FILE``.

The server prints ``pypush serving on http://HOST:PORT/`` once it listens
(``--port 0`` picks a free port). Ctrl-C (or SIGTERM) closes every socket with
1001 and exits. ``python serve.py --help`` lists the options.

With ``--redis URL`` the process's hub keeps its registry and bus in Redis, so any
number of processes are one push server; ``--workers N`` starts N such processes
on one port (SO_REUSEPORT), writes the bundle once for all of them, starts
another when one dies (again and again, with a growing delay, while it cannot
start), hands them the secrets in their environment rather than on their command
lines, and stops them all on Ctrl-C or SIGTERM.
"""

import argparse
import asyncio
import errno
import ipaddress
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pypush_build.bundle import BundleError, write_bundle

if TYPE_CHECKING:  # imported when needed: `serve.py bundle` needs neither aiohttp nor redis
    from pypush_server.config import ServerConfig

log = logging.getLogger("pypush.server")


async def serve(
    host: str,
    port: int,
    static: list[tuple[str, Path]],
    config,
    redis_url: str | None = None,
    bundle_dir: Path | None = None,
    reuse_port: bool = False,
    ready_line: str = "pypush serving on http://%s:%d/",
    faces_jar: Path | None = None,
) -> None:
    # Imported here so that `serve.py bundle` needs neither aiohttp nor redis.
    from pypush_server.hub import Hub
    from pypush_server.server_app import make_app

    broker = None
    if redis_url is not None:
        from pypush_server.brokers.redis import RedisBroker

        broker = RedisBroker(redis_url)
    hub = Hub(
        broker,
        max_queue_bytes=config.send_queue_bytes,
        max_queue_seconds=config.send_queue_seconds,
        max_sockets_per_channel_id=config.max_sockets_per_channel_id,
        history=config.history,
        heartbeat_seconds=config.client_heartbeat,
    )
    with tempfile.TemporaryDirectory(prefix="pypush-bundle-") as folder:
        if bundle_dir is None:  # the build step, before the server starts
            bundle_dir = write_bundle(Path(folder), url_prefix="/pypush/")
        app = make_app(config, bundle_dir=bundle_dir, static=static, hub=hub)
        if faces_jar is not None:
            from pypush_server.testing.faces_resources import add_faces_routes

            add_faces_routes(app, faces_jar)
        await _run(app, host, port, reuse_port, ready_line)


class ListenError(Exception):
    """The server cannot listen where it was told to (the port is taken, say): one line for
    the operator, as an unreachable --redis is, not a traceback."""


async def _run(app, host: str, port: int, reuse_port: bool, ready_line: str) -> None:
    from aiohttp import web

    from pypush_server.testing.fault_api import listener_key
    from pypush_server.testing.faults import Listener

    listener = Listener(host, port, reuse_port=reuse_port)
    app[listener_key] = listener
    runner = web.AppRunner(app, shutdown_timeout=5, access_log=None)
    await runner.setup()
    listener.runner = runner
    try:
        actual_port = await listener.start()
    except OSError as exc:
        await runner.cleanup()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason += " (another process has it; --port 0 picks a free port)"
        raise ListenError("cannot listen on %s:%d: %s" % (host, port, reason)) from exc
    print(ready_line % (host, actual_port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()


WORKER_START_SECONDS = 60.0
"""How long a worker may take to listen before it counts as one that did not start."""
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
"""A worker that cannot start (Redis away) is tried again after 0.5 s, 1 s, 2 s, … 10 s."""


class Workers:
    """N serve.py processes on one port over one Redis, kept at N until Ctrl-C or SIGTERM.

    A worker that dies is replaced at once; one that cannot start (Redis away, say) is
    tried again with a growing delay, logged, while the others go on serving. The
    supervisor never exits with a worker left behind: stopping (or any error) ends them all.
    """

    def __init__(
        self,
        count: int,
        host: str,
        port: int,
        worker_argv: list[str],
        environment: dict[str, str] | None = None,
    ) -> None:
        self.count = count
        self.host = host
        self.port = port
        self.worker_argv = worker_argv
        self.environment = environment
        self.processes: dict[int, subprocess.Popen] = {}  # worker number -> process
        self.retry_at: dict[int, float] = {}  # worker number -> when to try it again
        self.delays: dict[int, float] = {}  # worker number -> the last delay before a try
        self.stopping = False

    def start(self, number: int) -> str | None:
        """Start worker ``number`` and wait until it listens; None, or why it did not."""
        argv = [sys.executable, "-u", "-m", "pypush_server.cli", *self.worker_argv]
        if number != 1:
            argv.append("--no-demo-clock")  # one clock for the demo, not N
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=self.environment)
        self.processes[number] = process  # from now on, stopping ends it too
        line = self._first_line(process)
        if "listening" in line:
            log.info("worker %d is pid %d", number, process.pid)
            return None
        del self.processes[number]
        _end(process)
        if line:
            return "it said %r" % line.strip()
        return "it exited with %s" % process.returncode

    def _first_line(self, process: subprocess.Popen) -> str:
        """The worker's first line of output; "" when it exits, takes too long, or the
        supervisor is stopping (checked every 0.2 s: a signal never waits on a worker)."""
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not self.stopping and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            if ready:
                return process.stdout.readline()
        return ""

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: setattr(self, "stopping", True))
        try:
            for number in range(1, self.count + 1):
                problem = self.start(number)
                if self.stopping:
                    return 0
                if problem is not None:  # at start-up: say so and stop, as one process does
                    print(
                        "serve.py: worker %d did not start: %s" % (number, problem), file=sys.stderr
                    )
                    return 1
            log.info("%d workers on port %d", self.count, self.port)
            print("pypush serving on http://%s:%d/" % (self.host, self.port), flush=True)
            while not self.stopping:
                time.sleep(0.2)
                self.keep()
            return 0
        finally:
            self.stop_all()

    def keep(self) -> None:
        """Replace the workers that exited; try again those whose delay is over."""
        for number in range(1, self.count + 1):
            if self.stopping:
                return
            process = self.processes.get(number)
            if process is not None:
                code = process.poll()
                if code is None:
                    continue
                log.warning(
                    "worker %d (pid %d) exited with %s; starting another", number, process.pid, code
                )
                del self.processes[number]
            elif time.monotonic() < self.retry_at.get(number, 0.0):
                continue
            problem = self.start(number)
            if problem is None:
                self.retry_at.pop(number, None)
                self.delays.pop(number, None)
            elif not self.stopping:
                delay = min(self.delays.get(number, RETRY_FIRST_SECONDS / 2) * 2, RETRY_MAX_SECONDS)
                self.delays[number] = delay
                self.retry_at[number] = time.monotonic() + delay
                log.warning(
                    "worker %d could not start (%s); trying again in %g s", number, problem, delay
                )

    def stop_all(self) -> None:
        """SIGTERM to every worker, then wait for each (15 s in all), killing any left."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _end(process: subprocess.Popen) -> None:
    """End a worker that did not start (it may still run: it took too long)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.stdout.close()


def _free_shared_port(host: str) -> socket.socket:
    """A port for the workers: bound (SO_REUSEPORT, not listening) so no one else takes it."""
    held = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    held.bind((host, 0))
    return held


def _static_mount(text: str) -> tuple[str, Path]:
    prefix, sep, directory = text.partition("=")
    if not sep or not prefix.startswith("/") or not Path(directory).is_dir():
        raise argparse.ArgumentTypeError("expected PREFIX=DIR with an existing DIR, got %r" % text)
    return prefix, Path(directory)


def _proxy_network(text: str) -> str:
    from pypush_server.proxies import parse_network

    try:
        parse_network(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _answered_names(host: str, allowed: list[str]) -> tuple[str, ...]:
    """The names requests may be sent to: --allow-host's, and --host's when it is a name."""
    from pypush_server.guard import host_name, is_ip_address

    names = [name if name == "*" else host_name(name) or name for name in allowed]
    own = host_name(host)
    if own and not is_ip_address(own):
        names.append(own)
    return tuple(names)


def _listens_on_loopback(host: str) -> bool:
    from pypush_server.guard import is_ip_address

    if host.lower() == "localhost":
        return True
    return is_ip_address(host) and ipaddress.ip_address(host).is_loopback


class _Renamed(argparse.Action):
    """An option under its old name: it still works, and the server says the new one at
    start-up (``--max-sockets-per-channel`` is now ``--max-sockets-per-channel-id``)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        new = "--" + self.dest.replace("_", "-")
        namespace.renamed = [
            "%s is deprecated: it is %s now (a cap per channelId, not per channel)"
            % (option_string, new)
        ]


def _trusts_loopback(args: argparse.Namespace) -> bool:
    """--trust-loopback as given; by default only for a server nothing else can reach
    (the demo's case): on loopback, with no token and no proxy in front."""
    if args.trust_loopback is not None:
        return args.trust_loopback
    return _listens_on_loopback(args.host) and not args.api_token and not args.trusted_proxy


def _log_exposure(config) -> None:
    """Say at start-up who may use the API, and which test tools are on."""
    if config.api_token is not None and config.trust_loopback:
        log.info("the HTTP API answers clients with its token, and loopback clients")
    elif config.api_token is not None:
        log.info("the HTTP API answers clients with its token")
    elif config.trust_loopback:
        log.info("the HTTP API answers loopback clients, without a token (--trust-loopback)")
    else:
        log.warning("the HTTP API is closed: give it a token (--api-token)")
    if config.trusted_proxies:
        log.info(
            "believing %s headers from %s only",
            config.proxy_headers,
            ", ".join(config.trusted_proxies),
        )
    if config.faults:
        log.warning("fault injection is on (--faults): a test tool, not for production")


BUNDLE_DESCRIPTION = "Write pypush's static bundle to DIR, or as a Faces resource jar."


def serve_description(bundle_command: str) -> str:
    """What the serve command does, naming the bundle command as the user runs it."""
    return (
        "Serve the pypush demo, the bundle (/pypush/) and the push endpoint, with the HTTP "
        "API. `%s DIR` writes the static bundle instead." % bundle_command
    )


def version() -> str:
    """pypush's version, from the installed package's metadata."""
    try:
        return "pypush " + metadata.version("pypush")
    except metadata.PackageNotFoundError:  # a repository's serve.py run without installing
        return "pypush (not installed: no package metadata)"


def add_bundle_options(parser: argparse.ArgumentParser) -> None:
    """The bundle command's arguments (``serve.py bundle``, ``pypush bundle``)."""
    parser.add_argument(
        "directory",
        type=Path,
        nargs="?",
        metavar="DIR",
        help="the folder to write the bundle to (faces-push.js and its v-HASH/ folder)",
    )
    parser.add_argument(
        "--jar",
        type=Path,
        metavar="FILE",
        help="write the bundle as a resource jar (META-INF/resources/pypush/...) for a Java "
        'Faces application\'s WEB-INF/lib: <h:outputScript library="pypush" name="faces-push.js"/>',
    )
    parser.add_argument(
        "--url-prefix",
        metavar="PATH",
        help="the URL path the bundle is served under (e.g. /app/resources/pypush/), "
        "for its PyScript configurations; without it they suit pages in the bundle folder",
    )


def bundle_parser(prog: str = "serve.py bundle") -> argparse.ArgumentParser:
    """The bundle command's parser, as ``--help`` shows it (the documentation's command-line
    reference is rendered from it too)."""
    parser = argparse.ArgumentParser(prog=prog, description=BUNDLE_DESCRIPTION)
    add_bundle_options(parser)
    return parser


def _bundle(argv: list[str], prog: str = "serve.py bundle") -> int:
    parser = bundle_parser(prog)
    args = parser.parse_args(argv)
    if args.directory is None and args.jar is None:
        parser.error("give DIR, --jar FILE, or both")
    prefix = args.url_prefix
    if prefix is not None and not prefix.endswith("/"):
        prefix += "/"
    try:
        if args.directory is not None:
            out = write_bundle(args.directory, prefix)
            print("bundle written to %s (entry: %s)" % (out, out / "faces-push.js"))
        if args.jar is not None:
            from pypush_build.jar import write_jar

            print("resource jar written to %s (library pypush)" % write_jar(args.jar, prefix))
    except BundleError as exc:
        print("%s: %s" % (prog, exc), file=sys.stderr)
        return 1
    return 0


def pypush_parser() -> argparse.ArgumentParser:
    """The ``pypush`` command's parser: its two commands, each with every option it has."""
    parser = argparse.ArgumentParser(
        prog="pypush",
        description="pypush's push server and bundle writer, from the installed wheel "
        "(the repository's serve.py has the same commands).",
    )
    parser.add_argument("--version", action="version", version=version())
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    add_serve_options(
        commands.add_parser(
            "serve",
            help="serve the demo, the bundle and the push endpoint (pypush serve --help)",
            description=serve_description("pypush bundle"),
            allow_abbrev=False,
        )
    )
    add_bundle_options(
        commands.add_parser(
            "bundle",
            help="write the static bundle to DIR, or a Faces resource jar (pypush bundle --help)",
            description=BUNDLE_DESCRIPTION,
        )
    )
    return parser


def pypush(argv: list[str] | None = None) -> int:
    """The ``pypush`` command an installed wheel has: serve.py's two commands, by name."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return main(argv[1:], prog="pypush serve")
    if argv[:1] == ["bundle"]:
        return _bundle(argv[1:], prog="pypush bundle")
    parser = pypush_parser()
    parser.parse_args(argv)  # --help, --version, or an unknown command: exits
    parser.print_usage(sys.stderr)
    print("pypush: say serve or bundle (pypush --help describes them)", file=sys.stderr)
    return 2


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """The serve command's options (``serve.py``, ``pypush serve``)."""
    from pypush_server.config import ServerConfig

    defaults = ServerConfig()
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default: %(default)s; 0.0.0.0 for every IPv4 one)",
    )
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
        "--faces-jar",
        metavar="JAR",
        type=Path,
        help="also serve JAR (the bundle command's --jar) at /faces-app/ as a Java Faces "
        "application "
        "serves it: resource URLs of both mappings, and the container's static files (tests)",
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
        metavar="TOKEN",
        help="let any client use /api/ with 'Authorization: Bearer TOKEN' "
        "(default: $PYPUSH_API_TOKEN)",
    )
    parser.add_argument(
        "--trusted-proxy",
        metavar="ADDRESS",
        action="append",
        default=[],
        type=_proxy_network,
        help="a reverse proxy in front of this server (an address, or a network such as "
        "10.0.0.0/8; repeatable): only its forwarding headers are believed, for the "
        "client's address and scheme (and the host with --proxy-host-header)",
    )
    parser.add_argument(
        "--proxy-headers",
        choices=("x-forwarded", "forwarded"),
        default=defaults.proxy_headers,
        help="the headers the trusted proxies write: X-Forwarded-For/-Proto/-Host "
        "(x-forwarded, the default) or RFC 7239's Forwarded (forwarded)",
    )
    parser.add_argument(
        "--proxy-host-header",
        action="store_true",
        help="believe the host the trusted proxies name (X-Forwarded-Host, or Forwarded's "
        "host=): only if they always write it; by default the Host header they pass on is "
        "the host",
    )
    parser.add_argument(
        "--trust-loopback",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let loopback clients use /api/ without the token (default: only when the "
        "server listens on loopback, with no --api-token and no --trusted-proxy)",
    )
    parser.add_argument(
        "--max-message-bytes",
        type=int,
        default=defaults.max_message_bytes,
        help="the largest frame a push may send; larger get 413 (default: %(default)s)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        help="the largest request body the server reads; larger get 413 (default: "
        "--max-message-bytes and 64 KiB for the JSON around a message)",
    )
    parser.add_argument(
        "--max-burst-bytes",
        type=int,
        default=defaults.max_burst_bytes,
        metavar="N",
        help="the most one burst request (POST /api/channels/{channel}/burst) may push: its "
        "count times its frame's size; larger get 413 (default: %(default)s)",
    )
    parser.add_argument(
        "--max-handshakes-per-second",
        type=float,
        default=defaults.max_handshakes_per_second,
        metavar="N",
        help="handshakes one client address may make per second, in bursts of as many; "
        "more get 429 (default: %(default)g; 0: no limit)",
    )
    parser.add_argument(
        "--max-sockets-per-address",
        type=int,
        default=defaults.max_sockets_per_address,
        metavar="N",
        help="push sockets one client address (an IPv6 /64) may hold open; more get 429 "
        "(default: %(default)s; 0: no limit)",
    )
    parser.add_argument(
        "--max-sockets-per-channel-id",
        type=int,
        default=defaults.max_sockets_per_channel_id,
        metavar="N",
        help="push sockets one channelId may have open (in each process); more are closed "
        "with 1013, which Faces clients retry; the channel's other channelIds are not "
        "concerned (default: %(default)s; 0: no limit)",
    )
    parser.add_argument(
        "--max-sockets-per-channel",
        dest="max_sockets_per_channel_id",
        type=int,
        default=argparse.SUPPRESS,
        action=_Renamed,
        help=argparse.SUPPRESS,  # its old name: it capped the whole channel
    )
    parser.add_argument(
        "--send-queue-bytes",
        type=int,
        default=defaults.send_queue_bytes,
        help="a socket whose unsent frames pass this many bytes is closed with 1013, "
        "which Faces clients retry (default: %(default)s)",
    )
    parser.add_argument(
        "--send-queue-seconds",
        type=float,
        default=defaults.send_queue_seconds,
        help="a socket whose oldest unsent frame waited this long is closed with 1013 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=defaults.heartbeat,
        metavar="SECONDS",
        help="seconds between WebSocket pings, which keep proxies from closing an idle "
        "socket; a page never sees them (default: %(default)s; 0: none)",
    )
    parser.add_argument(
        "--client-heartbeat",
        type=float,
        default=defaults.client_heartbeat,
        metavar="SECONDS",
        help="seconds between the heartbeat frames sent to pypush clients that resumed, "
        "which then take a connection that stays silent 1.5 times as long for dead and "
        "reconnect (0: none, and none announced; default: %(default)s)",
    )
    parser.add_argument(
        "--history-messages",
        type=int,
        default=defaults.history_messages,
        metavar="N",
        help="each channelId keeps its last N messages for clients that resume after a "
        "reconnect (default: %(default)s)",
    )
    parser.add_argument(
        "--history-bytes",
        type=int,
        default=defaults.history_bytes,
        metavar="N",
        help="... and at most N bytes of them (default: %(default)s)",
    )
    parser.add_argument(
        "--history-seconds",
        type=float,
        default=defaults.history_seconds,
        metavar="S",
        help="... none older than S seconds (default: %(default)s, a Faces client's "
        "whole reconnect window)",
    )
    parser.add_argument("--no-demo-clock", action="store_true", help="do not push the demo clock")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="serve the fault API (/api/faults/…, closing and dropping sockets): a test "
        "tool; without it those routes do not exist",
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("PYPUSH_REDIS_URL"),
        help="keep channelIds and pushes in Redis (redis://HOST:PORT/DB), so that any "
        "number of processes over it are one push server (default: $PYPUSH_REDIS_URL)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="start N processes on one port (SO_REUSEPORT) over --redis",
    )
    parser.add_argument("--bundle-dir", type=Path, help=argparse.SUPPRESS)  # the workers'
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


def serve_parser(prog: str = "serve.py") -> argparse.ArgumentParser:
    """The serve command's parser, as ``--help`` shows it (the documentation's command-line
    reference is rendered from it too)."""
    bundle_command = "pypush bundle" if prog == "pypush serve" else prog + " bundle"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=serve_description(bundle_command),
        allow_abbrev=False,  # --workers hands its options on by name (_without)
    )
    parser.add_argument("--version", action="version", version=version())
    add_serve_options(parser)
    return parser


def parse_serve_args(
    argv: list[str], prog: str = "serve.py"
) -> tuple[argparse.Namespace, "ServerConfig"]:
    """serve.py's options, and the server configuration they make."""
    from pypush_server.config import ServerConfig

    parser = serve_parser(prog)
    args = parser.parse_args(argv)
    if args.workers > 1 and not args.redis:
        parser.error("--workers needs --redis: the processes share channelIds and pushes there")
    config = ServerConfig(
        allowed_origins=tuple(args.allow_origin),
        allowed_hosts=_answered_names(args.host, args.allow_host),
        api_token=args.api_token or None,
        trust_loopback=_trusts_loopback(args),
        trusted_proxies=tuple(args.trusted_proxy),
        proxy_headers=args.proxy_headers,
        proxy_host_header=args.proxy_host_header,
        max_message_bytes=args.max_message_bytes,
        max_request_bytes=args.max_request_bytes,
        max_burst_bytes=args.max_burst_bytes,
        max_handshakes_per_second=args.max_handshakes_per_second or None,
        max_sockets_per_address=args.max_sockets_per_address or None,
        max_sockets_per_channel_id=args.max_sockets_per_channel_id or None,
        send_queue_bytes=args.send_queue_bytes,
        send_queue_seconds=args.send_queue_seconds,
        heartbeat=args.heartbeat or None,
        client_heartbeat=args.client_heartbeat or None,
        demo_clock=not args.no_demo_clock,
        faults=args.faults,
        history_messages=args.history_messages,
        history_bytes=args.history_bytes,
        history_seconds=args.history_seconds,
    )
    try:
        config.history  # noqa: B018 - checks the three bounds
    except ValueError as exc:
        parser.error(str(exc))
    if config.client_heartbeat is not None and not config.client_heartbeat > 0:
        parser.error("--client-heartbeat must be a number of seconds > 0 (0: none)")
    return args, config


def main(argv: list[str], prog: str = "serve.py") -> int:
    """serve.py's commands, ``prog`` as the user ran it (its help and errors name it)."""
    if argv[:1] == ["bundle"]:
        return _bundle(argv[1:], prog=prog + " bundle")
    args, config = parse_serve_args(argv, prog)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if not args.worker:
        for renamed in getattr(args, "renamed", ()):
            log.warning(renamed)
        _log_exposure(config)
    if args.workers > 1:
        return _run_workers(args, argv)
    try:
        asyncio.run(
            serve(
                args.host,
                args.port,
                args.static,
                config,
                redis_url=args.redis,
                bundle_dir=args.bundle_dir,
                reuse_port=args.worker,
                ready_line="worker listening on %s:%d"
                if args.worker
                else "pypush serving on http://%s:%d/",
                faces_jar=args.faces_jar,
            )
        )
    except BundleError as exc:
        print("%s: %s" % (prog, exc), file=sys.stderr)
        return 1
    except ConnectionError as exc:  # Redis unreachable at start-up
        print("%s: %s" % (prog, exc), file=sys.stderr)
        return 1
    except ListenError as exc:
        print("%s: %s" % (prog, exc), file=sys.stderr)
        return 1
    return 0


def _run_workers(args, argv: list[str]) -> int:
    """Write the bundle once (the build step), hold a port, start the workers on it."""
    try:
        with tempfile.TemporaryDirectory(prefix="pypush-bundle-") as folder:
            bundle = write_bundle(Path(folder), url_prefix="/pypush/")
            held = _free_shared_port(args.host) if args.port == 0 else None
            port = held.getsockname()[1] if held else args.port
            # The secrets go in the workers' environment, not on their command lines.
            worker_argv = _without(argv, "--workers", "--port", *SECRET_OPTIONS)
            worker_argv += ["--port", str(port), "--worker", "--bundle-dir", str(bundle)]
            workers = Workers(args.workers, args.host, port, worker_argv, _worker_environment(args))
            try:
                return workers.run()
            finally:
                if held is not None:
                    held.close()
    except BundleError as exc:
        print("serve.py: %s" % exc, file=sys.stderr)
        return 1


SECRET_OPTIONS = {"--api-token": "PYPUSH_API_TOKEN", "--redis": "PYPUSH_REDIS_URL"}
"""Options that may hold a secret (the Redis URL its password), and the variables that
give them too: a command line is readable by every local user (ps, /proc/PID/cmdline), a
process's environment only by its owner."""


def _worker_environment(args: argparse.Namespace) -> dict[str, str]:
    """The supervisor's environment, with the secrets as the supervisor has them."""
    environment = dict(os.environ)
    for option, variable in SECRET_OPTIONS.items():
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        if value:
            environment[variable] = value
        else:  # as given ("--api-token ''": none), not as the environment had it
            environment.pop(variable, None)
    return environment


def _without(argv: list[str], *options: str) -> list[str]:
    """argv less the given options and their values (``--port 0`` or ``--port=0``)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in options:
            skip = True
        elif not arg.startswith(tuple(o + "=" for o in options)):
            kept.append(arg)
    return kept


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
