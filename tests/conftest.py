from collections.abc import Callable, Iterator

import pytest

from tests.support import PushServer, start_server, stop_server

pytest_plugins = ["pytester"]


@pytest.fixture
def start_push_server(tmp_path) -> Iterator[Callable[..., PushServer]]:
    """Start a dedicated serve.py with extra command-line options; stopped after the test."""
    processes = []

    def start(*options: str) -> PushServer:
        log_path = tmp_path / ("serve-%d.log" % len(processes))
        process, base_url = start_server(log_path, *options)
        processes.append(process)
        server = PushServer(base_url)
        server.process = process
        server.log_path = log_path
        return server

    yield start
    for process in processes:
        if process.poll() is None:
            stop_server(process)
