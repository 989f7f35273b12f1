"""The API's input checks: every bad request is a 400 that says why, never a 500."""

import asyncio
import json
import urllib.error

import aiohttp
import pytest

from pypush_server.hub import Hub
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
