"""WebKit for the browser tests: Debian's WebKitGTK through Selenium and WebKitWebDriver.

Playwright's own WebKit is a patched build it downloads; these tests use Debian's
WebKitGTK instead: ``WebKitWebDriver`` (package webkit2gtk-driver) drives
``MiniBrowser --automation`` (libwebkit2gtk-4.1-0) on an X display, an Xvfb
one unless ``DISPLAY`` works (``scripts/ensure-webkit.sh`` installs all three).
``launch_webkit()`` returns a ``WebKitBrowser``; the Playwright-like Page it hands
out is :mod:`tests.browser.selenium_page`'s. What is WebKit's own:

* A context is its own WebDriver session: its own WebKitWebDriver and MiniBrowser
  process, whose automation session is ephemeral, so cookies, storage, caches
  and the web process are not shared with other contexts, as with Playwright.
  It costs about 0.5-0.9 s to start (a new window in one session: 0.3 s) and
  tests that ask for a new context then boot Python for seconds anyway. Its first
  page takes the session's first window; closing the last page blanks its window
  (WebDriver ends the session with its last window).
* WebKitWebDriver has no log API and no BiDi, and automation sessions are private,
  where WebKit never prints console messages even when asked
  (``--enable-write-console-messages-to-stdout``); nothing runs before a page's
  own scripts either. So console capture is injected after every ``goto`` (and
  included by the test pages), and ``page.clock`` is installed after the load
  event (see :mod:`tests.browser.selenium_page`).
* WebKit runs WebDriver's script timeout on the page's current ``setTimeout``,
  which page.clock fakes: sessions have none.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
from collections.abc import Iterator

from pyvirtualdisplay import Display
from selenium import webdriver
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

from tests.browser.selenium_page import (
    DEFAULT_TIMEOUT_MS,
    SeleniumBrowser,
    SeleniumContext,
    SeleniumPage,
    Session,
    start_driver,
)

MINIBROWSER_GLOBS = (
    "/usr/lib/*/webkit2gtk-4.1/MiniBrowser",
    "/usr/lib/*/webkitgtk-6.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.1/MiniBrowser",
    "/usr/libexec/webkitgtk-6.0/MiniBrowser",
)


# -- display ------------------------------------------------------------------------------


def _display_usable(display: str | None) -> bool:
    """Whether an X server answers on ``display`` (":N", "host:N" or a socket path)."""
    if not display:
        return False
    host, _, number = display.rpartition(":")
    number = number.split(".", 1)[0]
    try:
        if host.startswith("/"):  # launchd-style socket path
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(1)
                probe.connect(host + ":" + number)
        elif host in ("", "unix"):
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(1)
                probe.connect("/tmp/.X11-unix/X%d" % int(number))
        else:
            with socket.create_connection((host, 6000 + int(number)), timeout=1):
                pass
    except (OSError, ValueError):
        return False
    return True


@contextlib.contextmanager
def virtual_display() -> Iterator[str]:
    """Use ``DISPLAY`` if an X server answers there, else run Xvfb (1280x800) meanwhile.

    Yields the display in use; Xvfb's ``DISPLAY`` is set in ``os.environ`` while it runs.
    """
    if _display_usable(os.environ.get("DISPLAY")):
        yield os.environ["DISPLAY"]
        return
    display = Display(visible=False, size=(1280, 800))
    display.start()
    try:
        yield os.environ["DISPLAY"]
    finally:
        display.stop()


# -- paths --------------------------------------------------------------------------------


def _minibrowser() -> str:
    override = os.environ.get("WEBKIT_MINIBROWSER")
    for pattern in (override, *MINIBROWSER_GLOBS) if override else MINIBROWSER_GLOBS:
        for path in sorted(glob.glob(pattern)):
            if os.access(path, os.X_OK):
                return path
    raise RuntimeError(
        "no WebKitGTK MiniBrowser (libwebkit2gtk-4.1-0): run scripts/ensure-webkit.sh"
    )


def _webdriver() -> str:
    path = shutil.which("WebKitWebDriver")
    if path is None:
        raise RuntimeError("no WebKitWebDriver (webkit2gtk-driver): run scripts/ensure-webkit.sh")
    return path


# -- browser, context ---------------------------------------------------------------------


def launch_webkit(timeout_ms: int = DEFAULT_TIMEOUT_MS) -> WebKitBrowser:
    """A WebKitBrowser; contexts start on ``DISPLAY``, or on an Xvfb of its own if none works.

    Raises RuntimeError when WebKitWebDriver or MiniBrowser is missing.
    """
    return WebKitBrowser(_webdriver(), _minibrowser(), timeout_ms)


class WebKitBrowser(SeleniumBrowser):
    """Playwright's ``Browser`` for WebKitGTK: a factory of contexts (sessions)."""

    engine = "webkit"

    def __init__(self, driver_path: str, minibrowser: str, timeout_ms: int) -> None:
        super().__init__(timeout_ms)
        self.driver_path = driver_path
        self.minibrowser = minibrowser
        self._display: Display | None = None
        self.env = dict(os.environ)
        if not _display_usable(self.env.get("DISPLAY")):
            # Our own Xvfb, given to our drivers only: os.environ stays as it was.
            self._display = Display(visible=False, size=(1280, 800), manage_global_env=False)
            self._display.start()
            self.env["DISPLAY"] = self._display.new_display_var
        self.env.pop("WAYLAND_DISPLAY", None)  # MiniBrowser on the X display above

    def _new_context(self, ignore_https_errors: bool = False) -> WebKitContext:
        return WebKitContext(self, ignore_https_errors)

    def close(self) -> None:
        super().close()
        if self._display is not None:
            self._display.stop()
            self._display = None


class WebKitContext(SeleniumContext):
    """Playwright's ``BrowserContext``: one WebDriver session, one MiniBrowser process."""

    page_class = SeleniumPage

    def __init__(self, browser: WebKitBrowser, ignore_https_errors: bool = False) -> None:
        options = Options()
        options.binary_location = browser.minibrowser
        options.add_argument("--automation")
        options.accept_insecure_certs = ignore_https_errors  # a session is a context here
        driver = start_driver(
            lambda: Service(executable_path=browser.driver_path, env=browser.env),
            lambda service: webdriver.WebKitGTK(options=options, service=service),
        )
        super().__init__(browser, Session(driver))
        self._spare: str | None = self.session.current  # the first window, for page one

    def _open_window(self) -> str:
        if self._spare is not None:
            handle, self._spare = self._spare, None
            return handle
        driver = self.session.driver
        driver.switch_to.new_window("tab")
        self.session.current = driver.current_window_handle
        return self.session.current

    def _close_window(self, page: SeleniumPage) -> None:
        self.session.switch(page.handle)
        if len(self.pages) > 1:
            self.session.driver.close()
            self.session.current = None
        else:  # the session's last window: WebDriver would end the session with it
            self.session.driver.get("about:blank")
            self._spare = page.handle

    def _end(self) -> None:
        self.session.quit()
