"""Helpers shared by the server and browser tests: a real serve.py and its HTTP API."""

import asyncio
import concurrent.futures
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

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
    """A running ``serve.py`` and its HTTP API."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def request(self, method: str, path: str, data: bytes | None = None) -> dict:
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token is not None:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=10) as response:
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


def start_server(log_path: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """Start ``serve.py`` on a free port with the test pages under /test/ (and ``options``)."""
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
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=15)


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
