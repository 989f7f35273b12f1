"""Abuse limits per client address : handshakes per second, open sockets, request size.

The rules on the sans-I/O ClientLimits with a fake clock, then each limit on a real serve.py:
the refusal (429 or 413), its log line and its count in /api/stats.
"""

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from pypush_server.cli import parse_serve_args
from pypush_server.limits import HANDSHAKE_RATE, SOCKETS, ClientLimits, client_key
from tests.server.test_slow_clients import stalled_socket
from tests.support import Channel, PushServer, run, wait_until, ws_url


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_handshakes_come_in_bursts_of_the_rate_then_at_the_rate():
    clock = Clock()
    limits = ClientLimits(handshakes_per_second=5, sockets_per_address=None, clock=clock)
    assert [limits.admit("192.0.2.1") for _ in range(6)] == [None] * 5 + [HANDSHAKE_RATE]
    assert limits.admit("192.0.2.2") is None  # another address has its own bucket
    clock.now += 0.1
    assert limits.admit("192.0.2.1") == HANDSHAKE_RATE  # half a token
    clock.now += 0.1
    assert limits.admit("192.0.2.1") is None
    clock.now += 60
    assert [limits.admit("192.0.2.1") for _ in range(6)] == [None] * 5 + [HANDSHAKE_RATE]
    assert limits.refused[HANDSHAKE_RATE] == 3


def test_sockets_per_address_count_until_released():
    limits = ClientLimits(handshakes_per_second=None, sockets_per_address=2)
    assert [limits.admit("192.0.2.1") for _ in range(3)] == [None, None, SOCKETS]
    assert limits.admit("192.0.2.2") is None
    limits.release("192.0.2.1")
    assert limits.open_sockets("192.0.2.1") == 1
    assert limits.admit("192.0.2.1") is None
    assert limits.refused[SOCKETS] == 1


def test_an_ipv6_client_counts_as_its_64():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:192.0.2.1") == client_key("192.0.2.1") == "192.0.2.1"
    limits = ClientLimits(handshakes_per_second=None, sockets_per_address=1)
    assert limits.admit("2001:db8:1:2::1") is None
    assert limits.admit("2001:db8:1:2::ffff") == SOCKETS


def test_idle_buckets_are_let_go():
    clock = Clock()
    limits = ClientLimits(handshakes_per_second=10, sockets_per_address=None, clock=clock)
    for n in range(20_000):
        limits.admit("10.%d.%d.%d" % (n >> 16, (n >> 8) & 255, n & 255))
        limits.release("10.%d.%d.%d" % (n >> 16, (n >> 8) & 255, n & 255))
        clock.now += 0.01
    assert len(limits._buckets) <= 8192  # not one per address ever seen
    assert not limits._open


async def handshake(server: PushServer, path: str, headers: dict | None = None):
    """A socket (kept open), or the HTTP status of the refused handshake."""
    session = aiohttp.ClientSession()
    try:
        socket = await session.ws_connect(ws_url(server, path), headers=headers or {})
    except aiohttp.WSServerHandshakeError as exc:
        await session.close()
        return exc.status
    socket.session = session
    return socket


async def close_all(sockets) -> None:
    for socket in sockets:
        if not isinstance(socket, int):
            await socket.close()
            await socket.session.close()


def test_handshakes_beyond_the_rate_get_429_logged_and_counted(start_push_server):
    server = start_push_server(
        "--no-demo-clock", "--max-handshakes-per-second", "3", test_server=False
    )
    channel = server.channel()

    async def scenario() -> list:
        sockets = [await handshake(server, channel.path) for _ in range(4)]
        await close_all(sockets)
        return [s if isinstance(s, int) else 101 for s in sockets]

    assert run(scenario()) == [101, 101, 101, 429]
    assert server.stats()["limited"] == {
        "handshakes_per_second": 1,
        "sockets_per_address": 0,
        "request_bytes": 0,
    }
    wait_until(
        lambda: (
            "refused 127.0.0.1: more than 3 handshakes per second from that address"
            in server.log_path.read_text()
        )
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_limits(start_push_server):
    server = start_push_server(
        "--no-demo-clock",
        "--max-sockets-per-address",
        "1",
        "--trusted-proxy",
        "127.0.0.1",
        "--trust-loopback",
        test_server=False,
    )
    channel = server.channel()

    def client(address: str) -> dict:
        return {"X-Forwarded-For": address}

    async def scenario() -> list:
        sockets = [
            await handshake(server, channel.path, client("203.0.113.1")),
            await handshake(server, channel.path, client("203.0.113.2")),
            await handshake(server, channel.path, client("203.0.113.1")),
        ]
        await close_all(sockets)
        return [s if isinstance(s, int) else 101 for s in sockets]

    assert run(scenario()) == [101, 101, 429]
    wait_until(
        lambda: (
            "refused 203.0.113.1: 1 sockets open from that address already"
            in server.log_path.read_text()
        )
    )


def test_a_page_at_its_cap_locks_no_other_page_of_the_channel_out(start_push_server):
    """Two addresses fill one channelId; a third address's own channelId of the same channel
    still opens, and the full channelId's next socket gets 1013, which a Faces client
    retries (spec E8), not 1008, which would end it (E7)."""
    server = start_push_server(
        "--no-demo-clock",
        "--max-sockets-per-channel-id",
        "10",
        "--max-sockets-per-address",
        "5",
        "--max-handshakes-per-second",
        "0",
        "--trusted-proxy",
        "127.0.0.1",
        "--trust-loopback",
        test_server=False,
    )
    full = server.channel()
    other = Channel(server, server.post("/api/channels", {"channel": full.name}))

    def client(address: str) -> dict:
        return {"X-Forwarded-For": address}

    async def scenario() -> None:
        sockets = [
            await handshake(server, full.path, client(address))
            for address in ("203.0.113.1", "203.0.113.2")
            for _ in range(5)
        ]
        assert not [s for s in sockets if isinstance(s, int)]
        mine = await handshake(server, other.path, client("203.0.113.3"))
        extra = await handshake(server, full.path, client("203.0.113.3"))
        closed = await extra.receive(timeout=10)
        assert (closed.data, closed.extra) == (
            1013,
            "Try Again Later: too many sockets on this channelId",
        )
        pushed = await asyncio.to_thread(
            server.post, "/api/channels/%s/push?channelId=%s" % (other.name, other.id), "still open"
        )
        assert pushed == {"received": 1}
        assert await asyncio.to_thread(full.push, "to all") == 11  # 10 and mine: not the extra
        assert json.loads((await mine.receive(timeout=10)).data)["data"] == "still open"
        assert json.loads((await mine.receive(timeout=10)).data)["data"] == "to all"
        await close_all([*sockets, mine, extra])

    run(scenario())
    wait_until(
        lambda: "channelId at its cap of sockets" in server.log_path.read_text(),
        what="the refusal logged",
    )


def test_the_old_name_of_the_cap_still_works_and_says_the_new_one():
    args, config = parse_serve_args(["--max-sockets-per-channel", "7"])
    assert config.max_sockets_per_channel_id == 7
    assert "--max-sockets-per-channel-id" in args.renamed[0]
    assert parse_serve_args([])[1].max_sockets_per_channel_id == 1000


def test_sockets_beyond_the_cap_get_429_until_one_closes(start_push_server):
    server = start_push_server(
        "--no-demo-clock", "--max-sockets-per-address", "2", test_server=False
    )
    channel = server.channel()

    async def scenario() -> None:
        first, second = [await handshake(server, channel.path) for _ in range(2)]
        assert not isinstance(first, int) and not isinstance(second, int)
        assert await handshake(server, channel.path) == 429
        # A refused handshake holds no slot; a closed socket frees its own.
        assert await handshake(server, channel.path) == 429
        await close_all([first])
        await asyncio.to_thread(channel.wait_for_sockets, 1)
        third = await handshake(server, channel.path)
        assert not isinstance(third, int)
        assert await asyncio.to_thread(channel.push, "still here") == 2
        await close_all([second, third])

    run(scenario())
    assert server.stats()["limited"]["sockets_per_address"] == 2


def test_requests_larger_than_the_limit_get_413_logged_and_counted(start_push_server):
    server = start_push_server("--no-demo-clock", "--max-request-bytes", "1000", test_server=False)
    channel = server.channel()
    assert channel.push("x" * 900) == 0
    body = json.dumps("x" * 2000).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.request("POST", "/api/channels/%s/push" % channel.name, body)
    assert refused.value.code == 413

    def chunks():  # no Content-Length: the server stops reading at its limit
        for _ in range(10):
            yield b" " * 500

    request = urllib.request.Request(
        server.base_url + "/api/channels/%s/push" % channel.name, data=chunks(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 413
    assert server.stats()["limited"]["request_bytes"] == 2
    wait_until(
        lambda: (
            "refused POST '/api/channels/%s/push' from 127.0.0.1: 413" % channel.name
            in server.log_path.read_text()
        )
    )


def test_the_defaults():
    """20 handshakes a second and 500 sockets per address; the largest message + 64 KiB."""
    _, config = parse_serve_args([])
    assert config.max_handshakes_per_second == 20
    assert config.max_sockets_per_address == 500
    assert config.request_bytes_limit == 10 * 1024 * 1024 + 64 * 1024
    _, config = parse_serve_args(
        ["--max-handshakes-per-second", "0", "--max-sockets-per-address", "0"]
    )
    assert (config.max_handshakes_per_second, config.max_sockets_per_address) == (None, None)


def peak_rss_reset(pid: int) -> int:
    """Reset the process's peak resident size (Linux: clear_refs 5); its size now, in bytes."""
    Path("/proc/%d/clear_refs" % pid).write_text("5")
    return _status_kib(pid, "VmRSS") * 1024


def peak_rss(pid: int) -> int:
    """The process's peak resident size since the last reset, in bytes."""
    return _status_kib(pid, "VmHWM") * 1024


def _status_kib(pid: int, field: str) -> int:
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def test_a_burst_is_built_as_it_goes_out_not_whole_first(start_push_server):
    """500 messages of 100 KB (50 MB) to a socket that reads nothing: every message was
    encoded and every frame built before the first was offered, some 100 MB at once. Part
    by part, the server holds a part, the socket's queue until its bound closes it with
    1013 (the slow-client policy), and the history's bound: the same with any count."""
    server = start_push_server("--no-demo-clock")
    channel = server.channel()
    count, message = 500, "x" * 100_000
    assert channel.burst(count=5, message=message)["frames"] == 5  # warmed up
    stalled = stalled_socket(server.base_url, channel.path)
    try:
        channel.wait_for_sockets(1)
        base = peak_rss_reset(server.process.pid)
        assert channel.burst(count=count, message=message)["frames"] == count
        grown = peak_rss(server.process.pid) - base
        channel.wait_for_sockets(0)  # the stalled socket, closed with 1013
    finally:
        stalled.close()
    assert grown < 30 * 1024 * 1024, "the burst took %.1f MB" % (grown / 1024 / 1024)


def test_a_burst_larger_than_its_bound_gets_413_naming_the_bound(start_push_server):
    """count x frame size is bounded (--max-burst-bytes): a larger burst pushes nothing."""
    server = start_push_server("--no-demo-clock", "--max-burst-bytes", "1000000")
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path), max_msg_size=0)
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            within = await asyncio.to_thread(channel.burst, count=9, message="x" * 100_000)
            assert within == {"frames": 9, "delivered": 9}  # 900 KB
            for body in (
                {"count": 11, "message": "x" * 100_000},
                {"count": 100_000, "numbered": True},
            ):
                with pytest.raises(urllib.error.HTTPError) as refused:
                    await asyncio.to_thread(channel.burst, **body)
                assert refused.value.code == 413
                error = json.loads(refused.value.read())["error"]
                assert "the limit is 1000000 bytes (--max-burst-bytes)" in error, error
            assert await asyncio.to_thread(channel.push, "after") == 1
            frames = [json.loads((await socket.receive(timeout=10)).data) for _ in range(10)]
            assert frames[-1]["data"] == "after" and frames[-1]["id"].endswith(":10")

    run(scenario())
