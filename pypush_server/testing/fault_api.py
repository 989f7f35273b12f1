"""The fault API under /api/ (a test tool of serve.py): close, drop or vanish from sockets,
refuse or flap handshakes, answer closes late, stop listening for a while.

Each fault acts on the process the request reaches: with ``serve.py --workers N`` that is
one worker (the one the kernel handed the connection to), its sockets and its listener.
"""

import asyncio

from aiohttp import web

from pypush_server.aiohttp_app import hub_key
from pypush_server.api import _channel_name, _close_args, _flag, _object_body
from pypush_server.guard import json_error
from pypush_server.hub import Connection
from pypush_server.logs import log, shown
from pypush_server.rules import close_problem, valid_channel_name
from pypush_server.testing.faults import KINDS, Faults, Listener, check_seconds

faults_key = web.AppKey("faults", Faults)
listener_key = web.AppKey("listener", Listener)

routes = web.RouteTableDef()


def _duration(body: dict, name: str, required: bool = False) -> float | None:
    value = body.get(name)
    if value is None and not required:
        return None
    try:
        return check_seconds(name, value)
    except ValueError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from exc


# -- closing and dropping sockets ---------------------------------------------------------


def _targets(request: web.Request) -> list[Connection]:
    hub = request.app[hub_key]
    if "socket_id" in request.match_info:
        try:
            socket = hub.socket(int(request.match_info["socket_id"]))
        except ValueError:
            socket = None
        if socket is None:
            raise json_error(web.HTTPNotFound, "no open socket with that id")
        return [socket]
    return hub.sockets(_channel_name(request), request.query.get("channelId"))


@routes.post("/api/channels/{channel}/close")
@routes.post("/api/sockets/{socket_id}/close")
async def close_with_code(request: web.Request) -> web.Response:
    """Close with ``{"code", "reason"}``; channelIds stay valid, so clients may reconnect."""
    code, reason = _close_args(await _object_body(request))
    sockets = _targets(request)
    await close_sockets(request.app[hub_key], sockets, code, reason)
    log.info("closed %d sockets with %d %s", len(sockets), code, shown(reason))
    return web.json_response({"closed": len(sockets)})


@routes.post("/api/channels/{channel}/drop")
@routes.post("/api/sockets/{socket_id}/drop")
async def drop_connections(request: web.Request) -> web.Response:
    """Cut the TCP connections with no close frame (the browser sees 1006)."""
    sockets = _targets(request)
    for socket in sockets:
        socket.sink.abort()
    log.info("dropped %d sockets", len(sockets))
    return web.json_response({"dropped": len(sockets)})


@routes.post("/api/channels/{channel}/vanish")
@routes.post("/api/sockets/{socket_id}/vanish")
async def vanish_connections(request: web.Request) -> web.Response:
    """Go silent on the sockets without closing them: nothing sent, nothing read, the TCP
    connection left open (the browser's socket stays "open"; spec N4)."""
    sockets = _targets(request)
    for socket in sockets:
        socket.sink.vanish()
    log.info("vanished from %d sockets", len(sockets))
    return web.json_response({"vanished": len(sockets)})


# -- faults -------------------------------------------------------------------------------


@routes.post("/api/faults/{kind}")
async def set_fault(request: web.Request) -> web.Response:
    """``refuse``: ``{"status": 503}``; ``flap``: ``{"code": 1011}`` or ``{"drop": true}``;
    ``slow-close``: ``{"delay": s}``. Each takes ``"channel"`` (default all) and
    ``"seconds"`` (default until cleared). ``down``: ``{"seconds": s}`` stops listening."""
    kind = request.match_info["kind"]
    body = await _object_body(request)
    if kind == "down":
        return await _go_down(request, _duration(body, "seconds", required=True))
    if kind not in KINDS:
        raise json_error(web.HTTPNotFound, "faults are: down, %s" % ", ".join(KINDS))
    scope = body.get("channel", "*")
    if scope != "*" and not valid_channel_name(scope):
        raise json_error(web.HTTPBadRequest, "invalid channel name")
    if kind == "refuse":
        value: object = body.get("status", 503)
        if not isinstance(value, int) or not 400 <= value <= 599:
            raise json_error(web.HTTPBadRequest, '"status" must be an HTTP error status')
    elif kind == "flap":
        value = "drop" if _flag(body, "drop") else _close_args({"code": 1011, **body})
    else:
        value = _duration(body, "delay", required=True)
    request.app[faults_key].set(kind, scope, value, _duration(body, "seconds"))
    return web.json_response({"fault": kind, "channel": scope})


@routes.delete("/api/faults/{kind}")
async def clear_fault(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in KINDS:
        raise json_error(web.HTTPNotFound, "faults that can be cleared are: %s" % ", ".join(KINDS))
    scope = request.query.get("channel", "*")
    if scope != "*" and not valid_channel_name(scope):
        raise json_error(web.HTTPBadRequest, "invalid channel name")
    cleared = request.app[faults_key].clear(kind, scope)
    return web.json_response({"cleared": cleared})


async def _go_down(request: web.Request, seconds: float) -> web.Response:
    listener = request.app.get(listener_key)
    if listener is None:
        raise json_error(web.HTTPNotImplemented, "this server does not control its listener")
    hub = request.app[hub_key]

    def drop_all() -> None:
        for socket in hub.sockets():
            socket.sink.abort()

    listener.schedule_down(seconds, drop_all)  # after this answer has gone out
    return web.json_response({"down": seconds})


async def close_sockets(hub, sockets: list[Connection], code: int, reason: str) -> None:
    """Close each socket with ``code`` and ``reason``; wait until they are closed."""
    problem = close_problem(code, reason)
    if problem is not None:
        raise ValueError(problem)
    sinks = [socket.sink for socket in sockets]
    for socket in sockets:
        hub.close(socket, code, reason)
    await asyncio.gather(*(s._closer for s in sinks if s._closer), return_exceptions=True)
