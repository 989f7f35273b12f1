import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pypush_build.compress import cache_dir
from tests.support import PushServer, start_server, stop_server

pytest_plugins = ["pytester"]

# pytester gives the test runs it starts a HOME of their own: they keep the bundle's
# compressed copies where this run does, instead of compressing everything again.
os.environ.setdefault("PYPUSH_CACHE", str(cache_dir().parent))

ENGINES = ("chromium", "webkit", "firefox")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=(*ENGINES, "all"),
        default=os.environ.get("PYPUSH_ENGINE", "all"),
        help="browser engine(s) for tests/browser: chromium (Playwright), webkit "
        "(WebKitGTK through Selenium), firefox (firefox-esr through Selenium), or all "
        "(the default; env PYPUSH_ENGINE)",
    )


def _server_starter(folder: Path) -> tuple[Callable[..., PushServer], list]:
    processes = []

    def start(*options: str, test_server: bool = True) -> PushServer:
        log_path = folder / ("serve-%d.log" % len(processes))
        process, base_url = start_server(log_path, *options, test_server=test_server)
        processes.append(process)
        server = PushServer(base_url)
        server.process = process
        server.log_path = log_path
        return server

    return start, processes


def _stop_all(processes: list) -> None:
    for process in processes:
        if process.poll() is None:
            stop_server(process)


@pytest.fixture
def start_push_server(tmp_path) -> Iterator[Callable[..., PushServer]]:
    """Start a dedicated serve.py with extra command-line options; stopped after the test.

    ``start(*options, test_server=False)`` starts it without the test tools (the fault API)."""
    start, processes = _server_starter(tmp_path)
    yield start
    _stop_all(processes)


@pytest.fixture(scope="module")
def start_module_server(tmp_path_factory) -> Iterator[Callable[..., PushServer]]:
    """Like ``start_push_server``, for a server the tests of one module share."""
    start, processes = _server_starter(tmp_path_factory.mktemp("servers"))
    yield start
    _stop_all(processes)
