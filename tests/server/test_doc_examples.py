"""The documentation's install lines and examples, run as the pages write them.

Each of the Python applications page's examples (docs/python-apps.md; the README shows the
aiohttp one too) is installed as its own ``pip install`` line says, read from the page (so
the test and the text cannot drift), in a fresh virtual environment outside the
repository, from a folder whose ``dist/`` holds pypush's wheels as ``pip wheel`` builds
them; the other packages come from PyPI through pip's cache. Then the example is run as its
first line says. The install commands of Getting started's wheels section are run the same
way.
"""

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import aiohttp
import pytest

from tests.doc_examples import example as doc_example
from tests.support import ROOT, free_port, receive, run, wait_until, without_position

PAGE = "docs/python-apps.md"
WHEELS = ("docs/getting-started.md", "The wheels")
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "build",
    "dist",
    "site",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "bench-results",
)
"""What of the working tree a wheel is not built from (build/ and dist/ may be stale)."""


def example(heading: str) -> str:
    """The Python example under ``heading`` of the Python applications page."""
    return doc_example(PAGE, heading)


def shell_lines(page: str, heading: str) -> list[str]:
    """The lines of the first ``sh`` block under ``heading`` of ``page``."""
    return [line for line in doc_example(page, heading, "sh").splitlines() if line.strip()]


def install_arguments(page: str, heading: str) -> list[str]:
    """What the section's one ``pip install`` line installs: its arguments, as the shell
    splits them (quotes and the ``# comment`` taken off)."""
    [line] = [line for line in shell_lines(page, heading) if line.startswith("pip install ")]
    return shlex.split(line, comments=True)[2:]


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


async def published_to_a_socket(base: str, socket_url: str) -> str:
    """The frame a socket on ``socket_url`` receives when the example's ``/publish`` is
    asked to push ``{"title": "Hi"}``, once the example counts that socket."""
    async with aiohttp.ClientSession() as session:
        socket = await session.ws_connect(socket_url)
        received = {}
        for _ in range(100):  # the socket is counted once the handshake is through
            received = await asyncio.to_thread(post, base + "/publish", {"title": "Hi"})
            if received == {"received": 1}:
                break
            await asyncio.sleep(0.05)
        assert received == {"received": 1}
        return (await receive(socket)).data


def outside(*argv: object, cwd: Path, timeout: float = 600) -> str:
    """Run a command as a user outside the repository would: none of this run's
    environment variables for Python, the test's Python first on PATH; its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        argv,
        result.returncode,
        result.stdout,
        result.stderr,
    )
    return result.stdout


def build_wheels(work: Path, *projects: str) -> Path:
    """``pip wheel`` of ``projects`` (paths in the repository), from a copy of the working
    tree; the folder the wheels are in."""
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    (source / "web" / "node_modules").symlink_to(ROOT / "web" / "node_modules")
    out = work / "dist"
    outside(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, *projects,
            cwd=source)  # fmt: skip
    shutil.rmtree(source)
    return out


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory) -> Path:
    """A folder outside the repository whose ``dist/`` holds the wheels, as after
    ``make wheel``: where the documented install lines are run."""
    folder = tmp_path_factory.mktemp("user")
    wheels = build_wheels(folder, ".", "runtimes/pyodide", "runtimes/pyscript")
    names = sorted(path.name.split("-")[0] for path in wheels.glob("*.whl"))
    assert names == ["pypush", "pypush_pyodide", "pypush_pyscript"], names
    return folder


@pytest.fixture(scope="module")
def example_venv(user_folder) -> Callable[[str], Path]:
    """The fresh virtual environment of a section of the Python applications page, made
    (once) with what its ``pip install`` line says."""
    made: dict[str, Path] = {}

    def venv(heading: str) -> Path:
        if heading not in made:
            folder = user_folder / ("venv-%d" % len(made))
            outside(sys.executable, "-m", "venv", folder, cwd=user_folder)
            outside(folder / "bin" / "pip", "install", "--quiet", *install_arguments(PAGE, heading),
                    cwd=user_folder)  # fmt: skip
            made[heading] = folder
        return made[heading]

    return venv


def run_line(code: str, venv: Path, port: int) -> list[str]:
    """The example's first line, ``# FILE; run: COMMAND``: COMMAND with the venv's
    programs and ``port`` for the page's 8000."""
    first = code.splitlines()[0]
    assert "; run: " in first, first  # the first line says how to run it
    command = shlex.split(first.split("; run: ", 1)[1])
    assert "8000" in command, command
    return [str(venv / "bin" / command[0]), *[port if a == "8000" else a for a in command[1:]]]


@pytest.mark.parametrize(
    "heading, module", [("With aiohttp", "news"), ("With FastAPI (or Starlette)", "news_api")]
)
def test_the_documented_example_pushes_to_a_page_socket(example_venv, tmp_path, heading, module):
    venv = example_venv(heading)
    code = example(heading)
    assert code.startswith("# %s.py; " % module)
    (tmp_path / (module + ".py")).write_text(code, encoding="utf-8")
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(
        run_line(code, venv, str(port)), cwd=tmp_path, stdout=log, stderr=log
    )
    base = "http://127.0.0.1:%d" % port
    try:
        wait_until(lambda: answers(base + "/subscribe"), 20, "the example serving")
        url = post(base + "/subscribe")["url"]
        assert url.startswith("/jakarta.faces.push/news?")

        frame = run(published_to_a_socket(base, "ws://127.0.0.1:%d%s" % (port, url)))
        assert json.loads(without_position(frame)) == {"data": {"title": "Hi"}}
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_the_wheels_sections_install_commands_install_pypush_and_its_runtimes(user_folder):
    """The wheels section's ``python3 -m venv`` and ``pip install`` lines, run as they are
    in a folder holding ``dist/``: pypush of this tree, with both runtime wheels."""
    commands = [
        line
        for line in shell_lines(*WHEELS)
        if line.startswith(("python3 -m venv", "venv/bin/pip install"))
    ]
    assert len(commands) == 2, commands
    for line in commands:
        outside("bash", "-c", line, cwd=user_folder)
    venv = user_folder / "venv"
    versions = outside(venv / "bin" / "python", "-c",
                       "from importlib import metadata as m; "
                       "print(*(m.version(n) for n in ('pypush', 'pypush-pyodide', "
                       "'pypush-pyscript')))", cwd=user_folder)  # fmt: skip
    version = metadata.version("pypush")
    assert versions.split() == [version] * 3
    assert outside(venv / "bin" / "pypush", "--version", cwd=user_folder) == (
        "pypush %s\n" % version
    )
    where = outside(
        venv / "bin" / "python", "-c", "import pypush_server; print(pypush_server.__file__)",
        cwd=user_folder,
    )  # fmt: skip
    assert where.startswith(str(venv)), where  # the wheel, not this tree


def test_the_readmes_python_example_and_its_install_line_are_the_documented_ones():
    """The README shows the aiohttp example: the one run above, installed the same way."""
    readme = ("README.md", "A Python application")
    assert doc_example(*readme) == example("With aiohttp")
    assert install_arguments(*readme) == install_arguments(PAGE, "With aiohttp")
