"""The loader on pages that include it in unusual ways (issue 18): twice, or late."""

import urllib.parse

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
