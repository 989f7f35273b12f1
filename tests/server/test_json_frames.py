"""Every frame is standard JSON (spec section 7): what JSON cannot carry is refused, never sent."""

import asyncio
import json
import urllib.error

import aiohttp
import pytest

from tests.support import receive, run, wait_until, without_position, ws_url


@pytest.fixture(scope="module")
def server(start_module_server):
    return start_module_server("--no-demo-clock")


def refusal(call) -> tuple[int, str]:
    with pytest.raises(urllib.error.HTTPError) as refused:
        call()
    return refused.value.code, json.loads(refused.value.read())["error"]


NOT_JSON_NUMBERS = ["NaN", "[Infinity]", "-Infinity", '{"x": [1, NaN]}', "1e999", "[-1e400]"]


@pytest.mark.parametrize("body", NOT_JSON_NUMBERS)
def test_a_push_of_nan_or_infinity_is_refused_with_400_and_never_sent(server, body):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(wait_until, lambda: channel.sockets() == 1)
            path = "/api/channels/%s/push" % channel.name
            status, error = await asyncio.to_thread(
                refusal, lambda: server.request("POST", path, body.encode())
            )
            assert status == 400
            assert error.startswith("the body is not standard JSON: ")
            assert "NaN or Infinity" in error or "too large for a JSON number" in error
            assert await asyncio.to_thread(channel.push, "after") == 1
            assert (
                without_position((await receive(socket)).data) == '{"data":"after"}'
            )  # nothing came before

    run(scenario())


@pytest.mark.parametrize("message", ["NaN", "Infinity"])
def test_a_burst_of_nan_is_refused_too(server, message):
    channel = server.channel()
    body = ('{"count": 3, "message": %s}' % message).encode()
    status, error = refusal(
        lambda: server.request("POST", "/api/channels/%s/burst" % channel.name, body)
    )
    assert status == 400 and "NaN" in error
    assert channel.status()["sent"] == {channel.id: 0}


def test_other_api_bodies_are_standard_json_too(server):
    status, error = refusal(lambda: server.request("POST", "/api/faults/down", b'{"seconds": NaN}'))
    assert (status, error) == (
        400,
        "the body is not standard JSON: NaN is not JSON: JSON has no NaN or Infinity",
    )
