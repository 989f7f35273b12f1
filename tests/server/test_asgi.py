"""The ASGI push endpoint mounted in a Starlette application, under uvicorn (a real server)."""

import asyncio
import json
import os
import subprocess
import sys
import urllib.request

import aiohttp
import pytest

from tests.server.test_slow_clients import ends_within, stalled_socket
from tests.support import ROOT, free_port, receive, run, wait_until, without_position


class App:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: object = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def ws(self, path: str) -> str:
        return self.base_url.replace("http://", "ws://") + path


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("uvicorn") / "uvicorn.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.server.asgi_app:app", "--port", str(port)],
        cwd=ROOT,
        stderr=log,
        env={**os.environ, "QUEUE_BYTES": str(2 * 1024 * 1024), "SOCKETS_PER_CHANNEL_ID": "2"},
    )
    base_url = "http://127.0.0.1:%d" % port
    wait_until(lambda: _answers(base_url), 20, "uvicorn listening")
    yield App(base_url)
    process.terminate()
    process.wait(10)


def _answers(base_url: str) -> bool:
    try:
        urllib.request.urlopen(base_url + "/channels/probe", timeout=1)
        return True
    except OSError:
        return False


def test_pushes_reach_every_socket_of_the_url_as_data_json(app):
    info = app.call("POST", "/channels/news")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(app.ws(info["path"])) for _ in range(2)]
            await asyncio.to_thread(
                wait_until, lambda: app.call("GET", "/channels/news")["sockets"] == 2
            )
            result = await asyncio.to_thread(app.call, "POST", "/channels/news/push", {"n": "é"})
            assert result == {"received": 2}
            for socket in sockets:
                assert json.loads(without_position((await receive(socket)).data)) == {
                    "data": {"n": "é"}
                }

    run(scenario())


def test_an_unknown_channel_id_is_accepted_then_closed_1008_and_expiry_closes_1000(app):
    info = app.call("POST", "/channels/expiring")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            unknown = await session.ws_connect(app.ws("/jakarta.faces.push/expiring?nope"))
            message = await receive(unknown)
            assert (message.data, message.extra) == (1008, "Unknown channel")
            socket = await session.ws_connect(app.ws(info["path"]))
            await asyncio.to_thread(
                wait_until, lambda: app.call("GET", "/channels/expiring")["sockets"] == 1
            )
            closed = await asyncio.to_thread(
                app.call, "DELETE", "/channel-ids/%s" % info["channelId"]
            )
            assert closed == {"closed": 1}
            message = await receive(socket)
            assert (message.data, message.extra) == (1000, "Expired")

    run(scenario())


def test_a_channel_id_over_its_cap_closes_its_next_socket_with_1013_not_the_channels(app):
    """The cap (2 in this app) is per channelId, and its refusal a code clients retry (E8)."""
    full, other = app.call("POST", "/channels/capped"), app.call("POST", "/channels/capped")

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            kept = [await session.ws_connect(app.ws(full["path"])) for _ in range(2)]
            await asyncio.to_thread(
                wait_until, lambda: app.call("GET", "/channels/capped")["sockets"] == 2
            )
            extra = await session.ws_connect(app.ws(full["path"]))
            message = await receive(extra)
            assert (message.data, message.extra) == (
                1013,
                "Try Again Later: too many sockets on this channelId",
            )
            mine = await session.ws_connect(app.ws(other["path"]))
            await asyncio.to_thread(
                wait_until, lambda: app.call("GET", "/channels/capped")["sockets"] == 3
            )
            assert not mine.closed and not any(socket.closed for socket in kept)

    run(scenario())


def test_a_stalled_socket_holds_up_no_push_and_is_closed_with_1013(app):
    info = app.call("POST", "/channels/slow")
    stalled = stalled_socket(app.base_url, info["path"])
    message = "s" * (256 * 1024)
    try:

        async def scenario() -> None:
            async with aiohttp.ClientSession() as session:
                healthy = await session.ws_connect(app.ws(info["path"]), max_msg_size=0)
                await asyncio.to_thread(
                    wait_until, lambda: app.call("GET", "/channels/slow")["sockets"] == 2
                )
                got = []

                async def read() -> None:
                    while len(got) < 100:
                        got.append((await receive(healthy, timeout=30)).data)

                reader = asyncio.ensure_future(read())
                counts = [
                    (await asyncio.to_thread(app.call, "POST", "/channels/slow/push", message))[
                        "received"
                    ]
                    for _ in range(100)
                ]
                await asyncio.wait_for(reader, 60)
                assert len(got) == 100 and counts[0] == 2 and counts[-1] == 1
                assert app.call("GET", "/channels/slow")["sockets"] == 1

        run(scenario())
        assert ends_within(stalled, 20)
    finally:
        stalled.close()


@pytest.mark.parametrize(
    "origin, status",
    [
        ("same", 101),
        ("http://evil.test", 403),
        ("http://[", 403),  # urlsplit raises ValueError on it: refused, not a server error
        ("http://[::1", 403),
    ],
)
def test_a_page_s_origin_of_any_text_is_allowed_or_refused_never_a_server_error(
    app, origin, status
):
    info = app.call("POST", "/channels/origins")
    if origin == "same":
        origin = app.base_url

    async def attempt() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(app.ws(info["path"]), headers={"Origin": origin}):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert run(attempt()) == status
