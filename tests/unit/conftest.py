import pytest

from pypush.core import PushRegistry
from tests.unit.fakes import FakePlatform, Recorder

CHANNEL = "news"
URL = "/app/jakarta.faces.push/news?abc"


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def push(platform) -> PushRegistry:
    return PushRegistry(platform)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def client(push, rec):
    """A registered, not yet opened client ``c1`` whose callbacks go to ``rec``."""
    push.init("c1", URL, CHANNEL, behaviors={}, **rec.callbacks())
    return push.clients["c1"]


@pytest.fixture
def connected(push, platform, client):
    """``c1`` opened and connected; returns its socket."""
    push.open("c1")
    platform.last_socket.server_accepts()
    return platform.last_socket
