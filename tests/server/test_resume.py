"""Resume over real sockets (spec section 7a): serve.py, the ASGI endpoint under
uvicorn, and two serve.py processes over one real redis-server.

A client here is a plain aiohttp WebSocket: one written like Mojarra's (reads ``data``,
never asks to resume), and one that speaks pypush's part of the protocol by hand
(``&pypush-resume=EPOCH:OFFSET`` on its reconnect). The browser's own client is tested
in tests/browser/test_resume.py.
"""

import asyncio
import json

import aiohttp
import pytest
import redis

from tests.server.test_asgi import app  # noqa: F401 - the uvicorn fixture
from tests.support import RedisServer, receive, run, wait_until, ws_url


@pytest.fixture(scope="module")
def server(start_module_server):
    return start_module_server("--no-demo-clock", "--history-messages", "5")


def frames_until(received: list, socket, count: int):
    async def read() -> list:
        while len(received) < count:
            received.append(json.loads((await receive(socket)).data))
        return received

    return read()


async def away_and_back(session, server, back_to, channel, count: int) -> tuple:
    """A client receives "first" from ``server`` and goes; ``count`` numbers are pushed
    while it is away; it comes back to ``back_to`` asking to resume after "first" (P2).
    Returns that position and the new socket."""
    socket = await session.ws_connect(ws_url(server, channel.path))
    await asyncio.to_thread(channel.wait_for_sockets, 1)
    await asyncio.to_thread(channel.push, "first")
    position = json.loads((await receive(socket)).data)["id"]
    await socket.close()
    await asyncio.to_thread(channel.wait_for_sockets, 0)
    await asyncio.to_thread(channel.burst, count=count, numbered=True)
    url = ws_url(back_to, channel.path + "&pypush-resume=" + position)
    return position, await session.ws_connect(url)


async def mojarra_style(socket, count: int) -> list:
    """What Mojarra's faces.js does with each frame: JSON.parse(event.data).data."""
    return [json.loads((await receive(socket)).data)["data"] for _ in range(count)]


def test_H1_a_client_written_like_mojarras_reads_data_and_is_never_sent_anything_else(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            await asyncio.to_thread(channel.burst, count=3, numbered=True)
            assert await mojarra_style(socket, 3) == [0, 1, 2]
            await socket.close()
            await asyncio.to_thread(channel.wait_for_sockets, 0)
            await asyncio.to_thread(channel.push, "while away")
            again = await session.ws_connect(ws_url(server, channel.path))  # as Mojarra does
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            await asyncio.to_thread(channel.push, "after")
            assert await mojarra_style(again, 1) == ["after"]  # no replay, no control frame
            with pytest.raises(asyncio.TimeoutError):
                await receive(again, timeout=0.5)

    run(scenario())


def test_H4_serve_py_replays_what_a_resuming_client_missed_then_goes_live(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            position, again = await away_and_back(session, server, server, channel, 3)
            received = await frames_until([], again, 4)
            await asyncio.to_thread(channel.push, "live")
            await frames_until(received, again, 5)
            assert received[0] == {
                "pypush": "resume",
                "id": position,
                "missed": 0,
                "heartbeat": 25000,
            }
            assert [f["data"] for f in received[1:]] == [0, 1, 2, "live"]
            epoch = position.split(":")[0]
            assert [f["id"] for f in received[1:]] == ["%s:%d" % (epoch, n) for n in range(2, 6)]

    run(scenario())


def test_H5_serve_py_counts_what_its_history_bound_let_go(server):
    """--history-messages 5: of 8 pushed while away, the first 3 are gone."""
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            _, again = await away_and_back(session, server, server, channel, 8)
            received = await frames_until([], again, 6)
            assert received[0]["missed"] == 3 and received[0]["reason"] == "trimmed"
            assert [f["data"] for f in received[1:]] == [3, 4, 5, 6, 7]

    run(scenario())


def test_H4_the_asgi_endpoint_resumes_too(app):  # noqa: F811 - the fixture
    info = app.call("POST", "/channels/news")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(app.ws(info["path"]))
            await asyncio.to_thread(lambda: _wait_sockets(app, 1))
            app.call("POST", "/channels/news/push?channelId=" + info["channelId"], "a")
            position = json.loads((await receive(socket)).data)["id"]
            await socket.close()
            await asyncio.to_thread(lambda: _wait_sockets(app, 0))
            app.call("POST", "/channels/news/push?channelId=" + info["channelId"], "b")
            again = await session.ws_connect(app.ws(info["path"] + "&pypush-resume=" + position))
            received = await frames_until([], again, 2)
            assert received[0] == {
                "pypush": "resume",
                "id": position,
                "missed": 0,
                "heartbeat": 25000,
            }
            assert received[1]["data"] == "b"
            bad = await session.ws_connect(app.ws(info["path"] + "&pypush-resume=nonsense"))
            [control] = await frames_until([], bad, 1)
            assert (control["missed"], control["reason"]) == (None, "malformed-position")

    run(scenario())


def _wait_sockets(asgi_app, count: int) -> None:
    wait_until(lambda: asgi_app.call("GET", "/channels/news")["sockets"] == count, 10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def test_H6_with_redis_a_client_resumes_on_another_process_from_the_history_in_redis(
    redis_server, start_push_server
):  # redis_server first: it stops after the servers
    options = ("--no-demo-clock", "--redis", redis_server.url, "--history-messages", "4")
    first, second = start_push_server(*options), start_push_server(*options)
    channel = first.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            position, again = await away_and_back(session, first, second, channel, 3)
            received = await frames_until([], again, 4)
            assert received[0] == {
                "pypush": "resume",
                "id": position,
                "missed": 0,
                "heartbeat": 25000,
            }
            assert [f["data"] for f in received[1:]] == [0, 1, 2]
            # The history is a Redis stream, bounded by --history-messages.
            client = redis.Redis.from_url(redis_server.url)
            try:
                await asyncio.to_thread(channel.burst, count=10, numbered=True, start=3)
                history = client.xrange("pypush:history:" + channel.id)
                assert [int(d[b"d"]) for _, d in history] == [9, 10, 11, 12]
                assert [i.decode().split("-")[0] for i, _ in history] == ["11", "12", "13", "14"]
                state = client.hgetall("pypush:stream:" + channel.id)
                assert state[b"epoch"].decode() == position.split(":")[0]
                assert state[b"last"] == b"14"
                assert client.pttl("pypush:history:" + channel.id) > 0  # it goes by itself
                await asyncio.to_thread(channel.expire)
                assert not client.exists("pypush:history:" + channel.id)
                assert not client.exists("pypush:stream:" + channel.id)
            finally:
                client.close()

    run(scenario())
