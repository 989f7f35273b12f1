"""Playwright's Page on Selenium: the part of Playwright's sync API the browser tests use.

The browser tests are written against Playwright's ``Browser``/``BrowserContext``/
``Page`` (Chromium runs them through Playwright itself). WebKitGTK and Firefox are
driven through Selenium instead: this module answers the same calls, with
Playwright's semantics, on any Selenium WebDriver session, and the engine modules
(:mod:`tests.browser.webkit`, :mod:`tests.browser.firefox`) add only what differs:
how a session starts, what a context is, how a window opens and closes, and what
can run before a page's own scripts.

Design:

* A ``Session`` is one WebDriver session. WebDriver talks to one window at a
  time, so every page operation takes the session's lock and first switches to
  the page's own window (the console poller below uses the session too).
* Engines map contexts onto sessions: WebKit gives each context a session of its
  own (its own MiniBrowser); Firefox shares one session among contexts, each a
  WebDriver BiDi user context (cookies, storage and cache apart).
* ``evaluate`` runs the script in the page's own realm, with the page's globals
  (``Error``, ``WebSocket``...), as Playwright does: the WebDriver script around
  it names the page's window and evaluates through the page's ``eval``, since
  Firefox runs WebDriver scripts in a sandbox realm of their own (WebKit runs them
  in the page's). Values come back JSON-like (undefined -> None, NaN, infinities,
  -0, dates and errors kept).
* Console output and uncaught errors are recorded by the page itself:
  ``PAGE_SUPPORT_JS`` (``/test/console-capture.js``) wraps ``console.*`` and
  records ``error`` and ``unhandledrejection`` events. Engines that can run a
  script before the page's own (Firefox, through BiDi preload scripts) run it
  first in every document; otherwise it is injected right after every ``goto``,
  and test pages include it first in ``<head>`` so that loading is covered too.
  The lines are drained into the ``console``/``pageerror`` callbacks by every
  ``evaluate`` (in the same round trip, so output of the evaluated code is
  delivered before it returns, as in Playwright), by ``wait_for_function`` polls,
  and by a background poller every 0.1 s while a page has callbacks.
* ``page.clock`` is @sinonjs/fake-timers (web/node_modules, a devDependency)
  injected into the page. Playwright installs its clock before any page script
  runs. Engines that can preload do the same; otherwise ``install()`` before
  ``goto`` is remembered and done right after the load event of each ``goto``
  (the page's own ``setTimeout`` lookups then go to the fake, which is how pypush
  uses timers; timers set while loading stay real). Until ``pause_at`` time flows
  (in steps of 10 ms, driven by a real interval); ``run_for`` fires timers.
  Sessions have no WebDriver script timeout unless the engine needs a backstop
  (WebKit runs it on the page's current ``setTimeout``: a paused fake one never
  fires, ``run_for(60_000)`` fires it at once); ``evaluate`` keeps its own (30 s)
  on the real ``setTimeout``.
* ``add_init_script`` and ``route`` are Playwright (Chromium-only here) features.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from selenium.webdriver.remote.webdriver import WebDriver

from pypush_server.testing.processes import descendants

try:  # so ``except playwright.sync_api.Error`` keeps working on these engines
    from playwright.sync_api import Error as _BaseError
    from playwright.sync_api import TimeoutError as _BaseTimeoutError
except ImportError:  # pragma: no cover
    _BaseError = _BaseTimeoutError = Exception

ROOT = Path(__file__).resolve().parents[2]
FAKE_TIMERS_JS = ROOT / "web" / "node_modules" / "@sinonjs" / "fake-timers" / "src"
FAKE_TIMERS_JS = FAKE_TIMERS_JS / "fake-timers-src.js"
DEFAULT_TIMEOUT_MS = 30_000
CONSOLE_POLL_S = 0.1
HTTP_BACKSTOP_S = 180
SCRIPT_BACKSTOP_S = 150  # above any evaluate's own timeout, below HTTP_BACKSTOP_S
SESSION_START_S = 60  # a session starts in 1 to 3 s here, 10 s on a busy machine


class PageError(_BaseError):
    """A JavaScript exception or a failed page operation (a playwright.sync_api.Error)."""


class PageTimeoutError(_BaseTimeoutError, TimeoutError):
    """A wait ran out (both playwright.sync_api.TimeoutError and the builtin TimeoutError)."""


# -- in-page JavaScript -------------------------------------------------------------------

# Records console output and uncaught errors in the page; idempotent. Run first in every
# document where the engine can preload, else injected after every goto; test pages also
# include it first in <head> (/test/console-capture.js), so output while they load is
# covered there too. It does nothing in Chromium, whose console Playwright reads itself.
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
// The script runs in the page's own realm (its eval, Error, Array, WebSocket...), as in
// Playwright. WebKit runs WebDriver scripts there; Firefox runs them in a sandbox realm
// whose globals are not the page's, so this code names the page's as ``page``, copies
// ``arg`` into the page's realm and recognises values of either realm.
var page = window;
if (arg !== null && typeof arg === "object" && page.JSON !== JSON) {
  arg = page.JSON.parse(JSON.stringify(arg));
}
function isError(value) { return value instanceof page.Error || value instanceof Error; }
function isDate(value) { return value instanceof page.Date || value instanceof Date; }
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
// geckodriver refuses a lone surrogate in a script's answer (its JSON parser is strict):
// strings travel with each one spelled out as the text \uXXXX instead.
function wellFormed(text) {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])([\udc00-\udfff])/g,
    function (match, before, low) {
      var unit = low || match;
      return (before || "") + "\\u" + unit.charCodeAt(0).toString(16);
    });
}
function wire(value, seen) {
  if (typeof value === "string") return wellFormed(value);
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
  if (isDate(value)) return { __special: "date", value: value.toISOString() };
  if (isError(value)) {
    return { __special: "error", name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof page.Node === "function" && value instanceof page.Node) return null;
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
  var e = isError(error)
    ? { name: error.name, message: error.message, stack: String(error.stack || "") }
    : { name: "", stack: "",
        message: "Uncaught " + (typeof error === "string" ? error : JSON.stringify(error)) };
  done({ ok: false, error: e, drained: __drain() });
}
try {
  var isExpression = true;
  try { new page.Function("return (" + script + "\n)"); } catch (e) { isExpression = false; }
  var value = (0, page.eval)(isExpression ? "(" + script + "\n)" : script);
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


def _js_error(error: dict, with_name: bool = True) -> PageError:
    """A JavaScript error as Python's: "Name: message" (evaluate), or the message (pageerror)."""
    name, message = error.get("name") or "", error.get("message") or ""
    exception = PageError(("%s: %s" % (name, message)) if name and with_name else message)
    exception._name = name or None
    exception._stack = error.get("stack") or None
    return exception


# -- console messages ---------------------------------------------------------------------


class ConsoleMessage:
    """What a ``console`` callback gets: ``.text`` and ``.type`` as in Playwright."""

    def __init__(self, type: str, text: str, page: SeleniumPage) -> None:
        self.type = type
        self.text = text
        self.page = page
        self.args: list = []
        self.location: dict = {}

    def __repr__(self) -> str:
        return "<ConsoleMessage type=%s text=%r>" % (self.type, self.text)


# -- session, browser, context ------------------------------------------------------------


class Session:
    """One WebDriver session: its driver, used by one operation at a time, on one window."""

    def __init__(self, driver: WebDriver, script_timeout_s: float | None = None) -> None:
        self.driver = driver
        # No WebDriver script timeout by default (see the module docstring): _EVALUATE_JS
        # keeps its own, on the real setTimeout. An engine may need a backstop instead.
        timeout_ms = None if script_timeout_s is None else round(script_timeout_s * 1000)
        driver.execute(Command.SET_TIMEOUTS, {"script": timeout_ms})
        # Selenium waits for the driver's answers for ever by default: a page stuck in a
        # loop would hang the run. Every call here has a shorter timeout of its own.
        driver.command_executor.client_config.timeout = HTTP_BACKSTOP_S
        self.lock = threading.RLock()
        self.pages: list[SeleniumPage] = []
        self.current: str | None = driver.current_window_handle
        self.closed = False
        self._poller: threading.Thread | None = None

    def switch(self, handle: str) -> None:
        if self.current != handle:
            self.driver.switch_to.window(handle)
            self.current = handle

    def start_poller(self) -> None:
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll, name="page-console", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        while not self.closed:
            time.sleep(CONSOLE_POLL_S)
            for page in list(self.pages):
                if page._handlers["console"] or page._handlers["pageerror"]:
                    try:
                        page._drain()
                    except Exception:  # navigating or closing: try again next round
                        if self.closed:
                            return

    def quit(self) -> None:
        """End the session, and whatever its driver started that outlives it."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            # A browser process stuck in a script can outlive the session: end what is
            # left of ours.
            process = self.driver.service.process
            left = descendants(process.pid) if process is not None else []
            try:
                self.driver.quit()
            except Exception:  # the session may be gone or hung: clean up anyway
                pass
            _kill_survivors(left)


class SeleniumBrowser:
    """Playwright's ``Browser``: a factory of contexts. Engines define ``_new_context``."""

    engine = ""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self.contexts: list[SeleniumContext] = []
        self._version: str | None = None

    def _new_context(self, ignore_https_errors: bool = False) -> SeleniumContext:
        """A new context; ``ignore_https_errors``: accept any certificate (WebDriver's
        ``acceptInsecureCerts``), as Playwright's option of that name does."""
        raise NotImplementedError

    @property
    def version(self) -> str:
        """The engine's version, e.g. ``2.50.6`` (from the first session)."""
        if self._version is None:
            self.new_context().close()
        return self._version or ""

    @property
    def browser_type_name(self) -> str:
        return self.engine

    def is_connected(self) -> bool:
        return True

    def new_context(self, ignore_https_errors: bool = False, **options: object) -> SeleniumContext:
        if options:
            raise NotImplementedError(
                "%s contexts take no options but ignore_https_errors: %s"
                % (self.engine, sorted(options))
            )
        context = self._new_context(ignore_https_errors)
        self.contexts.append(context)
        if self._version is None:
            self._version = context.session.driver.capabilities.get("browserVersion")
        return context

    def new_page(self) -> SeleniumPage:
        """A page in a context of its own, closed with the page (as in Playwright)."""
        context = self.new_context()
        page = context.new_page()
        page._owns_context = True
        return page

    def close(self) -> None:
        for context in list(self.contexts):
            context.close()

    def __enter__(self) -> SeleniumBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SeleniumContext:
    """Playwright's ``BrowserContext`` on a session. Engines open and close its windows."""

    page_class: type[SeleniumPage]

    def __init__(self, browser: SeleniumBrowser, session: Session) -> None:
        self.browser = browser
        self.session = session
        self.pages: list[SeleniumPage] = []
        self.closed = False

    def _open_window(self) -> str:
        """A new window for a page, its handle (under the session's lock)."""
        raise NotImplementedError

    def _close_window(self, page: SeleniumPage) -> None:
        """Close ``page``'s window (under the session's lock)."""
        raise NotImplementedError

    def _end(self) -> None:
        """Close every window of the context and what holds them (under the session's lock)."""
        raise NotImplementedError

    def new_page(self) -> SeleniumPage:
        with self.session.lock:
            if self.closed:
                raise PageError("the context is closed")
            page = self.page_class(self, self._open_window())
            self.pages.append(page)
            self.session.pages.append(page)
            return page

    def close(self) -> None:
        with self.session.lock:
            if self.closed:
                return
            self.closed = True
            for page in self.pages:
                page._closed = True
                if page in self.session.pages:
                    self.session.pages.remove(page)
            self._end()
        if self in self.browser.contexts:
            self.browser.contexts.remove(self)

    # Playwright-only context features.
    def add_init_script(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("add_init_script is Chromium-only (a Playwright feature)")

    def route(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("route is Chromium-only (a Playwright feature)")


class SeleniumPage:
    """Playwright's ``Page`` on a window of a SeleniumContext's session.

    Engines that can run scripts before the page's own override ``_preload``.
    """

    def __init__(self, context: SeleniumContext, handle: str) -> None:
        self.context = context
        self.handle = handle
        self.clock = SeleniumClock(self)
        self._handlers: dict[str, list[Callable]] = {"console": [], "pageerror": []}
        self._owns_context = False
        self._closed = False
        self.default_timeout_ms = context.browser.timeout_ms

    # -- plumbing

    @contextlib.contextmanager
    def _session(self) -> Iterator[WebDriver]:
        """The driver, switched to this page, held for one operation."""
        session = self.context.session
        with session.lock:
            if self._closed or self.context.closed or session.closed:
                raise PageError("the page is closed")
            session.switch(self.handle)
            yield session.driver

    def _preload(self, function_declaration: str) -> bool:
        """Run ``function_declaration`` first in every later document of this page, if the
        engine can (then True); an engine that cannot returns False."""
        return False

    @property
    def _support_preloaded(self) -> bool:
        """Whether PAGE_SUPPORT_JS runs first in every document already (engine's say)."""
        return False

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
                raise PageTimeoutError(
                    "Timeout %dms exceeded evaluating %s" % (timeout_ms, _short(script))
                ) from error
            except JavascriptException as error:
                raise PageError("evaluating %s: %s" % (_short(script), error.msg)) from error
            if not isinstance(answer, dict):  # the document went away meanwhile
                raise PageError("evaluating %s gave no answer: %r" % (_short(script), answer))
            self._deliver(answer.get("drained"))
            if answer.get("timedOut"):
                raise PageTimeoutError(
                    "Timeout %dms exceeded evaluating %s" % (timeout_ms, _short(script))
                )
            return answer

    # -- Playwright's Page API

    def on(self, event: str, callback: Callable) -> None:
        """``console`` (ConsoleMessage with .text, .type) and ``pageerror`` (an exception)."""
        if event not in self._handlers:
            raise NotImplementedError(
                "page.on(%r): %s pages offer console and pageerror"
                % (event, self.context.browser.engine)
            )
        self._handlers[event].append(callback)
        self.context.session.start_poller()

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
                raise PageTimeoutError("Timeout exceeded navigating to %s" % url) from error
            if not self._support_preloaded:
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
        exception raises PageError with its ``Name: message``.
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
            except PageTimeoutError:
                answer = None
            if answer is not None:
                if not answer.get("ok"):
                    raise _js_error(answer.get("error") or {})
                value = _revive(answer.get("value"))
                if value:
                    return value
            if time.monotonic() >= deadline:
                raise PageTimeoutError(
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
                raise PageTimeoutError("Timeout %dms exceeded waiting for %s" % (timeout, selector))
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
                    raise PageTimeoutError(
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
            chain = ActionChains(self.context.session.driver).click(element)
            for modifier in keys:
                chain.key_down(modifier)
            chain.send_keys(_key(last))
            for modifier in reversed(keys):
                chain.key_up(modifier)
            chain.perform()

        self._retry(selector, press, timeout)

    def query_selector_all(self, selector: str) -> list[SeleniumElement]:
        with self._session() as driver:
            return [
                SeleniumElement(self, e) for e in driver.find_elements(By.CSS_SELECTOR, selector)
            ]

    def query_selector(self, selector: str) -> SeleniumElement | None:
        found = self.query_selector_all(selector)
        return found[0] if found else None

    def locator(self, selector: str) -> SeleniumLocator:
        return SeleniumLocator(self, selector)

    def close(self) -> None:
        """Close the page's window (and its context, if the page came with one)."""
        if self._closed:
            return
        if self._owns_context:
            self._closed = True
            self.context.close()
            return
        session = self.context.session
        with session.lock:
            if self.context.closed:
                return
            self.context._close_window(self)
            self._closed = True
            self.context.pages.remove(self)
            session.pages.remove(self)

    def is_closed(self) -> bool:
        return self._closed

    # Playwright-only page features.
    def add_init_script(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("add_init_script is Chromium-only (a Playwright feature)")

    def route(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("route is Chromium-only (a Playwright feature)")

    def expose_function(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("expose_function is Chromium-only (a Playwright feature)")


class SeleniumElement:
    """An element handle from ``query_selector_all``."""

    def __init__(self, page: SeleniumPage, element) -> None:
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


class SeleniumLocator:
    """Just enough of Playwright's Locator: count, the first element's texts, click."""

    def __init__(self, page: SeleniumPage, selector: str) -> None:
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


class SeleniumClock:
    """Playwright's ``page.clock`` on @sinonjs/fake-timers (see the module docstring)."""

    def __init__(self, page: SeleniumPage) -> None:
        self.page = page
        self._requested = False
        self._preloaded = False
        self._start: float | None = None
        self._source: str | None = None

    def install(self, time: float | datetime.datetime | None = None) -> None:
        """Fake Date, timers and performance.now from the next document on, before its own
        scripts where the engine can preload, else right after each ``goto``'s load event;
        in the current document too if one is loaded."""
        self._requested = True
        self._start = None if time is None else _epoch_ms(time)
        self._preloaded = self.page._preload(self._script())
        with self.page._session() as driver:
            loaded = driver.execute_script("return location.protocol !== 'about:'")
        if loaded:
            self._install()

    def _after_goto(self) -> None:
        if self._requested and not self._preloaded:
            self._install()

    def _script(self) -> str:
        """A function that installs the clock in a document (idempotent)."""
        if self._source is None:
            self._source = _FAKE_TIMERS_WRAPPER % FAKE_TIMERS_JS.read_text(encoding="utf-8")
        return "() => {\n%s\nreturn (function () {\n%s\n}).call(null, %s);\n}" % (
            self._source,
            _CLOCK_INSTALL_JS,
            json.dumps(self._start),
        )

    def _install(self) -> None:
        self.page.evaluate(self._script())

    def _call(self, body: str, *args: object) -> object:
        """Run ``body`` (a function of ``clock`` and ``args``) in the page, awaiting it."""
        if not self._requested:
            raise PageError("call page.clock.install() first")
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


def start_driver(
    new_service: Callable[[], Any],
    make: Callable[[Any], WebDriver],
    timeout_s: float = SESSION_START_S,
    attempts: int = 2,
) -> WebDriver:
    """``make(new_service())`` (a local driver's constructor: it starts the service, then
    the session), given ``timeout_s`` to answer; one that hangs is ended with what it
    started and tried again with a new service.

    Starting a session once hung for ever here (WebKitWebDriver never answered its
    new-session request, with the machine busy): Selenium waits without a limit
    while it starts one, so the whole test run would wait with it.
    """
    for attempt in range(1, attempts + 1):
        outcome: dict[str, object] = {}
        service = new_service()

        def run(outcome: dict[str, object] = outcome, service: Any = service) -> None:
            try:
                outcome["driver"] = make(service)
            except BaseException as exc:  # handed to the caller below
                outcome["error"] = exc

        thread = threading.Thread(target=run, name="driver-start", daemon=True)
        thread.start()
        thread.join(timeout_s)
        if not thread.is_alive():
            if "error" in outcome:
                raise outcome["error"]  # type: ignore[misc]
            return outcome["driver"]  # type: ignore[return-value]
        process = getattr(service, "process", None)
        if process is not None:  # ends the hung request: the thread then finishes
            left = descendants(process.pid)
            with contextlib.suppress(OSError):
                process.kill()
            _kill_survivors(left, grace_s=0)
        thread.join(10)
        if attempt == attempts:
            raise RuntimeError(
                "the WebDriver session did not start within %g s, %d times" % (timeout_s, attempts)
            )
    raise AssertionError("unreachable")


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
