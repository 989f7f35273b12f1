"""Forwarding headers are believed from trusted proxies only (issue 17).

A real serve.py, and a plain client on loopback playing the proxy: a trusted one when the
server names 127.0.0.1 with --trusted-proxy, an untrusted one when it names another address.
What the headers change is read from what the server does: whether the API answers a
client it takes for loopback, the URLs it returns, whether a page's Origin is its own, and
the address it logs. (tests/server/test_nginx.py has a real nginx in front.)
"""

import json
import urllib.error
import urllib.request

import aiohttp
import pytest

from pypush_server.proxies import node_address
from tests.support import PushServer, run, wait_until, ws_url

TOKEN = "proxy-test-token"


def api(server: PushServer, path: str, headers: dict, body: object = None) -> tuple[int, dict]:
    """A request from this process (loopback) with the given headers: its status and JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.base_url + path, data=data, method="GET")
    if data is not None:
        request.method = "POST"
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode()
        return exc.code, json.loads(text) if text.startswith("{") else {"text": text}


def handshake(server: PushServer, path: str, headers: dict) -> int:
    async def attempt() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(ws_url(server, path), headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    return run(attempt())


@pytest.fixture(scope="module")
def behind_proxy(start_module_server) -> PushServer:
    """serve.py behind a proxy on loopback, loopback trusted on purpose (to see the address)."""
    return start_module_server(
        "--no-demo-clock",
        "--trusted-proxy",
        "127.0.0.1",
        "--trusted-proxy",
        "10.0.0.0/8",
        "--trust-loopback",
        "--allow-host",
        "push.example.org",
        test_server=False,
    )


@pytest.fixture(scope="module")
def proxy_not_trusted(start_module_server) -> PushServer:
    return start_module_server(
        "--no-demo-clock",
        "--trusted-proxy",
        "192.0.2.1",
        "--trust-loopback",
        "--allow-host",
        "push.example.org",
        test_server=False,
    )


@pytest.mark.parametrize(
    "forwarded_for, loopback",
    [
        (None, True),  # the proxy's own request
        ("127.0.0.1", True),  # a client on the proxy's machine
        ("203.0.113.9", False),
        ("127.0.0.1, 203.0.113.9", False),  # the client wrote 127.0.0.1; the proxy appended
        ("198.51.100.1, 10.0.0.5", False),  # two proxies: the right-most untrusted address
        ("::1", True),
    ],
)
def test_a_trusted_proxy_says_who_the_client_is(behind_proxy, forwarded_for, loopback):
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    status, answer = api(behind_proxy, "/api/stats", headers)
    assert (status == 200) is loopback, answer
    if not loopback:
        assert (status, answer) == (403, {"error": "this API answers loopback only"})


def test_the_issue_s_request_no_longer_reaches_the_faults(start_push_server):
    """Issue 17: behind a local proxy, `X-Forwarded-For: 203.0.113.9` was answered 200 on
    POST /api/faults/down. Now the API is closed to it, and without --faults there is no
    such route at all."""
    server = start_push_server(
        "--no-demo-clock", "--trusted-proxy", "127.0.0.1", "--api-token", TOKEN, test_server=False
    )
    forged = {"X-Forwarded-For": "203.0.113.9"}
    assert api(server, "/api/faults/down", forged, {"seconds": 5})[0] == 401
    with_token = {**forged, "Authorization": "Bearer " + TOKEN}
    assert api(server, "/api/faults/down", with_token, {"seconds": 5})[0] == 404
    assert api(server, "/api/faults/down", {}, {"seconds": 5})[0] == 401  # the proxy's own


def test_an_untrusted_peer_s_forwarding_headers_are_ignored(proxy_not_trusted):
    headers = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "push.example.org",
        "Forwarded": "for=203.0.113.9;proto=https;host=push.example.org",
    }
    status, answer = api(proxy_not_trusted, "/api/channels", headers, {"channel": "news"})
    assert status == 201, answer  # still loopback
    assert answer["url"].startswith(proxy_not_trusted.base_url.replace("http:", "ws:") + "/")
    channel = "/jakarta.faces.push/news?" + answer["channelId"]
    page = {"Origin": "https://push.example.org", **headers}
    assert handshake(proxy_not_trusted, channel, page) == 403
    wait_until(lambda: "refused 127.0.0.1 on news" in proxy_not_trusted.log_path.read_text())


def test_urls_the_api_returns_are_those_the_client_used(behind_proxy):
    tls = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
    status, answer = api(
        behind_proxy, "/api/channels", {**tls, "Host": "push.example.org"}, {"channel": "news"}
    )
    assert status == 201, answer
    assert answer["url"] == "wss://push.example.org/jakarta.faces.push/news?" + answer["channelId"]
    status, answer = api(
        behind_proxy,
        "/api/channels",
        {**tls, "X-Forwarded-Host": "push.example.org:8443"},
        {"channel": "news"},
    )
    assert answer["url"].startswith("wss://push.example.org:8443/jakarta.faces.push/news?")
    status, answer = api(behind_proxy, "/api/channels", {}, {"channel": "news"})
    assert answer["url"].startswith(behind_proxy.base_url.replace("http:", "ws:") + "/")


@pytest.mark.parametrize(
    "origin, proto, host, status",
    [
        ("https://push.example.org", "https", "push.example.org", 101),
        ("https://push.example.org:8443", "https", "push.example.org:8443", 101),
        ("https://push.example.org", None, "push.example.org", 403),  # no word of TLS
        ("http://push.example.org", "https", "push.example.org", 403),
        ("https://push.example.org:8443", "https", "push.example.org", 403),  # another port
        ("https://evil.example", "https", "push.example.org", 403),
        ("https://evil.example", "https", "evil.example", 421),  # not a name it answers to
    ],
)
def test_the_origin_check_compares_the_page_with_what_the_client_used(
    behind_proxy, origin, proto, host, status
):
    channel = behind_proxy.channel()
    headers = {"Origin": origin, "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": host}
    if proto:
        headers["X-Forwarded-Proto"] = proto
    assert handshake(behind_proxy, channel.path, headers) == status


def test_logs_name_the_client_not_the_proxy(behind_proxy):
    channel = behind_proxy.channel()
    forwarded = {"X-Forwarded-For": "198.51.100.23", "Origin": "https://evil.example"}
    assert handshake(behind_proxy, channel.path, forwarded) == 403
    wait_until(
        lambda: "refused 198.51.100.23 on %s" % channel.name in behind_proxy.log_path.read_text()
    )
    log = behind_proxy.log_path.read_text()
    assert "origin 'https://evil.example' is neither this server's ('http://" in log


def test_rfc_7239_forwarded_when_the_proxies_write_it(start_push_server):
    server = start_push_server(
        "--no-demo-clock",
        "--trusted-proxy",
        "127.0.0.1",
        "--trusted-proxy",
        "10.0.0.0/8",
        "--proxy-headers",
        "forwarded",
        "--trust-loopback",
        "--allow-host",
        "push.example.org",
        test_server=False,
    )
    element = 'for="[2001:db8::7]:4711";proto=https;host=push.example.org'
    status, answer = api(server, "/api/stats", {"Forwarded": element})
    assert (status, answer["error"]) == (403, "this API answers loopback only")
    status, answer = api(
        server,
        "/api/channels",
        {"Forwarded": "for=127.0.0.1;proto=https;host=push.example.org"},
        {"channel": "news"},
    )
    assert status == 201, answer
    assert answer["url"].startswith("wss://push.example.org/jakarta.faces.push/news?")
    # X-Forwarded-* is not what these proxies write: a client's own passes through them.
    status, _ = api(server, "/api/stats", {"X-Forwarded-For": "203.0.113.9"})
    assert status == 200
    # The client wrote the first element, the proxy appended the second.
    status, _ = api(server, "/api/stats", {"Forwarded": "for=127.0.0.1, for=203.0.113.9"})
    assert status == 403
    # Two proxies: the client is the right-most that is not one of them.
    status, _ = api(server, "/api/stats", {"Forwarded": "for=127.0.0.1, for=10.0.0.5:80"})
    assert status == 200


@pytest.mark.parametrize(
    "node, address",
    [
        ("192.0.2.60", "192.0.2.60"),
        ("192.0.2.60:4711", "192.0.2.60"),
        ("[2001:db8:cafe::17]", "2001:db8:cafe::17"),
        ("[2001:db8:cafe::17]:4711", "2001:db8:cafe::17"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
    ],
)
def test_rfc_7239_nodes(node, address):
    found = node_address(node)
    assert (None if found is None else str(found)) == address
