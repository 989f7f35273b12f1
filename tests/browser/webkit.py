"""WebKit for the browser tests: the part of Playwright's sync API they use, on Selenium.

Playwright's own WebKit is a patched build it downloads; these tests use Debian's
WebKitGTK instead: ``WebKitWebDriver`` (package webkit2gtk-driver) drives
``MiniBrowser --automation`` (libwebkit2gtk-4.1-0) on an X display, an Xvfb
one unless ``DISPLAY`` works (``scripts/ensure-webkit.sh`` installs all three).
``launch_webkit()`` returns a ``WebKitBrowser`` whose contexts and pages answer
the calls the tests make on Playwright's ``Browser``/``BrowserContext``/``Page``,
with Playwright's semantics, so the same tests run on either engine.

Design:

* A context is its own WebDriver session: its own WebKitWebDriver and MiniBrowser
  process, whose automation session is ephemeral, so cookies, storage, caches
  and the web process are not shared with other contexts, as with Playwright.
  It costs about 0.5-0.9 s to start (a new window in one session: 0.3 s) and
  tests that ask for a new context then boot Python for seconds anyway.
* A page is a window of its context's session. WebDriver talks to one window at
  a time, so every page operation first switches to the page's own handle (under
  the context's lock: the console poller below uses the session too).
* WebKitWebDriver has no log API and no BiDi, and automation sessions are
  private, where WebKit never prints console messages even when asked
  (``--enable-write-console-messages-to-stdout``). So the page records them
  itself: ``PAGE_SUPPORT_JS`` wraps ``console.*`` and records ``error`` and
  ``unhandledrejection`` events. It is injected right after every ``goto``; a test
  page that includes ``/test/console-capture.js`` (the same script, first in
  ``<head>``) is also covered during loading. The lines are drained into the
  ``console``/``pageerror`` callbacks by every ``evaluate`` (in the same round
  trip, so output of the evaluated code is delivered before it returns, as in
  Playwright), by ``wait_for_function`` polls, and by a background poller every
  0.1 s while a page has callbacks.
* ``page.clock`` is @sinonjs/fake-timers (web/node_modules, a devDependency)
  injected into the page. Playwright installs its clock before any page script
  runs; here ``install()`` before ``goto`` is remembered and done right after the
  load event of each ``goto`` (the page's own ``setTimeout`` lookups then go to
  the fake, which is how pypush uses timers; timers set while loading stay real).
  Until ``pause_at`` time flows (in steps of 10 ms, driven by a real interval);
  ``run_for`` fires timers. WebKitWebDriver runs its script timeout on the page's
  current ``setTimeout`` (a paused fake one never fires, ``run_for(60_000)`` fires
  it at once), so sessions have none and ``evaluate`` keeps its own (30 s) on the
  real ``setTimeout``.
* ``add_init_script`` and ``route`` are Playwright (Chromium-only here) features.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import json
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pyvirtualdisplay import Display
from selenium import webdriver
from selenium.common.exceptions import (
    JavascriptException,
    NoSuchWindowException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.command import Command
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

try:  # so ``except playwright.sync_api.Error`` keeps working on WebKit
    from playwright.sync_api import Error as _BaseError
    from playwright.sync_api import TimeoutError as _BaseTimeoutError
except ImportError:  # pragma: no cover
    _BaseError = _BaseTimeoutError = Exception

ROOT = Path(__file__).resolve().parents[2]
FAKE_TIMERS_JS = ROOT / "web" / "node_modules" / "@sinonjs" / "fake-timers" / "src"
FAKE_TIMERS_JS = FAKE_TIMERS_JS / "fake-timers-src.js"
MINIBROWSER_GLOBS = (
    "/usr/lib/*/webkit2gtk-4.1/MiniBrowser",
    "/usr/lib/*/webkitgtk-6.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.1/MiniBrowser",
    "/usr/libexec/webkitgtk-6.0/MiniBrowser",
)
DEFAULT_TIMEOUT_MS = 30_000
CONSOLE_POLL_S = 0.1
HTTP_BACKSTOP_S = 180


class WebKitError(_BaseError):
    """A JavaScript exception or a failed page operation (a playwright.sync_api.Error)."""


class WebKitTimeoutError(_BaseTimeoutError, TimeoutError):
    """A wait ran out (both playwright.sync_api.TimeoutError and the builtin TimeoutError)."""


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


# -- in-page JavaScript -------------------------------------------------------------------

# Records console output and uncaught errors in the page; idempotent. Injected after
# every goto; test pages also include it first in <head> (/test/console-capture.js),
# so output while they load is covered too. It does nothing in Chromium, whose
# console Playwright reads itself.
PAGE_SUPPORT_JS = (ROOT / "tests" / "browser" / "pages" / "console-capture.js").read_text()

_DRAIN_JS = r"""
function __drain() {
  return [window.__consoleLines ? window.__consoleLines.splice(0) : [],
          window.__pageErrors ? window.__pageErrors.splice(0) : []];
}
"""

# Playwright's evaluate: an expression, or a function called with ``arg``; promises
# are awaited; the value comes back JSON-like (undefined -> None, NaN/Infinity kept).
_EVALUATE_JS = (
    _DRAIN_JS
    + r"""
var script = arguments[0], arg = arguments[1], timeoutMs = arguments[2];
var reply = arguments[arguments.length - 1], answered = false;
// The timeout, on the real setTimeout (WebDriver's own would run on page.clock's).
var native = window.__nativeTimers || window;
var timer = native.setTimeout.call(window, function () {
  done({ ok: false, timedOut: true, drained: __drain() });
}, timeoutMs);
function done(answer) {
  if (answered) return;
  answered = true;
  native.clearTimeout.call(window, timer);
  reply(answer);
}
function wire(value, seen) {
  if (value === undefined || typeof value === "function" || typeof value === "symbol") return null;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { __special: "NaN" };
    if (value === Infinity) return { __special: "Infinity" };
    if (value === -Infinity) return { __special: "-Infinity" };
    if (Object.is(value, -0)) return { __special: "-0" };
    return value;
  }
  if (typeof value === "bigint") return { __special: "bigint", value: String(value) };
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return { __special: "date", value: value.toISOString() };
  if (value instanceof Error) {
    return { __special: "error", name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof Node === "function" && value instanceof Node) return null;
  if (seen.indexOf(value) >= 0) return null;
  seen = seen.concat([value]);
  if (Array.isArray(value)) return value.map(function (item) { return wire(item, seen); });
  var out = {};
  Object.keys(value).forEach(function (key) {
    if (key === "__special") return;
    var item = value[key];
    if (item === undefined || typeof item === "function" || typeof item === "symbol") return;
    out[key] = wire(item, seen);
  });
  return out;
}
function fail(error) {
  var e = error instanceof Error
    ? { name: error.name, message: error.message, stack: String(error.stack || "") }
    : { name: "", stack: "",
        message: "Uncaught " + (typeof error === "string" ? error : JSON.stringify(error)) };
  done({ ok: false, error: e, drained: __drain() });
}
try {
  var isExpression = true;
  try { new Function("return (" + script + "\n)"); } catch (e) { isExpression = false; }
  var value = (0, eval)(isExpression ? "(" + script + "\n)" : script);
  if (typeof value === "function") value = value(arg);
  Promise.resolve(value).then(function (result) {
    var wired;
    try { wired = wire(result, []); } catch (e) { fail(e); return; }
    done({ ok: true, value: wired, drained: __drain() });
  }, fail);
} catch (error) {
  fail(error);
}
"""
)

_DRAIN_ONLY_JS = _DRAIN_JS + "return __drain();"

_FAKE_TIMERS_WRAPPER = r"""
(function () {
  if (window.__FakeTimers) return;
  var module = { exports: {} }, exports = module.exports;
  function require(name) {
    if (name === "@sinonjs/commons") return { global: window };
    throw new Error("no module " + name + " in the page");
  }
  %s
  window.__FakeTimers = module.exports;
})();
"""

# Fakes what Playwright's clock fakes: Date, timers, animation and idle callbacks, and
# performance.now (only that method: the rest of ``performance`` stays real). Time flows
# (in 10 ms steps, on a real interval) until pause_at.
_CLOCK_INSTALL_JS = r"""
var now = arguments[0];
if (window.__clock) return false;
window.__nativeTimers = window.__nativeTimers ||
  { setTimeout: window.setTimeout, clearTimeout: window.clearTimeout };
var realPerformanceNow = performance.now.bind(performance);
var offset = realPerformanceNow();
var clock = window.__FakeTimers.withGlobal(window).install({
  now: now === null ? Date.now() : now,
  toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date",
           "requestAnimationFrame", "cancelAnimationFrame", "requestIdleCallback",
           "cancelIdleCallback"],
  ignoreMissingTimers: true,
  shouldClearNativeTimers: true,
  shouldAdvanceTime: true,
  advanceTimeDelta: 10,
  loopLimit: 100000,
});
Object.defineProperty(performance, "now", {
  configurable: true, writable: true,
  value: function now() { return offset + clock.performance.now(); },
});
window.__clock = clock;
return true;
"""


def _revive(value: object) -> object:
    """Undo ``wire``'s tags: NaN, infinities, -0, dates, errors."""
    if isinstance(value, list):
        return [_revive(item) for item in value]
    if not isinstance(value, dict):
        return value
    special = value.get("__special")
    if special is None:
        return {key: _revive(item) for key, item in value.items()}
    if special == "date":
        text = value["value"].replace("Z", "+00:00")
        return datetime.datetime.fromisoformat(text)
    if special == "bigint":
        return int(value["value"])
    if special == "error":
        return _js_error(value)
    return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.get(
        special, -0.0
    )


def _js_error(error: dict, with_name: bool = True) -> WebKitError:
    """A JavaScript error as Python's: "Name: message" (evaluate), or the message (pageerror)."""
    name, message = error.get("name") or "", error.get("message") or ""
    exception = WebKitError(("%s: %s" % (name, message)) if name and with_name else message)
    exception._name = name or None
    exception._stack = error.get("stack") or None
    return exception


# -- console messages ---------------------------------------------------------------------


class ConsoleMessage:
    """What a ``console`` callback gets: ``.text`` and ``.type`` as in Playwright."""

    def __init__(self, type: str, text: str, page: WebKitPage) -> None:
        self.type = type
        self.text = text
        self.page = page
        self.args: list = []
        self.location: dict = {}

    def __repr__(self) -> str:
        return "<ConsoleMessage type=%s text=%r>" % (self.type, self.text)


# -- browser, context, page ---------------------------------------------------------------


def launch_webkit(timeout_ms: int = DEFAULT_TIMEOUT_MS) -> WebKitBrowser:
    """A WebKitBrowser; contexts start on ``DISPLAY``, or on an Xvfb of its own if none works.

    Raises RuntimeError when WebKitWebDriver or MiniBrowser is missing.
    """
    return WebKitBrowser(_webdriver(), _minibrowser(), timeout_ms)


class WebKitBrowser:
    """Playwright's ``Browser`` for WebKitGTK: a factory of contexts (sessions)."""

    def __init__(self, driver_path: str, minibrowser: str, timeout_ms: int) -> None:
        self.driver_path = driver_path
        self.minibrowser = minibrowser
        self.timeout_ms = timeout_ms
        self.contexts: list[WebKitContext] = []
        self._version: str | None = None
        self._display: Display | None = None
        self.env = dict(os.environ)
        if not _display_usable(self.env.get("DISPLAY")):
            # Our own Xvfb, given to our drivers only: os.environ stays as it was.
            self._display = Display(visible=False, size=(1280, 800), manage_global_env=False)
            self._display.start()
            self.env["DISPLAY"] = self._display.new_display_var
        self.env.pop("WAYLAND_DISPLAY", None)  # MiniBrowser on the X display above

    @property
    def version(self) -> str:
        """WebKitGTK's version, e.g. ``2.50.6`` (from the first session)."""
        if self._version is None:
            self.new_context().close()
        return self._version or ""

    @property
    def browser_type_name(self) -> str:
        return "webkit"

    def is_connected(self) -> bool:
        return True

    def new_context(self, **options: object) -> WebKitContext:
        if options:
            raise NotImplementedError("WebKit contexts take no options: %s" % sorted(options))
        context = WebKitContext(self)
        self.contexts.append(context)
        if self._version is None:
            self._version = context.driver.capabilities.get("browserVersion")
        return context

    def new_page(self) -> WebKitPage:
        """A page in a context of its own, closed with the page (as in Playwright)."""
        context = self.new_context()
        page = context.new_page()
        page._owns_context = True
        return page

    def close(self) -> None:
        for context in list(self.contexts):
            context.close()
        if self._display is not None:
            self._display.stop()
            self._display = None

    def __enter__(self) -> WebKitBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WebKitContext:
    """Playwright's ``BrowserContext``: one WebDriver session, one MiniBrowser process."""

    def __init__(self, browser: WebKitBrowser) -> None:
        self.browser = browser
        options = Options()
        options.binary_location = browser.minibrowser
        options.add_argument("--automation")
        started = time.monotonic()
        service = Service(executable_path=browser.driver_path, env=browser.env)
        self.driver = webdriver.WebKitGTK(options=options, service=service)
        self.started_in = time.monotonic() - started
        # No WebDriver script timeout: WebKit runs it on the page's setTimeout, which
        # page.clock fakes (paused: never fires; run_for(60_000): fires at once).
        # _EVALUATE_JS keeps its own, on the real setTimeout.
        self.driver.execute(Command.SET_TIMEOUTS, {"script": None})
        # Selenium waits for WebKitWebDriver's answers for ever by default: a page stuck
        # in a loop would hang the run. Every call here has a shorter timeout of its own.
        self.driver.command_executor.client_config.timeout = HTTP_BACKSTOP_S
        self.lock = threading.RLock()
        self.pages: list[WebKitPage] = []
        self._current: str | None = self.driver.current_window_handle
        self._spare: str | None = self._current  # the session's first window, for page one
        self._closed = False
        self._poller: threading.Thread | None = None

    def new_page(self) -> WebKitPage:
        with self.lock:
            if self._spare is not None:
                handle, self._spare = self._spare, None
            else:
                self.driver.switch_to.new_window("tab")
                handle = self.driver.current_window_handle
            self._current = handle
            page = WebKitPage(self, handle)
            self.pages.append(page)
            return page

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
            # A web process stuck in a script outlives MiniBrowser: end what is left of ours.
            process = self.driver.service.process
            left = _descendants(process.pid) if process is not None else []
            try:
                self.driver.quit()
            except Exception:  # the session may be gone or hung: clean up anyway
                pass
            _kill_survivors(left)
        if self in self.browser.contexts:
            self.browser.contexts.remove(self)

    # Playwright-only context features.
    def add_init_script(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("add_init_script is Chromium-only (a Playwright feature)")

    def route(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("route is Chromium-only (a Playwright feature)")

    def _switch(self, handle: str) -> None:
        if self._current != handle:
            self.driver.switch_to.window(handle)
            self._current = handle

    def _start_poller(self) -> None:
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll, name="webkit-console", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        while not self._closed:
            time.sleep(CONSOLE_POLL_S)
            for page in list(self.pages):
                if page._handlers["console"] or page._handlers["pageerror"]:
                    try:
                        page._drain()
                    except Exception:  # navigating or closing: try again next round
                        if self._closed:
                            return


class WebKitPage:
    """Playwright's ``Page`` on a window of a WebKitContext's session."""

    def __init__(self, context: WebKitContext, handle: str) -> None:
        self.context = context
        self.handle = handle
        self.clock = WebKitClock(self)
        self._handlers: dict[str, list[Callable]] = {"console": [], "pageerror": []}
        self._owns_context = False
        self._closed = False
        self.default_timeout_ms = context.browser.timeout_ms

    # -- plumbing

    @contextlib.contextmanager
    def _session(self) -> Iterator[webdriver.WebKitGTK]:
        """The driver, switched to this page, held for one operation."""
        with self.context.lock:
            if self._closed or self.context._closed:
                raise WebKitError("the page is closed")
            self.context._switch(self.handle)
            yield self.context.driver

    def _deliver(self, drained: list | None) -> None:
        if not drained:
            return
        lines, errors = drained
        for line in lines:
            message = ConsoleMessage(line.get("type", "log"), line.get("text", ""), self)
            for callback in list(self._handlers["console"]):
                callback(message)
        for error in errors:
            exception = _js_error(error, with_name=False)  # as Playwright's: .name, .message
            for callback in list(self._handlers["pageerror"]):
                callback(exception)

    def _drain(self) -> None:
        with self._session() as driver:
            self._deliver(driver.execute_script(_DRAIN_ONLY_JS))

    def _run(self, script: str, arg: object, timeout_ms: float | None) -> dict:
        """One evaluation, its console output delivered; returns the raw answer."""
        with self._session() as driver:
            timeout_ms = self.default_timeout_ms if timeout_ms is None else timeout_ms
            timeout_ms = max(timeout_ms, 1)
            try:
                answer = driver.execute_async_script(_EVALUATE_JS, script, arg, timeout_ms)
            except TimeoutException as error:
                raise WebKitTimeoutError(
                    "Timeout %dms exceeded evaluating %s" % (timeout_ms, _short(script))
                ) from error
            except JavascriptException as error:
                raise WebKitError("evaluating %s: %s" % (_short(script), error.msg)) from error
            if not isinstance(answer, dict):  # the document went away meanwhile
                raise WebKitError("evaluating %s gave no answer: %r" % (_short(script), answer))
            self._deliver(answer.get("drained"))
            if answer.get("timedOut"):
                raise WebKitTimeoutError(
                    "Timeout %dms exceeded evaluating %s" % (timeout_ms, _short(script))
                )
            return answer

    # -- Playwright's Page API

    def on(self, event: str, callback: Callable) -> None:
        """``console`` (ConsoleMessage with .text, .type) and ``pageerror`` (an exception)."""
        if event not in self._handlers:
            raise NotImplementedError(
                "page.on(%r): WebKit pages offer console and pageerror" % event
            )
        self._handlers[event].append(callback)
        self.context._start_poller()

    def remove_listener(self, event: str, callback: Callable) -> None:
        self._handlers[event].remove(callback)

    def set_default_timeout(self, timeout_ms: float) -> None:
        self.default_timeout_ms = timeout_ms

    def goto(self, url: str, timeout: float | None = None, wait_until: str = "load") -> None:
        """Navigate and wait for the load event; then record console output, install a clock."""
        if wait_until != "load":
            raise NotImplementedError("goto waits for load only")
        with self._session() as driver:
            with contextlib.suppress(WebDriverException):
                self._deliver(driver.execute_script(_DRAIN_ONLY_JS))
            driver.set_page_load_timeout((timeout or self.default_timeout_ms) / 1000)
            try:
                driver.get(url)
            except TimeoutException as error:
                raise WebKitTimeoutError("Timeout exceeded navigating to %s" % url) from error
            driver.execute_script(PAGE_SUPPORT_JS)
            self._deliver(driver.execute_script(_DRAIN_ONLY_JS))
            self.clock._after_goto()

    @property
    def url(self) -> str:
        with self._session() as driver:
            return driver.current_url

    def title(self) -> str:
        with self._session() as driver:
            return driver.title

    def content(self) -> str:
        with self._session() as driver:
            return driver.page_source

    def evaluate(self, expression: str, arg: object = None) -> object:
        """Playwright's evaluate: an expression, or a function called with ``arg``.

        Promises are awaited (for up to the default timeout, 30 s); a JavaScript
        exception raises WebKitError with its ``Name: message``.
        """
        answer = self._run(expression, arg, None)
        if not answer.get("ok"):
            raise _js_error(answer.get("error") or {})
        return _revive(answer.get("value"))

    def wait_for_function(
        self,
        expression: str,
        arg: object = None,
        timeout: float | None = None,
        polling: float | str | None = None,
    ) -> object:
        """Poll (from Python, immune to page.clock) until the value, awaited, is truthy."""
        timeout = self.default_timeout_ms if timeout is None else timeout
        interval = polling / 1000 if isinstance(polling, int | float) else 0.02
        deadline = time.monotonic() + timeout / 1000
        while True:
            left_ms = (deadline - time.monotonic()) * 1000
            try:
                answer = self._run(expression, arg, max(left_ms, 1))
            except WebKitTimeoutError:
                answer = None
            if answer is not None:
                if not answer.get("ok"):
                    raise _js_error(answer.get("error") or {})
                value = _revive(answer.get("value"))
                if value:
                    return value
            if time.monotonic() >= deadline:
                raise WebKitTimeoutError(
                    "Timeout %dms exceeded waiting for function %s to be truthy"
                    % (timeout, _short(expression))
                )
            time.sleep(interval)

    def wait_for_timeout(self, timeout: float) -> None:
        time.sleep(timeout / 1000)

    def _element(self, selector: str, timeout: float | None = None):
        """The first element matching the CSS ``selector``, waiting for it as Playwright does."""
        timeout = self.default_timeout_ms if timeout is None else timeout
        deadline = time.monotonic() + timeout / 1000
        while True:
            with self._session() as driver:
                found = driver.find_elements(By.CSS_SELECTOR, selector)
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                raise WebKitTimeoutError(
                    "Timeout %dms exceeded waiting for %s" % (timeout, selector)
                )
            time.sleep(0.05)

    def _property(self, selector: str, name: str, timeout: float | None) -> str | None:
        element = self._element(selector, timeout)
        with self._session() as driver:
            return driver.execute_script("return arguments[0][arguments[1]]", element, name)

    def text_content(self, selector: str, timeout: float | None = None) -> str | None:
        return self._property(selector, "textContent", timeout)

    def inner_text(self, selector: str, timeout: float | None = None) -> str:
        return self._property(selector, "innerText", timeout)

    def inner_html(self, selector: str, timeout: float | None = None) -> str:
        return self._property(selector, "innerHTML", timeout)

    def input_value(self, selector: str, timeout: float | None = None) -> str:
        return self._property(selector, "value", timeout)

    def _retry(self, selector: str, action: Callable, timeout: float | None) -> None:
        """Run ``action(element)`` until it succeeds (visible, enabled, not covered)."""
        timeout = self.default_timeout_ms if timeout is None else timeout
        deadline = time.monotonic() + timeout / 1000
        while True:
            element = self._element(selector, max((deadline - time.monotonic()) * 1000, 1))
            try:
                with self._session():
                    action(element)
                return
            except (JavascriptException, NoSuchWindowException):
                raise
            except WebDriverException as error:
                if time.monotonic() >= deadline:
                    raise WebKitTimeoutError(
                        "Timeout %dms exceeded acting on %s: %s" % (timeout, selector, error.msg)
                    ) from error
                time.sleep(0.05)

    def click(self, selector: str, timeout: float | None = None) -> None:
        self._retry(selector, lambda element: element.click(), timeout)

    def fill(self, selector: str, value: str, timeout: float | None = None) -> None:
        def fill(element) -> None:
            element.clear()
            if value:
                element.send_keys(value)

        self._retry(selector, fill, timeout)

    def press(self, selector: str, key: str, timeout: float | None = None) -> None:
        """Playwright key names ("Enter", "ArrowUp", "Control+a", "x")."""
        *modifiers, last = key.split("+") if key != "+" else ["+"]
        keys = [_key(name) for name in modifiers]

        def press(element) -> None:
            if not keys:
                element.send_keys(_key(last))
                return
            chain = ActionChains(self.context.driver).click(element)
            for modifier in keys:
                chain.key_down(modifier)
            chain.send_keys(_key(last))
            for modifier in reversed(keys):
                chain.key_up(modifier)
            chain.perform()

        self._retry(selector, press, timeout)

    def query_selector_all(self, selector: str) -> list[WebKitElement]:
        with self._session() as driver:
            return [WebKitElement(self, e) for e in driver.find_elements(By.CSS_SELECTOR, selector)]

    def query_selector(self, selector: str) -> WebKitElement | None:
        found = self.query_selector_all(selector)
        return found[0] if found else None

    def locator(self, selector: str) -> WebKitLocator:
        return WebKitLocator(self, selector)

    def close(self) -> None:
        """Close the window (the session's last one is blanked: WebDriver ends with it)."""
        if self._closed:
            return
        if self._owns_context:
            self._closed = True
            self.context.close()
            return
        with self.context.lock:
            driver = self.context.driver
            if len(self.context.pages) > 1:
                self.context._switch(self.handle)
                driver.close()
                self.context._current = None
            else:
                self.context._switch(self.handle)
                driver.get("about:blank")
                self.context._spare = self.handle
            self._closed = True
            self.context.pages.remove(self)

    def is_closed(self) -> bool:
        return self._closed

    # Playwright-only page features.
    def add_init_script(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("add_init_script is Chromium-only (a Playwright feature)")

    def route(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("route is Chromium-only (a Playwright feature)")

    def expose_function(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("expose_function is Chromium-only (a Playwright feature)")


class WebKitElement:
    """An element handle from ``query_selector_all``."""

    def __init__(self, page: WebKitPage, element) -> None:
        self.page = page
        self.element = element

    def _get(self, name: str) -> object:
        with self.page._session() as driver:
            return driver.execute_script("return arguments[0][arguments[1]]", self.element, name)

    def text_content(self) -> str | None:
        return self._get("textContent")

    def inner_text(self) -> str:
        return self._get("innerText")

    def get_attribute(self, name: str) -> str | None:
        with self.page._session():
            return self.element.get_attribute(name)

    def click(self) -> None:
        with self.page._session():
            self.element.click()


class WebKitLocator:
    """Just enough of Playwright's Locator: count, the first element's texts, click."""

    def __init__(self, page: WebKitPage, selector: str) -> None:
        self.page = page
        self.selector = selector

    def count(self) -> int:
        return len(self.page.query_selector_all(self.selector))

    def all_text_contents(self) -> list[str]:
        return [e.text_content() for e in self.page.query_selector_all(self.selector)]

    def all_inner_texts(self) -> list[str]:
        return [e.inner_text() for e in self.page.query_selector_all(self.selector)]

    def text_content(self, timeout: float | None = None) -> str | None:
        return self.page.text_content(self.selector, timeout)

    def inner_text(self, timeout: float | None = None) -> str:
        return self.page.inner_text(self.selector, timeout)

    def click(self, timeout: float | None = None) -> None:
        self.page.click(self.selector, timeout)


# -- page.clock ---------------------------------------------------------------------------


class WebKitClock:
    """Playwright's ``page.clock`` on @sinonjs/fake-timers (see the module docstring)."""

    def __init__(self, page: WebKitPage) -> None:
        self.page = page
        self._requested = False
        self._start: float | None = None
        self._source: str | None = None

    def install(self, time: float | datetime.datetime | None = None) -> None:
        """Fake Date, timers and performance.now from the next ``goto`` on (now if loaded)."""
        self._requested = True
        self._start = None if time is None else _epoch_ms(time)
        with self.page._session() as driver:
            loaded = driver.execute_script("return location.protocol !== 'about:'")
        if loaded:
            self._install()

    def _after_goto(self) -> None:
        if self._requested:
            self._install()

    def _install(self) -> None:
        if self._source is None:
            self._source = _FAKE_TIMERS_WRAPPER % FAKE_TIMERS_JS.read_text(encoding="utf-8")
        with self.page._session() as driver:
            driver.execute_script(self._source)
            driver.execute_script(_CLOCK_INSTALL_JS, self._start)

    def _call(self, body: str, *args: object) -> object:
        """Run ``body`` (a function of ``clock`` and ``args``) in the page, awaiting it."""
        if not self._requested:
            raise WebKitError("call page.clock.install() first")
        script = (
            "(args) => { var clock = window.__clock;"
            " if (!clock) throw new Error('page.clock is not installed in this document');"
            " return (%s)(clock, args); }" % body
        )
        return self.page.evaluate(script, list(args))

    def pause_at(self, time: float | datetime.datetime) -> None:
        """Jump to ``time`` (epoch ms), firing due timers at most once; time stops flowing."""
        self._call(
            "(clock, [to]) => { clock.setTickMode({ mode: 'manual' });"
            " if (to < clock.now) throw new Error('Cannot pause at ' + to + ': the clock is at '"
            " + clock.now + ', time only moves forward');"
            " clock.jump(to - clock.now); }",
            _epoch_ms(time),
        )

    def run_for(self, ticks: float | str) -> None:
        """Advance page time by ``ticks`` ms (or "mm:ss"), firing every timer due."""
        self._call("(clock, [ms]) => clock.tickAsync(ms).then(() => null)", ticks)

    def fast_forward(self, ticks: float | str) -> None:
        """Jump ahead, firing due timers at most once."""
        self._call("(clock, [ms]) => { clock.jump(ms); }", ticks)

    def resume(self) -> None:
        """Let time flow again (in 10 ms steps)."""
        self._call("(clock) => { clock.setTickMode({ mode: 'interval', delta: 10 }); }")

    def set_system_time(self, time: float | datetime.datetime) -> None:
        """Change Date.now without firing timers."""
        self._call("(clock, [to]) => { clock.setSystemTime(to); }", _epoch_ms(time))

    def set_fixed_time(self, time: float | datetime.datetime) -> None:
        raise NotImplementedError("clock.set_fixed_time is Chromium-only here")


# -- helpers ------------------------------------------------------------------------------


def _descendants(pid: int) -> list[tuple[int, bytes]]:
    """The processes under ``pid`` (Linux /proc), each with its command line."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, "rb") as stat:
                    parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        with contextlib.suppress(OSError):
            with open("/proc/%d/cmdline" % child, "rb") as cmdline:
                found.append((child, cmdline.read()))
        todo += children.get(child, [])
    return found


def _kill_survivors(processes: list[tuple[int, bytes]], grace_s: float = 2.0) -> None:
    """SIGKILL those of ``processes`` still running (same pid and command line) after a grace."""
    deadline = time.monotonic() + grace_s
    while True:
        alive = []
        for pid, cmdline in processes:
            with contextlib.suppress(OSError):
                with open("/proc/%d/cmdline" % pid, "rb") as current:
                    if current.read() == cmdline and cmdline:  # zombies have none
                        alive.append((pid, cmdline))
        if not alive:
            return
        if time.monotonic() >= deadline:
            for pid, _ in alive:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.1)


def _epoch_ms(value: float | datetime.datetime) -> float:
    if isinstance(value, datetime.datetime):
        return value.timestamp() * 1000
    return float(value)


def _short(script: str) -> str:
    script = " ".join(script.split())
    return json.dumps(script if len(script) <= 120 else script[:117] + "...")


_KEYS = {
    "Enter": Keys.ENTER,
    "Tab": Keys.TAB,
    "Escape": Keys.ESCAPE,
    "Backspace": Keys.BACKSPACE,
    "Delete": Keys.DELETE,
    "ArrowUp": Keys.ARROW_UP,
    "ArrowDown": Keys.ARROW_DOWN,
    "ArrowLeft": Keys.ARROW_LEFT,
    "ArrowRight": Keys.ARROW_RIGHT,
    "Home": Keys.HOME,
    "End": Keys.END,
    "PageUp": Keys.PAGE_UP,
    "PageDown": Keys.PAGE_DOWN,
    "Space": Keys.SPACE,
    "Shift": Keys.SHIFT,
    "Control": Keys.CONTROL,
    "Alt": Keys.ALT,
    "Meta": Keys.META,
}


def _key(name: str) -> str:
    if name in _KEYS:
        return _KEYS[name]
    if len(name) == 1:
        return name
    raise NotImplementedError("press(%r): no such key here" % name)
