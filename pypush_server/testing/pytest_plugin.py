"""pytest fixtures for testing pages that use faces.push (registered as the ``pypush`` plugin).

Installing pypush with its ``test`` extra makes these available in any project:

- ``push_server``: the real push server, in-process on a free port
  (:class:`pypush_server.testing.PushTestServer`); session-scoped unless
  ``--pypush-server-scope=function`` or the ini option ``pypush_server_scope``
  says otherwise.
- ``push_browser``: a Chromium launched by Playwright (the ``chromium`` on
  PATH when there is one, else ``--pypush-chromium PATH``, else Playwright's own).
- ``push_page``: a fresh page of ``push_browser`` with the bundle loaded and
  ``window.pypush.ready`` awaited, wrapped in a :class:`PushPage`.

For pytest-playwright users, :func:`open_push_page` and :func:`record_push`
work on any Playwright page, such as pytest-playwright's ``page`` fixture.
"""

import json
import shutil
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported lazily: every pytest run of a project with pypush loads this
    from pypush_server.testing import PushChannel, PushTestServer

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The first Chromium on PATH by :data:`CHROMIUM_NAMES`; None lets Playwright choose."""
    return next(filter(None, (shutil.which(name) for name in CHROMIUM_NAMES)), None)


CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_RECORDER_JS = """
(() => {
  if (window.__pypushRecord) return;
  const describe = (value) => (value instanceof Event)
    ? { type: value.type, code: value.code, reason: value.reason } : value;
  window.__pypushRecordings = {};
  window.__pypushRecord = (clientId, url, channel, behaviors, autoconnect) => {
    const calls = (window.__pypushRecordings[clientId] = []);
    const entry = (kind) => function () {
      calls.push({ kind: kind, args: Array.prototype.map.call(arguments, describe) });
    };
    const actions = {};
    for (const [message, names] of Object.entries(behaviors || {})) {
      actions[message] = names.map((name) => entry('behavior:' + name));
    }
    faces.push.init(clientId, url, channel, entry('open'), entry('message'), entry('error'),
                    entry('close'), actions, autoconnect);
  };
})()
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pypush", "pypush push server fixtures")
    group.addoption(
        "--pypush-server-scope",
        choices=("session", "function"),
        default=None,
        help="scope of the push_server fixture (default: the ini option, else session)",
    )
    group.addoption(
        "--pypush-chromium",
        default=None,
        metavar="PATH",
        help="Chromium executable for push_browser (default: chromium on PATH)",
    )
    parser.addini(
        "pypush_server_scope", "scope of the push_server fixture: session or function", default=""
    )


def _server_scope(fixture_name: str, config: pytest.Config) -> str:
    scope = config.getoption("--pypush-server-scope") or config.getini("pypush_server_scope")
    if scope not in ("", "session", "function"):
        raise pytest.UsageError("pypush_server_scope must be session or function, not %r" % scope)
    return scope or "session"


@pytest.fixture(scope=_server_scope)
def push_server() -> Iterator["PushTestServer"]:
    """The push server, in-process on a free loopback port; stopped cleanly afterwards."""
    from pypush_server.testing import PushTestServer

    with PushTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def push_browser(pytestconfig: pytest.Config):
    """A headless Chromium driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    executable = pytestconfig.getoption("--pypush-chromium") or find_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def push_page(push_browser, push_server) -> Iterator["PushPage"]:
    """A fresh page with faces-push.js loaded and Python ready."""
    context = push_browser.new_context()
    page = context.new_page()
    open_push_page(page, push_server)
    yield PushPage(page, push_server)
    context.close()


def open_push_page(page, server: "PushTestServer", url: str | None = None):
    """Navigate ``page`` to ``url`` (default: a blank page with the bundle) and await ready.

    Raises with pypush's own message if Python could not start.
    """
    page.goto(url or server.blank_page_url)
    page.evaluate("window.pypush.ready.then(() => true)")
    return page


def record_push(
    page,
    client_id: str,
    channel: "PushChannel",
    behaviors: dict[str, list[str]] | None = None,
    autoconnect: bool = True,
) -> "Recording":
    """``faces.push.init`` on ``page`` with callbacks that record every call.

    ``behaviors`` maps a message to names; each named behavior is recorded as a
    call of kind ``behavior:NAME`` when that message arrives.
    """
    page.evaluate(_RECORDER_JS)
    page.evaluate(
        "([id, url, ch, behaviors, auto]) => window.__pypushRecord(id, url, ch, behaviors, auto)",
        [client_id, channel.url, channel.name, behaviors or {}, autoconnect],
    )
    return Recording(page, client_id)


class Recording:
    """The faces.push callbacks one client received, as ``{"kind", "args"}`` dicts."""

    def __init__(self, page, client_id: str) -> None:
        self.page = page
        self.client_id = client_id

    @property
    def calls(self) -> list[dict]:
        return self.page.evaluate("(id) => window.__pypushRecordings[id]", self.client_id)

    def kinds(self) -> list[str]:
        """The kinds in order: ``open``, ``message``, ``error``, ``close``, ``behavior:NAME``."""
        return [call["kind"] for call in self.calls]

    def messages(self) -> list:
        """The messages received, as JSON values."""
        return [call["args"][0] for call in self.calls if call["kind"] == "message"]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """Wait until ``count`` calls of ``kind`` arrived; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [call for call in self.calls if call["kind"] == kind]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    "timed out after %g s waiting for %d %s call(s) of %s; got %s"
                    % (timeout, count, kind, self.client_id, json.dumps(self.kinds()))
                )
            time.sleep(0.02)

    def state(self) -> str:
        """``idle``, ``connecting``, ``open``, ``waiting`` or ``closing``."""
        return self.page.evaluate("(id) => pypush.state(id)", self.client_id)

    def open(self) -> None:
        self.page.evaluate("(id) => faces.push.open(id)", self.client_id)

    def close(self) -> None:
        self.page.evaluate("(id) => faces.push.close(id)", self.client_id)


class PushPage:
    """A Playwright page with pypush ready, and the server it talks to."""

    def __init__(self, page, server: "PushTestServer") -> None:
        self.page = page
        self.server = server

    def record(
        self,
        client_id: str,
        channel: "PushChannel",
        behaviors: dict[str, list[str]] | None = None,
        autoconnect: bool = True,
    ) -> Recording:
        """See :func:`record_push`."""
        return record_push(self.page, client_id, channel, behaviors, autoconnect)
