"""serve.py --redis: any number of processes over one real redis-server are one push server.

The tests start Debian's redis-server on a free port themselves (tests.support.RedisServer)
and stop or restart it. Killing a worker of serve.py --workers under real browser clients is
in tests/browser/test_workers.py.
"""

import asyncio
import json
import random
import signal
import time
import urllib.error

import aiohttp
import pytest
import redis

from pypush_server.brokers import BrokerUnavailable
from pypush_server.brokers.redis import STOP_SECONDS, RedisBroker
from pypush_server.hub import Hub
from tests.hub.test_hub import FakeSink
from tests.support import Channel, RedisServer, receive, run, wait_until, without_position, ws_url


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def two_servers(redis_server, start_push_server):  # Redis stops after the servers
    options = ("--no-demo-clock", "--redis", redis_server.url)
    return start_push_server(*options), start_push_server(*options)


def test_a_channel_id_registered_through_one_process_is_accepted_by_another(two_servers):
    first, second = two_servers
    channel = first.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(second, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)  # counted through the first
            assert await asyncio.to_thread(channel.push, {"n": 1}) == 1
            assert json.loads(without_position((await receive(socket)).data)) == {"data": {"n": 1}}
            unknown = await session.ws_connect(
                ws_url(second, "/jakarta.faces.push/%s?nope" % channel.name)
            )
            assert (await receive(unknown)).data == 1008

    run(scenario())


def test_a_push_through_any_process_or_python_reaches_the_sockets_of_all(two_servers, redis_server):
    first, second = two_servers
    channel = second.channel()

    async def scenario() -> None:
        hub = Hub(RedisBroker(redis_server.url))  # an application's own process, no sockets
        await hub.start()
        try:
            async with aiohttp.ClientSession() as session:
                sockets = [
                    await session.ws_connect(ws_url(server, channel.path))
                    for server in (first, second, first)
                ]
                await asyncio.to_thread(channel.wait_for_sockets, 3)
                assert await asyncio.to_thread(channel.push, "through the API") == 3
                assert await hub.send(channel.name, "through Python") == 3
                for socket in sockets:
                    assert [without_position((await receive(socket)).data) for _ in range(2)] == [
                        '{"data":"through the API"}',
                        '{"data":"through Python"}',
                    ]
                assert await hub.socket_count(channel.name) == 3
                assert await hub.channel_ids(channel.name) == [channel.id]
        finally:
            await hub.stop()

    run(scenario())


def test_expiry_through_one_process_closes_the_sockets_of_all(two_servers):
    first, second = two_servers
    channel = first.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(ws_url(s, channel.path)) for s in two_servers]
            await asyncio.to_thread(channel.wait_for_sockets, 2)
            expired = Channel(second, {**vars_of(channel), "url": channel.url})
            assert await asyncio.to_thread(expired.expire) == 2
            for socket in sockets:
                message = await receive(socket)
                assert (message.data, message.extra) == (1000, "Expired")
            again = await session.ws_connect(ws_url(first, channel.path))
            assert (await receive(again)).data == 1008  # gone for good, everywhere

    run(scenario())


def vars_of(channel: Channel) -> dict:
    return {"channel": channel.name, "channelId": channel.id, "path": channel.path}


def test_a_redis_restart_fails_pushes_clearly_then_delivers_again(redis_server, start_push_server):
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url)
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            redis_server.stop()
            await asyncio.to_thread(
                wait_until, lambda: "lost Redis at" in server.log_path.read_text(), 15, "lost"
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                await asyncio.to_thread(channel.push, "while Redis is away")
            assert refused.value.code == 503
            error = json.loads(refused.value.read())["error"]
            assert error.startswith(
                "could not reach Redis at %s to send the push" % redis_server.url
            )
            assert not socket.closed  # the sockets stay open meanwhile
            redis_server.start()  # same port, same data
            await asyncio.to_thread(
                wait_until,
                lambda: "regained Redis at" in server.log_path.read_text(),
                15,
                "regained",
            )
            assert await asyncio.to_thread(channel.push, "back") == 1
            assert (
                without_position((await receive(socket)).data) == '{"data":"back"}'
            )  # nothing else came first

    run(scenario())
    log = server.log_path.read_text()
    assert log.count("lost Redis at") == 1 and log.count("regained Redis at") == 1


def test_the_python_api_says_clearly_when_redis_cannot_be_reached(redis_server):
    async def scenario() -> None:
        hub = Hub(RedisBroker(redis_server.url))
        await hub.start()
        try:
            channel_id = await hub.register("news")
            redis_server.stop(kill=True)
            with pytest.raises(BrokerUnavailable, match=r"could not reach Redis at .* to send"):
                await hub.send("news", "lost?")
            with pytest.raises(BrokerUnavailable, match="to register a channelId"):
                await hub.register("news")
            redis_server.start()
            assert await hub.channel_ids("news") == [channel_id]  # its data survived (AOF)
            assert await hub.send("news", "sent") == 0  # no sockets: sent to none
        finally:
            await hub.stop()

    run(scenario())


def test_a_hub_stopped_just_after_it_started_stops_every_time(redis_server):
    """serve.py --workers stopped as it replaced a worker: the new worker's hub stopped
    while its broker's first reads were in flight, and now and then a loop took the
    cancellation, come back as a TimeoutError, for Redis being away, and went on: the
    process never exited. Here it hung 3 times in 200 before the fix."""

    async def scenario() -> None:
        pauses = random.Random(7)
        slowest = 0.0
        for _ in range(200):
            hub = Hub(RedisBroker(redis_server.url))
            await hub.start()
            await asyncio.sleep(pauses.random() * 0.05)
            began = time.monotonic()
            await asyncio.wait_for(hub.stop(), 10)
            slowest = max(slowest, time.monotonic() - began)
        # A blocked read ends within its block (1 s); nothing waits past the stop bound.
        assert slowest < STOP_SECONDS + 1

    run(scenario())


def test_a_hub_that_cannot_reach_redis_at_start_says_so(tmp_path):
    async def scenario() -> None:
        hub = Hub(RedisBroker(RedisServer(tmp_path).url))  # nothing listens there
        with pytest.raises(BrokerUnavailable, match="could not reach Redis at redis://127"):
            await hub.start()

    run(scenario())


def test_sigterm_with_sockets_open_closes_them_with_1001_and_exits(redis_server, start_push_server):
    """It hung for ever: the socket closing as the hub stopped woke the broker's count keeper
    just as it was cancelled, and Python 3.11's wait_for lost the cancellation."""
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url)
    channel = server.channel()

    async def scenario() -> int:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            server.process.terminate()
            message = await receive(socket)
            assert message.type == aiohttp.WSMsgType.CLOSE
            return message.data

    assert run(scenario()) == 1001
    assert server.process.wait(10) == 0


def test_sigterm_stops_a_redis_server_while_its_clients_keep_reconnecting(
    redis_server, start_push_server
):
    """Closed with 1001, Faces clients come back at once, and each socket that comes and
    goes wakes the socket-count refresher: stopping must not wait on them."""
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url)
    channel = server.channel()

    async def scenario() -> float:
        stop = asyncio.Event()

        async def client(session) -> None:
            while not stop.is_set():
                try:
                    socket = await session.ws_connect(ws_url(server, channel.path))
                    async for _ in socket:
                        pass
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)

        async with aiohttp.ClientSession() as session:
            clients = [asyncio.ensure_future(client(session)) for _ in range(20)]
            await asyncio.to_thread(channel.wait_for_sockets, 20)
            began = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            while server.process.poll() is None and time.monotonic() - began < 30:
                await asyncio.sleep(0.1)
            took = time.monotonic() - began
            stop.set()
            for task in clients:
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
            return took

    took = run(scenario())
    assert server.process.poll() == 0 and took < 10, took


def test_a_large_burst_holds_redis_briefly_and_keeps_order_and_positions(
    redis_server, start_push_server
):
    """A numbered burst of 100,000 went to Redis as one script that held it 0.6 s (every
    other process's commands waited; larger ones passed the 5 s client timeout). Now each
    script carries 1,000 messages at most (one bus entry each), none runs for half a second
    (Redis's own slow log; a part takes milliseconds, but this machine may be loaded), and
    the socket and the history say that the parts kept the order and the positions: offsets
    1 to 100,000 of one epoch, no gap."""
    admin = redis.Redis.from_url(redis_server.url)
    admin.config_set("slowlog-log-slower-than", 500_000)  # microseconds
    server = start_push_server(
        "--no-demo-clock", "--redis", redis_server.url, "--history-messages", "100000"
    )
    channel = server.channel()
    count = 100_000

    async def scenario() -> list[str]:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path), max_msg_size=0)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            admin.slowlog_reset()
            answer = await asyncio.to_thread(channel.burst, count=count, numbered=True)
            assert answer == {"frames": count, "delivered": count}
            return [(await receive(socket)).data for _ in range(count)]

    frames = [json.loads(text) for text in run(scenario())]
    parts = [fields[b"l"].count(b",") + 1 for _, fields in admin.xrange("pypush:bus")]
    assert sum(parts) == count and max(parts) <= 1000, parts
    slow = [(e["command"][:40], e["duration"]) for e in admin.slowlog_get(128)]
    assert not slow, "Redis held for %s" % slow
    assert [frame["data"] for frame in frames] == list(range(count))
    epoch = frames[0]["id"].split(":")[0]
    assert [frame["id"] for frame in frames] == ["%s:%d" % (epoch, n) for n in range(1, count + 1)]
    held = admin.xrange("pypush:history:" + channel.id, count=count + 1)
    assert [entry_id.split(b"-")[0] for entry_id, _ in held] == [
        b"%d" % n for n in range(1, count + 1)
    ]
    assert [fields[b"d"] for _, fields in held] == [b"%d" % n for n in range(count)]
    admin.close()


def test_send_many_goes_to_redis_in_parts_in_order(redis_server):
    """The Python API too: 2,500 messages are three scripts (three bus entries), and a
    socket receives them in order at offsets 1 to 2,500."""

    async def scenario() -> None:
        hub = Hub(RedisBroker(redis_server.url))
        await hub.start()
        try:
            channel_id = await hub.register("news")
            sink = FakeSink()
            hub.connect("news", channel_id, sink)
            async with asyncio.timeout(10):  # counted in Redis, where a push counts sockets
                while await hub.socket_count("news") != 1:
                    await asyncio.sleep(0.05)
            before = await hub.broker._redis.xlen("pypush:bus")
            assert await hub.send_many("news", range(2500)) == 2500
            assert await hub.broker._redis.xlen("pypush:bus") - before == 3
            async with asyncio.timeout(10):
                while len(sink.written) < 2500:
                    await asyncio.sleep(0.05)
            frames = [json.loads(text) for text in sink.written]
            assert [frame["data"] for frame in frames] == list(range(2500))
            assert [int(frame["id"].split(":")[1]) for frame in frames] == list(range(1, 2501))
        finally:
            await hub.stop()

    run(scenario())
