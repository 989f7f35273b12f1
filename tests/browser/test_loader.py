"""The loader on pages that include it in unusual ways (S6, S9, S10): twice, or late."""

import re
import urllib.parse

import pytest

from tests.support import wait_until


def test_S2_a_second_copy_of_the_loader_keeps_the_first_ones_calls_and_ready(fresh_page, channel):
    query = urllib.parse.urlencode({"url": channel.url, "channel": channel.name})
    # Baseline: what one copy of the loader instantiates (engines differ: Pyodide makes
    # more than one WebAssembly module on WebKit).
    fresh_page.open_harness("/test/twice.html?once=1&" + query)
    one_copy = fresh_page.evaluate("wasmInstantiations")
    assert one_copy >= 1
    fresh_page.wait_for("before-second", "open")
    fresh_page.evaluate("faces.push.close('before-second'); faces.push.close('after-second')")
    channel.wait_for_sockets(0)

    fresh_page.open_harness("/test/twice.html?" + query)
    assert fresh_page.evaluate("second") == {
        "samePush": True,
        "sameReady": True,
        "samePypush": True,
    }
    fresh_page.wait_for("before-second", "open")
    fresh_page.wait_for("after-second", "open")
    channel.wait_for_sockets(2)
    assert channel.push("both") == 2
    fresh_page.wait_for("before-second", "message")
    fresh_page.wait_for("after-second", "message")
    # One interpreter: no more WebAssembly than one copy of the loader makes.
    assert fresh_page.evaluate("wasmInstantiations") == one_copy
    assert fresh_page.evaluate("window.errors") == []


def test_S5_pyscript_python_that_imports_pypush_before_the_loader_still_gets_ready(browser, server):
    context = browser.new_context()
    try:
        from tests.browser.conftest import PushPage

        page = PushPage(context.new_page(), server)
        page.page.goto(server.base_url + "/test/pyscript-late-loader.html")
        page.page.wait_for_function("window.pythonImportedPypush === true", timeout=60_000)
        wait_until(lambda: page.evaluate("typeof window.pypush === 'object'"), 10, "the loader")
        info = page.evaluate("pypush.ready.then((info) => info.interpreter)")
        assert info == "pyscript"
        channel = server.channel()
        page.init("late", channel)
        page.wait_for("late", "open")
        channel.push("works")
        assert page.wait_for("late", "message")[0][1] == "works"
    finally:
        context.close()


def test_S8_the_loader_boots_micropython_unless_told_otherwise(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.base_url + "/test/harness.html")  # no data-interpreter
        info = page.evaluate("pypush.ready.then((info) => [info.interpreter, pypush.interpreter])")
        assert info == ["micropython", "micropython"]
    finally:
        context.close()


def test_S9_a_socket_asked_for_before_python_is_live_opens_at_once_and_loses_nothing(
    fresh_page, channel
):
    """The handshake overlaps the boot; what the server pushes meanwhile reaches onmessage,
    in order, after onopen, once Python is live; one socket in all."""
    fresh_page.open_harness("/test/harness.html?slowwasm=3000", wait_ready=False)
    fresh_page.init("early", channel)  # before ready: queued, and its socket opened now
    channel.wait_for_sockets(1)  # while Python still boots
    settled = fresh_page.evaluate(
        "() => { let state = 'pending'; pypush.ready.then(() => { state = 'live'; });"
        " return new Promise((resolve) => setTimeout(() => resolve(state), 0)); }"
    )
    assert settled == "pending" and fresh_page.kinds("early") == []
    for n in range(3):
        assert channel.push("early %d" % n) == 1
    fresh_page.wait_ready()
    fresh_page.wait_for("early", "message", 3)
    assert fresh_page.kinds("early") == ["open", "message", "message", "message"]
    assert [call[1] for call in fresh_page.calls("early")[1:]] == ["early 0", "early 1", "early 2"]
    assert fresh_page.evaluate("(url) => socketsMade[url].length", channel.url) == 1
    # The early socket is an ordinary one now (E8: a server close, a reconnect).
    channel.close_sockets(1011)
    fresh_page.wait_for("early", "error")
    channel.wait_for_sockets(1)
    assert fresh_page.evaluate("(url) => socketsMade[url].length", channel.url) == 2


def test_S9_an_early_socket_python_does_not_take_is_closed(fresh_page, channel, page_errors):
    """Python refuses the init (behaviors that are not an object): it opens nothing, and
    the socket opened on the page's behalf is closed, not left open."""
    page_errors.allow("behaviors of clientId 'refused' must be an object")
    fresh_page.open_harness("/test/harness.html?slowwasm=2000", wait_ready=False)
    fresh_page.evaluate(
        "([url, ch]) => faces.push.init('refused', url, ch, null, null, null, null, 42, true)",
        [channel.url, channel.name],
    )
    channel.wait_for_sockets(1)
    fresh_page.wait_ready()
    channel.wait_for_sockets(0)
    errors = fresh_page.evaluate("window.errors")
    assert any("behaviors of clientId 'refused'" in e for e in errors), errors


@pytest.mark.chromium_only  # Playwright's route: serve a stale loader, then today's
def test_S10_a_cached_loader_of_an_earlier_release_boots_todays_assets(
    fresh_page, channel, page_errors
):
    """The loader is cached for ten minutes; after an upgrade a browser may run the old
    one, whose assets folder the server no longer has. It asks for today's loader and
    boots today's assets instead of failing."""
    page_errors.allow("Failed to load resource: the server responded with a status of 404")
    page = fresh_page.page
    served = {"count": 0}

    def stale_then_current(route):
        served["count"] += 1
        response = route.fetch()
        body = response.text()
        if served["count"] == 1:  # what the browser kept: an earlier release's folder
            body = re.sub(
                r'var assets = "\./v-[0-9a-f]+/";', 'var assets = "./v-0123456789ab/";', body
            )
        route.fulfill(response=response, body=body)

    page.route("**/pypush/faces-push.js", stale_then_current)
    fresh_page.open_harness()
    assert served["count"] == 2  # the stale loader, then its look at today's
    fresh_page.init("upgraded", channel)
    fresh_page.wait_for("upgraded", "open")
    assert fresh_page.evaluate("window.errors") == []
