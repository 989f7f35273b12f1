"""The HTTP API under /api/: channels, pushes and stats (documented in the README).

The fault API beside it (/api/faults/…, closing and dropping sockets) is a test tool:
:mod:`pypush_server.testing.fault_api`, which serve.py's application mounts only when
asked to (``--faults``; the test servers always do).

Who may call it (loopback or the API token, no page of another origin, JSON
bodies only) is decided before a request gets here, by :mod:`pypush_server.guard`.
"""

import itertools
import json

from aiohttp import web

from pypush_server.aiohttp_app import PUSH_PATH, hub_key
from pypush_server.brokers import BrokerUnavailable, OutcomeUnknown, check_idempotency_key
from pypush_server.guard import config_key, json_error, limits_key
from pypush_server.logs import log
from pypush_server.messages import MessageError, TooDeep, encode_data, parse_json
from pypush_server.rules import close_problem, valid_channel_name

routes = web.RouteTableDef()


def push_url(request: web.Request, channel: str, channel_id: str) -> str:
    """The ws: URL of a channelId as this request reached the server."""
    scheme = "wss" if request.secure else "ws"
    return "%s://%s%s%s?%s" % (scheme, request.host, PUSH_PATH, channel, channel_id)


async def _json_body(request: web.Request) -> object:
    """The body as JSON, or 400 saying why not. JSON is UTF-8 (RFC 8259 8.1, which defines
    no charset parameter for application/json): a ``charset`` the client names is ignored,
    so that no name of an unknown encoding reaches a decoder."""
    try:
        return parse_json((await request.read()).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise json_error(
            web.HTTPBadRequest, "the body is not UTF-8, as JSON is: %s" % exc.reason
        ) from exc
    except TooDeep as exc:
        raise json_error(web.HTTPBadRequest, "the body cannot be read: %s" % exc) from exc
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
    """The message's JSON, as it goes under "data" in its frames."""
    try:
        return encode_data(message)
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


def _check_burst_size(request: web.Request, count: int, frame_bytes: int) -> None:
    """A burst's frames in all (count x the frame, positions aside) within max_burst_bytes."""
    limit = request.app[config_key].max_burst_bytes
    size = count * frame_bytes
    if size > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit,
            actual_size=size,
            text=json.dumps(
                {
                    "error": "the burst is %d bytes (%d frames of %d bytes); the limit is %d "
                    "bytes (--max-burst-bytes)" % (size, count, frame_bytes, limit)
                }
            ),
            content_type="application/json",
        )


# -- channels ---------------------------------------------------------------------------


@routes.post("/api/channels")
async def register_channel(request: web.Request) -> web.Response:
    body = await _object_body(request)
    channel = body.get("channel")
    if not valid_channel_name(channel):
        raise json_error(web.HTTPBadRequest, 'give {"channel": name} with a valid name')
    channel_id = await _bus(request.app[hub_key].register(channel))
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
    hub = request.app[hub_key]
    ids = await _bus(hub.channel_ids(channel))
    return web.json_response(
        {
            "channel": channel,
            "channelIds": ids,
            "sockets": await _bus(hub.socket_count(channel)),
            "socketIds": [s.id for s in hub.sockets(channel)],
            "sent": {cid: hub.sent.get(cid, 0) for cid in ids},
        }
    )


def _idempotency_key(request: web.Request) -> str | None:
    """The ``Idempotency-Key`` header: a push sent again with it is delivered once."""
    key = request.headers.get("Idempotency-Key")
    try:
        check_idempotency_key(key)
    except ValueError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from exc
    return key


@routes.post("/api/channels/{channel}/push")
async def push_message(request: web.Request) -> web.Response:
    """The body (any JSON) is the message. ``?channelId=`` limits it to one URL;
    ``?raw=1`` sends the body as the frame itself, unchecked; ``?binary=1`` as a
    binary frame (both to try a client on frames that are not push messages, so with
    no position and no history). With an ``Idempotency-Key`` header, the same push sent
    again within 5 minutes answers as the first did and is not delivered again."""
    channel = _channel_name(request)
    query = request.query
    hub = request.app[hub_key]
    key = _idempotency_key(request)
    if query.get("binary") != "1" and query.get("raw") != "1":
        body = _encoded(await _json_body(request))
        _check_size(request, '{"data":%s}' % body)
        received = await _bus(
            hub.send_encoded(channel, [body], query.get("channelId"), idempotency_key=key)
        )
        log.info("pushed %d bytes to %s: %d sockets", len(body), channel, received)
        return web.json_response({"received": received})
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
    _check_size(request, frame)
    received = await _bus(
        hub.send_frames(channel, [frame], query.get("channelId"), idempotency_key=key)
    )
    log.info("pushed %d bytes to %s: %d sockets", len(frame), channel, received)
    return web.json_response({"received": received})


@routes.post("/api/channels/{channel}/burst")
async def push_burst(request: web.Request) -> web.Response:
    """``{"count": N, "message": M}`` pushes M N times; ``{"count": N, "numbered": true}``
    pushes the numbers ``start``…``start+N-1``. As fast as the server can, within
    ``max_burst_bytes`` in all (413 beyond), and built as it goes out: the hub takes the
    messages part by part (:data:`pypush_server.hub.SEND_PART_MESSAGES`)."""
    channel = _channel_name(request)
    body = await _object_body(request)
    count, start = body.get("count"), body.get("start", 0)
    # type() is int: a boolean is an int to isinstance, and true is no count.
    if type(count) is not int or not 0 < count <= 1_000_000:
        raise json_error(web.HTTPBadRequest, '"count" must be a whole number, 1 to 1,000,000')
    if type(start) is not int:
        raise json_error(web.HTTPBadRequest, '"start" must be a whole number')
    if _flag(body, "numbered"):
        widest = max(len(str(start)), len(str(start + count - 1)))
        _check_burst_size(request, count, len('{"data":}') + widest)
        bodies = (str(n) for n in range(start, start + count))
    else:
        message = _encoded(body.get("message"))
        frame = '{"data":%s}' % message
        _check_size(request, frame)
        _check_burst_size(request, count, len(frame.encode()))
        bodies = itertools.repeat(message, count)
    delivered = await _bus(
        request.app[hub_key].send_encoded(channel, bodies, request.query.get("channelId"))
    )
    log.info("pushed %d frames to %s: %d deliveries", count, channel, delivered)
    return web.json_response({"frames": count, "delivered": delivered})


@routes.delete("/api/channel-ids/{channel_id}")
async def expire_channel_id(request: web.Request) -> web.Response:
    """Its sockets close with 1000 ``Expired``; the channelId is gone for good."""
    closed = await _bus(request.app[hub_key].expire(request.match_info["channel_id"]))
    if closed is None:
        raise json_error(web.HTTPNotFound, "unknown channelId")
    return web.json_response({"closed": closed})


@routes.get("/api/stats")
async def stats(request: web.Request) -> web.Response:
    hub = request.app[hub_key]
    counts = dict(hub.stats)
    counts["sockets"] = len(hub.sockets())
    limits = request.app.get(limits_key)
    if limits is not None:  # how often each per-address limit refused something
        counts["limited"] = dict(limits.refused)
    return web.json_response(counts)


async def _bus(call):
    """The hub's answer; 503 with the broker's own words when it could not be reached (not
    done); 504 with ``"outcome": "unknown"`` when a push was sent and no answer came (it
    may be delivered: retry it with its Idempotency-Key, never without)."""
    try:
        return await call
    except BrokerUnavailable as exc:
        raise json_error(web.HTTPServiceUnavailable, str(exc)) from exc
    except OutcomeUnknown as exc:
        raise web.HTTPGatewayTimeout(
            text=json.dumps({"error": str(exc), "outcome": "unknown"}),
            content_type="application/json",
        ) from exc
