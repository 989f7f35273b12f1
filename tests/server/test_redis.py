"""serve.py --redis: any number of processes over one real redis-server are one push server.

The tests start Debian's redis-server on a free port themselves (tests.support.RedisServer)
and stop or restart it. Killing a worker of serve.py --workers under real browser clients is
in tests/browser/test_workers.py.
"""

import asyncio
import json
import random
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import aiohttp
import pytest
import redis
import redis.asyncio

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
            # In a thread: the loop sees its connections close as the process dies, as
            # a server's does (nothing is sent on one it knows closed: not sent, 503).
            await asyncio.to_thread(redis_server.stop, True)
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


def push_with_key(server, channel: Channel, message: object, key: str) -> tuple[int, dict]:
    """POST a push with an ``Idempotency-Key``: the HTTP status and the JSON answer."""
    request = urllib.request.Request(
        server.base_url + "/api/channels/%s/push" % channel.name,
        data=json.dumps(message).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stall(redis_server: RedisServer, seconds: int) -> threading.Thread:
    """``DEBUG SLEEP``: Redis takes commands but answers none for ``seconds``."""
    client = socket.create_connection(("127.0.0.1", redis_server.port))
    client.sendall(b"DEBUG SLEEP %d\r\n" % seconds)

    def wait() -> None:
        with client:
            client.settimeout(seconds + 10)
            assert client.recv(16).startswith(b"+OK")

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)  # it sleeps before the push comes
    return waiter


def test_a_push_redis_did_not_answer_is_unknown_and_its_retry_with_the_key_delivers_once(
    redis_server, start_push_server
):
    """Sent, then no answer within the command timeout (5 s): Redis may yet run it, so the
    API says the outcome is unknown (504), not "not delivered" (503), and does not send it
    again by itself; the push retried with its Idempotency-Key is delivered once, under one
    offset (H1), and a further retry answers as the first did, publishing nothing."""
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url)
    channel = server.channel()

    async def scenario() -> list[str]:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            waiter = stall(redis_server, 7)
            status, answer = await asyncio.to_thread(push_with_key, server, channel, "once", "k-1")
            assert status == 504, answer
            assert answer["outcome"] == "unknown"
            assert "no answer from Redis" in answer["error"]
            await asyncio.to_thread(waiter.join)
            # Whether Redis ran the first or not, the retries agree (its count of sockets may
            # be 0: the sockets' counts expired while Redis slept).
            answers = [
                await asyncio.to_thread(push_with_key, server, channel, "once", "k-1")
                for _ in range(2)
            ]
            assert answers[0] == answers[1] and answers[0][0] == 200, answers
            frames = [(await receive(socket)).data]
            with pytest.raises(TimeoutError):
                frames.append((await receive(socket, 1.5)).data)
            return frames

    frames = run(scenario())
    [frame] = [json.loads(frame) for frame in frames]
    assert frame["data"] == "once" and frame["id"].endswith(":1")
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.hget("pypush:stream:" + channel.id, "last") == b"1"  # one offset taken
        assert 0 < client.pttl("pypush:once:%s:k-1" % channel.name) <= 300_000
    finally:
        client.close()


def test_a_bus_entry_no_process_can_read_is_logged_and_skipped_by_every_process(
    two_servers, redis_server
):
    """One entry a reader cannot read must not stop delivery (in every process): it is
    logged, by id, and skipped; and the hub writes no such entry (no frames: no push)."""
    channel = two_servers[0].channel()

    async def scenario() -> list[str]:
        hub = Hub(RedisBroker(redis_server.url))
        await hub.start()
        client = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            async with aiohttp.ClientSession() as session:
                sockets = [await session.ws_connect(ws_url(s, channel.path)) for s in two_servers]
                await asyncio.to_thread(channel.wait_for_sockets, 2)
                before = await client.xlen("pypush:bus")
                assert await hub.send_frames(channel.name, []) == 0
                assert await client.xlen("pypush:bus") == before  # nothing written
                bad = []
                for fields in (
                    {"t": "push", "c": channel.name, "i": "", "k": "", "l": "", "d": ""},
                    {"t": "messages", "c": channel.name, "i": "", "l": "1", "d": "1", "p": "?"},
                    {"t": "push", "c": channel.name, "i": "", "k": "t", "l": "9", "d": "x"},
                    {"nothing": "known"},
                ):
                    bad.append((await client.xadd("pypush:bus", fields)).decode())
                assert await asyncio.to_thread(channel.push, "after") == 2
                for socket in sockets:
                    assert without_position((await receive(socket)).data) == '{"data":"after"}'
                return bad
        finally:
            await client.aclose()
            await hub.stop()

    bad = run(scenario())
    for server in two_servers:
        log = server.log_path.read_text()
        for entry_id in bad:
            assert "skipping bus entry %s" % entry_id in log, log


def test_every_process_agrees_on_an_idempotency_key(redis_server):
    """The key is checked and set in the script that publishes: a push through one process
    and its retry through another (at the same moment, too) are published once."""

    async def scenario() -> None:
        hubs = [Hub(RedisBroker(redis_server.url)) for _ in range(3)]
        for hub in hubs:
            await hub.start()
        try:
            channel_id = await hubs[0].register("news")
            answers = await asyncio.gather(
                *(hub.send("news", "once", idempotency_key="order-17") for hub in hubs * 5)
            )
            assert answers == [0] * 15
            stored = await hubs[1].broker.read_history(channel_id, 0)
            assert (stored.last, [body for _, body in stored.entries]) == (1, [b'"once"'])
            assert await hubs[2].send("news", "other", idempotency_key="order-18") == 0
            assert (await hubs[0].broker.read_history(channel_id, 0)).last == 2
        finally:
            for hub in hubs:
                await hub.stop()

    run(scenario())


class LateReplies:
    """A TCP proxy to a redis-server that, while ``hold`` lasts, holds Redis's replies: Redis
    runs what it is sent at once, and its answers come late (a network that stalls one way)."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.held_until = 0.0
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.done: asyncio.Event | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(ready),))
        self.thread.start()
        assert ready.wait(10)

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d/0" % self.port

    def hold(self, seconds: float) -> None:
        self.held_until = time.monotonic() + seconds

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.done.set)
        self.thread.join(10)

    async def _serve(self, ready: threading.Event) -> None:
        self.loop, self.done = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        await self.done.wait()
        server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _client(self, reader, writer) -> None:
        redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.redis_port)
        await asyncio.gather(
            self._pipe(reader, redis_writer), self._pipe(redis_reader, writer, True)
        )

    async def _pipe(self, source, destination, held: bool = False) -> None:
        try:
            while data := await source.read(65536):
                if held and (wait := self.held_until - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                destination.write(data)
                await destination.drain()
        except OSError:
            pass
        finally:
            destination.close()


def test_a_push_redis_ran_but_whose_answer_was_lost_is_delivered_once_when_retried(
    redis_server, start_push_server
):
    """Redis ran the push; its answer came after the 5 s the server waits: 504, outcome
    unknown (it was delivered after all), and the retry with the key answers as the first
    did without publishing it again: one message, one offset."""
    proxy = LateReplies(redis_server.port)
    try:
        server = start_push_server("--no-demo-clock", "--redis", proxy.url)
        channel = server.channel()

        async def scenario() -> list[str]:
            async with aiohttp.ClientSession() as session:
                socket = await session.ws_connect(ws_url(server, channel.path))
                await asyncio.to_thread(channel.wait_for_sockets, 1)
                assert await asyncio.to_thread(channel.push, "first") == 1  # scripts loaded
                frames = [(await receive(socket)).data]
                proxy.hold(7)
                status, answer = await asyncio.to_thread(
                    push_with_key, server, channel, "once", "k-9"
                )
                assert (status, answer["outcome"]) == (504, "unknown"), answer
                frames.append((await receive(socket, 15)).data)  # Redis had run it
                status, answer = await asyncio.to_thread(
                    push_with_key, server, channel, "once", "k-9"
                )
                assert (status, answer) == (200, {"received": 1}), answer
                with pytest.raises(TimeoutError):
                    frames.append((await receive(socket, 1.5)).data)
                return frames

        frames = [json.loads(frame) for frame in run(scenario())]
        assert [(f["data"], f["id"].split(":")[1]) for f in frames] == [
            ("first", "1"),
            ("once", "2"),
        ]
        assert "a repeat, not published again" in server.log_path.read_text()
    finally:
        proxy.stop()
