"""Every text crosses between the page and Python whole, code unit for code unit (T1).

MicroPython 1.27 hands a string to JavaScript through a NUL-terminated conversion,
so a string that made a round trip through Python would arrive cut at its first
U+0000. pypush keeps what the page must see on the JavaScript side (the message
as ``JSON.parse`` made it, the channel as the page passed it) and sends the texts
Python writes (errors) through an encoding the glue decodes.

Strings are built in Python, sent as ASCII JSON (``\\uXXXX`` escapes, lone
surrogates included) and parsed in the page, where every comparison happens, so
no test tool's own string conversion is involved.
"""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import wait_until

TRICKY = [
    "\x00",
    "\x00start",
    "mid\x00dle",
    "end\x00",
    "\x00\x00two\x00\x00",
    "\ud800",
    "lone \udfff low",
    "paired \ud83d\ude00 surrogates",
    "astral 𝄞 😀 𐍈",
    "combining e\u0301 a\u0308\u0323",
    "right-to-left \u202eabc\u202c \u200f",
    "\ufeffbom and \ufffe",
    '\x01J"not our marker"',
    "\x01",
    "",
]
BIG = "a" * (5 * 1024 * 1024 - 8) + "\x00 mid\x00" + "\ud83d\ude00" + "\x00"


def new_id(prefix: str = "x") -> str:
    return prefix + "-" + uuid.uuid4().hex[:8]


def frame_of(message: object) -> str:
    """The push frame as ASCII JSON (escapes for everything else, lone surrogates too)."""
    return json.dumps({"data": message}, ensure_ascii=True)


def wait_messages(push_page, cid: str, count: int, timeout: float = 10) -> None:
    """Wait for ``count`` onmessage calls, counted in the page: the messages themselves
    must not travel back (geckodriver refuses a lone surrogate in a script's answer)."""
    wait_until(
        lambda: (
            push_page.evaluate(
                "(id) => (calls[id] || []).filter((c) => c[0] === 'message').length", cid
            )
            >= count
        ),
        timeout,
        "%d messages on %s" % (count, cid),
    )


def connected(push_page, channel, client_id: str | None = None) -> str:
    cid = client_id or new_id()
    push_page.init(cid, channel)
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    return cid


# In the page: do the onmessage calls of clientId ``id`` hold exactly JSON.parse(f).data?
SAME_MESSAGES_JS = """([id, frames]) => {
    const got = (window.calls[id] || []).filter((c) => c[0] === 'message').map((c) => c[1]);
    const want = frames.map((f) => JSON.parse(f).data);
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
        && (typeof a !== 'string' || a === b);
    return want.map((w, i) => same(got[i], w) ? 'same' :
        'message ' + i + ': got ' + JSON.stringify(got[i]) + ' expected ' + JSON.stringify(w));
}"""


def test_19_string_messages_reach_onmessage_code_unit_for_code_unit(push_page, channel):
    cid = connected(push_page, channel)
    frames = [frame_of(text) for text in TRICKY]
    frames += [frame_of({"k\x00": "v\x00w", "\ud800": ["\x00", "\udfff"]}), frame_of(["\x00"])]
    for frame in frames:
        assert channel.push_raw(frame) == 1
    wait_messages(push_page, cid, len(frames))
    assert push_page.evaluate(SAME_MESSAGES_JS, [cid, frames]) == ["same"] * len(frames)


def test_19_a_5_mb_string_with_nul_and_astral_characters_arrives_whole(push_page, channel):
    cid = connected(push_page, channel)
    frame = frame_of(BIG)
    assert channel.push_raw(frame) == 1
    wait_messages(push_page, cid, 1, timeout=30)
    code_units = len(json.loads(frame)["data"].encode("utf-16-le", "surrogatepass")) // 2
    assert push_page.evaluate(
        """([id, frame]) => {
            const got = calls[id].filter((c) => c[0] === 'message')[0][1];
            const want = JSON.parse(frame).data;
            // Drop the copy the recorder keeps: the page is shared.
            calls[id] = calls[id].filter((c) => c[0] !== 'message');
            return [got === want, got.length, want.length];
        }""",
        [cid, frame],
    ) == [True, code_units, code_units]


def test_19_E3_E4_behaviors_run_for_the_exact_message_only(push_page, channel):
    cid = new_id()
    keys = ["a", "a\x00b", "\x00", "x\ud800", "x\udbff", "😀"]
    push_page.evaluate(
        """([id, url, ch, keys]) => {
            window.behaviorRuns = [];
            const behaviors = {};
            JSON.parse(keys).forEach((key, i) => {
                behaviors[key] = [() => behaviorRuns.push(i)];
            });
            initRecorded(id, url, ch, behaviors, true);
        }""",
        [cid, channel.url, channel.name, json.dumps(keys)],
    )
    push_page.wait_for(cid, "open")
    channel.wait_for_sockets(1)
    pushed = ["a\x00b", "a", "a\x00c", "\x00", "x\ud800", "x\udbff", "x", "😀", "\ud83d"]
    for message in pushed:
        channel.push_raw(frame_of(message))
    wait_messages(push_page, cid, len(pushed))
    # Each key's behavior ran for its own message, none for the near misses.
    assert push_page.evaluate("behaviorRuns") == [1, 0, 2, 3, 4, 5]


def test_19_client_ids_and_channel_names_cross_whole(push_page, channel, engine):
    suffix = uuid.uuid4().hex[:6]
    cid, twin = "id\x00" + suffix, "id" + suffix  # would be one clientId if cut at U+0000
    name = "ch\x00\ud800 😀"  # the channel the page passes to init: any text
    result = push_page.evaluate(
        """([ids, url, name]) => {
            const [cid, twin] = JSON.parse(ids), ch = JSON.parse(name);
            window.exactLog = [];
            const same = (c) => c === ch;
            faces.push.init(cid, url, ch,
                (c) => exactLog.push(['open', same(c)]),
                (m, c) => exactLog.push(['message', m, same(c)]),
                (code, c, e) => exactLog.push(['error', code, same(c), e.reason,
                                               e === lastCloseEvent[url]]),
                (code, c) => exactLog.push(['close', code, same(c)]), null, true);
            let unknown;
            try { faces.push.open(twin); }
            catch (e) { unknown = e.message === 'Unknown clientId: ' + twin; }
            return [unknown, pypush.state(cid)];
        }""",
        [json.dumps([cid, twin]), channel.url, json.dumps(name)],
    )
    assert result == [True, "connecting"]
    channel.wait_for_sockets(1)
    wait_until(lambda: push_page.evaluate("exactLog.length") == 1, 10, "onopen")
    channel.push("hi")
    wait_until(lambda: push_page.evaluate("exactLog.length") == 2, 10, "onmessage")
    channel.close_sockets(1011, "bye\x00now")  # E8: a reason with U+0000 in it
    wait_until(lambda: push_page.evaluate("exactLog.length") == 3, 10, "onerror")
    channel.wait_for_sockets(1)
    # The server counts the new socket before the page sees it open; closed while still
    # connecting, it would end with the browser's 1006 (C1), not 1000.
    state = "(ids) => pypush.state(JSON.parse(ids)[0])"
    wait_until(lambda: push_page.evaluate(state, json.dumps([cid])) == "open", 10, "reopened")
    push_page.evaluate("(ids) => faces.push.close(JSON.parse(ids)[0])", json.dumps([cid]))
    wait_until(lambda: push_page.evaluate("exactLog.length") == 4, 10, "onclose")
    log = push_page.evaluate(
        "exactLog.map((e) => e[0] === 'error' ? [e[0], e[1], e[2], e[3] === 'bye\\0now', e[4]] : e)"
    )
    # The close event is the browser's own, untouched. Its reason is the server's whole,
    # except on WebKit, which itself cuts a close reason at U+0000 (see the README).
    whole_reason = engine != "webkit"
    assert log == [
        ["open", True],
        ["message", "hi", True],
        ["error", 1011, True, whole_reason, True],
        ["close", 1000, True],
    ]


def test_19_E7_a_close_reason_is_compared_whole(push_page, channel, engine):
    """1000 "Expired" is final (E7); 1000 "Expired\\0..." is not: it would be if cut."""
    cid = connected(push_page, channel)
    channel.close_sockets(1000, "Expired\x00 not really")
    if engine == "webkit":
        # WebKit itself cuts the reason at U+0000: its close event says "Expired", and
        # pypush follows what the browser reports (E7: final).
        [close] = push_page.wait_for(cid, "close")
        assert close[3] == {"event": "close", "code": 1000, "reason": "Expired"}
        return
    [error] = push_page.wait_for(cid, "error")
    assert error[1] == 1000
    channel.wait_for_sockets(1)  # E8: it reconnects
    # The server counts the socket at its handshake, a moment before the page's open event.
    wait_until(lambda: push_page.state(cid) == "open", 10, "open again")


def test_19_E5_E6_error_texts_name_client_and_channel_whole(push_page, channel, page_errors):
    page_errors.allow("onmessage threw: Error: thrown.here", "skipped a frame")
    # U+0000, and a lone surrogate in a text long enough for a TextDecoder to see it.
    cid = "err\x00" + uuid.uuid4().hex[:6] + " lone \udc00 surrogate"
    name = "chan\x00nel"
    ids = [json.dumps(cid), json.dumps(name)]
    push_page.evaluate(
        """([id, url, ch]) => {
            // The page's own view of console.error (test tools may drop a text with U+0000).
            window.consoleErrors = [];
            window.realConsoleError = console.error;
            console.error = function () {
                consoleErrors.push(Array.prototype.map.call(arguments, String).join(' '));
                return realConsoleError.apply(console, arguments);
            };
            faces.push.init(JSON.parse(id), url, JSON.parse(ch), null,
                () => { throw new Error('thrown\\0here'); }, null, null, null, true);
        }""",
        [ids[0], channel.url, ids[1]],
    )
    try:
        channel.wait_for_sockets(1)
        channel.push("boom")
        channel.push_raw("not JSON")
        wait_until(
            lambda: push_page.evaluate(
                """([id, ch]) => window.errors.some((e) => e.includes("'" + JSON.parse(id) + "'")
                    && e.includes("'" + JSON.parse(ch) + "'") && e.includes('thrown\\0here'))""",
                ids,
            ),
            10,
            "the E5 report with the whole clientId, channel and error",
        )
        wait_until(
            lambda: push_page.evaluate(
                """([id, ch]) => consoleErrors.some((line) => line.includes('skipped a frame')
                    && line.includes("'" + JSON.parse(id) + "'")
                    && line.includes("'" + JSON.parse(ch) + "'"))""",
                ids,
            ),
            10,
            "the E6 warning with the whole clientId and channel",
        )
    finally:
        # The page is shared: restore console.error, close the client, and take back the
        # reports this test caused (a lone surrogate must not reach later tests' reads).
        push_page.evaluate(
            """(id) => {
                console.error = realConsoleError;
                faces.push.close(JSON.parse(id));
                window.errors = errors.filter((e) => !e.includes(JSON.parse(id)));
            }""",
            ids[0],
        )


# Any code point, with the ones that break conversions drawn often.
CHARACTERS = st.one_of(
    st.sampled_from(["\x00", "\x01", "\ud800", "\udfff", "😀", "\u0301", "\u202e", "é"]),
    st.characters(codec=None),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(st.text(CHARACTERS, max_size=40), min_size=1, max_size=8))
def test_19_property_any_strings_arrive_whole(push_page, server, texts):
    """Hypothesis draws any code points, U+0000, the marker and lone surrogates often."""
    channel = server.channel()
    cid = connected(push_page, channel)
    frames = [frame_of(text) for text in texts]
    for frame in frames:
        channel.push_raw(frame)
    wait_messages(push_page, cid, len(frames))
    assert push_page.evaluate(SAME_MESSAGES_JS, [cid, frames]) == ["same"] * len(frames)
    push_page.evaluate("(id) => faces.push.close(id)", cid)


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_19_the_python_face_gets_exact_python_strings(browser, server, kind):
    """PyScript pages (push.init and subscribe): Python sees the same code points that
    CPython's json.loads gives, and hands back JSON the page compares with the frame."""
    from tests.browser.conftest import PushPage

    first = server.channel()
    second = server.channel()
    context = browser.new_context()
    try:
        page = PushPage(context.new_page(), server)
        page.page.goto(
            server.base_url
            + "/test/pyscript-exact-%s.html?url=%s&url2=%s&channel=%s"
            % (kind, _quote(first.url), _quote(second.url), first.name)
        )
        page.page.wait_for_function("window.pyStarted === true", timeout=60_000)
        first.wait_for_sockets(1)
        second.wait_for_sockets(1)
        texts = [*TRICKY, {"k\x00": ["\ud800", "😀"]}]
        frames = [frame_of(text) for text in texts]
        for frame in frames:
            first.push_raw(frame)
            second.push_raw(frame)
        wait_until(
            lambda: (
                page.evaluate("[pyExact.init.length, pyExact.subscribe.length]")
                == [len(frames), len(frames)]
            ),
            20,
            "every message on both Python clients",
        )
        # What CPython's json.loads gives: the code points Python must see (an escaped
        # surrogate pair is one character, a lone surrogate is one too).
        decoded = [json.loads(frame)["data"] for frame in frames]
        expected_lengths = [len(t) if isinstance(t, str) else None for t in decoded]
        for face in ("init", "subscribe"):
            assert page.evaluate(
                """([face, frames]) => pyExact[face].map((entry, i) => {
                    const [length, json] = JSON.parse(entry);
                    const want = JSON.parse(frames[i]).data, got = JSON.parse(json);
                    return [JSON.stringify(got) === JSON.stringify(want)
                        && (typeof want !== 'string' || got === want), length];
                })""",
                [face, frames],
            ) == [[True, length] for length in expected_lengths], face
    finally:
        context.close()


def _quote(text: str) -> str:
    import urllib.parse

    return urllib.parse.quote(text, safe="")
