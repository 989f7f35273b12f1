"""Spec section 4a: positions, resume and gaps in the core (P1 to P5), on the fake clock.

A fake socket stands for pypush's server (messages with an offset and an epoch, a
``resume`` frame first on a socket that asked to resume) or for a Faces server (no
position, ever): every decision the core makes about positions is here.
"""

import pytest

from pypush.core import parse_position, resume_url
from tests.unit.conftest import CHANNEL, URL

WS_URL = "ws://example.test/app/jakarta.faces.push/news?abc"


def positioned(socket, *messages, epoch="Ep0ch-_1", first=1):
    """Messages as pypush's glue reports them: the offset always, the epoch on change."""
    for n, message in enumerate(messages):
        socket.server_sends(message, offset=first + n, epoch=epoch if n == 0 else None)


def reconnect(platform, socket, code=1006):
    """Close ``socket``; the reconnect (E8: at once) opens and stays up (E9: stable)."""
    socket.closes(code)
    platform.clock.advance(0)
    again = platform.last_socket
    assert again is not socket
    again.server_accepts()
    platform.clock.advance(600)
    return again


def messages(rec) -> list:
    return [call[1] for call in rec.named("message")]


# -- P1/P2: positions seen, and never otherwise ---------------------------------------------


def test_P2_against_a_server_that_never_sent_a_position_every_reconnect_is_as_today(
    platform, connected, rec
):
    """A Faces server: the same URL on every attempt, nothing else asked or shown."""
    connected.server_sends("plain")
    socket = connected
    for _ in range(5):
        socket = reconnect(platform, socket)
        socket.server_sends("again")
    assert {s.url for s in platform.sockets} == {WS_URL}
    assert messages(rec) == ["plain"] + ["again"] * 5
    assert rec.named("gap") == [] and platform.notices == []


def test_P2_a_client_that_reconnects_before_any_message_cannot_know_its_server(
    platform, connected, rec
):
    """Nothing tells it a pypush server from a Faces one yet: it reconnects as Mojarra does."""
    again = reconnect(platform, connected)
    assert again.url == WS_URL
    positioned(again, "first")
    assert messages(rec) == ["first"]
    third = reconnect(platform, again)
    assert third.url == WS_URL + "&pypush-resume=Ep0ch-_1:1"


def test_P2_after_positions_a_reconnect_asks_to_resume_after_the_last_delivered(
    platform, connected, rec
):
    positioned(connected, "a", "b", "c")
    again = reconnect(platform, connected)
    assert again.url == WS_URL + "&pypush-resume=Ep0ch-_1:3"
    again.server_controls(pypush="resume", id="Ep0ch-_1:3", missed=0)
    positioned(again, "d", first=4)
    assert messages(rec) == ["a", "b", "c", "d"]
    assert rec.named("gap") == [] and platform.notices == []
    # Every later attempt asks from the newest position, also after failed attempts.
    again.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.closes(1006)  # attempt 1 fails before opening
    platform.clock.advance(500)
    assert platform.last_socket.url == WS_URL + "&pypush-resume=Ep0ch-_1:4"


def test_P3_a_replay_and_live_messages_are_delivered_in_order_none_twice(platform, connected, rec):
    positioned(connected, 1, 2)
    again = reconnect(platform, connected)
    again.server_controls(pypush="resume", id="Ep0ch-_1:2", missed=0)
    positioned(again, 3, 4, 5, first=3)  # the replay, then live
    again.server_sends(4, offset=4)  # a repeat (never from pypush's server): skipped, said
    again.server_sends(6, offset=6)
    assert messages(rec) == [1, 2, 3, 4, 5, 6]
    assert len(platform.warnings) == 1 and "delivered before" in platform.warnings[0]


def test_P3_a_message_whose_onmessage_threw_counts_as_delivered(push, platform):
    def boom(*args):
        raise RuntimeError("page bug")

    push.init("c", URL, CHANNEL, onmessage=boom, autoconnect=True)
    socket = platform.last_socket
    socket.server_accepts()
    positioned(socket, "x")
    assert reconnect(platform, socket).url.endswith("&pypush-resume=Ep0ch-_1:1")


def test_P1_a_message_without_a_position_is_delivered_and_the_position_stays(
    platform, connected, rec
):
    positioned(connected, "a")
    connected.server_sends("raw frame")  # a frame pypush's server sent as it was
    assert messages(rec) == ["a", "raw frame"]
    assert reconnect(platform, connected).url.endswith("&pypush-resume=Ep0ch-_1:1")


def test_P1_offsets_beyond_32_bits_work(platform, connected, rec):
    positioned(connected, "big", first=2**40)
    # The glue hands MicroPython such an offset as its digits, with its epoch.
    connected.server_sends("bigger", offset=str(2**40 + 1), epoch="Ep0ch-_1")
    connected.server_sends("again", offset=str(2**40 + 1), epoch="Ep0ch-_1")  # a repeat
    assert messages(rec) == ["big", "bigger"]
    assert reconnect(platform, connected).url.endswith(":%d" % (2**40 + 1))


# -- P4: gaps ---------------------------------------------------------------------------------


def test_P4_messages_the_server_no_longer_holds_are_a_gap_the_page_learns_of(
    platform, connected, rec
):
    positioned(connected, "a")
    again = reconnect(platform, connected)
    again.server_controls(pypush="resume", id="Ep0ch-_1:7", missed=6, reason="trimmed")
    positioned(again, "h", "i", first=8)
    assert rec.named("gap") == [("gap", 6, "trimmed")]
    assert messages(rec) == ["a", "h", "i"]
    [notice] = platform.notices
    assert notice == (
        "faces.push: clientId 'c1' on channel 'news': 6 messages pushed while it was away "
        "could not be recovered (trimmed); it goes on with live messages"
    )
    assert reconnect(platform, again).url.endswith("&pypush-resume=Ep0ch-_1:9")


@pytest.mark.parametrize("reason", ["unknown-position", "malformed-position"])
def test_P4_a_position_the_server_cannot_place_is_a_gap_of_unknown_size(
    platform, connected, rec, reason
):
    positioned(connected, "a")
    again = reconnect(platform, connected)
    again.server_controls(pypush="resume", id="NewEpoch:40", missed=None, reason=reason)
    positioned(again, "live", epoch="NewEpoch", first=41)
    assert rec.named("gap") == [("gap", None, reason)]
    assert "messages pushed while it was away" in platform.notices[0]
    assert messages(rec) == ["a", "live"]
    assert reconnect(platform, again).url.endswith("&pypush-resume=NewEpoch:41")


def test_P4_a_resume_frame_without_a_position_forgets_the_old_one(platform, connected, rec):
    positioned(connected, "a")
    again = reconnect(platform, connected)
    again.server_controls(pypush="resume", id=None, missed=None, reason="unknown-position")
    assert rec.named("gap") == [("gap", None, "unknown-position")]
    assert reconnect(platform, again).url == WS_URL  # nothing left to resume from


def test_P4_an_ongap_that_throws_is_reported_and_stops_nothing(push, platform):
    got = []

    def ongap(missed, reason):
        raise RuntimeError("gap handler bug")

    push.init("c", URL, CHANNEL, onmessage=lambda m, c, e: got.append(m), ongap=ongap)
    push.open("c")
    socket = platform.last_socket
    socket.server_accepts()
    positioned(socket, 1)
    again = reconnect(platform, socket)
    again.server_controls(pypush="resume", id="Ep0ch-_1:5", missed=4, reason="trimmed")
    positioned(again, 6, first=6)
    assert got == [1, 6]
    assert any("ongap threw: gap handler bug" in message for message, _ in platform.errors)


def test_P5_a_stream_that_changes_under_an_open_socket_is_a_gap(platform, connected, rec):
    positioned(connected, "a", "b")
    positioned(connected, "c", epoch="Other", first=1)
    assert messages(rec) == ["a", "b", "c"]
    assert rec.named("gap") == [("gap", None, "stream-changed")]
    assert reconnect(platform, connected).url.endswith("&pypush-resume=Other:1")


# -- frames for pypush come only from a server that was asked -----------------------------------


def test_P2_a_control_frame_on_a_socket_that_did_not_ask_is_skipped_as_E6(platform, connected, rec):
    connected.server_controls(pypush="resume", id="E:1", missed=5, reason="trimmed")
    assert rec.named("gap") == [] and rec.named("message") == []
    assert platform.warnings == [
        "faces.push: skipped a frame for clientId 'c1' on channel 'news': "
        "a pypush control frame this client did not ask for"
    ]


def test_P2_a_control_frame_that_is_not_understood_is_skipped_as_E6(platform, connected, rec):
    positioned(connected, "a")
    again = reconnect(platform, connected)
    again.server_controls(pypush="what")
    again.events.control("not json", None)
    assert rec.named("gap") == [] and len(platform.warnings) == 2


# -- lifecycles ---------------------------------------------------------------------------------


def test_P2_close_then_open_starts_fresh_without_resuming(push, platform, connected, rec):
    """close() means close: what is pushed meanwhile is not the next lifecycle's (C3)."""
    positioned(connected, "a")
    push.close("c1")
    connected.closes(1000)
    push.open("c1")
    assert platform.last_socket.url == WS_URL


def test_P2_a_final_close_forgets_the_position(push, platform, connected, rec):
    positioned(connected, "a")
    connected.closes(1000, "Expired")  # E7: final
    push.open("c1")
    assert platform.last_socket.url == WS_URL


# -- the pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("E:1", ("E", 1)),
        ("Ab-_9:0", ("Ab-_9", 0)),
        ("a" * 64 + ":123456789012345", ("a" * 64, 123456789012345)),
        ("E:01", None),
        ("E:-1", None),
        ("E:1.5", None),
        (":1", None),
        ("E:", None),
        ("E", None),
        ("a b:1", None),
        ("a" * 65 + ":1", None),
        ("E:1234567890123456", None),
        (None, None),
        (5, None),
    ],
)
def test_parse_position(text, expected):
    assert parse_position(text) == expected


def test_resume_url_follows_the_channel_id():
    assert resume_url("ws://h/p/ch?id", "E", 5) == "ws://h/p/ch?id&pypush-resume=E:5"
    assert resume_url("ws://h/p/ch", "E", 5) == "ws://h/p/ch?pypush-resume=E:5"
    assert resume_url("ws://h/p/ch?id#x", "E", 5) == "ws://h/p/ch?id&pypush-resume=E:5#x"
