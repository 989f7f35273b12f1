"""The HTTP API under /api/: channels, pushes and faults (documented in the README).

Who may call it (loopback or the API token, no page of another origin, JSON
bodies only) is decided before a request gets here, by :mod:`pypush_server.guard`.
"""

import json

from aiohttp import web

from pypush_server.channels import (
    Channels,
    PushSocket,
    close_problem,
    close_sockets,
    valid_channel_name,
)
from pypush_server.faults import KINDS, Faults, Listener, check_seconds
from pypush_server.guard import config_key, json_error
from pypush_server.logs import log, shown
from pypush_server.messages import MessageError, encode_message, parse_json

PUSH_PATH = "/jakarta.faces.push/"

channels_key = web.AppKey("channels", Channels)
faults_key = web.AppKey("faults", Faults)
listener_key = web.AppKey("listener", Listener)
stats_key = web.AppKey("stats", dict)

routes = web.RouteTableDef()


def push_url(request: web.Request, channel: str, channel_id: str) -> str:
    """The ws: URL of a channelId as this request reached the server."""
    scheme = "wss" if request.secure else "ws"
    return "%s://%s%s%s?%s" % (scheme, request.host, PUSH_PATH, channel, channel_id)


async def _json_body(request: web.Request) -> object:
    try:
        return parse_json(await request.text())
    except MessageError as exc:
        raise json_error(web.HTTPBadRequest, "the body is not standard JSON: %s" % exc) from exc
    except ValueError as exc:
        raise json_error(web.HTTPBadRequest, "the body is not JSON: %s" % exc) from exc


async def _object_body(request: web.Request) -> dict:
    body = await _json_body(request) if request.can_read_body else {}
    if not isinstance(body, dict):
        raise json_error(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _channel_name(request: web.Request) -> str:
    channel = request.match_info["channel"]
    if not valid_channel_name(channel):
        raise json_error(web.HTTPBadRequest, "invalid channel name %r" % channel)
    return channel


def _duration(body: dict, name: str, required: bool = False) -> float | None:
    value = body.get(name)
    if value is None and not required:
        return None
    try:
        return check_seconds(name, value)
    except ValueError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from exc


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if type(value) is not bool:
        raise json_error(web.HTTPBadRequest, '"%s" must be true or false' % name)
    return value


def _close_args(body: dict) -> tuple[int, str]:
    code, reason = body.get("code"), body.get("reason", "")
    problem = close_problem(code, reason)
    if problem is not None:
        raise json_error(
            web.HTTPBadRequest,
            'give {"code": a sendable close code, "reason": up to 123 bytes}: %s' % problem,
        )
    return code, reason


def _encoded(message: object) -> str:
    try:
        return encode_message(message)
    except MessageError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from exc


def _check_size(request: web.Request, frame: str | bytes) -> None:
    limit = request.app[config_key].max_message_bytes
    size = len(frame.encode() if isinstance(frame, str) else frame)
    if size > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit,
            actual_size=size,
            text=json.dumps({"error": "the frame is %d bytes; the limit is %d" % (size, limit)}),
            content_type="application/json",
        )


# -- channels ---------------------------------------------------------------------------


@routes.post("/api/channels")
async def register_channel(request: web.Request) -> web.Response:
    body = await _object_body(request)
    channel = body.get("channel")
    if not valid_channel_name(channel):
        raise json_error(web.HTTPBadRequest, 'give {"channel": name} with a valid name')
    channel_id = request.app[channels_key].register(channel)
    return web.json_response(
        {
            "channel": channel,
            "channelId": channel_id,
            "path": "%s%s?%s" % (PUSH_PATH, channel, channel_id),
            "url": push_url(request, channel, channel_id),
        },
        status=201,
    )


@routes.get("/api/channels/{channel}")
async def channel_status(request: web.Request) -> web.Response:
    channel = _channel_name(request)
    channels = request.app[channels_key]
    sockets = channels.sockets_of(channel)
    return web.json_response(
        {
            "channel": channel,
            "channelIds": channels.ids_of(channel),
            "sockets": len(sockets),
            "socketIds": [s.id for s in sockets],
            "sent": {cid: channels.sent[cid] for cid in channels.ids_of(channel)},
        }
    )


@routes.post("/api/channels/{channel}/push")
async def push_message(request: web.Request) -> web.Response:
    """The body (any JSON) is the message. ``?channelId=`` limits it to one URL;
    ``?raw=1`` sends the body as the frame itself, unchecked; ``?binary=1`` as a
    binary frame (both to try a client on frames that are not push messages)."""
    channel = _channel_name(request)
    query = request.query
    if query.get("binary") == "1":
        frame: str | bytes = await request.read()
    elif query.get("raw") == "1":
        try:
            frame = (await request.read()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json_error(
                web.HTTPBadRequest,
                "a raw text frame must be UTF-8 (%s); ?binary=1 sends bytes" % exc.reason,
            ) from exc
    else:
        frame = _encoded(await _json_body(request))
    _check_size(request, frame)
    received = await request.app[channels_key].send_frames(channel, [frame], query.get("channelId"))
    return web.json_response({"received": received})


@routes.post("/api/channels/{channel}/burst")
async def push_burst(request: web.Request) -> web.Response:
    """``{"count": N, "message": M}`` pushes M N times; ``{"count": N, "numbered": true}``
    pushes the numbers ``start``…``start+N-1``. As fast as the server can."""
    channel = _channel_name(request)
    body = await _object_body(request)
    count, start = body.get("count"), body.get("start", 0)
    # type() is int: a boolean is an int to isinstance, and true is no count.
    if type(count) is not int or not 0 < count <= 1_000_000:
        raise json_error(web.HTTPBadRequest, '"count" must be a whole number, 1 to 1,000,000')
    if type(start) is not int:
        raise json_error(web.HTTPBadRequest, '"start" must be a whole number')
    if _flag(body, "numbered"):
        frames = [encode_message(n) for n in range(start, start + count)]
    else:
        frame = _encoded(body.get("message"))
        _check_size(request, frame)
        frames = [frame] * count
    delivered = await request.app[channels_key].send_frames(
        channel, frames, request.query.get("channelId")
    )
    return web.json_response({"frames": count, "delivered": delivered})


@routes.delete("/api/channel-ids/{channel_id}")
async def expire_channel_id(request: web.Request) -> web.Response:
    """Its sockets close with 1000 ``Expired``; the channelId is gone for good."""
    channels = request.app[channels_key]
    channel_id = request.match_info["channel_id"]
    if channel_id not in channels.channel_of:
        raise json_error(web.HTTPNotFound, "unknown channelId")
    return web.json_response({"closed": await channels.expire(channel_id)})


# -- closing and dropping sockets ---------------------------------------------------------


def _targets(request: web.Request) -> list[PushSocket]:
    channels = request.app[channels_key]
    if "socket_id" in request.match_info:
        try:
            socket = channels.socket(int(request.match_info["socket_id"]))
        except ValueError:
            socket = None
        if socket is None:
            raise json_error(web.HTTPNotFound, "no open socket with that id")
        return [socket]
    return channels.sockets_of(_channel_name(request), request.query.get("channelId"))


@routes.post("/api/channels/{channel}/close")
@routes.post("/api/sockets/{socket_id}/close")
async def close_with_code(request: web.Request) -> web.Response:
    """Close with ``{"code", "reason"}``; channelIds stay valid, so clients may reconnect."""
    code, reason = _close_args(await _object_body(request))
    sockets = _targets(request)
    await close_sockets(sockets, code, reason)
    log.info("closed %d sockets with %d %s", len(sockets), code, shown(reason))
    return web.json_response({"closed": len(sockets)})


@routes.post("/api/channels/{channel}/drop")
@routes.post("/api/sockets/{socket_id}/drop")
async def drop_connections(request: web.Request) -> web.Response:
    """Cut the TCP connections with no close frame (the browser sees 1006)."""
    sockets = _targets(request)
    for socket in sockets:
        socket.drop()
    log.info("dropped %d sockets", len(sockets))
    return web.json_response({"dropped": len(sockets)})


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
    channels = request.app[channels_key]

    def drop_all() -> None:
        for socket in channels.all_sockets():
            socket.drop()

    listener.schedule_down(seconds, drop_all)  # after this answer has gone out
    return web.json_response({"down": seconds})


@routes.get("/api/stats")
async def stats(request: web.Request) -> web.Response:
    counts = dict(request.app[stats_key])
    counts["sockets"] = len(request.app[channels_key].all_sockets())
    return web.json_response(counts)
