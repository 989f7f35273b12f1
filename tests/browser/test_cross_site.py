"""A real page of another origin tries to drive a developer's push server.

The server listens on loopback and its API trusts loopback; any page open in the same
browser can send it requests. The page here (tests/browser/pages/cross-site.js) is served by
another server, so it is of another origin, and sends every request a page can send: none
may push, drop, expire or chat. On Chromium a second test rebinds a DNS name to the server,
so that the page's requests are same-origin as far as the browser knows: the Host check
refuses them.
"""

import asyncio
import functools
import http.server
import threading
from collections.abc import Iterator

import aiohttp
import pytest

from tests.browser.conftest import launch_chromium
from tests.support import PAGES, wait_until, without_position


class ChannelListener:
    """A plain WebSocket client on a channel's URL, in a thread of its own: what arrives."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.frames: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),))

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(self.url) as socket:
                reader = asyncio.ensure_future(self._read(socket))
                await self._stop.wait()
                reader.cancel()

    async def _read(self, socket) -> None:
        async for message in socket:
            self.frames.append(message.data)

    def __enter__(self) -> "ChannelListener":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """The test pages again, from a plain static server on another port: another origin."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(PAGES))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    thread.join(10)


def refusals(server) -> list[str]:
    return [line for line in server.log_path.read_text().splitlines() if " refused " in line]


def test_a_page_of_another_origin_can_neither_push_nor_drop_nor_expire(
    browser, start_push_server, other_origin, page_errors
):
    page_errors.allow(
        "Failed to load resource: the server responded with a status of 403",
        "blocked by CORS policy",
        "Failed to load resource: net::ERR_FAILED",
    )
    server = start_push_server("--no-demo-clock")
    channel = server.channel()
    context = browser.new_context()
    page = context.new_page()
    with ChannelListener(channel.url) as listener:
        channel.wait_for_sockets(1)
        page.goto(
            "%s/cross-site.html?target=%s&channel=%s&id=%s"
            % (other_origin, server.base_url, channel.name, channel.id)
        )
        page.wait_for_function("window.done === true", timeout=20_000)
        attempts = page.evaluate("window.attempts")
        # The simple requests reach the server (the browser lets them go, unread) ...
        assert attempts["push as text/plain"] == "sent (opaque)"
        assert attempts["drop with no body"] == "sent (opaque)"
        # ... the others need the server's consent in a preflight, which it never gives.
        assert attempts["push as JSON"] == "blocked: TypeError"
        assert attempts["expire"] == "blocked: TypeError"
        # Five simple requests and the beacon refused, two preflights refused:
        wait_until(lambda: len(refusals(server)) >= 7, 10, "every request refused")
        assert channel.sockets() == 1  # not dropped
        assert channel.push("from the developer") == 1  # not expired, and nothing else came
        wait_until(lambda: listener.frames, 10, "the developer's push")
    assert [without_position(f) for f in listener.frames] == ['{"data":"from the developer"}']
    assert channel.status()["sent"] == {channel.id: 1}
    logged = "\n".join(refusals(server))
    assert "refused POST '/demo/chat'" in logged and "refused OPTIONS" in logged
    context.close()


REBOUND = "rebound.example"


@pytest.mark.chromium_only  # Chromium's --host-resolver-rules stands in for the attacker's DNS
@pytest.mark.parametrize("engine", ["chromium"], indirect=True)
def test_a_page_whose_name_was_rebound_to_the_server_is_refused(
    engine, playwright, start_push_server, page_errors
):
    """DNS rebinding: the attacker's page was loaded from its own server; then its name
    resolves to 127.0.0.1, and its same-origin requests reach the push server."""
    page_errors.allow(
        "Failed to load resource: the server responded with a status of (403|421)",
        "blocked by CORS policy",
        "Failed to load resource: net::ERR_FAILED",
    )
    server = start_push_server("--no-demo-clock")
    channel = server.channel()
    port = int(server.base_url.rsplit(":", 1)[1])
    origin = "http://%s:%d" % (REBOUND, port)
    browser = launch_chromium(
        playwright,
        "--host-resolver-rules=MAP %s 127.0.0.1" % REBOUND,
        # Chromium asks before a public page may reach loopback (Local Network Access); other
        # engines do not, and this test is about the server: let the page try.
        "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessChecks",
    )
    try:
        page = browser.new_page()
        # The attacker's own server answered this document, before the name was rebound.
        page.route(
            origin + "/evil.html",
            lambda route: route.fulfill(
                content_type="text/html", body="<!doctype html><title>rebound</title>"
            ),
        )
        page.goto(origin + "/evil.html")
        with ChannelListener(channel.url) as listener:
            channel.wait_for_sockets(1)
            answers = page.evaluate(
                """async (name) => {
                    const post = (path, body) => fetch(path, {method: "POST",
                        headers: {"Content-Type": "application/json"}, body: body});
                    const push = await post("/api/channels/" + name + "/push", '"rebound"');
                    const read = await fetch("/api/channels/" + name);
                    return [push.status, read.status, await read.text()];
                }""",
                channel.name,
            )
            assert channel.push("from the developer") == 1
            wait_until(lambda: listener.frames, 10, "the developer's push")
        assert answers[:2] == [421, 421]
        assert "does not answer to the name '%s:%d'" % (REBOUND, port) in answers[2]
        assert [without_position(f) for f in listener.frames] == ['{"data":"from the developer"}']
    finally:
        browser.close()
