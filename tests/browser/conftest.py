"""Fixtures for the browser tests: a real serve.py, the system Chromium, booted pages.

Booting Pyodide takes seconds, so most tests share one booted page and keep
apart by using fresh clientIds and channels. Tests that need a pristine page
(page.clock installed before navigation, calls made before ready, other
bundles) ask for ``fresh_page`` and pay for a boot of their own.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).parent / "pages"
HARNESS_PATH = "/test/harness.html"  # PAGES is served under /test/
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOOT_TIMEOUT_MS = 60_000


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

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method: str, path: str, data: bytes | None = None) -> dict:
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.loads(response.read())

    def post(self, path: str, body: object, raw: bool = False) -> dict:
        data = body.encode() if raw else json.dumps(body).encode()
        return self.request("POST", path, data)

    def channel(self) -> Channel:
        """A channel no other test uses, with a fresh channelId."""
        name = "t-" + uuid.uuid4().hex[:10]
        return Channel(self, self.post("/api/channels", {"channel": name}))


def start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
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


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[PushServer]:
    process, base_url = start_server(tmp_path_factory.mktemp("server") / "serve.log")
    yield PushServer(base_url)
    stop_server(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("no `chromium` on PATH: run the README's test command, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=os.environ.get("HEADED") != "1"
        )
        yield browser
        browser.close()


class PushPage:
    """A page with the harness loaded, and the calls tests make on it."""

    def __init__(self, page: Page, server: PushServer) -> None:
        self.page = page
        self.server = server
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))

    def open_harness(self, path: str = HARNESS_PATH, wait_ready: bool = True) -> "PushPage":
        """Navigate to one of the test pages (or any URL path) and wait for Python."""
        self.page.goto(self.server.base_url + path)
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        self.page.wait_for_function(
            "window.pypush && pypush.ready.then(() => true)", timeout=BOOT_TIMEOUT_MS
        )

    def evaluate(self, script: str, arg: object = None) -> object:
        return self.page.evaluate(script, arg)

    def init(
        self,
        client_id: str,
        channel: Channel,
        autoconnect: bool = True,
        behaviors: str = "null",
    ) -> None:
        """faces.push.init with recording callbacks; ``behaviors`` is JavaScript source."""
        self.page.evaluate(
            "([id, url, ch, auto]) => initRecorded(id, url, ch, %s, auto)" % behaviors,
            [client_id, channel.url, channel.name, autoconnect],
        )

    def calls(self, client_id: str) -> list[list]:
        return self.page.evaluate("(id) => window.calls[id] || []", client_id)

    def kinds(self, client_id: str) -> list[str]:
        return [call[0] for call in self.calls(client_id)]

    def wait_for(self, client_id: str, kind: str, count: int = 1, timeout: float = 10.0) -> list:
        def enough() -> list | None:
            found = [c for c in self.calls(client_id) if c[0] == kind]
            return found if len(found) >= count else None

        return wait_until(enough, timeout, "%d %s call(s) on %s" % (count, kind, client_id))

    def state(self, client_id: str) -> str:
        return self.page.evaluate("(id) => pypush.state(id)", client_id)


@pytest.fixture(scope="session")
def shared_page(browser, server) -> Iterator[PushPage]:
    """One booted page for every test that can share it (fresh ids and channels each)."""
    context = browser.new_context()
    push_page = PushPage(context.new_page(), server).open_harness()
    yield push_page
    context.close()


@pytest.fixture
def push_page(shared_page) -> Iterator[PushPage]:
    """The shared page; the test's clients are closed afterwards so none lingers."""
    before = set(shared_page.evaluate("Object.keys(window.calls)"))
    errors_before = len(shared_page.evaluate("window.errors"))
    shared_page.errors_before = errors_before
    yield shared_page
    for client_id in set(shared_page.evaluate("Object.keys(window.calls)")) - before:
        shared_page.evaluate(
            "(id) => { try { faces.push.close(id); }"
            " catch (e) { if (!e.message.startsWith('Unknown clientId')) throw e; } }",
            client_id,
        )


@pytest.fixture
def fresh_page(browser, server) -> Iterator[PushPage]:
    """A new browser context and page, not yet navigated (install a clock first if needed)."""
    context = browser.new_context()
    yield PushPage(context.new_page(), server)
    context.close()


@pytest.fixture
def channel(server) -> Channel:
    return server.channel()
