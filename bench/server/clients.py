"""N WebSocket clients in one process that only count what arrives.

    python -m bench.server.clients PORT PATH N

Each client does the handshake by hand and then counts bytes (no parsing: the benchmark
knows what a frame is), so the clients cost as little as they can. On stdin, ``expect B``
resets the counts; once every socket has B more bytes, it prints ``done T`` (T: the
monotonic time the last one got its last byte, comparable across processes on Linux).
"""

import asyncio
import base64
import os
import sys
import time

from bench.server.common import raise_file_limit


class Counter(asyncio.Protocol):
    def __init__(self, request: bytes, board: "Board") -> None:
        self.request = request
        self.board = board
        self.head = b""
        self.upgraded = asyncio.get_running_loop().create_future()
        self.received = 0

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.upgraded.done():
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(RuntimeError(self.head[:200].decode()))
                return
            self.upgraded.set_result(None)
            data = self.head[end + 4 :]
        self.received += len(data)
        self.board.check(self)

    def connection_lost(self, exc) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))


class Board:
    def __init__(self) -> None:
        self.expect = None
        self.waiting = 0
        self.done = asyncio.get_running_loop().create_future()
        self.last = 0.0

    def check(self, counter: Counter) -> None:
        if (
            self.expect is not None
            and counter.received >= self.expect
            and not getattr(counter, "counted", False)
        ):
            counter.counted = True
            self.waiting -= 1
            if self.waiting == 0:
                self.last = time.monotonic()
                self.done.set_result(None)


async def main(port: int, path: str, count: int) -> None:
    loop = asyncio.get_running_loop()
    board = Board()
    counters = []
    for start in range(0, count, 200):  # 200 handshakes at a time: the backlog is finite
        batch = []
        for _ in range(start, min(start + 200, count)):
            key = base64.b64encode(os.urandom(16)).decode()
            request = (
                "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                "\r\n" % (path, port, key)
            ).encode()
            _, counter = await loop.create_connection(
                lambda request=request: Counter(request, board), "127.0.0.1", port
            )
            batch.append(counter)
        await asyncio.gather(*(c.upgraded for c in batch))
        counters.extend(batch)
    print("ready", flush=True)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command, _, value = line.strip().partition(" ")
        if command == "expect":
            board.done = loop.create_future()
            board.waiting = len(counters)
            board.expect = None
            for counter in counters:
                counter.received = 0
                counter.counted = False
            board.expect = int(value)
            print("expecting", flush=True)
            await board.done
            print("done %.6f" % board.last, flush=True)


if __name__ == "__main__":
    raise_file_limit()
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
