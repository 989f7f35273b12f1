"""pypush on pages as a Faces server writes them, beside the implementation's own faces.js.

The pages come from ``tests.browser.faces_site``: Mojarra 4.1's and MyFaces 4's own
``faces.js``, served as their FacesServlet serves it, in both orders with pypush's loader
(Mojarra's ``<h:head>`` writes the head's own ``<h:outputScript>`` before its component
resources, so "pypush first" is what a Faces page gets by default), and
``faces.push.init`` as ``<f:websocket>`` renders it: inline function literals, global
function names, literal ``null`` callbacks and a behaviors object. In each case:

- faces.push is pypush's (S4, S11): the page's init reaches pypush, every client is
  ``open`` through it, pushes arrive;
- everything else of ``faces`` is the implementation's: ``faces.ajax.request`` sends a
  real partial request and its response is applied to the page, from a button and from
  a push behavior;
- ``null`` callbacks are no-ops (I1) through open, message, a reconnect and close;
- and no page error is reported (the autouse ``page_errors`` fixture).
"""

import urllib.parse
from collections.abc import Iterator

import pytest

from tests.browser.conftest import BOOT_TIMEOUT_MS
from tests.browser.sites import started_site
from tests.support import PushServer, wait_until

CLIENTS = ("form:literal", "form:named", "form:nulls", "form:behaviors")
IMPLEMENTATIONS = {
    "mojarra": {"specversion": 41000, "implversion": 1},
    "myfaces": {"specversion": 400000, "implversion": 0},
}


@pytest.fixture(scope="module")
def faces_site() -> Iterator[PushServer]:
    with started_site("tests.browser.faces_site", "faces site") as site:
        yield site


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def out_text(page) -> str:
    return page.evaluate("document.getElementById('form:out').textContent")


@pytest.mark.parametrize("order", ["pypush-first", "faces-first"])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_S4_S11_faces_push_is_pypush_and_the_rest_of_faces_is_the_implementation(
    faces_site, page, interpreter, implementation, order
):
    channel = faces_site.channel()
    query = urllib.parse.urlencode(
        {"order": order, "interpreter": interpreter, "url": channel.path, "channel": channel.name}
    )
    page.goto("%s/%s/page.xhtml?%s" % (faces_site.base_url, implementation, query))
    page.wait_for_function(
        "window.pypush && pypush.ready.then(() => true)", timeout=BOOT_TIMEOUT_MS
    )

    faces = page.evaluate(
        """() => ({
            pushIsPypush: faces.push === pypush.push,
            pushKeys: Object.keys(faces.push),
            ajaxRequest: typeof faces.ajax.request,
            specversion: faces.specversion,
            implversion: faces.implversion === undefined ? null : faces.implversion,
            util: typeof faces.util.chain,
            viewState: faces.getViewState(document.getElementById('form')).includes('ViewState'),
        })"""
    )
    assert faces == {
        "pushIsPypush": True,
        "pushKeys": ["init", "open", "close"],
        "ajaxRequest": "function",
        "specversion": IMPLEMENTATIONS[implementation]["specversion"],
        "implversion": IMPLEMENTATIONS[implementation]["implversion"],
        "util": "function",
        "viewState": True,
    }

    # Every client of the page opened through pypush (not the implementation's own push).
    wait_until(
        lambda: all(page.evaluate("(id) => pypush.state(id)", c) == "open" for c in CLIENTS),
        10,
        "every client open through pypush",
    )
    channel.wait_for_sockets(len(CLIENTS))
    assert channel.push("hello") == len(CLIENTS)
    wait_until(lambda: ["message", "hello", channel.name] in page.evaluate("calls['form:literal']"))
    wait_until(lambda: any(c[0] == "message" for c in page.evaluate("calls['form:named']")))

    # faces.ajax.request from a button: a real partial request, its response applied.
    page.click("#form\\:send")
    wait_until(lambda: out_text(page).endswith(" to form:send"), 10, "the button's")
    # ... and from a push behavior (E3).
    assert channel.push("refresh") == len(CLIENTS)
    wait_until(lambda: out_text(page).endswith(" to form:behavior"), 10, "behavior's")

    # A reconnect (onerror) and a close (onclose): null callbacks stay no-ops (I1).
    channel.close_sockets(1011)
    wait_until(lambda: any(c[0] == "error" for c in page.evaluate("calls['form:named']")))
    channel.wait_for_sockets(len(CLIENTS))
    for client in CLIENTS:
        page.evaluate("(id) => faces.push.close(id)", client)
    wait_until(lambda: any(c[0] == "close" for c in page.evaluate("calls['form:named']")))
    wait_until(lambda: all(page.evaluate("(id) => pypush.state(id)", c) == "idle" for c in CLIENTS))
    assert page.evaluate("window.errors") == []


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_E3_a_myfaces_page_reads_the_message_as_myfaces_sends_it(
    faces_site, page, interpreter, implementation, page_errors
):
    """MyFaces' PushContext.send sends the message's own JSON (``"hello"``, ``{"k": 1}``),
    Mojarra's ``{"data": ...}``: on a MyFaces page both are messages (E3); on any other page
    a frame without ``data`` is skipped as E6 says. (tests/browser/test_real_faces.py sees
    MyFaces' server send them.)"""
    channel = faces_site.channel()
    query = urllib.parse.urlencode(
        {"order": "pypush-first", "interpreter": interpreter, "url": channel.path}
        | {"channel": channel.name}
    )
    page.goto("%s/%s/page.xhtml?%s" % (faces_site.base_url, implementation, query))
    page.wait_for_function(
        "window.pypush && pypush.ready.then(() => true)", timeout=BOOT_TIMEOUT_MS
    )
    channel.wait_for_sockets(len(CLIENTS))
    if implementation != "myfaces":
        page_errors.allow('JSON without a "data" property')
    channel.push_raw('"bare"')
    channel.push_raw('{"k": 1}')
    channel.push("wrapped")

    def messages() -> list:
        calls = page.evaluate("calls['form:literal']")
        return [call[1] for call in calls if call[0] == "message"]

    wait_until(lambda: "wrapped" in messages(), 10, "the wrapped message")
    if implementation == "myfaces":
        assert messages() == ["bare", {"k": 1}, "wrapped"]
    else:
        assert messages() == ["wrapped"]
