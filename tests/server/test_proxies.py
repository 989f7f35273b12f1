"""Forwarding headers are believed from trusted proxies only.

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


def demo_page(server: PushServer, headers: dict) -> str:
    """The demo page's HTML, which holds the push URLs the page's sockets open."""
    request = urllib.request.Request(server.base_url + "/", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


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
        "--api-token",
        TOKEN,
        "--trust-loopback",
        "--allow-host",
        "push.example.org",
        test_server=False,
    )


@pytest.fixture(scope="module")
def proxy_names_the_host(start_module_server) -> PushServer:
    """A trusted proxy that writes X-Forwarded-Host, and the server told so."""
    return start_module_server(
        "--no-demo-clock",
        "--trusted-proxy",
        "127.0.0.1",
        "--proxy-host-header",
        "--trust-loopback",
        "--allow-host",
        "push.example.org",
        test_server=False,
    )


@pytest.fixture(scope="module")
def no_flags(start_module_server) -> PushServer:
    """serve.py as `make demo` starts it: on loopback, loopback trusted, no proxy named."""
    return start_module_server("--no-demo-clock", test_server=False)


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


def test_a_forwarded_request_does_not_reach_the_faults(start_push_server):
    """Behind a local proxy, `X-Forwarded-For: 203.0.113.9` on POST /api/faults/down: the
    API is closed to it, and without --faults there is no such route at all."""
    server = start_push_server(
        "--no-demo-clock", "--trusted-proxy", "127.0.0.1", "--api-token", TOKEN, test_server=False
    )
    forged = {"X-Forwarded-For": "203.0.113.9"}
    assert api(server, "/api/faults/down", forged, {"seconds": 5})[0] == 401
    with_token = {**forged, "Authorization": "Bearer " + TOKEN}
    assert api(server, "/api/faults/down", with_token, {"seconds": 5})[0] == 404
    assert api(server, "/api/faults/down", {}, {"seconds": 5})[0] == 401  # the proxy's own


@pytest.mark.parametrize(
    "header, value",
    [
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Forwarded-For", "127.0.0.1"),  # a proxy the server does not trust says so
        ("Forwarded", "for=203.0.113.9"),
        ("X-Real-IP", "203.0.113.9"),
    ],
)
def test_a_loopback_request_through_an_untrusted_proxy_is_not_taken_for_loopback(
    no_flags, proxy_not_trusted, header, value
):
    """A proxy on the same machine in front of a server that trusts loopback: every client
    would be loopback. A request that names a client came through a proxy, and without
    --trusted-proxy nothing says who its client is: refused, saying why."""
    assert api(no_flags, "/api/channels", {}, {"channel": "news"})[0] == 201  # loopback itself
    status, answer = api(no_flags, "/api/channels", {header: value}, {"channel": "news"})
    assert status == 403, answer
    assert "came through a proxy (it carries %s)" % header in answer["error"]
    assert "--api-token" in answer["error"] and "--trusted-proxy" in answer["error"]
    # A proxy that is not the trusted one: the same; the token is what the API wants then.
    status, answer = api(proxy_not_trusted, "/api/stats", {header: value})
    assert status == 401 and "came through a proxy" in answer["error"], answer
    with_token = {header: value, "Authorization": "Bearer " + TOKEN}
    assert api(proxy_not_trusted, "/api/stats", with_token)[0] == 200


def test_an_untrusted_peer_s_forwarding_headers_are_ignored(proxy_not_trusted):
    headers = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "push.example.org",
        "Forwarded": "for=203.0.113.9;proto=https;host=push.example.org",
    }
    with_token = {**headers, "Authorization": "Bearer " + TOKEN}
    status, answer = api(proxy_not_trusted, "/api/channels", with_token, {"channel": "news"})
    assert status == 201, answer
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
        behind_proxy, "/api/channels", {**tls, "Host": "push.example.org:8443"}, {"channel": "news"}
    )
    assert answer["url"].startswith("wss://push.example.org:8443/jakarta.faces.push/news?")
    status, answer = api(behind_proxy, "/api/channels", {}, {"channel": "news"})
    assert answer["url"].startswith(behind_proxy.base_url.replace("http:", "ws:") + "/")


def test_the_host_a_proxy_passes_through_is_not_believed_unless_told(
    behind_proxy, proxy_names_the_host
):
    """A proxy that passes Host on (the Deploying page's nginx) passes a client's own
    X-Forwarded-Host through untouched: believed, it would name any host the client likes,
    in the URLs the server hands out and past the DNS-rebinding guard."""
    client = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
    own = behind_proxy.base_url.split("://", 1)[1]
    status, answer = api(
        behind_proxy,
        "/api/channels",
        {**client, "X-Forwarded-Host": "198.51.100.7"},
        {"channel": "news"},
    )
    assert status == 201, answer
    assert answer["url"].startswith("wss://%s/jakarta.faces.push/news?" % own), answer
    rebound = {**client, "Host": "evil.example", "X-Forwarded-Host": "127.0.0.1"}
    assert api(behind_proxy, "/api/stats", rebound)[0] == 421
    page = demo_page(behind_proxy, {**client, "X-Forwarded-Host": "198.51.100.7"})
    assert "198.51.100.7" not in page and "wss://%s/jakarta.faces.push/" % own in page
    # Told the proxies write it (--proxy-host-header), the server believes them.
    status, answer = api(
        proxy_names_the_host,
        "/api/channels",
        {**client, "X-Forwarded-Host": "push.example.org:8443"},
        {"channel": "news"},
    )
    assert answer["url"].startswith("wss://push.example.org:8443/jakarta.faces.push/news?")
    assert api(proxy_names_the_host, "/api/stats", rebound)[0] == 200


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
    headers = {"Origin": origin, "X-Forwarded-For": "203.0.113.9", "Host": host}
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
    # Forwarded's host= is believed only with --proxy-host-header: the Host header here.
    own = server.base_url.split("://", 1)[1]
    assert answer["url"].startswith("wss://%s/jakarta.faces.push/news?" % own), answer
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


def test_forwarded_host_is_believed_only_when_told(start_push_server):
    """RFC 7239's host= is the proxies' word on the host, as X-Forwarded-Host is: believed
    with --proxy-host-header only (test_rfc_7239_forwarded_when_the_proxies_write_it: not)."""
    server = start_push_server(
        "--no-demo-clock",
        "--trusted-proxy",
        "127.0.0.1",
        "--proxy-headers",
        "forwarded",
        "--proxy-host-header",
        "--trust-loopback",
        "--allow-host",
        "push.example.org",
        test_server=False,
    )
    element = {"Forwarded": "for=127.0.0.1;proto=https;host=push.example.org:8443"}
    status, answer = api(server, "/api/channels", element, {"channel": "news"})
    assert status == 201, answer
    assert answer["url"].startswith("wss://push.example.org:8443/jakarta.faces.push/news?")
    rebound = {"Host": "evil.example", "Forwarded": "for=127.0.0.1;host=127.0.0.1"}
    assert api(server, "/api/stats", rebound)[0] == 200  # the proxy's word, believed
