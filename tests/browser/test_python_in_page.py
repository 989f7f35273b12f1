"""Python in the page: PyScript (py on Pyodide, mpy on MicroPython) using pypush's
Python face, sharing one interpreter with faces.push from JavaScript."""

import json
import urllib.parse

import pytest

from tests.browser.conftest import PushPage
from tests.support import Channel, wait_until


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_pyscript_page_uses_pypush_from_python_with_python_values(browser, server, kind):
    context = browser.new_context()
    push_page = PushPage(context.new_page(), server)
    first = server.channel()
    second = Channel(server, server.post("/api/channels", {"channel": first.name}))
    query = urllib.parse.urlencode({"url": first.url, "channel": first.name, "url2": second.url})
    push_page.page.goto(server.base_url + "/test/pyscript-%s.html?%s" % (kind, query))
    push_page.page.wait_for_function("window.pyStarted === true", timeout=60_000)
    log = lambda: [json.loads(item) for item in push_page.evaluate("window.pyLog")]  # noqa: E731

    # One interpreter per page: faces.push (JavaScript) runs on PyScript's.
    assert push_page.evaluate("pypush.ready.then((info) => info.interpreter)") == "pyscript"
    push_page.init("from-js", first)
    push_page.wait_for("from-js", "open")

    first.wait_for_sockets(3)  # the Python client, the JavaScript one, the subscription
    assert first.push({"n": [1, 2.5, None, True]}) == 3
    assert first.push("refresh") == 3
    wait_until(lambda: ["behavior", "refresh"] in log(), 10, "the behavior")
    entries = log()
    assert entries[0] == ["raised", "UnknownClientError", "Unknown clientId: never-initialised"]
    assert ["open", first.name] in entries
    assert ["message", "dict", {"n": [1, 2.5, None, True]}, first.name, "message"] in entries
    assert ["message", "str", "refresh", first.name, "message"] in entries
    assert push_page.wait_for("from-js", "message", 2)[0][1] == {"n": [1, 2.5, None, True]}

    # subscribe(): an async iterator (on its own channelId), ending on the final close.
    wait_until(lambda: ["subscribed", "str", "refresh"] in log(), 10, "the subscription")
    server.post("/api/channels/%s/push?channelId=%s" % (first.name, second.id), [1, "two"])
    wait_until(lambda: ["subscribed", "list", [1, "two"]] in log(), 10, "a subscribed message")
    server.request("DELETE", "/api/channel-ids/%s" % second.id)
    wait_until(lambda: ["subscription-ended", 1000] in log(), 10, "the end of the iteration")
    context.close()


def test_a_pyscript_page_lends_its_interpreter_even_if_its_python_never_imports_pypush(
    browser, server
):
    context = browser.new_context()
    push_page = PushPage(context.new_page(), server)
    push_page.page.goto(server.base_url + "/test/pyscript-js-only.html")
    assert push_page.evaluate("pypush.ready.then((info) => info.interpreter)") == "pyscript"
    assert push_page.evaluate("window.pageOwnPythonRan") is True
    # The loader booted no interpreter of its own: PyScript's serves faces.push.
    assert push_page.evaluate("typeof pypush.interpreter") == "string"
    channel = server.channel()
    push_page.init("js-only", channel)
    push_page.wait_for("js-only", "open")
    channel.push("works")
    assert push_page.wait_for("js-only", "message")[0][1] == "works"
    requested = push_page.evaluate(
        "performance.getEntriesByType('resource').map((e) => e.name)"
        ".filter((n) => n.endsWith('pypush-pyc.json'))"
    )
    assert requested == []  # the loader's own boot path (which fetches it) never ran
    context.close()


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_S5_ready_rejects_when_pyscript_cannot_import_pypush(browser, server, kind, page_errors):
    """PyScript runs the loader's `import pypush.browser` and it fails: ready says so
    instead of waiting for ever (PyScript reports the ImportError itself)."""
    page_errors.allow("pypush could not start Python", "PythonError: Traceback")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.base_url + "/test/pyscript-broken-pypush-%s.html" % kind)
        message = page.evaluate("pypush.ready.then(() => 'resolved', (e) => e.message)")
        assert "import pypush.browser" in message and "did not start" in message, message
    finally:
        context.close()
