"""The documentation's aiohttp and FastAPI examples, pasted into a new folder and run as
the pages say (docs/python-apps.md; the README shows the aiohttp one too)."""

import asyncio
import json
import subprocess
import sys
import urllib.request

import aiohttp
import pytest

from tests.doc_examples import example as doc_example
from tests.support import free_port, receive, run, wait_until, without_position

PAGE = "docs/python-apps.md"


def example(heading: str) -> str:
    """The Python example under ``heading`` of the Python applications page."""
    return doc_example(PAGE, heading)


def post(url: str, body: object = None) -> dict:
    data = json.dumps(body if body is not None else {}).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def answers(url: str) -> bool:
    try:
        post(url)
        return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "heading, module, command",
    [
        (
            "With aiohttp",
            "news",
            [
                sys.executable,
                "-m",
                "aiohttp.web",
                "-H",
                "127.0.0.1",
                "-P",
                "{port}",
                "news:create_app",
            ],
        ),
        (
            "With FastAPI (or Starlette)",
            "news_api",
            [sys.executable, "-m", "uvicorn", "news_api:app", "--port", "{port}"],
        ),
    ],
)
def test_the_documented_example_pushes_to_a_page_socket(tmp_path, heading, module, command):
    code = example(heading)
    assert "run: " in code.splitlines()[0]  # the first line says how to run it
    (tmp_path / (module + ".py")).write_text(code, encoding="utf-8")
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(
        [part.format(port=port) for part in command], cwd=tmp_path, stdout=log, stderr=log
    )
    base = "http://127.0.0.1:%d" % port
    try:
        wait_until(lambda: answers(base + "/subscribe"), 20, "the example serving")
        url = post(base + "/subscribe")["url"]
        assert url.startswith("/jakarta.faces.push/news?")

        async def scenario() -> None:
            async with aiohttp.ClientSession() as session:
                socket = await session.ws_connect("ws://127.0.0.1:%d%s" % (port, url))
                for _ in range(100):  # the socket is counted once the handshake is through
                    received = await asyncio.to_thread(post, base + "/publish", {"title": "Hi"})
                    if received == {"received": 1}:
                        break
                    await asyncio.sleep(0.05)
                assert received == {"received": 1}
                assert json.loads(without_position((await receive(socket)).data)) == {
                    "data": {"title": "Hi"}
                }

        run(scenario())
    finally:
        process.terminate()
        process.wait(10)


def test_the_readmes_python_example_is_the_documented_one_run_above():
    assert doc_example("README.md", "A Python application") == example("With aiohttp")
