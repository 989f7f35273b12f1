"""Spec section 2: init()."""

import pytest

from pypush.core import PushRegistry
from pypush.errors import PushArgumentError, PushUrlError
from tests.unit.conftest import CHANNEL, URL


def test_I1_missing_callbacks_are_no_ops(push, platform):
    push.init("c", URL, CHANNEL, None, None, None, None, None, True)
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends("hello")
    platform.last_socket.closes(1008)
    assert platform.errors == []


def test_I2_no_websocket_calls_onclose_minus_one_with_the_channel(push, platform, rec):
    platform.has_websocket = False
    push.init("c", URL, CHANNEL, autoconnect=True, **rec.callbacks())
    assert rec.calls == [("close", -1, CHANNEL)]
    assert platform.sockets == []
    assert "c" not in push.clients


def test_I3_second_init_keeps_the_first_registration(push, platform, rec):
    push.init("c", URL, CHANNEL, **rec.callbacks())
    other = []
    push.init("c", "/elsewhere?x", "other", onopen=other.append, autoconnect=False)
    assert platform.sockets == []
    push.init("c", "/elsewhere?x", "other", onopen=other.append, autoconnect=True)
    assert platform.last_socket.url == "ws://example.test/app/jakarta.faces.push/news?abc"
    platform.last_socket.server_accepts()
    assert rec.calls == [("open", CHANNEL)]
    assert other == []


def test_I4_autoconnect_opens_and_defaults_to_false(push, platform):
    push.init("a", URL, CHANNEL)
    assert platform.sockets == []
    push.init("b", URL, CHANNEL, autoconnect=True)
    assert len(platform.sockets) == 1


def test_I5_behaviors_none_means_none(push, platform, rec):
    push.init("c", URL, CHANNEL, behaviors=None, autoconnect=True, **rec.callbacks())
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends("refresh")
    assert rec.named("message") == [("message", "refresh", CHANNEL, "message-event")]


@pytest.mark.parametrize(
    "given, expected",
    [
        ("/app/jakarta.faces.push/ch?id", "ws://example.test/app/jakarta.faces.push/ch?id"),
        ("jakarta.faces.push/ch?id", "ws://example.test/app/jakarta.faces.push/ch?id"),
        ("http://other.test:8080/p/ch?id", "ws://other.test:8080/p/ch?id"),
        ("https://other.test/p/ch?id", "wss://other.test/p/ch?id"),
        ("ws://other.test/p/ch?id", "ws://other.test/p/ch?id"),
        ("wss://other.test/p/ch?id", "wss://other.test/p/ch?id"),
    ],
)
def test_I6_relative_and_http_urls_become_websocket_urls(push, platform, given, expected):
    push.init("c", given, CHANNEL, autoconnect=True)
    assert platform.last_socket.url == expected


def test_I6_https_page_gives_wss_for_a_relative_url():
    platform = __import__("tests.unit.fakes", fromlist=["FakePlatform"]).FakePlatform(
        "https://secure.test/app/"
    )
    push = PushRegistry(platform)
    push.init("c", "/app/jakarta.faces.push/ch?id", CHANNEL, autoconnect=True)
    assert platform.last_socket.url == "wss://secure.test/app/jakarta.faces.push/ch?id"


def test_I6_a_url_that_cannot_make_a_websocket_raises_at_open_naming_client_and_url(push):
    push.init("bad", "mailto:someone@example.test", CHANNEL)
    with pytest.raises(PushUrlError) as raised:
        push.open("bad")
    assert "'bad'" in str(raised.value)
    assert "mailto:someone@example.test" in str(raised.value)
    assert push.clients["bad"].state == "idle"


def test_I6_a_socket_constructor_failure_raises_at_open(push, platform):
    platform.socket_factory_error = ValueError("SyntaxError: invalid URL")
    push.init("c", URL, CHANNEL)
    with pytest.raises(PushUrlError, match=r"'c'.*invalid URL"):
        push.open("c")
    assert push.clients["c"].state == "idle"


@pytest.mark.parametrize("url", [None, "", 42])
def test_init_without_a_url_string_is_a_clear_error(push, url):
    with pytest.raises(PushArgumentError, match="needs a URL string"):
        push.init("c", url, CHANNEL)


@pytest.mark.parametrize("client_id", [None, 7, ["x"]])
def test_init_with_a_non_string_client_id_is_a_clear_error(push, client_id):
    with pytest.raises(PushArgumentError, match="clientId must be a string"):
        push.init(client_id, URL, CHANNEL)
