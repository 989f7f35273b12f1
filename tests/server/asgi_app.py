"""A Starlette application with pypush's ASGI push endpoint, run by uvicorn in test_asgi.py."""

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from pypush_server.asgi import PushEndpoint
from pypush_server.hub import Hub

hub = Hub(
    max_queue_bytes=int(os.environ.get("QUEUE_BYTES", 8 * 1024 * 1024)),
    max_sockets_per_channel_id=int(os.environ.get("SOCKETS_PER_CHANNEL_ID", 1000)),
)


async def register(request: Request) -> JSONResponse:
    channel = request.path_params["channel"]
    channel_id = await hub.register(channel)
    path = "/jakarta.faces.push/%s?%s" % (channel, channel_id)
    return JSONResponse({"channel": channel, "channelId": channel_id, "path": path})


async def push(request: Request) -> JSONResponse:
    received = await hub.send(
        request.path_params["channel"],
        await request.json(),
        channel_id=request.query_params.get("channelId"),
    )
    return JSONResponse({"received": received})


async def status(request: Request) -> JSONResponse:
    return JSONResponse({"sockets": await hub.socket_count(request.path_params["channel"])})


async def expire(request: Request) -> JSONResponse:
    return JSONResponse({"closed": await hub.expire(request.path_params["channel_id"])})


app = Starlette(
    routes=[
        Route("/channels/{channel}", register, methods=["POST"]),
        Route("/channels/{channel}", status),
        Route("/channels/{channel}/push", push, methods=["POST"]),
        Route("/channel-ids/{channel_id}", expire, methods=["DELETE"]),
        Mount("/jakarta.faces.push", app=PushEndpoint(hub)),
    ]
)
