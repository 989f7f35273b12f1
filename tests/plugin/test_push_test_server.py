"""PushTestServer (behind the push_server fixture) as a plain Python object."""

import asyncio
import threading
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from pypush_build.bundle import write_bundle
from pypush_server.testing import PushTestServer
from tests.support import receive, run, without_position


@pytest.fixture
def server():
    with PushTestServer() as server:
        yield server


async def connect(session, channel):
    return await session.ws_connect(channel.url, autoclose=False)


def test_stop_closes_sockets_with_1001_and_leaves_no_thread_or_port(server):
    channel = server.channel("bye")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            await asyncio.to_thread(server.stop)
            message = await receive(socket)
            assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 1001)

    run(scenario())
    assert not [t for t in threading.enumerate() if t.name == "pypush-test-server"]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.base_url + "/pages/index.html", timeout=2)
    server.stop()  # idempotent


def test_send_expire_close_drop_and_vanish(server):
    channel = server.channel("ops")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            first = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            assert channel.sockets() == 1
            assert await asyncio.to_thread(channel.send, {"x": 1}) == 1
            assert without_position((await receive(first)).data) == '{"data":{"x":1}}'
            assert await asyncio.to_thread(server.send_many, "ops", [1, "two"]) == 2
            assert [without_position((await receive(first)).data) for _ in range(2)] == [
                '{"data":1}',
                '{"data":"two"}',
            ]
            assert await asyncio.to_thread(channel.close, 4000, "why") == 1
            message = await receive(first)
            assert (message.data, message.extra) == (4000, "why")
            second = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            assert await asyncio.to_thread(channel.drop) == 1
            assert (await receive(second)).type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            )
            silent = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            assert await asyncio.to_thread(channel.vanish) == 1
            assert await asyncio.to_thread(channel.send, "void") == 1  # the server knows no better
            with pytest.raises(asyncio.TimeoutError):
                await receive(silent, timeout=0.5)
            assert not silent.closed
            assert await asyncio.to_thread(channel.drop) == 1  # still there, and ended so
            assert (await receive(silent)).type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            )
            third = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            assert await asyncio.to_thread(channel.expire) == 1
            message = await receive(third)
            assert (message.data, message.extra) == (1000, "Expired")

    run(scenario())


def test_refuse_accept_flap_slow_close_and_clear(server):
    channel = server.channel("faulty")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            server.refuse("faulty", status=502)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await connect(session, channel)
            assert refused.value.status == 502
            server.accept("faulty")
            server.flap("faulty", code=1013)
            flapped = await connect(session, channel)
            assert (await receive(flapped)).data == 1013
            server.clear_faults()
            server.slow_close("faulty", delay=0.6)
            slow = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            started = time.monotonic()
            await slow.close()
            assert time.monotonic() - started >= 0.5
            server.clear_faults()

    run(scenario())


def test_down_and_back_on_the_same_port(server):
    channel = server.channel("blip")
    port = server.port

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            server.down(0.8)
            assert (await receive(socket)).type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            )
            await asyncio.sleep(1.2)
        # A new session, and the socket kept: a handshake in the session whose connection was
        # dropped, or a socket left to the garbage collector, reads EOF at once.
        async with aiohttp.ClientSession() as session:
            again = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            await again.close()

    run(scenario())
    assert server.port == port


def test_wait_for_sockets_says_what_it_waited_for(server):
    with pytest.raises(AssertionError, match="2 sockets on nobody"):
        server.wait_for_sockets("nobody", 2, timeout=0.2)


@pytest.mark.parametrize(
    "message", [float("nan"), float("inf"), [1, float("-inf")], {"x": float("nan")}]
)
def test_a_message_json_cannot_carry_raises_and_is_never_sent(server, message):
    channel = server.channel("numbers")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await connect(session, channel)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            with pytest.raises(ValueError, match="NaN or Infinity, which JSON cannot carry"):
                await asyncio.to_thread(channel.send, message)
            with pytest.raises(ValueError, match="NaN or Infinity"):
                await asyncio.to_thread(server.send_many, "numbers", [1, message])
            assert await asyncio.to_thread(channel.send, "after") == 1
            assert (
                without_position((await receive(socket)).data) == '{"data":"after"}'
            )  # nothing came before

    run(scenario())


def test_start_raises_why_the_server_cannot_start_at_once_and_can_start_again(
    monkeypatch, tmp_path
):
    from pypush_build import bundle

    monkeypatch.setitem(bundle.RUNTIMES, "pyodide", (tmp_path / "nowhere", bundle.PYODIDE_FILES))
    server = PushTestServer()
    with pytest.raises(bundle.BundleError, match="runtimes are not installed"):
        server.start()
    assert not [t for t in threading.enumerate() if t.name == "pypush-test-server"]
    with pytest.raises(bundle.BundleError, match="runtimes are not installed"):
        server.start()  # tried again: the same cause, not "already running"
    monkeypatch.undo()
    with server:  # once the cause is gone, it starts
        channel = server.channel("again")
        assert channel.sockets() == 0


def test_start_raises_when_its_port_cannot_be_had_and_frees_what_it_took():
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    server = PushTestServer(port=port)
    try:
        with pytest.raises(OSError, match="address already in use"):
            server.start()
    finally:
        taken.close()
    server.start()  # the port is free now
    assert server.port == port
    server.stop()


@pytest.mark.parametrize(
    "call, why",
    [
        (lambda s: s.refuse("x", seconds=float("nan")), '"seconds" must be a number of seconds'),
        (lambda s: s.refuse("x", seconds=float("inf")), '"seconds" must be a number of seconds'),
        (lambda s: s.flap("x", seconds=True), '"seconds" must be a number of seconds'),
        (lambda s: s.slow_close("x", delay=float("nan")), '"delay" must be a number of seconds'),
        (lambda s: s.slow_close("x", delay=True), '"delay" must be a number of seconds'),
        (lambda s: s.down(float("nan")), '"seconds" must be a number of seconds'),
        (lambda s: s.close("x", 4000, "\ud800"), "lone surrogate"),
        (lambda s: s.close("x", 1006), "is not a close code a server may send"),
        (lambda s: s.send_raw("x", "a\udfffb"), "lone surrogate"),
    ],
)
def test_the_python_api_refuses_what_the_http_api_refuses(server, call, why):
    """NaN is not a duration and True is not a number; a lone surrogate is not UTF-8."""
    with pytest.raises(ValueError, match=why):
        call(server)
    assert server._faults.scopes("refuse") == []


def test_the_bundle_build_however_long_is_not_counted_as_the_start_timeout(monkeypatch, tmp_path):
    """A fresh machine compresses the whole bundle on its first start (a minute or more
    with Pyodide); the start-up limit is for listening only. CI met this: every plugin
    test of a fresh clone failed with "did not start within 30 s". Here the limit is a
    quarter of what a (cached) build takes, still ample for listening on loopback."""
    import pypush_server.testing.server as module

    began = time.monotonic()
    write_bundle(tmp_path, url_prefix="/pypush/")
    build = time.monotonic() - began
    monkeypatch.setattr(module, "START_TIMEOUT", build / 4)
    began = time.monotonic()
    with PushTestServer() as server:
        assert time.monotonic() - began > build / 4  # the start took longer than the limit
        with urllib.request.urlopen(server.base_url + "/pages/index.html", timeout=5) as page:
            assert page.status == 200
