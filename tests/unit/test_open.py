"""Spec section 3: open(), and S3's unknown clientId."""

import pytest

from pypush.errors import UnknownClientError


@pytest.mark.parametrize("operation", ["open", "close"])
def test_S3_unknown_client_id_raises_with_mojarras_message(push, operation):
    with pytest.raises(UnknownClientError) as raised:
        getattr(push, operation)("nope")
    assert str(raised.value) == "Unknown clientId: nope"


def test_O1_open_while_open_does_nothing(push, platform, connected):
    push.open("c1")
    assert len(platform.sockets) == 1


def test_O2_open_while_connecting_does_nothing(push, platform, client):
    push.open("c1")
    push.open("c1")
    assert len(platform.sockets) == 1


def test_O3_each_open_asks_the_platform_for_a_new_socket(push, platform, client):
    push.open("c1")
    push.close("c1")
    platform.last_socket.closes(1000)
    push.open("c1")
    assert len(platform.sockets) == 2
    assert platform.sockets[0] is not platform.sockets[1]


def test_open_during_a_pending_retry_connects_at_once_keeping_the_count(
    push, platform, connected, rec
):
    connected.closes(1006)
    platform.clock.advance(0)  # attempt 1 at 0 ms
    platform.last_socket.closes(1006)  # attempt 2 now waits 500 ms
    push.open("c1")
    assert len(platform.sockets) == 3
    assert platform.clock.pending == 0
    platform.last_socket.closes(1006)
    assert platform.clock.delays() == [0, 500, 1000]  # the count went on
