"""Property-based tests of the API's input handling (hypothesis), against the real application.

Each property states what the server must do with *any* input of a kind, next to an oracle
written independently of the server's code: a JSON value is pushed as itself or refused with
400 (never sent as something JSON.parse rejects, never a 500); a close body closes or is a
400; a channel name registers exactly when it follows the Faces rule; no body, however
broken, is a server error.
"""

import asyncio
import json
import math
import string
import threading
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pypush_server.config import ServerConfig
from pypush_server.server_app import make_app
from pypush_server.testing.fault_api import faults_key
from pypush_server.testing.faults import KINDS

JSON = {"Content-Type": "application/json"}
FACES_NAME_CHARS = set(string.ascii_letters + string.digits + "-_.")

SETTINGS = settings(
    max_examples=150,
    deadline=None,  # each example is a real HTTP request
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Every code point, lone surrogates included (characters() leaves them out by default), and
# text made of the characters that break things most often, so that they come up often.
TRICKY = ["\ud800", "\udfff", "\n", "\r", "\x00", "\u2028", "é", "𝄞", "a", '"', "\\"]
any_text = st.text(st.characters(exclude_categories=()), max_size=40) | st.text(
    st.sampled_from(TRICKY), max_size=8
)
any_number = st.one_of(
    st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30)
)
json_values = st.recursive(
    st.none() | st.booleans() | any_number | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)
anything = st.one_of(st.none(), st.booleans(), any_number, any_text, st.lists(st.integers()))


def carries_as_json(value: object) -> bool:
    """The oracle: finite numbers (lone surrogates are carried, as escapes)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(carries_as_json(v) for v in value)
    if isinstance(value, dict):
        return all(carries_as_json(k) and carries_as_json(v) for k, v in value.items())
    return True


class Client:
    """The application on a free port, a session, and one socket listening on ``prop``."""

    def __init__(self) -> None:
        # A loop in a thread of its own: Playwright's sync API may own this thread's loop.
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app = make_app(ServerConfig(demo_clock=False, faults=True, trust_loopback=True))
        self.server = TestServer(self.app, host="127.0.0.1")
        self.run(self._start())

    async def _start(self) -> None:
        await self.server.start_server()
        self.session = aiohttp.ClientSession()
        registered = await self.post("/api/channels", json.dumps({"channel": "prop"}).encode())
        self.channel_path = registered[1]["path"]
        self.socket = await self.session.ws_connect(self.url(self.channel_path))

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def post(self, path: str, body: bytes, headers: dict = JSON) -> tuple[int, dict]:
        async with self.session.post(self.url(path), data=body, headers=headers) as response:
            text = await response.text()
            return response.status, json.loads(text) if text.startswith("{") else {"text": text}

    def close(self) -> None:
        async def stop() -> None:
            await self.socket.close()
            await self.session.close()
            await self.server.close()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    client = Client()
    yield client
    client.close()


@SETTINGS
@given(json_values)
def test_any_json_value_is_pushed_as_itself_or_refused_with_400(client, value):
    body = json.dumps(value)  # writes NaN and Infinity, and escapes lone surrogates
    value = json.loads(body)  # what the server reads: "\\ud800\\udfff" is one code point
    status, answer = client.run(client.post("/api/channels/prop/push", body.encode()))
    if not carries_as_json(value):
        assert status == 400, (status, answer)
        assert "NaN or Infinity" in answer["error"], answer
        return
    assert (status, answer) == (200, {"received": 1})
    frame = client.run(asyncio.wait_for(client.socket.receive(), 5))
    assert frame.type == aiohttp.WSMsgType.TEXT
    # What JSON.parse accepts: standard JSON, nothing more, and nothing before it (ordered).
    strict = json.loads(frame.data, parse_constant=lambda name: pytest.fail(name))
    assert ":" in strict.pop("id")  # its position (spec H1)
    assert strict == {"data": value}


def sendable(code: object, reason: object) -> bool:
    """The oracle for close frames (RFC 6455 5.5.1 and 7.4)."""
    return (
        type(code) is int
        and (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999)
        and isinstance(reason, str)
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in reason)  # a close reason is UTF-8
        and len(reason.encode()) <= 123
    )


@SETTINGS
@given(
    st.one_of(st.integers(990, 1020), st.integers(2990, 5010), st.integers(), anything),
    st.one_of(any_text, st.text(max_size=130), anything),
)
def test_any_close_body_closes_or_is_a_400(client, code, reason):
    body = {"code": code, "reason": reason}
    status, answer = client.run(
        client.post("/api/channels/nobody/close", json.dumps(body).encode())
    )
    assert status in (200, 400), (status, answer)
    assert (status == 200) is sendable(code, reason), (status, answer)


def follows_the_faces_rule(name: str) -> bool:
    return bool(name) and all(char in FACES_NAME_CHARS for char in name)


faces_names = st.from_regex(r"[A-Za-z0-9_.-]+", fullmatch=True)


@SETTINGS
@given(
    st.one_of(
        any_text,
        faces_names,
        st.tuples(faces_names, any_text).map("".join),  # a good name, then anything
        st.tuples(any_text, faces_names).map("".join),
        st.tuples(faces_names, st.text("\n\r\t \x00/;%ü\u2028", min_size=1, max_size=3)).map(
            "".join
        ),
    )
)
@example("news\n")  # "$" matches before a final line break: the rule needs fullmatch
def test_a_channel_name_registers_exactly_when_it_follows_the_faces_rule(client, name):
    body = json.dumps({"channel": name}).encode()
    status, answer = client.run(client.post("/api/channels", body))
    assert status == (201 if follows_the_faces_rule(name) else 400), (name, answer)


FAULT_FIELDS = ("status", "code", "reason", "drop", "delay", "seconds", "channel")


def clear_faults(client: Client) -> None:
    """Leave no fault switched on for the next example."""
    faults = client.app[faults_key]
    for kind in KINDS:
        for scope in faults.scopes(kind):
            faults.clear(kind, scope)


@SETTINGS
@given(
    st.sampled_from([*KINDS, "nonsense"]),
    st.dictionaries(st.sampled_from(FAULT_FIELDS), st.one_of(anything, st.integers(0, 5000))),
)
def test_any_fault_request_is_set_or_refused_never_a_server_error(client, kind, body):
    status, answer = client.run(client.post("/api/faults/%s" % kind, json.dumps(body).encode()))
    clear_faults(client)
    assert status in (200, 400, 404), (status, answer)
    if status == 200:  # only with what each field means: no NaN durations, no true numbers
        assert body.get("seconds") is None or is_duration(body["seconds"]), body
        assert kind != "slow-close" or is_duration(body.get("delay")), body
        assert kind != "flap" or type(body.get("drop", False)) is bool, body


def is_duration(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


POST_ROUTES = (
    "/api/channels",
    "/api/channels/prop2/push",
    "/api/channels/prop2/push?raw=1",
    "/api/channels/prop2/burst",
    "/api/channels/prop2/close",
    "/api/channels/prop2/drop",
    "/api/faults/refuse",
    "/api/faults/flap",
    "/api/faults/slow-close",
    "/api/faults/down",
    "/demo/chat",
)


# What a client may put after application/json: JSON has no charset (RFC 8259), but
# clients name one, sometimes one no codec has.
CHARSETS = st.sampled_from(["", "; charset=utf-8", "; charset=UTF-16", "; charset=bogus", ";"])


@SETTINGS
@given(st.sampled_from(POST_ROUTES), st.binary(max_size=200), CHARSETS)
def test_no_body_is_a_server_error(client, path, body, charset):
    headers = {"Content-Type": "application/json" + charset}
    status, answer = client.run(client.post(path, body, headers))
    assert status < 500 or status == 501, (path, body, status, answer)
    clear_faults(client)


def nested(depth: int, kinds: list[bool]) -> str:
    """JSON ``depth`` arrays or objects deep (``kinds[i % len]``: an object), around 1."""
    opening = "".join('{"k":' if kinds[i % len(kinds)] else "[" for i in range(depth))
    closing = "".join("}" if kinds[i % len(kinds)] else "]" for i in reversed(range(depth)))
    return opening + "1" + closing


JSON_ROUTES = ("/api/channels/deep/push", "/api/channels/deep/burst", "/demo/chat")


@SETTINGS
@given(
    st.sampled_from(JSON_ROUTES),
    st.integers(1, 2500),
    st.lists(st.booleans(), min_size=1, max_size=3),
    st.booleans(),
)
@example("/api/channels/deep/push", 100_000, [False], False)  # "[" * 100,000, never closed
def test_json_of_any_depth_is_pushed_or_refused_with_400(client, path, depth, kinds, closed):
    """How deep json can read and write depends on the stack: any depth is pushed as itself
    or refused with a 400 that says it is nested too deeply, never a 500."""
    body = nested(depth, kinds) if closed else "[" * depth
    if path.endswith("/burst"):
        body = '{"count": 1, "message": %s}' % body
    elif path == "/demo/chat":
        body = '{"text": %s}' % body
    status, answer = client.run(client.post(path, body.encode()))
    assert status in (200, 400), (depth, status, answer)
    if status == 400 and closed and "nested too deeply" not in answer["error"]:
        assert path == "/demo/chat", answer  # the chat takes text, not arrays
        assert answer["error"].startswith('give {"text"'), answer
    elif status == 400:
        assert "nested too deeply" in answer["error"] or not closed, answer
    else:
        assert path != "/demo/chat" and answer in ({"received": 0}, {"frames": 1, "delivered": 0})


class RawClient:
    """The application (a token, a trusted proxy on loopback) on a free port, spoken to
    over a plain TCP connection, so that a header can hold any bytes."""

    def __init__(self, config: ServerConfig) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = TestServer(make_app(config), host="127.0.0.1")
        self.run(self.server.start_server())

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def status(self, head: bytes) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        writer.write(head + b"Connection: close\r\n\r\n")
        status_line = await reader.readline()
        writer.close()
        return int(status_line.split()[1])

    def close(self) -> None:
        self.run(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module", params=["x-forwarded", "forwarded"])
def raw_client(request) -> Iterator[RawClient]:
    config = ServerConfig(
        demo_clock=False,
        api_token="s3cret",
        trusted_proxies=("127.0.0.1",),
        proxy_headers=request.param,
        proxy_host_header=True,
    )
    client = RawClient(config)
    yield client
    client.close()


HEADERS = ("Authorization", "Host", "Origin", "X-Forwarded-For", "X-Forwarded-Proto",
           "X-Forwarded-Host", "Forwarded", "X-Real-IP", "Content-Type")  # fmt: skip
header_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(HEADERS), header_bytes | st.sampled_from([b"Bearer s3cret"])),
    st.sampled_from(
        ["GET /api/stats", "POST /api/channels", "GET /", "GET /jakarta.faces.push/x?y"]
    ),
)
def test_headers_of_any_bytes_are_answered_never_a_server_error(raw_client, headers, request):
    """Whatever bytes the headers the server reads hold, it answers (a refusal, or what was
    asked), and /api/ answers only the exact token."""
    head = request.encode() + b" HTTP/1.1\r\n"
    headers.setdefault("Host", b"127.0.0.1")
    for name, value in headers.items():
        head += name.encode() + b": " + value + b"\r\n"
    if request.startswith("POST"):
        head += b"Content-Length: 0\r\n"
    status = raw_client.run(raw_client.status(head))
    assert status < 500, (headers, status)
    if request.startswith("GET /api/") and status == 200:
        assert headers.get("Authorization") == b"Bearer s3cret", headers
