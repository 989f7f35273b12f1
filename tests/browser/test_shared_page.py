"""Browser tests on the shared booted page: real Chromium, real serve.py, real WebSockets."""

import uuid

import pytest

from tests.support import wait_until


def new_id() -> str:
    return "c-" + uuid.uuid4().hex[:8]


def test_S1_faces_push_has_exactly_init_open_close(push_page):
    assert push_page.evaluate("Object.keys(faces.push)") == ["init", "open", "close"]
    assert push_page.evaluate("typeof pypush.ready.then") == "function"


def test_E1_E2_onopen_once_with_the_channel_name(push_page, channel):
    cid = new_id()
    push_page.init(cid, channel)
    assert push_page.wait_for(cid, "open") == [["open", channel.name]]
    channel.wait_for_sockets(1)
    assert push_page.state(cid) == "open"


@pytest.mark.parametrize(
    "message, js_type",
    [
        ("plain text", "string"),
        ("", "string"),
        (42, "number"),
        (-1.25, "number"),
        (True, "boolean"),
        (None, "null"),
        ({"user": "ana", "n": [1, 2, {"deep": True}]}, "object"),
        ([1, "two", None, {"three": 3}], "array"),
        ("𝄞 emoji 😀 and עברית", "string"),
    ],
)
def test_E3_messages_arrive_as_the_same_javascript_values(push_page, channel, message, js_type):
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    assert channel.push(message) == 1
    [call] = push_page.wait_for(cid, "message")
    assert call[1:3] == [message, channel.name]
    assert call[3]["event"] == "message"
    assert call[4] == js_type


def test_E3_E4_behaviors_run_in_order_only_for_own_keys(push_page, channel):
    cid = new_id()
    push_page.evaluate("window.ran = []")
    push_page.init(
        cid,
        channel,
        behaviors="{refresh: [() => ran.push('first'), () => ran.push('second')],"
        " other: [() => ran.push('other')]}",
    )
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    for message in ["constructor", "toString", "__proto__", "refresh", "hasOwnProperty"]:
        channel.push(message)
    push_page.wait_for(cid, "message", 5)
    assert push_page.evaluate("ran") == ["first", "second"]


def test_I1_callbacks_may_be_global_function_names(push_page, channel):
    cid = new_id()
    push_page.evaluate(
        """() => {
            window.namedLog = [];
            window.namedOpen = (ch) => namedLog.push(['open', ch]);
            window.namedMessage = (m, ch) => namedLog.push(['message', m, ch]);
        }"""
    )
    push_page.evaluate(
        "([id, url, ch]) => faces.push.init(id, url, ch, 'namedOpen', 'namedMessage',"
        " 'noSuchFunction', null, null, true)",
        [cid, channel.url, channel.name],
    )
    channel.wait_for_sockets(1)
    channel.push("hi")
    wait_until(lambda: len(push_page.evaluate("namedLog")) == 2)
    assert push_page.evaluate("namedLog") == [
        ["open", channel.name],
        ["message", "hi", channel.name],
    ]


def test_I2_without_websocket_onclose_gets_minus_one_and_the_channel(push_page, channel):
    cid = new_id()
    push_page.evaluate(
        """([id, url, ch]) => {
            const saved = window.WebSocket;
            window.WebSocket = undefined;
            try { initRecorded(id, url, ch, null, true); } finally { window.WebSocket = saved; }
        }""",
        [cid, channel.url, channel.name],
    )
    assert push_page.calls(cid) == [["close", -1, channel.name]]
    with pytest.raises(Exception, match="Unknown clientId"):
        push_page.evaluate("(id) => faces.push.open(id)", cid)


def test_I3_a_second_init_keeps_the_first_registration(push_page, channel, server):
    cid = new_id()
    other = server.channel()
    push_page.init(cid, channel, autoconnect=False)
    push_page.evaluate(
        "([id, url]) => faces.push.init(id, url, 'other', null, null, null, null, null, true)",
        [cid, other.url],
    )
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    assert other.sockets() == 0


def test_I6_a_url_that_cannot_make_a_websocket_throws_at_open_naming_it(push_page):
    cid = new_id()
    push_page.evaluate("(id) => faces.push.init(id, 'mailto:ops@example.test', 'ch')", cid)
    message = push_page.evaluate(
        "(id) => { try { faces.push.open(id); return 'no error'; }"
        " catch (e) { return e.constructor.name + ': ' + e.message; } }",
        cid,
    )
    assert message.startswith("Error: ")
    assert cid in message and "mailto:ops@example.test" in message


def test_I6_a_relative_url_is_resolved_against_the_page(push_page, channel):
    cid = new_id()
    push_page.evaluate(
        "([id, path, ch]) => initRecorded(id, path, ch, null, true)",
        [cid, channel.path, channel.name],
    )
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)


def test_init_without_a_url_is_a_clear_type_error(push_page):
    message = push_page.evaluate(
        "() => { try { faces.push.init('no-url', undefined, 'ch'); return 'no error'; }"
        " catch (e) { return e.constructor.name + ': ' + e.message; } }"
    )
    assert message.startswith("TypeError: ") and "URL" in message


@pytest.mark.parametrize("operation", ["open", "close"])
def test_S3_unknown_client_id_throws_mojarras_error(push_page, operation):
    result = push_page.evaluate(
        "(op) => { try { faces.push[op]('never-initialised'); return null; }"
        " catch (e) { return [e instanceof Error, e.message]; } }",
        operation,
    )
    assert result == [True, "Unknown clientId: never-initialised"]


def test_O2_open_while_connecting_makes_no_second_socket(push_page, channel):
    cid = new_id()
    push_page.init(cid, channel, autoconnect=False)
    push_page.evaluate("(id) => { faces.push.open(id); faces.push.open(id); }", cid)
    push_page.wait_for(cid, "open")
    push_page.evaluate("(id) => faces.push.open(id)", cid)  # O1: open while OPEN
    channel.wait_for_sockets(1)
    assert channel.push("once") == 1
    push_page.wait_for(cid, "message")
    assert push_page.kinds(cid) == ["open", "message"]


def test_O3_window_websocket_is_looked_up_at_each_open(push_page, channel):
    cid = new_id()
    push_page.init(cid, channel, autoconnect=False)
    push_page.evaluate(
        """() => {
            window.realWebSocket = window.WebSocket;
            window.madeSockets = [];
            window.WebSocket = class extends realWebSocket {
                constructor(url) { super(url); madeSockets.push(url); }
            };
        }"""
    )
    try:
        push_page.evaluate("(id) => faces.push.open(id)", cid)
        push_page.wait_for(cid, "open")
        assert push_page.evaluate("madeSockets") == [channel.url]
    finally:
        push_page.evaluate("() => { window.WebSocket = realWebSocket; }")


def test_E5_a_throwing_onmessage_is_reported_and_later_messages_arrive(
    push_page, channel, page_errors
):
    page_errors.allow("onmessage threw: Error: handler broke")
    cid = new_id()
    push_page.evaluate(
        """([id, url, ch]) => {
            window.received = [];
            faces.push.init(id, url, ch, null,
                (m) => { received.push(m); if (m === 'boom') throw new Error('handler broke'); },
                null, null, {boom: [() => received.push('behavior ran')]}, true);
        }""",
        [cid, channel.url, channel.name],
    )
    channel.wait_for_sockets(1)
    channel.push("boom")
    channel.push("after")
    wait_until(lambda: len(push_page.evaluate("received")) == 3)
    assert push_page.evaluate("received") == ["boom", "behavior ran", "after"]
    reported = push_page.evaluate("window.errors").__getitem__(slice(push_page.errors_before, None))
    assert any("handler broke" in e and cid in e and channel.name in e for e in reported)


def test_E6_frames_that_are_not_push_messages_are_skipped(push_page, channel, page_errors):
    page_errors.allow("skipped a frame")
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    console_before = len(push_page.console)
    channel.push_raw("this is not JSON")
    channel.push_raw('{"no": "data"}')
    channel.push("fine")
    push_page.wait_for(cid, "message")
    assert push_page.kinds(cid) == ["open", "message"]
    skipped = [m for m in push_page.console[console_before:] if "skipped a frame" in m]
    assert len(skipped) == 2 and all(cid in m and channel.name in m for m in skipped)
    assert push_page.state(cid) == "open"


@pytest.mark.parametrize("code, reason", [(1000, "Expired"), (1008, "Unknown channel")])
def test_E7_expired_and_1008_end_the_client_without_retry(push_page, channel, code, reason):
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    if reason == "Expired":
        assert channel.expire() == 1
    else:
        assert channel.close_sockets(code, reason) == 1
    [close] = push_page.wait_for(cid, "close")
    assert close == [
        "close",
        code,
        channel.name,
        {"event": "close", "code": code, "reason": reason},
    ]
    assert push_page.state(cid) == "idle"  # no reconnect is pending
    assert push_page.kinds(cid) == ["open", "close"]


def test_E7_an_unknown_channel_id_is_refused_with_1008_and_no_retry(push_page, channel):
    cid = new_id()
    bogus = channel.url.split("?")[0] + "?not-a-registered-id"
    push_page.evaluate(
        "([id, url, ch]) => initRecorded(id, url, ch, null, true)", [cid, bogus, channel.name]
    )
    [close] = push_page.wait_for(cid, "close")
    assert close[1] == 1008 and close[3]["reason"] == "Unknown channel"
    assert push_page.state(cid) == "idle"
    assert "error" not in push_page.kinds(cid)


def test_E7_a_first_connection_the_browser_will_not_even_try_ends_in_one_onclose_1006(push_page):
    """Port 1 is on both engines' blocked-port lists. Chromium fires error then close;
    WebKit fires error only and never close, which would leave the client connecting
    for ever: pypush closes it itself (1006) when no close event follows."""
    cid = new_id()
    push_page.evaluate(
        "([id, url]) => initRecorded(id, url, 'blocked', null, true)",
        [cid, "ws://127.0.0.1:1/jakarta.faces.push/blocked?x"],
    )
    [close] = push_page.wait_for(cid, "close", timeout=10)
    assert close == ["close", 1006, "blocked", {"event": "close", "code": 1006, "reason": ""}]
    assert push_page.state(cid) == "idle"  # E7: the first attempt failed, so no retry
    assert push_page.kinds(cid) == ["close"]
    assert push_page.evaluate("(id) => stamps[id].length", cid) == 1  # exactly one onclose


def test_C1_close_gives_one_onclose_and_no_reconnect(push_page, channel):
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    push_page.evaluate("(id) => faces.push.close(id)", cid)
    [close] = push_page.wait_for(cid, "close")
    # C1: the close event's own code (aiohttp answers a bare close() with 1000).
    assert close[1] == close[3]["code"] == 1000
    channel.wait_for_sockets(0)
    assert push_page.state(cid) == "idle"
    push_page.evaluate("(id) => faces.push.close(id)", cid)  # C3: closing again does nothing
    assert push_page.kinds(cid) == ["open", "close"]


def test_C3_open_after_close_starts_a_fresh_lifecycle(push_page, channel):
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    push_page.evaluate("(id) => { faces.push.close(id); faces.push.open(id); }", cid)
    push_page.wait_for(cid, "open", 2)
    push_page.wait_for(cid, "close", 1)
    channel.wait_for_sockets(1)
    assert sorted(push_page.kinds(cid)) == ["close", "open", "open"]
    assert push_page.state(cid) == "open"


def test_E8_a_reconnect_the_page_cannot_schedule_ends_in_one_onclose_that_says_why(
    push_page, channel, page_errors
):
    """A page whose setTimeout throws (a broken polyfill): no reconnect can be timed, so
    the lifecycle ends with its one onclose and the reason is reported, never a client
    left waiting for ever."""
    page_errors.allow("cannot reconnect after close code")
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    push_page.evaluate(
        "() => { window.realSetTimeout = window.setTimeout;"
        " window.setTimeout = () => { throw new Error('timers are blocked'); }; }"
    )
    try:
        channel.close_sockets(1011, "restarting")
        [close] = push_page.wait_for(cid, "close")
    finally:
        push_page.evaluate("() => { window.setTimeout = window.realSetTimeout; }")
    assert close[1:3] == [1011, channel.name]
    assert push_page.kinds(cid) == ["open", "close"]
    assert push_page.state(cid) == "idle"
    reported = push_page.evaluate("window.errors")[push_page.errors_before :]
    assert any("timers are blocked" in e and cid in e and "reconnect" in e for e in reported)
