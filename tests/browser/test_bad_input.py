"""Bad input, tried for real: each gets a clear error or a reported, skipped frame,
never a hang and never a client that silently stops (spec sections 2 to 4)."""

import hashlib
import uuid

import pytest

from tests.support import wait_until


def new_id() -> str:
    return "b-" + uuid.uuid4().hex[:8]


def connected(push_page, channel) -> str:
    cid = new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    return cid


def skipped_since(push_page, mark: int) -> list[str]:
    return [m for m in push_page.console[mark:] if "skipped a frame" in m]


def test_E6_a_binary_frame_is_reported_and_skipped(push_page, channel, server, page_errors):
    page_errors.allow("skipped a frame")
    cid = connected(push_page, channel)
    mark = len(push_page.console)
    server.post("/api/channels/%s/push?binary=1" % channel.name, "\x00\x01binary", raw=True)
    channel.push("after")
    push_page.wait_for(cid, "message")
    [report] = wait_until(lambda: skipped_since(push_page, mark))
    assert "binary" in report and cid in report and channel.name in report
    assert push_page.kinds(cid) == ["open", "message"]


@pytest.mark.parametrize(
    "frame, why",
    [
        ("{not json", "JSON"),
        ('{"nodata": 1}', 'no "data"'),
        ("[1, 2]", 'no "data"'),
        ("null", 'no "data"'),
        ('"just a string"', 'no "data"'),
    ],
)
def test_E6_frames_that_are_not_push_messages_are_reported_and_skipped(
    push_page, channel, frame, why, page_errors
):
    page_errors.allow("skipped a frame")
    cid = connected(push_page, channel)
    mark = len(push_page.console)
    channel.push_raw(frame)
    channel.push("after")
    push_page.wait_for(cid, "message")
    [report] = wait_until(lambda: skipped_since(push_page, mark))
    assert cid in report and channel.name in report
    assert why.lower() in report.lower() or "json" in report.lower()
    assert push_page.calls(cid)[-1][1] == "after"
    assert push_page.state(cid) == "open"


def test_a_5_mb_message_arrives_intact(push_page, channel):
    cid = new_id()
    text = ("0123456789abcdef" * 327_680)[:5_000_000] + "𝄞"
    push_page.evaluate(
        """([id, url, ch]) => {
            window.big = null;
            faces.push.init(id, url, ch, null, async (m) => {
                const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(m));
                big = [m.length, Array.from(new Uint8Array(digest),
                                            (b) => b.toString(16).padStart(2, '0')).join('')];
            }, null, null, null, true);
        }""",
        [cid, channel.url, channel.name],
    )
    channel.wait_for_sockets(1)
    assert channel.push(text) == 1
    length, digest = wait_until(lambda: push_page.evaluate("big"), 30, "the 5 MB message")
    assert length == len(text.encode("utf-16-le")) // 2
    assert digest == hashlib.sha256(text.encode()).hexdigest()


def test_unicode_beyond_the_bmp_and_right_to_left_text_survive_as_messages_and_behaviors(
    push_page, channel
):
    cid = new_id()
    rtl = "مرحبا بالعالم · שלום עולם"
    astral = "𝄞 🎉 𠜎 \U0001f9d1\u200d\U0001f4bb"
    push_page.evaluate("window.ranRtl = 0")
    push_page.init(cid, channel, behaviors="{%r: [() => ranRtl++]}" % rtl)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    for message in (rtl, astral, {"כותרת": astral, astral: [rtl]}):
        channel.push(message)
    calls = push_page.wait_for(cid, "message", 3)
    assert [c[1] for c in calls] == [rtl, astral, {"כותרת": astral, astral: [rtl]}]
    assert push_page.evaluate("ranRtl") == 1


def test_deeply_nested_json_arrives_without_hanging(push_page, channel):
    cid = new_id()
    depth = 20_000
    push_page.evaluate(
        """([id, url, ch]) => {
            window.depthSeen = null;
            faces.push.init(id, url, ch, null, (m) => {
                let d = 0; while (Array.isArray(m)) { m = m[0]; d++; } depthSeen = d;
            }, null, null, null, true);
        }""",
        [cid, channel.url, channel.name],
    )
    channel.wait_for_sockets(1)
    channel.push_raw('{"data":' + "[" * depth + "]" * depth + "}")
    channel.push("after")
    wait_until(lambda: push_page.evaluate("depthSeen") == 0, 10, "the 'after' message")
    # Either delivered (V8 parses it) or reported and skipped: the client goes on regardless.
    assert push_page.state(cid) == "open"


def test_data_keys_named_like_prototype_members_stay_plain_data(push_page, channel):
    cid = connected(push_page, channel)
    channel.push_raw(
        '{"data": {"__proto__": {"polluted": true}, "constructor": "c", "toString": "t"}}'
    )
    push_page.wait_for(cid, "message")
    result = push_page.evaluate(
        """(id) => {
            const m = window.calls[id].at(-1)[1];
            return [Object.keys(m).sort(), ({}).polluted === undefined, m.toString];
        }""",
        cid,
    )
    assert result == [["__proto__", "constructor", "toString"], True, "t"]


def init_error(push_page, args_js: str) -> str:
    return push_page.evaluate(
        "() => { try { faces.push.init(%s); return 'no error'; }"
        " catch (e) { return e.constructor.name + ': ' + e.message; } }" % args_js
    )


@pytest.mark.parametrize(
    "args_js, expected",
    [
        ("'u1'", "TypeError: faces.push.init: clientId 'u1' needs a URL string"),
        ("'u2', null, 'ch'", "TypeError: faces.push.init: clientId 'u2' needs a URL string"),
        ("'u3', 42, 'ch'", "TypeError: faces.push.init: clientId 'u3' needs a URL string"),
        ("42, '/x?y', 'ch'", "TypeError: faces.push.init: clientId must be a string"),
        ("{}, '/x?y', 'ch'", "TypeError: faces.push.init: clientId must be a string"),
        (
            "'u4', '/x?y', 'ch', null, null, null, null, 'refresh'",
            "TypeError: faces.push.init: behaviors of clientId 'u4' must be an object",
        ),
        (
            "'u5', '/x?y', 'ch', null, null, null, null, 7",
            "TypeError: faces.push.init: behaviors of clientId 'u5' must be an object",
        ),
    ],
)
def test_init_with_bad_arguments_throws_a_clear_type_error(push_page, args_js, expected):
    assert init_error(push_page, args_js).startswith(expected)


@pytest.mark.parametrize(
    "url", ["ws://", "http://[::1", "ftp://example.test/x", "javascript:alert(1)"]
)
def test_a_malformed_url_throws_at_open_naming_client_and_url(push_page, url):
    cid = new_id()
    push_page.evaluate("([id, url]) => faces.push.init(id, url, 'ch')", [cid, url])
    message = push_page.evaluate(
        "(id) => { try { faces.push.open(id); return 'no error'; }"
        " catch (e) { return e.constructor.name + ': ' + e.message; } }",
        cid,
    )
    assert message.startswith("Error: faces.push: cannot open clientId '%s'" % cid)
    assert url in message
    assert push_page.state(cid) == "idle"


def test_behaviors_holding_non_functions_are_reported_and_the_functions_still_run(
    push_page, channel, page_errors
):
    page_errors.allow("holds something that is not a function")
    cid = new_id()
    mark = len(push_page.console)
    push_page.evaluate("window.ranGood = 0")
    push_page.init(cid, channel, behaviors="{go: [() => ranGood++, 5, 'text'], solo: 'x'}")
    reports = [m for m in push_page.console[mark:] if "not a function" in m]
    assert len(reports) == 2 and all(cid in m for m in reports)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    channel.push("go")
    channel.push("solo")
    push_page.wait_for(cid, "message", 2)
    assert push_page.evaluate("ranGood") == 1


@pytest.mark.parametrize("callback", ["onopen", "onerror", "onclose"])
def test_callbacks_that_throw_are_reported_and_the_client_goes_on(
    push_page, server, callback, page_errors
):
    page_errors.allow("on(open|error|close) threw: Error: on(open|error|close) broke")
    channel = server.channel()
    cid = new_id()
    push_page.evaluate(
        """([id, url, ch, which]) => {
            const r = recorder(id);
            const original = r[which];
            r[which] = function () {
                original.apply(null, arguments);
                throw new Error(which + ' broke');
            };
            faces.push.init(id, url, ch, r.onopen, r.onmessage, r.onerror, r.onclose, null, true);
        }""",
        [cid, channel.url, channel.name, callback],
    )
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    channel.close_sockets(1011)  # onerror, then an immediate reconnect
    push_page.wait_for(cid, "error")
    channel.wait_for_sockets(1)
    wait_until(lambda cid=cid: push_page.state(cid) == "open")
    channel.push("still alive")
    push_page.wait_for(cid, "message")
    push_page.evaluate("(id) => faces.push.close(id)", cid)
    push_page.wait_for(cid, "close")
    assert push_page.kinds(cid) == ["open", "error", "message", "close"]
    reported = push_page.evaluate("window.errors")[push_page.errors_before :]
    assert any(callback + " broke" in e and cid in e for e in reported)
    assert push_page.state(cid) == "idle"


NO_CALLBACKS = {
    "null": "null",
    "undefined": "undefined",
    "an unknown global name": "'noSuchGlobalFunction'",
    "a global that is not a function": "'notAFunctionGlobal'",
    "a number": "42",
}
POSITIONS = ("onopen", "onmessage", "onerror", "onclose")


@pytest.mark.parametrize("given", NO_CALLBACKS)
def test_I1_what_is_no_function_is_no_callback_and_reports_nothing(push_page, server, given):
    """Mojarra renders each unset attribute of <f:websocket> as a literal null: such a
    callback, like undefined or a name that names no function, is a no-op (I1) at every
    event of its position: open, message, error (a reconnect) and close. One client per
    position, whose other three callbacks record, so every event is seen to happen;
    the page errors watcher fails the test on any report."""
    clients = {position: (new_id(), server.channel()) for position in POSITIONS}
    for position, (cid, channel) in clients.items():
        push_page.evaluate(
            """([id, url, ch, which]) => {
                window.notAFunctionGlobal = 7;
                const r = recorder(id);
                r[which] = %s;
                faces.push.init(id, url, ch, r.onopen, r.onmessage, r.onerror, r.onclose,
                                null, true);
            }"""
            % NO_CALLBACKS[given],
            [cid, channel.url, channel.name, position],
        )
    for cid, channel in clients.values():
        wait_until(lambda cid=cid: push_page.state(cid) == "open")
        channel.wait_for_sockets(1)
        channel.push("first")
        channel.close_sockets(1011)  # onerror, then a reconnect
    for cid, channel in clients.values():
        channel.wait_for_sockets(1)
        wait_until(lambda cid=cid: push_page.state(cid) == "open")
        channel.push("second")
    expected = ["open", "message", "error", "message", "close"]
    for position, (cid, _) in clients.items():
        if position != "onmessage":
            push_page.wait_for(cid, "message", 2)
        push_page.evaluate("(id) => faces.push.close(id)", cid)
        wait_until(lambda cid=cid: push_page.state(cid) == "idle")
        if position != "onclose":
            push_page.wait_for(cid, "close")
        assert push_page.kinds(cid) == [k for k in expected if "on" + k != position], position
    assert push_page.evaluate("window.errors")[push_page.errors_before :] == []
