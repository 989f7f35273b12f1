"""pypush on real Faces servers: Mojarra 4.1 on Payara Micro 7, MyFaces 4.0 on Tomcat 10.1.

The application of ``tests/real_faces/app`` (built by Maven, pypush's resource jar in its
``WEB-INF/lib``, the loader placed as a Faces developer places it: one
``<h:outputScript library="pypush" name="faces-push.js"/>`` in ``<h:head>``, no ``web.xml``
entry for pypush) runs on each implementation, started once for the module
(:mod:`tests.real_faces.servers`). Its pages are shaped as the Faces TCK's websocket tests:
``<f:websocket>`` on application, user, session and view channels, buttons whose actions call
``PushContext.send``, an ``<f:ajax>`` listening to a push behavior, sockets after a
postback, and a session that ends. Chromium drives them, and in every test:

- the implementation renders ``faces.push.init`` and pypush runs it: ``faces.push`` is
  ``pypush.push`` (S4, S11) and each socket is ``open`` in ``pypush.state``;
- no page reports an error (the autouse ``page_errors`` fixture).

Chromium only, and MicroPython (the loader's default) but for one page on Pyodide: the
module builds two wars and starts two Java servers on two shared cores, which is its whole
budget; the loader's engines and interpreters are covered by tests/browser/test_faces_pages.py.
"""

import json
from collections.abc import Iterator

import pytest

from tests.browser.conftest import BOOT_TIMEOUT_MS
from tests.real_faces.servers import FacesServer, ServerError, build, start_payara, start_tomcat
from tests.support import wait_until

pytestmark = [
    pytest.mark.real_faces,
    # Chromium only: two Java servers per run are this module's budget (module docstring).
    pytest.mark.chromium_only,
    # The first test's set-up builds both wars (a first build downloads ~120 MB) and starts
    # Payara Micro (about a minute on two busy cores).
    pytest.mark.timeout(900),
]

PUSH_SOCKETS = {
    "appSocket": "app",
    "userSocket": "user",
    "sessionSocket": "session",
    "viewSocket": "view",
    "form:refreshSocket": "refresh",
}
PUSH_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def wars(tmp_path_factory) -> dict:
    try:
        return build(tmp_path_factory.mktemp("real-faces-build"))
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module", params=["mojarra", "myfaces"])
def faces_server(request, wars, tmp_path_factory) -> Iterator[FacesServer]:
    """Each implementation's server, started once for the module."""
    start = start_payara if request.param == "mojarra" else start_tomcat
    try:
        server = start(wars[request.param], tmp_path_factory.mktemp(request.param))
    except ServerError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def contexts(browser, faces_server) -> Iterator[list]:
    """Browser contexts (one session each) made by ``new_context()``, closed with the server.

    Not after each test: MyFaces 4.0.3's ``PushContextImpl.send`` fails
    (``UnsupportedOperationException``, ``Collections.emptySet().addAll``) once the first of a
    channel's tokens has no open socket left, and sends to none of the tokens after it; its
    own faces.js meets the same server. Pages kept open keep every token live.
    """
    made = []
    yield made
    for context in made:
        context.close()


@pytest.fixture
def new_context(browser, contexts):
    def new():
        context = browser.new_context()
        contexts.append(context)
        return context

    return new


def open_page(context, server: FacesServer, page_name: str, sockets: dict[str, str]):
    """A new page of ``context`` at ``page_name``, once pypush has each of ``sockets`` open."""
    page = context.new_page()
    page.goto(server.url(page_name))
    wait_sockets_open(page, sockets)
    return page


def wait_sockets_open(page, sockets: dict[str, str]) -> None:
    page.wait_for_function(
        "window.pypush && pypush.ready.then(() => true)", timeout=BOOT_TIMEOUT_MS
    )
    # S4, S11: the push of faces is pypush's, the rest the implementation's.
    assert page.evaluate("faces.push === pypush.push")
    assert page.evaluate("typeof faces.ajax.request") == "function"
    for client_id, channel in sockets.items():

        def opened(client_id: str = client_id, channel: str = channel) -> bool:
            return state(page, client_id) == "open" and ["open", channel] in log(page)

        wait_until(opened, PUSH_TIMEOUT, "%s open through pypush on %s" % (client_id, page.url))


def state(page, client_id: str) -> str:
    """``pypush.state(client_id)``, or "unknown" before the page's init of that client."""
    return page.evaluate(
        "(id) => { try { return pypush.state(id); } catch (e) { return 'unknown'; } }", client_id
    )


def log(page) -> list:
    """What the page's <f:websocket> callbacks were called with (resources/app/recorder.js)."""
    return page.evaluate("window.pushLog")


def messages(page, channel: str) -> list[str]:
    return [entry[2] for entry in log(page) if entry[0] == "message" and entry[1] == channel]


def wait_message(page, channel: str, message: str) -> None:
    wait_until(
        lambda: message in messages(page, channel),
        PUSH_TIMEOUT,
        "%s on %s at %s (log: %s)" % (json.dumps(message), channel, page.url, log(page)),
    )


def test_sockets_open_through_pypush(faces_server, new_context) -> None:
    page = open_page(new_context(), faces_server, "push.xhtml", PUSH_SOCKETS)
    # The implementation's own script is on the page beside pypush's loader.
    scripts = page.evaluate("[...document.scripts].map(s => s.src).filter(Boolean)")
    assert any("faces-push.js" in src and "ln=pypush" in src for src in scripts), scripts
    assert any("faces.js" in src for src in scripts), scripts


def test_push_from_an_action_arrives(faces_server, new_context) -> None:
    context = new_context()
    first = open_page(context, faces_server, "push.xhtml", PUSH_SOCKETS)
    second = open_page(new_context(), faces_server, "push.xhtml", PUSH_SOCKETS)
    first.click("#form\\:sendApp")
    # An application channel reaches every page, of every session.
    wait_message(first, "app", "hello app")
    wait_message(second, "app", "hello app")


def test_push_behavior_rerenders(faces_server, new_context) -> None:
    page = open_page(new_context(), faces_server, "push.xhtml", PUSH_SOCKETS)
    before = int(page.inner_text("#behaviorRequests"))
    page.click("#form\\:sendRefresh")
    # The push "refreshed" fires <f:ajax event="refreshed">: the implementation's
    # faces.ajax.request reaches the listener and its response re-renders the count.
    wait_until(
        lambda: int(page.inner_text("#behaviorRequests")) > before,
        PUSH_TIMEOUT,
        "the push behavior's ajax request to re-render #behaviorRequests",
    )


def test_user_push_reaches_only_that_user(faces_server, new_context) -> None:
    bob = new_context()
    bob_pages = [
        open_page(bob, faces_server, "push.xhtml?user=bob", PUSH_SOCKETS) for _ in range(2)
    ]
    alice = open_page(new_context(), faces_server, "push.xhtml?user=alice", PUSH_SOCKETS)
    assert alice.inner_text("#user") == "alice"
    assert bob_pages[0].inner_text("#user") == "bob"
    alice.click("#form\\:sendToBob")
    for page in bob_pages:
        wait_message(page, "user", "hello bob")
    # Then an application push, sent after: once alice has it, the user push had its
    # chance to reach her too.
    alice.click("#form\\:sendApp")
    wait_message(alice, "app", "hello app")
    assert messages(alice, "user") == []


def test_session_push_reaches_only_that_session(faces_server, new_context) -> None:
    session = new_context()
    mine = [open_page(session, faces_server, "push.xhtml", PUSH_SOCKETS) for _ in range(2)]
    other = open_page(new_context(), faces_server, "push.xhtml", PUSH_SOCKETS)
    mine[0].click("#form\\:sendSession")
    for page in mine:
        wait_message(page, "session", "hello session")
    mine[0].click("#form\\:sendApp")
    wait_message(other, "app", "hello app")
    assert messages(other, "session") == []


def test_view_push_reaches_only_that_view(faces_server, new_context) -> None:
    session = new_context()
    mine, same_session = (
        open_page(session, faces_server, "push.xhtml", PUSH_SOCKETS) for _ in range(2)
    )
    mine.click("#form\\:sendView")
    wait_message(mine, "view", "hello view")
    mine.click("#form\\:sendApp")
    wait_message(same_session, "app", "hello app")
    assert messages(same_session, "view") == []


def test_socket_after_a_postback(faces_server, new_context) -> None:
    page = open_page(new_context(), faces_server, "postback.xhtml", {"appSocket": "app"})
    with page.expect_navigation():
        page.click("#form\\:postback")
    # A new document, rendered by the postback, with its own socket through pypush.
    wait_sockets_open(page, {"appSocket": "app"})
    page.click("#form\\:sendApp")
    wait_message(page, "app", "after postback")


def test_socket_rendered_by_an_ajax_postback(faces_server, new_context) -> None:
    page = open_page(new_context(), faces_server, "postback.xhtml", {"appSocket": "app"})
    assert page.locator("#laterSocket").count() == 0
    page.click("#form\\:showSocket")
    wait_sockets_open(page, {"laterSocket": "later"})
    page.click("#form\\:sendLater")
    wait_message(page, "later", "later")


def test_pyodide_page(faces_server, new_context) -> None:
    # The README's placement for attributes: <script src="#{resource['pypush:faces-push.js']}"
    # data-interpreter="pyodide">, its URL written by the implementation.
    page = open_page(new_context(), faces_server, "pyodide.xhtml", {"appSocket": "app"})
    assert page.evaluate("pypush.interpreter") == "pyodide"
    page.click("#form\\:sendApp")
    wait_message(page, "app", "hello pyodide")


def test_an_ended_session_closes_its_sockets(faces_server, new_context, request) -> None:
    if faces_server.name.startswith("myfaces"):
        request.applymarker(
            pytest.mark.xfail(
                reason="MyFaces 4.0.3 with OpenWebBeans 4.0.3 on Tomcat 10.1 sends no close when "
                "a session ends: its sockets stay open (no error in the server's log)",
                strict=True,
            )
        )
    page = open_page(new_context(), faces_server, "push.xhtml", PUSH_SOCKETS)
    page.click("#form\\:endSession")
    # Faces closes the sockets of a session that ends (expires or is invalidated), its
    # session, view and user channels, with 1000 "Expired": a final close (E7), onclose
    # once, no reconnect. The application's channels stay open.
    ended = {"sessionSocket": "session", "viewSocket": "view", "userSocket": "user"}
    for client_id, channel in ended.items():

        def closed(client_id: str = client_id, channel: str = channel) -> bool:
            return ["close", channel, 1000] in log(page) and state(page, client_id) == "idle"

        wait_until(closed, PUSH_TIMEOUT, "final close of %s (log: %s)" % (client_id, log(page)))
    page.click("#form\\:sendApp")
    wait_message(page, "app", "hello app")
    # onclose once per ended socket, and for no other.
    closes = sorted(entry[1] for entry in log(page) if entry[0] == "close")
    assert closes == sorted(ended.values()), log(page)
    assert state(page, "appSocket") == "open"
