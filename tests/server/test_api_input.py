"""The API's input checks: every bad request is a 400 that says why, never a 500."""

import json
import urllib.error

import pytest

from pypush_server.channels import Channels
from tests.support import run


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
        ("push", b'"\\ud800"', "the message holds a lone surrogate (U+D800 at 9)"),
        ("push", b'{"a": ["x\\udc00"]}', "lone surrogate (U+DC00"),
        ("burst", b'{"count": 2, "message": "\\ud800"}', "lone surrogate"),
    ],
)
def test_a_lone_surrogate_is_a_400_not_a_500(server, path, body, why):
    channel = server.channel()
    status, error = refusal(server, "/api/channels/%s/%s" % (channel.name, path), body)
    assert status == 400 and why in error


def test_a_lone_surrogate_in_the_demo_form_is_a_400(server):
    status, error = refusal(server, "/demo/chat", b'{"text": "\\ud800"}')
    assert (status, error) == (
        400,
        "the text holds a lone surrogate (U+D800 at 0), which UTF-8 cannot carry",
    )


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
    channels = Channels()
    kept, expired = channels.register("news"), channels.register("news")
    run(channels.expire(expired))
    assert channels.sent == {kept: 0}
    assert channels.ids_of("news") == [kept]
