"""Helpers shared by the server and browser tests: a real serve.py and its HTTP API."""

import asyncio
import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from pypush_server.testing.processes import descendants
from tests.doc_examples import example

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "browser" / "pages"  # served by the test server under /test/


POSITION_TAIL = re.compile(r',"id":"[A-Za-z0-9_-]{1,64}:[0-9]+"}$')


def without_position(frame: str) -> str:
    """A message's frame as Mojarra's server writes it: its position (spec H1) taken out."""
    return POSITION_TAIL.sub("}", frame)


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
    """Poll ``condition`` from Python (immune to page.clock) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % (what or condition))
        time.sleep(0.02)


class Channel:
    def __init__(self, server: "PushServer", info: dict) -> None:
        self.server = server
        self.name: str = info["channel"]
        self.id: str = info["channelId"]
        self.url: str = info["url"]
        self.path: str = info["path"]

    def push(self, message: object) -> int:
        return self.server.post("/api/channels/%s/push" % self.name, message)["received"]

    def push_raw(self, frame: str) -> int:
        return self.server.post("/api/channels/%s/push?raw=1" % self.name, frame, raw=True)[
            "received"
        ]

    def close_sockets(self, code: int, reason: str = "") -> int:
        body = {"code": code, "reason": reason}
        return self.server.post("/api/channels/%s/close" % self.name, body)["closed"]

    def vanish(self) -> int:
        """The server goes silent on the channel's sockets, leaving them open (spec N4)."""
        return self.server.post("/api/channels/%s/vanish" % self.name, {})["vanished"]

    def drop(self) -> int:
        return self.server.post("/api/channels/%s/drop" % self.name, {})["dropped"]

    def burst(self, **body: object) -> dict:
        return self.server.post("/api/channels/%s/burst" % self.name, body)

    def status(self) -> dict:
        return self.server.request("GET", "/api/channels/%s" % self.name)

    def expire(self) -> int:
        return self.server.request("DELETE", "/api/channel-ids/%s" % self.id)["closed"]

    def sockets(self) -> int:
        return self.server.request("GET", "/api/channels/%s" % self.name)["sockets"]

    def wait_for_sockets(self, count: int, timeout: float = 10.0) -> None:
        wait_until(
            lambda: self.sockets() == count, timeout, "%d sockets on %s" % (count, self.name)
        )


class PushServer:
    """A running ``serve.py`` and its HTTP API (``base_url``: the server's, or a proxy's)."""

    def __init__(
        self, base_url: str, token: str | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.ssl_context = ssl_context

    def request(self, method: str, path: str, data: bytes | None = None) -> dict:
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token is not None:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=10, context=self.ssl_context) as response:
            return json.loads(response.read())

    def post(self, path: str, body: object, raw: bool = False) -> dict:
        data = body.encode() if raw else json.dumps(body).encode()
        return self.request("POST", path, data)

    def fault(self, kind: str, **body: object) -> dict:
        return self.post("/api/faults/%s" % kind, body)

    def clear_fault(self, kind: str, channel: str = "*") -> dict:
        return self.request("DELETE", "/api/faults/%s?channel=%s" % (kind, channel))

    def stats(self) -> dict:
        return self.request("GET", "/api/stats")

    def channel(self) -> Channel:
        """A channel no other test uses, with a fresh channelId."""
        name = "t-" + uuid.uuid4().hex[:10]
        return Channel(self, self.post("/api/channels", {"channel": name}))


TEST_SERVER_OPTIONS = (
    "--faults",
    "--max-handshakes-per-second",
    "0",
    "--max-sockets-per-address",
    "0",
)
"""What a test server has that a production one has not: the fault API, and no limits per
client address (every test client is 127.0.0.1: the suite opens hundreds of sockets, and the
recovery tests reconnect many times a real second on a fake page clock)."""


def start_server(
    log_path: Path, *options: str, test_server: bool = True
) -> tuple[subprocess.Popen, str]:
    """Start ``serve.py`` on a free port with the test pages under /test/ (and ``options``).

    ``test_server``: with the test tools (:data:`TEST_SERVER_OPTIONS`); False starts it as
    it runs in production, with only the options given.
    """
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            str(ROOT / "serve.py"),
            "--port",
            "0",
            "--static",
            "/test/=%s" % PAGES,
            *(TEST_SERVER_OPTIONS if test_server else ()),
            *options,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    line = process.stdout.readline()
    if "serving on" not in line:
        process.kill()
        raise RuntimeError("serve.py did not start: %r (log: %s)" % (line, log_path))
    return process, line.split("serving on", 1)[1].strip().rstrip("/")


def stop_server(process: subprocess.Popen) -> int:
    """SIGTERM, as an operator stops it; one that does not exit in time is killed (and the
    timeout raised): a hung server must fail its test, not outlive the run."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        left = descendants(process.pid)  # serve.py --workers: its workers too
        process.kill()
        process.wait()
        for pid, _ in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        raise


def ws_url(server: PushServer, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


def run(coroutine) -> object:
    """asyncio.run in its own thread: Playwright's sync API may own this thread's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def receive(socket, timeout: float = 10):
    return await asyncio.wait_for(socket.receive(), timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """Debian's redis-server on a free port, its data (AOF) in ``folder``; restartable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self) -> "RedisServer":
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("no redis-server: run `make test`, which installs Debian's package")
        self.process = subprocess.Popen(
            [
                executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--dir", str(self.folder),
                "--logfile", str(self.folder / "redis.log"),
                "--enable-debug-command", "local",  # DEBUG SLEEP: a Redis that stalls
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.answers, 10, "redis-server answering on %d" % self.port)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as client:
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(10)
        self.process = None


def documented_nginx_config() -> str:
    """The nginx configuration of the Deploying page, as written there."""
    return example("docs/deploying.md", "Behind a TLS proxy (nginx)", "nginx")


class Nginx:
    """Debian's nginx in front of a serve.py, terminating TLS on a free port.

    Its configuration is the Deploying page's, with this machine's values put in (the port, a
    self-signed certificate made now with openssl, the upstream's port, the read timeout),
    in a main configuration of its own: its pid, logs and temporary files stay in ``folder``.
    """

    def __init__(self, folder: Path, upstream_port: int, read_timeout: float = 60) -> None:
        self.folder = folder
        self.upstream_port = upstream_port
        self.read_timeout = read_timeout
        self.port = free_port()
        self.certificate = folder / "cert.pem"
        self.key = folder / "key.pem"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return "https://127.0.0.1:%d" % self.port

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this nginx's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def make_certificate(self) -> None:
        subprocess.run(
            [
                _executable("openssl"), "req", "-x509", "-nodes", "-days", "2",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-keyout", str(self.key), "-out", str(self.certificate),
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip

    def config(self) -> str:
        """The documented server block with this machine's values, in a main configuration."""
        site = documented_nginx_config()
        for pattern, value in [
            (r"listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % self.port),
            (r"ssl_certificate\s+\S+;", "ssl_certificate %s;" % self.certificate),
            (r"ssl_certificate_key\s+\S+;", "ssl_certificate_key %s;" % self.key),
            (
                r"proxy_pass http://127\.0\.0\.1:8080;",
                "proxy_pass http://127.0.0.1:%d;" % self.upstream_port,
            ),
            (
                r"proxy_read_timeout\s+\S+;",
                "proxy_read_timeout %dms;" % round(self.read_timeout * 1000),
            ),
        ]:
            site, count = re.subn(pattern, lambda _, v=value: v, site)
            assert count == 1, "the documented nginx example has no %r" % pattern
        folder = self.folder
        return f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    # No temporary files: nginx's workers may run as nobody, who cannot enter this folder.
    client_body_temp_path {folder}/client_body;
    client_body_buffer_size 1m;
    proxy_temp_path {folder}/proxy;
    proxy_max_temp_file_size 0;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
"""

    def start(self) -> "Nginx":
        self.make_certificate()
        conf = self.folder / "nginx.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen(
            [
                _executable("nginx"), "-p", str(self.folder), "-c", str(conf),
                "-e", str(self.folder / "error.log"), "-g", "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "nginx.stderr", "w"),
        )  # fmt: skip
        wait_until(self.answers, 10, "nginx answering on %d" % self.port)
        return self

    def answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(
                "nginx exited: %s" % (self.folder / "nginx.stderr").read_text()
                + (self.folder / "error.log").read_text()
            )
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.process = None


def _executable(name: str) -> str:
    """A Debian program (nginx lives in /usr/sbin, which a user's PATH may lack)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError("no %s: run `make test`, which installs Debian's package" % name)
    return found
