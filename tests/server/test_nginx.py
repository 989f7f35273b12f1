"""serve.py behind a real nginx terminating TLS: the documented deployment (docs/deploying.md).

Debian's nginx on a free port, with the documented configuration and a self-signed certificate
made at test time (tests.support.Nginx), in front of a serve.py started as in production
(no test tools) with --trusted-proxy 127.0.0.1. Plain clients here; a real browser on every
engine in tests/browser/test_proxy.py.
"""

import asyncio
import json
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from tests.support import Nginx, PushServer, run, wait_until, without_position

TOKEN = "nginx-test-token"
READ_TIMEOUT = 1.5


def deployed(start_push_server, folder, *options: str) -> tuple[PushServer, Nginx]:
    """The documented deployment: serve.py on loopback behind nginx (TLS)."""
    server = start_push_server(
        "--no-demo-clock", "--trusted-proxy", "127.0.0.1", "--api-token", TOKEN, *options,
        test_server=False,
    )  # fmt: skip
    server.token = TOKEN
    upstream = int(server.base_url.rsplit(":", 1)[1])
    return server, Nginx(folder, upstream, read_timeout=READ_TIMEOUT).start()


@pytest.fixture
def behind_nginx(start_push_server, tmp_path):
    server, nginx = deployed(start_push_server, tmp_path, "--heartbeat", "0.5")
    yield server, nginx, PushServer(nginx.base_url, TOKEN, nginx.client_context())
    nginx.stop()


def status(server: PushServer, method: str, path: str, headers: dict, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.base_url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10, context=server.ssl_context):
            return 200
    except urllib.error.HTTPError as exc:
        return exc.code


async def connect(nginx: Nginx, url: str, origin: str) -> aiohttp.ClientWebSocketResponse | int:
    session = aiohttp.ClientSession()
    try:
        socket = await session.ws_connect(
            url, headers={"Origin": origin}, ssl=nginx.client_context(), autoping=True
        )
    except aiohttp.WSServerHandshakeError as exc:
        await session.close()
        return exc.status
    socket.session = session
    return socket


def test_pages_of_the_https_origin_connect_over_wss_and_receive_pushes(behind_nginx):
    server, nginx, proxied = behind_nginx
    channel = proxied.channel()  # registered through nginx: the URL the client used
    assert channel.url == "wss://127.0.0.1:%d%s" % (nginx.port, channel.path)

    async def scenario() -> None:
        assert await connect(nginx, channel.url, "http://127.0.0.1:%d" % nginx.port) == 403
        assert await connect(nginx, channel.url, "https://evil.example") == 403
        socket = await connect(nginx, channel.url, nginx.base_url)
        assert not isinstance(socket, int), socket
        await asyncio.to_thread(channel.wait_for_sockets, 1)
        assert await asyncio.to_thread(channel.push, {"over": "wss"}) == 1
        message = await socket.receive(timeout=10)
        assert json.loads(without_position(message.data)) == {"data": {"over": "wss"}}
        await socket.close()
        await socket.session.close()

    run(scenario())
    log = server.log_path.read_text()
    assert (
        "refused 127.0.0.1 on %s: origin 'http://127.0.0.1:%d'" % (channel.name, nginx.port) in log
    )


def test_through_nginx_the_api_needs_its_token_and_the_faults_do_not_exist(behind_nginx):
    """Behind a local proxy every client is loopback: nobody who reaches the proxy may push,
    expire channelIds or call the faults, X-Forwarded-For or not."""
    _, _, proxied = behind_nginx
    anonymous = PushServer(proxied.base_url, None, proxied.ssl_context)
    forged = {"X-Forwarded-For": "127.0.0.1"}
    for headers in ({}, forged):
        assert status(anonymous, "GET", "/api/stats", headers) == 401
        assert status(anonymous, "POST", "/api/channels", headers, {"channel": "n"}) == 401
        assert status(anonymous, "POST", "/api/faults/down", headers, {"seconds": 5}) == 401
    token = {"Authorization": "Bearer " + TOKEN}
    assert status(proxied, "GET", "/api/stats", token) == 200
    assert status(proxied, "POST", "/api/faults/down", token, {"seconds": 5}) == 404


def idle_socket_life(nginx: Nginx, proxied: PushServer, seconds: float) -> float | None:
    """How long a socket carrying no messages lives through nginx (None: all ``seconds``)."""
    channel = proxied.channel()

    async def scenario() -> float | None:
        socket = await connect(nginx, channel.url, nginx.base_url)
        assert not isinstance(socket, int), socket
        started = time.monotonic()
        try:
            # Overall: receive's own timeout starts again at each ping it answers.
            message = await asyncio.wait_for(socket.receive(), seconds)
        except TimeoutError:
            return None
        else:
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
            return time.monotonic() - started
        finally:
            await socket.close()
            await socket.session.close()

    return run(scenario())


def test_an_idle_socket_outlives_nginx_s_read_timeout_by_the_server_s_pings(behind_nginx):
    _, nginx, proxied = behind_nginx
    assert idle_socket_life(nginx, proxied, 3 * READ_TIMEOUT) is None


def test_without_pings_nginx_closes_an_idle_socket_at_its_read_timeout(start_push_server, tmp_path):
    """The control of the test above: the pings are what keeps the socket."""
    _, nginx = deployed(start_push_server, tmp_path, "--heartbeat", "0")
    try:
        proxied = PushServer(nginx.base_url, TOKEN, nginx.client_context())
        life = idle_socket_life(nginx, proxied, 3 * READ_TIMEOUT)
        assert life is not None and READ_TIMEOUT - 0.2 < life < 2 * READ_TIMEOUT, life
        wait_until(lambda: "upstream timed out" in (tmp_path / "error.log").read_text())
    finally:
        nginx.stop()


def test_a_client_s_own_x_forwarded_host_does_not_pass_through_nginx(behind_nginx):
    """The Deploying page's nginx passes Host on and writes no X-Forwarded-Host, so a
    client's own passes through it: the server must not believe it (no
    --proxy-host-header), neither in the URLs it hands out nor past the DNS-rebinding
    guard."""
    _, nginx, proxied = behind_nginx
    token = {"Authorization": "Bearer " + TOKEN}
    request = urllib.request.Request(
        nginx.base_url + "/api/channels",
        data=json.dumps({"channel": "news"}).encode(),
        headers={**token, "Content-Type": "application/json", "X-Forwarded-Host": "198.51.100.7"},
    )
    with urllib.request.urlopen(request, timeout=10, context=nginx.client_context()) as answer:
        url = json.loads(answer.read())["url"]
    assert url.startswith("wss://127.0.0.1:%d/jakarta.faces.push/news?" % nginx.port), url
    rebound = {**token, "Host": "evil.example", "X-Forwarded-Host": "127.0.0.1"}
    assert status(proxied, "GET", "/api/stats", rebound) == 421


def test_a_server_that_trusts_loopback_refuses_what_an_unnamed_nginx_forwards(
    start_push_server, tmp_path
):
    """serve.py with no flags (loopback trusted) behind the Deploying page's nginx, whose
    --trusted-proxy was forgotten: every client reaches it from loopback, but nginx names
    the client (X-Forwarded-For), so the API refuses it and says why."""
    server = start_push_server("--no-demo-clock", test_server=False)
    nginx = Nginx(tmp_path, int(server.base_url.rsplit(":", 1)[1])).start()
    try:
        request = urllib.request.Request(
            nginx.base_url + "/api/channels",
            data=json.dumps({"channel": "news"}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10, context=nginx.client_context())
        assert refused.value.code == 403
        error = json.loads(refused.value.read())["error"]
        assert "came through a proxy" in error and "--trusted-proxy" in error, error
        assert server.post("/api/channels", {"channel": "news"})["channel"] == "news"  # direct
    finally:
        nginx.stop()
