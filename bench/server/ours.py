"""pypush's hub behind its aiohttp push endpoint, driven the way the floor is.

    python -m bench.server.ours PORT

Sockets connect to /jakarta.faces.push/bench?{id} (the channelId is printed at start);
each text message on /control is pushed with ``await hub.send_frames("bench", [text])``
(the frame as it is, like the floor's payload), then answered "ok".
"""

import asyncio
import sys

from aiohttp import WSMsgType, web

from bench.server.common import raise_file_limit
from pypush_server import Hub
from pypush_server.aiohttp_app import add_push_endpoint


async def main(port: int) -> None:
    hub = Hub(max_sockets_per_channel_id=None)
    app = web.Application()
    add_push_endpoint(app, hub, heartbeat=None)

    async def control(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await hub.send_frames("bench", [message.data])
                await ws.send_str("ok")
        return ws

    app.router.add_get("/control", control)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    channel_id = await hub.register("bench")
    print("listening /jakarta.faces.push/bench?%s" % channel_id, flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    raise_file_limit()
    asyncio.run(main(int(sys.argv[1])))
