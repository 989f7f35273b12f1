"""Fixtures for the browser tests: a real serve.py, three engines, booted pages.

Every browser test runs on each engine (``engine``: Chromium through Playwright;
WebKit through Selenium and WebKitWebDriver, :mod:`tests.browser.webkit`, and
Firefox through Selenium and geckodriver, :mod:`tests.browser.firefox`, both
answering the same Page calls with :mod:`tests.browser.selenium_page`) and each
interpreter (``interpreter``). Tests marked ``chromium_only`` need a Chromium
feature and say which next to the mark. ``--engine chromium|webkit|firefox`` (or
``PYPUSH_ENGINE``) runs one engine.

Booting Pyodide takes seconds, so most tests share one booted page and keep
apart by using fresh clientIds and channels. Tests that need a pristine page
(page.clock installed before navigation, calls made before ready, other
bundles) ask for ``fresh_page`` and pay for a boot of their own.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.firefox import launch_firefox
from tests.browser.page_errors import WATCHER, AllowedErrors, unexpected, watch_browser
from tests.browser.webkit import launch_webkit, virtual_display
from tests.conftest import ENGINES
from tests.support import Channel, PushServer, start_server, stop_server, wait_until

HARNESS_PATH = "/test/harness.html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOOT_TIMEOUT_MS = 60_000


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[PushServer]:
    log_path = tmp_path_factory.mktemp("server") / "serve.log"
    process, base_url = start_server(log_path, "--no-demo-clock")
    yield PushServer(base_url)
    stop_server(process)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright: Playwright, *extra_args: str) -> Browser:
    """Debian's Chromium (never a Playwright download), with the flags this machine needs."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("no `chromium` on PATH: run the README's test command, which installs it")
    return watch_browser(
        playwright.chromium.launch(
            executable_path=executable,
            args=[*CHROMIUM_ARGS, *extra_args],
            headless=os.environ.get("HEADED") != "1",
        )
    )


@pytest.fixture(scope="session", params=ENGINES)
def engine(request) -> str:
    """Every browser test runs on Chromium, WebKit and Firefox (``--engine`` picks one)."""
    return request.param


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) what does not run: other engines, or any but Chromium for
    chromium_only."""
    wanted = config.getoption("--engine")
    keep, drop = [], []
    for item in items:
        engine = getattr(item, "callspec", None) and item.callspec.params.get("engine")
        if engine and (
            (wanted != "all" and engine != wanted)
            or (engine != "chromium" and item.get_closest_marker("chromium_only"))
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def browser(request, engine) -> Iterator[Browser]:
    """The engine's browser: Debian's Chromium, WebKitGTK's MiniBrowser on Xvfb, or
    headless firefox-esr; one for the whole session (its contexts keep tests apart)."""
    if engine == "chromium":
        browser = launch_chromium(request.getfixturevalue("playwright"))
        yield browser
        browser.close()
    elif engine == "webkit":
        with virtual_display():
            browser = watch_browser(launch_webkit())
            yield browser
            browser.close()
    else:
        browser = watch_browser(launch_firefox())
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def page_errors() -> Iterator[AllowedErrors]:
    """A test fails when one of its pages reported an error it did not allow
    (:mod:`tests.browser.page_errors`): ``page_errors.allow(pattern, ...)``."""
    allowed = AllowedErrors()
    yield allowed
    WATCHER.flush()
    reports = unexpected(WATCHER.take(), allowed.patterns)
    if reports:
        pytest.fail(
            "the page reported %d error(s) the test did not expect:\n  %s"
            % (len(reports), "\n  ".join(report[:500] for report in reports)),
            pytrace=False,
        )


class PushPage:
    """A page with the harness loaded, and the calls tests make on it."""

    def __init__(self, page: Page, server: PushServer, interpreter: str = "pyodide") -> None:
        self.page = page
        self.server = server
        self.interpreter = interpreter
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(message.text))

    def open_harness(self, path: str = HARNESS_PATH, wait_ready: bool = True) -> "PushPage":
        """Navigate to one of the test pages on this page's interpreter and wait for Python."""
        separator = "&" if "?" in path else "?"
        self.page.goto(self.server.base_url + path + separator + "interpreter=" + self.interpreter)
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


INTERPRETERS = ("pyodide", "micropython")


@pytest.fixture(scope="session", params=INTERPRETERS)
def interpreter(request) -> str:
    """Every browser test runs on both interpreters (data-interpreter of the loader)."""
    return request.param


@pytest.fixture(scope="session")
def shared_page(browser, server, interpreter) -> Iterator[PushPage]:
    """One booted page for every test that can share it (fresh ids and channels each)."""
    context = browser.new_context()
    push_page = PushPage(context.new_page(), server, interpreter).open_harness()
    yield push_page
    context.close()


@pytest.fixture
def push_page(shared_page) -> Iterator[PushPage]:
    """The shared page; the test's clients are closed afterwards so none lingers."""
    before = set(shared_page.evaluate("Object.keys(window.calls)"))
    errors_before = shared_page.evaluate("window.errors.length")
    shared_page.errors_before = errors_before
    yield shared_page
    for client_id in set(shared_page.evaluate("Object.keys(window.calls)")) - before:
        shared_page.evaluate(
            "(id) => { try { faces.push.close(id); }"
            " catch (e) { if (!e.message.startsWith('Unknown clientId')) throw e; } }",
            client_id,
        )


@pytest.fixture
def fresh_page(browser, server, interpreter) -> Iterator[PushPage]:
    """A new browser context and page, not yet navigated (install a clock first if needed)."""
    context = browser.new_context()
    yield PushPage(context.new_page(), server, interpreter)
    context.close()


@pytest.fixture
def channel(server) -> Channel:
    return server.channel()
