"""The API's input checks: every bad request is a 400 that says why, never a 500."""

import asyncio
import json
import urllib.error
import urllib.request

import aiohttp
import pytest

from pypush_server.hub import Hub
from pypush_server.messages import MessageError, TooDeep, encode_data
from tests.support import receive, run, wait_until, without_position, ws_url


@pytest.fixture(scope="module")
def server(start_module_server):
    return start_module_server("--no-demo-clock")


def refusal(server, path: str, body: bytes) -> tuple[int, str]:
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.request("POST", path, body)
    text = refused.value.read()
    return refused.value.code, json.loads(text)["error"]


@pytest.mark.parametrize(
    "path, body, why",
    [
        ("close", b'{"code": 4000, "reason": "\\ud800"}', "lone surrogate"),
        ("close", b'{"code": 4000, "reason": "\\udfff tail"}', "lone surrogate"),
        ("push?raw=1", b"\xed\xa0\x80", "a raw text frame must be UTF-8"),
        ("push?raw=1", b"ok \xff", "a raw text frame must be UTF-8"),
    ],
)
def test_a_lone_surrogate_is_a_400_not_a_500(server, path, body, why):
    channel = server.channel()
    status, error = refusal(server, "/api/channels/%s/%s" % (channel.name, path), body)
    assert status == 400 and why in error


@pytest.mark.parametrize("message", ['"\\ud800"', '{"a": ["x\\udc00", "\\ud83d\\ude00"]}'])
def test_a_lone_surrogate_in_a_message_is_sent_as_its_escape(server, message):
    """JavaScript strings hold lone surrogates: the frame carries them as JSON escapes."""
    channel = server.channel()

    async def scenario() -> str:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(wait_until, lambda: channel.sockets() == 1)
            path = "/api/channels/%s/push" % channel.name
            answer = await asyncio.to_thread(server.request, "POST", path, message.encode())
            assert answer == {"received": 1}
            return (await receive(socket)).data

    frame = run(scenario())
    assert json.loads(without_position(frame)) == {"data": json.loads(message)}
    assert "\\ud800" in frame or "\\udc00" in frame  # escaped, so the frame is UTF-8


@pytest.mark.parametrize(
    "body, why",
    [
        ({"count": True}, '"count" must be a whole number'),
        ({"count": 1.0}, '"count" must be a whole number'),
        ({"count": 2, "start": True}, '"start" must be a whole number'),
        ({"count": 2, "numbered": "yes"}, '"numbered" must be true or false'),
    ],
)
def test_booleans_are_not_numbers_in_bursts(server, body, why):
    channel = server.channel()
    status, error = refusal(
        server, "/api/channels/%s/burst" % channel.name, json.dumps(body).encode()
    )
    assert status == 400 and error.startswith(why)
    assert channel.status()["sent"] == {channel.id: 0}


@pytest.mark.parametrize(
    "kind, body, why",
    [
        ("refuse", {"seconds": True}, "\"seconds\" must be a number of seconds >= 0, not 'True'"),
        ("refuse", {"seconds": -1}, '"seconds" must be a number of seconds >= 0'),
        ("slow-close", {"delay": True}, '"delay" must be a number of seconds >= 0'),
        ("slow-close", {"delay": "2"}, '"delay" must be a number of seconds >= 0'),
        ("down", {"seconds": False}, '"seconds" must be a number of seconds >= 0'),
        ("flap", {"drop": 1}, '"drop" must be true or false'),
    ],
)
def test_fault_durations_and_flags_are_checked(server, kind, body, why):
    status, error = refusal(server, "/api/faults/%s" % kind, json.dumps(body).encode())
    assert status == 400 and error.startswith(why)


def test_expiring_a_channel_id_forgets_what_was_counted_for_it():
    hub = Hub()

    async def scenario() -> None:
        kept, expired = await hub.register("news"), await hub.register("news")
        for channel_id in (kept, expired):
            hub.sent[channel_id] = 0
        await hub.expire(expired)
        assert hub.sent == {kept: 0}
        assert await hub.channel_ids("news") == [kept]

    run(scenario())


DEEP_BODIES = {
    "100,000 open brackets": b"[" * 100_000,
    "a valid 2,000-deep object": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "a valid 5,000-deep array": b"[" * 5000 + b"]" * 5000,
}


@pytest.mark.parametrize(
    "path", ["/api/channels/deep/push", "/api/channels/deep/burst", "/demo/chat"]
)
@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_json_nested_too_deeply_is_a_400(server, path, body):
    """json recurses once per array or object: past the stack, a RecursionError, which is no
    ValueError. Whatever the route, a 400 that says why, and no traceback in the log."""
    status, error = refusal(server, path, body)
    assert status == 400, error
    assert "nested too deeply" in error, error
    assert "RecursionError" not in server.log_path.read_text()


def test_a_message_too_deep_to_write_is_refused_with_a_message_error():
    """A value built in Python (the Python API's hub.send) can be deeper than json.dumps can
    write; and how deep it can go depends on the stack below it, so a value that was read
    may still be too deep to write where it is sent. TooDeep (a 400 over HTTP), not a
    RecursionError."""
    value: object = 1
    for _ in range(100_000):
        value = [value]
    with pytest.raises(TooDeep, match="the message is nested too deeply"):
        encode_data(value)
    assert issubclass(TooDeep, MessageError)
    assert encode_data([[[1]]]) == "[[[1]]]"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=bogus",
        "application/json; charset=utf-16",
        "application/json; charset=",
    ],
)
@pytest.mark.parametrize("path", ["/api/channels/any/push", "/api/channels", "/demo/chat"])
def test_json_is_read_as_utf_8_whatever_charset_the_client_names(server, path, content_type):
    """RFC 8259 defines no charset for application/json: JSON is UTF-8. A charset no codec
    has was a LookupError, a 500."""
    body = {"channel": "news", "text": "héllo"} if "push" not in path else "héllo"
    request = urllib.request.Request(
        server.base_url + path, data=json.dumps(body, ensure_ascii=False).encode(), method="POST"
    )
    request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)
    status, error = refusal(server, "/api/channels/any/push", b'"\xff"')
    assert (status, error) == (400, "the body is not UTF-8, as JSON is: invalid start byte")
