"""Heartbeats over real sockets (spec H7) and the ``vanish`` fault, against serve.py.

A client here is a plain aiohttp WebSocket: one written like Mojarra's (never asks to
resume, never says hello: never sent a heartbeat), one that resumes by hand and one that
says hello (each told the interval, then sent heartbeats). The browser's own client is
tested in tests/browser/test_resume.py.
"""

import asyncio
import json

import aiohttp
import pytest

from tests.server.test_asgi import app  # noqa: F401 - the uvicorn fixture
from tests.support import receive, run, wait_until, ws_url

INTERVAL = 0.3


@pytest.fixture(scope="module")
def server(start_module_server):
    return start_module_server("--no-demo-clock", "--client-heartbeat", str(INTERVAL))


async def first_position(session, server, channel) -> tuple:
    """A Mojarra-style socket that received one message, and that message's position."""
    socket = await session.ws_connect(ws_url(server, channel.path))
    await asyncio.to_thread(channel.wait_for_sockets, 1)
    await asyncio.to_thread(channel.push, "first")
    return socket, json.loads((await receive(socket)).data)["id"]


async def frames_until_quiet(socket, quiet: float, at_most: int = 10) -> list:
    """The frames that arrive until none has for ``quiet`` seconds (at most ``at_most``)."""
    frames = []
    while len(frames) < at_most:
        try:
            frames.append(json.loads((await receive(socket, timeout=quiet)).data))
        except TimeoutError:
            break
    return frames


def test_H7_a_resumed_socket_is_told_the_interval_and_sent_heartbeats_mojarras_never(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            plain, position = await first_position(session, server, channel)
            url = ws_url(server, channel.path + "&pypush-resume=" + position)
            resumed = await session.ws_connect(url)
            hello = json.loads((await receive(resumed)).data)
            assert hello == {
                "pypush": "resume",
                "id": position,
                "missed": 0,
                "heartbeat": round(INTERVAL * 1000),
            }
            loop = asyncio.get_running_loop()
            started = loop.time()
            beats = [json.loads((await receive(resumed, timeout=2)).data) for _ in range(4)]
            assert beats == [{"pypush": "heartbeat"}] * 4
            # Each comes within the interval and a tick (a quarter of it), never later; the
            # slack is for a busy machine, and still well short of a 1 s tick's 4 s.
            assert loop.time() - started < 4 * INTERVAL * 1.25 + 0.8
            with pytest.raises(asyncio.TimeoutError):
                await receive(plain, timeout=4 * INTERVAL)  # the Mojarra-style socket: nothing

    run(scenario())


def test_N4_vanish_leaves_the_socket_open_and_silent_heartbeats_included(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            plain, position = await first_position(session, server, channel)
            url = ws_url(server, channel.path + "&pypush-resume=" + position)
            resumed = await session.ws_connect(url, autoping=False)
            await receive(resumed)  # the resume frame
            assert await asyncio.to_thread(channel.vanish) == 2
            await asyncio.to_thread(channel.push, "into the void")
            # A heartbeat written before the vanish took effect may still be on its way (one
            # is due every INTERVAL, the fault API's call takes its time): let it land, and
            # see that it was one and nothing after it, the message pushed after least of all.
            stray = await frames_until_quiet(resumed, quiet=2 * INTERVAL)
            assert stray in ([], [{"pypush": "heartbeat"}], [{"pypush": "heartbeat"}] * 2)
            with pytest.raises(asyncio.TimeoutError):
                await receive(resumed, timeout=5 * INTERVAL)
            assert not resumed.closed and not plain.closed  # nobody said a word
            # A new socket is served as ever, and resumes what went into the void.
            again = await session.ws_connect(url)
            frames = [json.loads((await receive(again)).data) for _ in range(2)]
            assert frames[0]["missed"] == 0 and frames[1]["data"] == "into the void"

    run(scenario())


def test_H8_a_first_socket_that_says_hello_is_told_the_interval_and_sent_heartbeats(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            plain, _ = await first_position(session, server, channel)
            greeting, _ = await first_position(session, server, server.channel())
            await greeting.send_str('{"pypush":"hello"}')
            answer = json.loads((await receive(greeting)).data)
            assert answer == {"pypush": "hello", "heartbeat": round(INTERVAL * 1000)}
            beats = [json.loads((await receive(greeting, timeout=2)).data) for _ in range(2)]
            assert beats == [{"pypush": "heartbeat"}] * 2
            with pytest.raises(asyncio.TimeoutError):
                await receive(plain, timeout=3 * INTERVAL)

    run(scenario())


def test_H8_the_asgi_endpoint_answers_a_hello_too(app):  # noqa: F811 - the fixture
    info = app.call("POST", "/channels/news")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(app.ws(info["path"]))
            await asyncio.to_thread(
                wait_until, lambda: app.call("GET", "/channels/news")["sockets"] == 1
            )
            await socket.send_str('{"pypush":"hello"}')
            answer = json.loads((await receive(socket)).data)
            assert answer == {"pypush": "hello", "heartbeat": 25_000}

    run(scenario())


def test_H8_a_client_frame_of_4_KiB_closes_the_socket_with_1009(server):
    """A client has nothing to send but its hello: the server reads no more than that."""
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket, _ = await first_position(session, server, channel)
            await socket.send_str("x" * 4000)  # under the bound: read, and ignored
            await asyncio.to_thread(channel.push, "still open")
            assert json.loads((await receive(socket)).data)["data"] == "still open"
            await socket.send_str("x" * 4096)
            message = await receive(socket)
            assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 1009

    run(scenario())
