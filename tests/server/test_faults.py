"""The fault API of serve.py, checked with a plain aiohttp client (no browser)."""

import asyncio
import time

import aiohttp
import pytest

from tests.support import receive, run, wait_until, without_position, ws_url


@pytest.fixture
def server(start_push_server):
    return start_push_server("--no-demo-clock")


async def connect(
    session: aiohttp.ClientSession, server, channel
) -> aiohttp.ClientWebSocketResponse:
    socket = await session.ws_connect(ws_url(server, channel.path), autoclose=False)
    await asyncio.to_thread(wait_until, lambda: channel.sockets() >= 1)
    return socket


@pytest.mark.parametrize("scope", ["channel", "socket"])
def test_close_with_any_code_and_reason(server, scope):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, server, channel)
            body = {"code": 4321, "reason": "custom reason"}
            if scope == "channel":
                assert server.post("/api/channels/%s/close" % channel.name, body)["closed"] == 1
            else:
                [socket_id] = channel.status()["socketIds"]
                assert server.post("/api/sockets/%d/close" % socket_id, body)["closed"] == 1
            message = await receive(socket)
            assert (message.type, message.data, message.extra) == (
                aiohttp.WSMsgType.CLOSE,
                4321,
                "custom reason",
            )

    run(scenario())


@pytest.mark.parametrize("scope", ["channel", "socket"])
def test_drop_cuts_the_connection_without_a_close_frame(server, scope):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, server, channel)
            if scope == "channel":
                assert channel.drop() == 1
            else:
                [socket_id] = channel.status()["socketIds"]
                assert server.post("/api/sockets/%d/drop" % socket_id, {})["dropped"] == 1
            message = await receive(socket)
            assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
            assert message.type != aiohttp.WSMsgType.CLOSE  # no close frame came

    run(scenario())


def test_refuse_handshakes_until_cleared(server):
    channel = server.channel()
    other = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            server.fault("refuse", channel=channel.name, status=503)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(server, channel.path))
            assert refused.value.status == 503
            await session.ws_connect(ws_url(server, other.path))  # other channels are fine
            server.clear_fault("refuse", channel.name)
            await session.ws_connect(ws_url(server, channel.path))

    run(scenario())
    assert server.stats()["refused"] == 1


def test_refuse_for_a_while_then_accept_again(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            server.fault("refuse", seconds=0.5)
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect(ws_url(server, channel.path))
            await asyncio.sleep(0.6)
            await session.ws_connect(ws_url(server, channel.path))

    run(scenario())


@pytest.mark.parametrize("body, expected", [({"code": 1011}, 1011), ({"drop": True}, None)])
def test_flap_accepts_then_closes_at_once(server, body, expected):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            server.fault("flap", channel=channel.name, **body)
            socket = await session.ws_connect(ws_url(server, channel.path))
            message = await receive(socket)
            if expected is None:
                assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
            else:
                assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, expected)

    run(scenario())


def test_slow_close_answers_the_clients_close_frame_late(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            server.fault("slow-close", channel=channel.name, delay=1.0)
            socket = await connect(session, server, channel)
            started = time.monotonic()
            await socket.close()
            assert time.monotonic() - started >= 0.9

    run(scenario())


def test_down_stops_listening_then_comes_back_on_the_same_port(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, server, channel)
            assert server.fault("down", seconds=1.5) == {"down": 1.5}
            message = await receive(socket)
            assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
            await asyncio.sleep(0.3)
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.ws_connect(ws_url(server, channel.path))
            await asyncio.sleep(1.5)
            again = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(wait_until, lambda: channel.sockets() == 1)
            assert channel.push("back") == 1
            assert without_position((await receive(again)).data) == '{"data":"back"}'

    run(scenario())


def test_burst_sends_numbered_messages_in_order_and_counts_them(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, server, channel)
            assert channel.burst(count=1000, numbered=True) == {"frames": 1000, "delivered": 1000}
            got = [without_position((await receive(socket)).data) for _ in range(1000)]
            assert got == ['{"data":%d}' % n for n in range(1000)]
            assert channel.status()["sent"] == {channel.id: 1000}

    run(scenario())


def test_binary_and_raw_frames_are_sent_as_they_are(server):
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, server, channel)
            server.post("/api/channels/%s/push?binary=1" % channel.name, "\x00\x01", raw=True)
            message = await receive(socket)
            assert (message.type, message.data) == (aiohttp.WSMsgType.BINARY, b"\x00\x01")
            channel.push_raw("not json")
            assert (await receive(socket)).data == "not json"

    run(scenario())


@pytest.mark.parametrize(
    "kind, body",
    [
        ("refuse", {"status": 200}),
        ("flap", {"code": 1006}),
        ("slow-close", {}),
        ("down", {}),
        ("nonsense", {}),
        ("refuse", {"channel": "bad name"}),
    ],
)
def test_bad_fault_requests_are_refused_clearly(server, kind, body):
    with pytest.raises(Exception, match=r"400|404"):
        server.fault(kind, **body)
