"""The floor: a websockets server whose every push is websockets.asyncio.server.broadcast().

    python -m bench.server.floor PORT

Sockets connect to any path but /control; each text message on /control is a payload
that is broadcast to every other socket at once, then answered "ok".
"""

import asyncio
import sys

from websockets.asyncio.server import broadcast, serve

from bench.server.common import raise_file_limit

listeners: set = set()


async def handler(connection) -> None:
    if connection.request.path == "/control":
        async for payload in connection:
            broadcast(listeners, payload)
            await connection.send("ok")
        return
    listeners.add(connection)
    try:
        await connection.wait_closed()
    finally:
        listeners.discard(connection)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None,
                     max_queue=None, backlog=4096):  # fmt: skip
        print("listening", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    raise_file_limit()
    asyncio.run(main(int(sys.argv[1])))
