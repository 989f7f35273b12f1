"""Every error a test's pages report fails the test, unless the test said it expects it.

A page reports an error by an uncaught exception or rejection (Playwright's
``pageerror``; on WebKit and Firefox, console-capture.js records ``error`` and
``unhandledrejection`` events the same way), by ``reportError`` (an ``error`` event)
or by ``console.error``. Each page the tests open is watched from its creation: the
engines' browsers hand out watched contexts (:func:`watch_browser`), and the autouse
fixture ``page_errors`` of ``tests/browser/conftest.py`` checks, after each test, what
its pages reported. A test that provokes an error on purpose says which, with
``page_errors.allow(pattern, ...)`` (regular expressions searched in each report).

The browser's own log of a WebSocket that could not connect (Chromium:
``WebSocket connection to 'ws://…' failed: …``) is not the page reporting anything:
reconnect tests refuse and drop connections by design, and the page hears of it
through onerror/onclose. Nor is the browser's own request for ``/favicon.ico``.
Everything else counts, a failed resource load included.
"""

import re
import threading
from collections.abc import Callable, Iterable

BROWSER_NETWORK_LOG = re.compile(r"^WebSocket connection to '[^']*' failed")


class PageErrorWatcher:
    """What every watched page reported since the last :meth:`take`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: list[str] = []
        self._pages: list = []

    def watch(self, page: object) -> object:
        if any(known is page for known in self._pages):
            return page
        self._pages.append(page)

        def url() -> str:
            return _url_of(page)

        page.on("pageerror", lambda error: self._add("pageerror at %s: %s" % (url(), error)))
        page.on("console", lambda message: self._console(message, url))
        return page

    def _console(self, message: object, url: Callable[[], str]) -> None:
        if message.type != "error" or BROWSER_NETWORK_LOG.search(message.text):
            return
        # Chromium's "Failed to load resource" names the resource only in its location.
        where = getattr(message, "location", None) or {}
        source = where.get("url") if isinstance(where, dict) else None
        if source and source.endswith("/favicon.ico"):
            return  # the browser's own request, not the page's
        self._add(
            "console.error at %s: %s%s"
            % (url(), message.text, " [%s]" % source if source and source != url() else "")
        )

    def _add(self, report: str) -> None:
        # Pages report texts with lone surrogates (T1): keep them readable and encodable.
        report = report.encode("utf-8", "backslashreplace").decode("utf-8")
        with self._lock:
            self._reports.append(report)

    def flush(self) -> None:
        """Deliver what live pages reported but the test tools have not read yet; forget
        the pages that are closed."""
        live = []
        for page in self._pages:
            try:
                if page.is_closed():
                    continue
                live.append(page)
                drain = getattr(page, "_drain", None)  # Selenium pages: read the page's record
                if drain is not None:
                    drain()
                else:  # Playwright delivers pending events during any call
                    page.evaluate("0")
            except Exception:  # a page closing or navigating: nothing more to read
                pass
        self._pages = live

    def take(self) -> list[str]:
        with self._lock:
            reports, self._reports = self._reports, []
        return reports


def unexpected(reports: Iterable[str], allowed: Iterable[re.Pattern]) -> list[str]:
    allowed = list(allowed)
    return [report for report in reports if not any(p.search(report) for p in allowed)]


def _url_of(page: object) -> str:
    try:
        return page.url
    except Exception:
        return "?"


WATCHER = PageErrorWatcher()


def watch_browser(browser: object) -> object:
    """``browser`` with every page of its contexts (and its own ``new_page``) watched."""
    new_context = browser.new_context
    new_page = browser.new_page

    def watched_context(*args: object, **kwargs: object) -> object:
        context = new_context(*args, **kwargs)
        context_new_page = context.new_page

        def watched_page(*a: object, **k: object) -> object:
            return WATCHER.watch(context_new_page(*a, **k))

        context.new_page = watched_page
        return context

    def watched_new_page(*args: object, **kwargs: object) -> object:
        return WATCHER.watch(new_page(*args, **kwargs))

    browser.new_context = watched_context
    browser.new_page = watched_new_page
    return browser


class AllowedErrors:
    """What a test hands out as ``page_errors``: ``allow(pattern, ...)`` what it expects."""

    def __init__(self) -> None:
        self.patterns: list[re.Pattern] = []

    def allow(self, *patterns: str) -> None:
        self.patterns.extend(re.compile(p) for p in patterns)
