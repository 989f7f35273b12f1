"""A server safe to expose: origins, the API guard, names, ids, sizes, caps, pings."""

import asyncio
import json
import re
import socket
import urllib.error
from unittest import mock

import aiohttp
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from pypush_server.cli import parse_serve_args
from pypush_server.config import ServerConfig
from pypush_server.guard import config_key, request_guard
from tests.support import PushServer, receive, run, wait_until, ws_url


@pytest.fixture
def server(start_push_server):
    return start_push_server("--no-demo-clock", "--allow-origin", "http://allowed.test:9000")


async def handshake_status(server, channel, origin: str | None) -> int:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(ws_url(server, channel.path), headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


@pytest.mark.parametrize(
    "origin, status",
    [
        ("same", 101),
        ("same, but https", 403),  # the server's own scheme is plain HTTP (no proxy said TLS)
        ("http://allowed.test:9000", 101),
        ("http://evil.test", 403),
        ("http://allowed.test:9001", 403),
        (None, 101),  # not a browser page: no credentials of a page at stake
    ],
)
def test_handshake_origin_is_same_origin_or_allow_listed(server, origin, status):
    channel = server.channel()
    if origin == "same":
        origin = server.base_url
    elif origin == "same, but https":
        origin = server.base_url.replace("http:", "https:")

    async def scenario() -> None:
        assert await handshake_status(server, channel, origin) == status

    run(scenario())


def test_any_origin_with_a_star(start_push_server):
    server = start_push_server("--allow-origin", "*")
    channel = server.channel()

    async def scenario() -> None:
        assert await handshake_status(server, channel, "http://anywhere.test") == 101

    run(scenario())


@pytest.mark.parametrize(
    "remote, token, trust_loopback, header, allowed",
    [
        ("127.0.0.1", None, True, None, True),
        ("::1", None, True, None, True),
        ("192.0.2.7", None, True, None, False),
        ("127.0.0.1", None, False, None, False),  # nothing opens the API
        ("192.0.2.7", "s3cret", False, "Bearer s3cret", True),
        ("192.0.2.7", "s3cret", False, "Bearer wrong", False),
        ("127.0.0.1", "s3cret", False, None, False),
        ("127.0.0.1", "s3cret", True, None, True),  # both asked for
        ("192.0.2.7", "s3cret", True, None, False),
    ],
)
def test_api_needs_its_token_unless_loopback_is_trusted(
    remote, token, trust_loopback, header, allowed
):
    app = web.Application()
    app[config_key] = ServerConfig(api_token=token, trust_loopback=trust_loopback)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (remote, 4321) if name == "peername" else default
    )
    headers = {"Authorization": header} if header else {}
    request = make_mocked_request(
        "GET", "/api/stats", headers=headers, app=app, transport=transport
    )
    handler = mock.AsyncMock(return_value=web.Response(text="ok"))

    async def call() -> int:
        try:
            return (await request_guard(request, handler)).status
        except web.HTTPException as exc:
            return exc.status

    status = run(call())
    assert (status == 200) is allowed
    assert status in (200, 401, 403)


@pytest.mark.parametrize(
    "argv, trusted",
    [
        ([], True),  # make demo: loopback, no token
        (["--host", "localhost"], True),
        (["--host", "127.0.0.2"], True),
        (["--host", "::1"], True),
        (["--host", "0.0.0.0"], False),
        (["--host", "::"], False),
        (["--host", "192.0.2.7"], False),
        (["--api-token", "t"], False),
        (["--host", "0.0.0.0", "--trust-loopback"], True),
        (["--no-trust-loopback"], False),
    ],
)
def test_loopback_is_trusted_by_default_only_on_a_loopback_server_without_a_token(argv, trusted):
    _, config = parse_serve_args(argv)
    assert config.trust_loopback is trusted


def test_a_server_listening_beyond_loopback_needs_a_token_from_loopback_too(start_push_server):
    server = start_push_server("--no-demo-clock", "--host", "0.0.0.0")
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.channel()
    assert refused.value.code == 403
    assert "--api-token" in json.loads(refused.value.read())["error"]
    assert "the HTTP API is closed" in server.log_path.read_text()


def test_api_token_is_required_over_http_when_configured(start_push_server):
    server = start_push_server("--api-token", "s3cret")
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.channel()
    assert refused.value.code == 401
    PushServer(server.base_url, token="s3cret").channel()


def raw_status(server: PushServer, head: bytes) -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, any bytes) and read the status and body."""
    host, port = server.base_url.rsplit("/", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head + b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer \xff\xfe", b"Bearer s3cret\xff", b"\xed\xa0\x80", b"Bearer s\xc3\xa9cret"],
)
def test_an_authorization_header_of_any_bytes_is_a_401(start_push_server, authorization):
    """The token is compared as bytes: a header that is not UTF-8 is a wrong token."""
    server = start_push_server("--no-demo-clock", "--api-token", "s3cret")
    head = b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n" % authorization
    status, body = raw_status(server, head)
    assert (status, json.loads(body)) == (401, {"error": "this API needs its token"})
    right = b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret\r\n"
    assert raw_status(server, right)[0] == 200
    assert "Traceback" not in server.log_path.read_text()


def test_a_token_of_any_bytes_is_compared_as_the_bytes_sent(start_push_server):
    """A token from the environment or argv that is not UTF-8 (Python decodes it with
    surrogateescape, as aiohttp decodes headers) opens the API to exactly those bytes."""
    server = start_push_server("--no-demo-clock", "--api-token", "t\udcffk")
    head = b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\xffk\r\n"
    assert raw_status(server, head)[0] == 200
    assert raw_status(server, head.replace(b"\xff", b"\xfe"))[0] == 401


@pytest.mark.parametrize(
    "header",
    [b"Host: 127.0.0.1\xff", b"Host: \xff\xfe", b"Origin: http://\xff\xfe.x", b"Origin: http://["],
)
def test_host_and_origin_of_any_bytes_are_refused_not_a_server_error(server, header):
    head = b"GET /api/stats HTTP/1.1\r\n%s\r\n" % header
    if not header.startswith(b"Host"):
        head += b"Host: 127.0.0.1\r\n"
    status, body = raw_status(server, head)
    assert status in (403, 421), body
    assert "error" in json.loads(body)


def test_channel_names_follow_the_faces_rule(server):
    for name in ["ok-name_1.2", "A"]:
        server.post("/api/channels", {"channel": name})
    for name in ["", "has space", "slash/y", "ü", "semi;colon"]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            server.post("/api/channels", {"channel": name})
        assert refused.value.code == 400


def test_a_push_larger_than_the_limit_is_refused_with_413(start_push_server):
    server = start_push_server("--max-message-bytes", "1000")
    channel = server.channel()
    assert channel.push("x" * 900) == 0
    with pytest.raises(urllib.error.HTTPError) as refused:
        channel.push("x" * 1000)
    assert refused.value.code == 413
    assert "limit is 1000" in json.loads(refused.value.read())["error"]


def test_sockets_beyond_a_channel_ids_cap_are_closed_with_1013(start_push_server):
    """1013, which a Faces client retries (spec E8), never 1008, which would end it (E7)."""
    server = start_push_server("--max-sockets-per-channel-id", "2")
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            kept = [await session.ws_connect(ws_url(server, channel.path)) for _ in range(2)]
            await asyncio.to_thread(wait_until, lambda: channel.sockets() == 2)
            extra = await session.ws_connect(ws_url(server, channel.path))
            message = await receive(extra)
            assert (message.data, message.extra) == (
                1013,
                "Try Again Later: too many sockets on this channelId",
            )
            assert channel.push("still here") == 2
            assert all(not socket.closed for socket in kept)

    run(scenario())


def test_idle_sockets_are_pinged(start_push_server):
    server = start_push_server("--heartbeat", "0.3")
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path), autoping=False)
            message = await receive(socket, timeout=3)
            assert message.type == aiohttp.WSMsgType.PING
            await socket.pong(message.data)

    run(scenario())


FORGED_NAME = "x%0AINFO%20registered%20channel%20admin%20id%20FORGED"


def test_a_channel_name_in_the_socket_path_cannot_forge_log_lines(start_push_server):
    """The path is percent-decoded: its name is checked first and logged escaped, on one line."""
    server = start_push_server("--no-demo-clock")
    path = "/jakarta.faces.push/%s?bogus" % FORGED_NAME

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(yarl.URL(ws_url(server, path), encoded=True))
            message = await receive(socket)
            assert (message.data, message.extra) == (1008, "Unknown channel")

    run(scenario())
    wait_until(
        lambda: "invalid channel name" in server.log_path.read_text(), what="the refusal logged"
    )
    log = server.log_path.read_text()
    assert "invalid channel name 'x\\nINFO registered channel admin id FORGED'" in log
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in log.splitlines()), log


def test_fault_names_in_the_path_are_checked_before_they_are_logged(server):
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.request("DELETE", "/api/faults/refuse%0Aforged")
    assert refused.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.request("DELETE", "/api/faults/refuse?channel=a%0Aforged")
    assert refused.value.code == 400


def status_of(server: PushServer, method: str, path: str, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    try:
        server.request(method, path, data)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def test_the_fault_api_exists_only_when_asked_for(start_push_server):
    """Without --faults no fault route exists, and handshakes meet no fault."""
    production = start_push_server("--no-demo-clock", test_server=False)
    tested = start_push_server("--no-demo-clock")  # tests.support gives it --faults

    async def scenario(server: PushServer) -> dict[str, int]:
        channel = server.channel()
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(ws_url(server, channel.path)) for _ in range(2)]
            await asyncio.to_thread(channel.wait_for_sockets, 2)
            first, second = (await asyncio.to_thread(channel.status))["socketIds"]
            routes = [
                ("POST", "/api/faults/refuse", {"channel": "elsewhere"}),
                ("POST", "/api/faults/flap", {"channel": "elsewhere"}),
                ("POST", "/api/faults/slow-close", {"channel": "elsewhere", "delay": 1}),
                ("DELETE", "/api/faults/refuse?channel=elsewhere", None),
                ("POST", "/api/sockets/%d/close" % first, {"code": 4000}),
                ("POST", "/api/sockets/%d/drop" % second, {}),
                ("POST", "/api/channels/%s/close" % channel.name, {"code": 4000}),
                ("POST", "/api/channels/%s/drop" % channel.name, {}),
                ("POST", "/api/faults/down", {"seconds": 0}),
            ]
            answers = {
                method + " " + path: await asyncio.to_thread(status_of, server, method, path, body)
                for method, path, body in routes
            }
            answers["open"] = sum(not socket.closed for socket in sockets)
            return answers

    answers = run(scenario(production))
    assert answers.pop("open") == 2  # nothing was closed or dropped
    assert set(answers.values()) == {404}, answers
    answers = run(scenario(tested))
    answers.pop("open")
    assert set(answers.values()) == {200}, answers
