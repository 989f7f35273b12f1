"""A real browser through a real nginx terminating TLS, on every engine.

The documented deployment (docs/deploying.md): Debian's nginx with its configuration and a
self-signed certificate made now (tests.support.Nginx; the browser's context accepts it), in
front of a serve.py started as in production (no test tools, the default limits) with
--trusted-proxy, an API token and its channelIds in Redis, so that it can really restart.
The page is https://; its push URL, as the API returns it through nginx, is wss://. The
client receives pushes, keeps its idle socket past nginx's read timeout (the server's
pings), and reconnects by itself when the server restarts. MicroPython only: the
interpreter is not what is tested.
"""

import pytest

from tests.browser.conftest import PushPage
from tests.support import Nginx, PushServer, RedisServer, wait_until

TOKEN = "browser-proxy-token"
READ_TIMEOUT = 3.0
HEARTBEAT = "1"  # a pong must come within half of it (aiohttp)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def test_an_https_page_through_nginx_receives_over_wss_keeps_idle_and_survives_a_restart(
    browser, redis_server, start_push_server, tmp_path
):  # redis_server first: it stops after the servers
    options = (
        "--no-demo-clock", "--trusted-proxy", "127.0.0.1", "--api-token", TOKEN,
        "--heartbeat", HEARTBEAT, "--redis", redis_server.url,
    )  # fmt: skip
    server = start_push_server(*options, test_server=False)
    port = server.base_url.rsplit(":", 1)[1]
    nginx = Nginx(tmp_path, int(port), read_timeout=READ_TIMEOUT).start()
    context = browser.new_context(ignore_https_errors=True)  # the certificate is self-signed
    try:
        proxied = PushServer(nginx.base_url, TOKEN, nginx.client_context())
        page = PushPage(context.new_page(), proxied, "micropython").open_harness()
        assert page.evaluate("location.protocol") == "https:"
        channel = proxied.channel()  # through nginx: the URL the page's origin uses
        assert channel.url.startswith("wss://127.0.0.1:%d/jakarta.faces.push/" % nginx.port)

        page.init("tls", channel)
        page.wait_for("tls", "open", timeout=20)
        channel.wait_for_sockets(1)
        assert channel.push({"n": 1}) == 1
        page.wait_for("tls", "message")

        # Idle for longer than nginx waits for the server: the pings keep the socket open.
        [socket_id] = channel.status()["socketIds"]
        page.page.wait_for_timeout(2 * READ_TIMEOUT * 1000)
        assert page.kinds("tls") == ["open", "message"]
        assert channel.status()["socketIds"] == [socket_id]
        assert channel.push({"n": 2}) == 1
        page.wait_for("tls", "message", count=2)

        # The server restarts (SIGTERM: every socket closed with 1001; nginx answers 502
        # meanwhile); the channelId lives on in Redis, and the client reconnects by itself.
        server.process.terminate()
        assert server.process.wait(15) == 0
        [going_away] = page.wait_for("tls", "error", timeout=20)[:1]
        assert going_away[1] == 1001  # as nginx passed the server's close frame on
        restarted = start_push_server(*options, "--port", port, test_server=False)
        channel.wait_for_sockets(1, timeout=30)
        assert channel.push({"n": 3}) == 1
        messages = page.wait_for("tls", "message", count=3)
        assert [call[1] for call in messages] == [{"n": 1}, {"n": 2}, {"n": 3}]
        assert "close" not in page.kinds("tls")
        assert page.state("tls") == "open"
        # Through the proxy, the server logs the client nginx names (here, this machine).
        wait_until(
            lambda: "connected 127.0.0.1 to %s" % channel.name in restarted.log_path.read_text()
        )
    finally:
        context.close()
        nginx.stop()
