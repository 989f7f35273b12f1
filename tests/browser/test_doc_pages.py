"""The documentation's page examples, as written, on a real serve.py in Chromium.

Each example is read from its page (tests.doc_examples) and changed only where it names
a place of the reader's own application: ``/app/resources/pypush/`` becomes the
server's ``/pypush/``, and a push URL such as ``/app/jakarta.faces.push/news?3f9a…``
becomes a channelId registered now on a channel of that name. The page is then served
from the same origin and pushed to through the HTTP API.

Chromium only: what is tested is the examples' text; the same pages' behaviour is tested
on every engine elsewhere (test_python_in_page.py, test_demo.py).
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.sites import started_site
from tests.doc_examples import example
from tests.support import Channel, PushServer, start_server, stop_server, wait_until

pytestmark = pytest.mark.chromium_only

PUSH_URL = re.compile(r"/app/jakarta\.faces\.push/([\w.-]+)\?[0-9a-f]+…")
BOOT_MS = 60_000
HISTORY = 5
"""The messages the server keeps per channelId: the gap example pushes more."""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[PushServer, Path]]:
    """serve.py (a test server: the fault API is on) with a folder of this module's pages
    under /docs-pages/."""
    folder = tmp_path_factory.mktemp("docs-pages")
    log = tmp_path_factory.mktemp("server") / "serve.log"
    process, base_url = start_server(
        log, "--no-demo-clock", "--history-messages", str(HISTORY),
        "--static", "/docs-pages/=%s" % folder,
    )  # fmt: skip
    yield PushServer(base_url), folder
    stop_server(process)


@pytest.fixture(scope="module")
def csp_site(tmp_path_factory) -> Iterator[tuple[PushServer, Path]]:
    """tests/browser/csp_site.py serving a folder of this module's pages under /csp/, each
    with the strict policy and a fresh nonce in place of ``{{nonce}}``."""
    folder = tmp_path_factory.mktemp("csp-pages")
    with started_site("tests.browser.csp_site", "csp site", "--pages", str(folder)) as server:
        yield server, folder


class ExamplePage:
    """An example written into the site, with its channels registered, open in a page."""

    def __init__(
        self, browser, site, name: str, html: str, before: str = "", under: str = "/docs-pages/"
    ) -> None:
        self.server, folder = site
        self.channels: dict[str, Channel] = {}
        html = PUSH_URL.sub(self._channel_path, html.replace("/app/resources/pypush/", "/pypush/"))
        (folder / name).write_text(before + html, encoding="utf-8")
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.goto("%s%s%s" % (self.server.base_url, under, name))

    def _channel_path(self, match: re.Match) -> str:
        channel = Channel(self.server, self.server.post("/api/channels", {"channel": match[1]}))
        self.channels[channel.name] = channel
        return channel.path

    def logged(self, text: str) -> bool:
        """Whether the page has logged ``text`` (Playwright hands over its events while
        it is called, so this calls it)."""
        self.page.wait_for_timeout(20)
        return text in self.console

    def close(self) -> None:
        self.context.close()


def test_getting_started_use_it_in_a_page(browser, site):
    # The example's onmessage calls the page's own show(message): the page defines it.
    page = ExamplePage(
        browser,
        site,
        "use-it.html",
        example("docs/getting-started.md", "Use it in a page", "html"),
        before="<script>window.shown = []; function show(m) { shown.push(m); }</script>\n",
    )
    try:
        wait_until(lambda: page.logged("Python is live"), 60, "pypush.ready")
        clock = page.channels["clock"]
        wait_until(lambda: page.logged("connected to clock"), 10, "onopen")
        assert clock.push({"time": "12:00"}) == 1
        page.page.wait_for_function("window.shown.length === 1")
        assert page.page.evaluate("window.shown") == [{"time": "12:00"}]
    finally:
        page.close()


def test_getting_started_the_bundle_tried_by_hand(browser, site):
    html = example("docs/getting-started.md", "The bundle", "html")
    html = html.replace('src="faces-push.js"', 'src="/pypush/faces-push.js"')
    server, _ = site
    news = Channel(server, server.post("/api/channels", {"channel": "news"}))
    page = ExamplePage(browser, site, "by-hand.html", html.replace("PASTE THE url HERE", news.url))
    try:
        page.page.wait_for_function("pypush.state('n') === 'open'", timeout=BOOT_MS)
        assert news.push({"hello": "world"}) == 1
        page.page.wait_for_function("document.body.textContent.includes('world')")
        assert page.page.text_content("body").strip() == '{"hello":"world"}'
    finally:
        page.close()


def test_python_in_the_page_pyodide_on_request(browser, site):
    html = example("docs/python-in-page.md", "MicroPython by default, Pyodide on request", "html")
    page = ExamplePage(browser, site, "pyodide.html", html)
    try:
        interpreter = page.page.evaluate("pypush.ready.then((info) => info.interpreter)")
        assert interpreter == "pyodide"
    finally:
        page.close()


@pytest.mark.parametrize(
    "page_name, heading",
    [("docs/python-in-page.md", "PyScript"), ("README.md", "A PyScript page")],
)
def test_the_pyscript_examples(browser, site, page_name, heading):
    page = ExamplePage(
        browser,
        site,
        "pyscript-%s.html" % page_name.replace("/", "-"),
        example(page_name, heading, "html"),
        before='<p id="price"></p>\n',
    )
    try:
        ticker = page.channels["ticker"]
        wait_until(lambda: ticker.status()["sockets"] >= 1, 90, "the subscription's socket")
        if "news" in page.channels:
            wait_until(lambda: page.logged("connected"), 10, "the news client's onopen")
            assert page.channels["news"].push({"title": "Hello"}) == 1
            wait_until(lambda: page.logged("news Hello"), 10, "on_news")
        assert ticker.push(101.5) == 1
        page.page.wait_for_function("document.getElementById('price').textContent === '101.5'")
        if "news" in page.channels:  # the documented example says how its loop ended
            server, _ = site
            server.request("DELETE", "/api/channel-ids/%s" % ticker.id)
            wait_until(lambda: page.logged("ticker ended with 1000"), 10, "the final close")
    finally:
        page.close()


def test_faces_under_a_strict_content_security_policy(browser, csp_site):
    """The page of the CSP section, served with the policy the section gives (its nonce
    fresh per response: tests/unit/test_docs.py checks the policy is the documented one);
    the functions it names are the page's own, in a script carrying the nonce."""
    html = example("docs/faces.md", "Under a strict Content-Security-Policy", "html")
    assert html.count('nonce="RANDOM"') == 2
    page = ExamplePage(
        browser,
        csp_site,
        "csp.html",
        html.replace('nonce="RANDOM"', 'nonce="{{nonce}}"'),
        before='<script nonce="{{nonce}}">window.clock = [];\n'
        "function onClockOpen(channel) { clock.push('open ' + channel); }\n"
        "function onClock(message) { clock.push(message); }</script>\n",
        under="/csp/",
    )

    # Evaluated by the test, not by the page: wait_for_function evaluates a string in the
    # page, which the policy forbids.
    def clock() -> list:
        return page.page.evaluate("window.clock")

    try:
        wait_until(lambda: clock() == ["open clock"], BOOT_MS / 1000, "onClockOpen")
        assert page.channels["clock"].push({"time": "12:00"}) == 1
        wait_until(lambda: clock() == ["open clock", {"time": "12:00"}], 10, "onClock")
    finally:
        page.close()


def test_python_apps_a_gap_reaches_pypush_ongap(browser, site):
    """The ``pypush.ongap`` example of "Nothing lost across reconnects" in a page of one
    client, which the server loses messages of (P4, H5): its handler runs, once, and
    the client goes on with live messages."""
    server, _ = site
    channel = server.channel()
    html = (
        '<script src="/pypush/faces-push.js"></script>\n'
        "<script>window.reloads = 0; function reloadTheView() { reloads += 1; }</script>\n"
        "<script>\n%s</script>\n"
        "<script>window.got = [];\n"
        'faces.push.init("g", "%s", "%s", null, function (m) { got.push(m); },\n'
        "                null, null, null, true);</script>\n"
        % (example("docs/python-apps.md", "Nothing lost across reconnects", "js"),
           channel.url, channel.name)
    )  # fmt: skip
    page = ExamplePage(browser, site, "gap.html", html)
    try:
        page.page.wait_for_function("pypush.state('g') === 'open'", timeout=BOOT_MS)
        channel.wait_for_sockets(1)
        assert channel.push("before") == 1
        page.page.wait_for_function("window.got.length === 1")  # it has a position now
        server.fault("refuse", channel=channel.name)  # away: handshakes refused
        try:
            channel.drop()
            wait_until(lambda: page.page.evaluate("pypush.state('g')") != "open", 10, "away")
            channel.burst(count=HISTORY + 3)  # more than the server keeps
        finally:
            server.clear_fault("refuse", channel.name)
        page.page.wait_for_function("window.reloads === 1", timeout=30_000)
        assert channel.push("live") == 1
        page.page.wait_for_function("window.got[window.got.length - 1] === 'live'")
        assert page.page.evaluate("window.reloads") == 1
    finally:
        page.close()
