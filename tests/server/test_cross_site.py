"""Requests a page of another origin can make: refused by content type, Origin and Host.

The browser half (a real page of another origin trying it) is in
tests/browser/test_cross_site.py; here each rule is checked alone, with a plain client.
"""

import json

import aiohttp
import pytest

from tests.support import run, ws_url

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def server(start_module_server):
    return start_module_server("--no-demo-clock")


async def post(url: str, body: str, headers: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            return response.status, json.loads(text) if text.startswith("{") else {}


def status_of_post(server, path: str, body: str, **headers: str) -> tuple[int, dict]:
    return run(post(server.base_url + path, body, headers))


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"],
)
def test_api_bodies_must_be_sent_as_json(server, content_type):
    """What a page may send anywhere without a preflight is never taken as a command."""
    channel = server.channel()
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, body = status_of_post(
        server, "/api/channels/%s/push" % channel.name, '"from evil"', **headers
    )
    assert status == 415
    assert body["error"] == "send the body as Content-Type: application/json"
    assert channel.status()["sent"] == {channel.id: 0}


def test_a_json_body_with_a_charset_is_json(server):
    status, body = status_of_post(
        server,
        "/api/channels",
        '{"channel": "c"}',
        **{"Content-Type": "application/json; charset=utf-8"},
    )
    assert status == 201 and body["channel"] == "c"


def test_a_post_without_a_body_must_say_json_too(server):
    """A bodiless POST with no Content-Type is a "simple" request: drop must not be one."""
    channel = server.channel()
    assert status_of_post(server, "/api/channels/%s/drop" % channel.name, "")[0] == 415
    headers = {"Content-Type": "application/json"}
    assert status_of_post(server, "/api/channels/%s/drop" % channel.name, "", **headers) == (
        200,
        {"dropped": 0},
    )


@pytest.mark.parametrize("path", ["/api/channels", "/demo/chat"])
@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1:1", "http://localhost"])
def test_pages_of_other_origins_may_not_send_commands(server, path, origin):
    body = '{"channel": "c"}' if path == "/api/channels" else '{"text": "from evil"}'
    status, answer = status_of_post(
        server, path, body, **{"Content-Type": "application/json", "Origin": origin}
    )
    assert status == 403
    assert answer["error"] == "pages of origin %r may not send commands to this server" % origin


@pytest.mark.parametrize(
    "path, body", [("/api/channels", '{"channel": "c"}'), ("/demo/chat", '{"text": "hi"}')]
)
def test_the_servers_own_pages_may(server, path, body):
    status, _ = status_of_post(
        server, path, body, **{"Content-Type": "application/json", "Origin": server.base_url}
    )
    assert status in (200, 201)


def test_the_demo_form_takes_json_only(server):
    status, _ = status_of_post(server, "/demo/chat", "text=hello", **{"Content-Type": "text/plain"})
    assert status == 415


async def get_status(url: str, host: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Host": host}) as response:
            return response.status


async def handshake_status(url: str, host: str) -> int:
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers={"Host": host}):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def port_of(server) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "name, answered",
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("[::1]", True),
        ("192.0.2.1", True),  # an address is no name an attacker can rebind
        ("evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("localhost.evil.example", False),
        ("user@127.0.0.1", False),
    ],
)
def test_host_must_be_a_name_the_server_answers_to(server, name, answered):
    """A DNS-rebinding guard: a page whose name was rebound to 127.0.0.1 still names itself."""
    host = "%s:%d" % (name, port_of(server))
    channel = server.channel()
    expected = (200, 101, 200) if answered else (421, 421, 421)
    assert (
        run(get_status(server.base_url + "/api/stats", host)),
        run(handshake_status(ws_url(server, channel.path), host)),
        run(get_status(server.base_url + "/", host)),
    ) == expected


def test_the_refusal_says_how_to_allow_a_name(server):
    async def scenario() -> dict:
        async with aiohttp.ClientSession() as session:
            headers = {"Host": "evil.example"}
            async with session.get(server.base_url + "/api/stats", headers=headers) as response:
                return await response.json()

    assert run(scenario()) == {
        "error": "this server does not answer to the name 'evil.example'; "
        "start it with --allow-host NAME to allow one"
    }


def test_allow_host_adds_names_and_star_any(start_push_server):
    named = start_push_server("--no-demo-clock", "--allow-host", "Push.Example.org")
    anything = start_push_server("--no-demo-clock", "--allow-host", "*")
    for server, host, status in [
        (named, "push.example.org", 200),
        (named, "push.example.org.", 200),
        (named, "other.example.org", 421),
        (anything, "whatever.example", 200),
    ]:
        assert run(get_status(server.base_url + "/api/stats", host)) == status, host


def test_the_host_option_is_a_name_the_server_answers_to():
    from pypush_server.cli import _answered_names

    assert _answered_names("demo.example", ["push.example.org"]) == (
        "push.example.org",
        "demo.example",
    )
    assert _answered_names("0.0.0.0", []) == ()
    assert _answered_names("127.0.0.1", ["*"]) == ("*",)
