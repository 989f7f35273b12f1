"""A client that stops reading holds up nobody: 200 pushes of 1 MB through the API
with one stalled and one healthy socket on the channel.

Every push call returns (each has a 10 s timeout: one that waited on the stalled socket would
fail the test), the healthy socket receives all 200, the stalled one is closed with 1013 (a
code Faces clients retry) and logged, and the server's memory stays bounded. How fast is
`python -m bench.server`'s business, not this test's.
"""

import asyncio
import base64
import os
import socket

import aiohttp
import pytest

from tests.support import receive, run, ws_url

PUSHES = 200
MESSAGE = "m" * (1024 * 1024 - 11)  # {"data":"…"}: 1 MiB a frame


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1])


def stalled_socket(base_url: str, path: str) -> socket.socket:
    """A WebSocket handshake by hand, then nothing is ever read again (a frozen tab)."""
    host, port = base_url.removeprefix("http://").split(":")
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    client.sendall(
        (
            "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)
        ).encode()
    )
    answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return client


@pytest.mark.timeout(300)
def test_a_stalled_client_does_not_hold_up_pushes_or_the_healthy_client(start_push_server):
    server = start_push_server("--no-demo-clock")
    channel = server.channel()
    stalled = stalled_socket(server.base_url, channel.path)
    try:

        async def scenario() -> int:
            async with aiohttp.ClientSession() as session:
                healthy = await session.ws_connect(ws_url(server, channel.path), max_msg_size=0)
                await asyncio.to_thread(channel.wait_for_sockets, 2)
                before = rss_kib(server.process.pid)
                received = 0

                async def read() -> None:
                    nonlocal received
                    while received < PUSHES:
                        message = await receive(healthy, timeout=30)
                        assert message.type == aiohttp.WSMsgType.TEXT, message
                        received += 1

                reader = asyncio.ensure_future(read())
                counts = []
                for _ in range(PUSHES):  # one after another, as an application pushes
                    counts.append(await asyncio.to_thread(channel.push, MESSAGE))
                await asyncio.wait_for(reader, 60)
                assert received == PUSHES
                assert counts[0] == 2 and counts[-1] == 1  # the stalled one was let go
                grown = rss_kib(server.process.pid) - before
                assert grown < 64 * 1024, "the server grew by %d KiB" % grown
                assert await asyncio.to_thread(channel.sockets) == 1
                return grown

        run(scenario())
        log = server.log_path.read_text()
        assert "with 1013: " in log and "bytes waited up to" in log
        assert ends_within(stalled, 20), "the server never cut the stalled connection"
    finally:
        stalled.close()


def ends_within(client: socket.socket, seconds: float) -> bool:
    """Read what the stalled client never read, up to the end of the connection."""
    client.settimeout(seconds)
    try:
        while client.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass  # cut without a close frame (the browser sees 1006): retried as well
    except TimeoutError:
        return False
    return True
