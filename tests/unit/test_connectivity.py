"""Spec section 4b: connectivity in the core (N1 to N5), on the fake clock.

The host reports what the browser says (``offline``/``online`` events, the page shown
again); the fake socket stands for pypush's server (a ``resume`` frame that announces
heartbeats, then heartbeat frames) or for a Faces server (no announcement, ever).
"""

import pytest

from pypush.core import (
    HELLO_FRAME,
    MAX_RECONNECT_ATTEMPTS,
    PushRegistry,
    heartbeat_deadline_ms,
)
from tests.unit.conftest import CHANNEL, URL
from tests.unit.fakes import FakePlatform, Recorder

FIVE_MINUTES = 5 * 60 * 1000
HEARTBEAT = 25_000
DEADLINE = heartbeat_deadline_ms(HEARTBEAT)


def offline(push, platform):
    """What the browser does: navigator.onLine turns false, then ``offline`` fires."""
    platform.online = False
    push.network_changed(False)


def online(push, platform):
    platform.online = True
    push.network_changed(True)


def lifecycle(client):
    return client.lifecycle


def drop_and_fail(platform, socket, times):
    """Close ``socket``, then let ``times`` reconnect attempts fail (each after its E8 delay)."""
    socket.closes(1006)
    for _ in range(times):
        platform.clock.advance(12_000)
        platform.last_socket.closes(1006)


NONE = object()


def negotiated(platform, connected, heartbeat=HEARTBEAT):
    """A socket of pypush's server that resumed (P2) and was told of heartbeats (N4)."""
    connected.server_sends("first", offset=1, epoch="Ep0ch")
    connected.closes(1006)
    platform.clock.advance(0)
    socket = platform.last_socket
    socket.server_accepts()
    fields = {"pypush": "resume", "id": "Ep0ch:1", "missed": 0}
    if heartbeat is not NONE:
        fields["heartbeat"] = heartbeat
    socket.server_controls(**fields)
    platform.clock.advance(600)  # E9: stable
    return socket


# -- N1: offline, no attempt and none counted ---------------------------------------------------


def test_N1_a_close_while_offline_makes_no_attempt_for_five_minutes_and_one_onerror(
    push, platform, connected, rec, client
):
    platform.clock.advance(600)
    offline(push, platform)
    connected.closes(1006)
    platform.clock.advance(FIVE_MINUTES)
    assert platform.sockets == [connected], "an attempt was made offline"
    assert platform.clock.pending == 0, "a timer runs behind an offline client"
    assert client.state == "offline"
    assert [c[:2] for c in rec.calls] == [("open", CHANNEL), ("error", 1006)]
    assert lifecycle(client).attempts == 0


def test_N1_going_offline_cancels_a_waiting_reconnect_and_uncounts_it(
    push, platform, connected, client
):
    drop_and_fail(platform, connected, 3)  # attempt 4 is scheduled, 1500 ms away
    assert client.state == "waiting" and lifecycle(client).attempts == 4
    offline(push, platform)
    assert client.state == "offline" and platform.clock.pending == 0
    assert lifecycle(client).attempts == 3
    sockets = len(platform.sockets)
    platform.clock.advance(FIVE_MINUTES)
    assert len(platform.sockets) == sockets


def test_N1_offline_never_burns_the_25_attempts(push, platform, connected, rec, client):
    """Mojarra's client ends for good after 25 attempts against a network that is not there."""
    offline(push, platform)
    connected.closes(1006)
    for _ in range(100):
        platform.clock.advance(FIVE_MINUTES)
        offline(push, platform)
    assert rec.named("close") == [] and client.state == "offline"
    online(push, platform)
    platform.last_socket.server_accepts()
    assert client.state == "open"


def test_N1_final_closes_stay_final_offline(push, platform, connected, rec, client):
    offline(push, platform)
    connected.closes(1008, "Unknown channel")
    assert [c[:2] for c in rec.named("close")] == [("close", 1008)]
    assert client.state == "idle"


def test_N1_a_first_attempt_that_fails_offline_waits_for_the_network(rec):
    """E7 ends a client whose first attempt failed; offline, the page waits for the network."""
    platform = FakePlatform()
    platform.online = False
    push = PushRegistry(platform)
    push.init("c1", URL, CHANNEL, **rec.callbacks())
    push.open("c1")  # the first attempt is made: the browser may be wrong (loopback only)
    platform.last_socket.closes(1006)
    assert rec.named("close") == [] and push.clients["c1"].state == "offline"
    online(push, platform)
    platform.last_socket.server_accepts()
    assert [c[0] for c in rec.calls] == ["error", "open"]


def test_N1_a_socket_that_opens_proves_the_network_whatever_the_browser_said(rec):
    """A machine with only a loopback interface reports offline, yet reaches its server."""
    platform = FakePlatform()
    platform.online = False
    push = PushRegistry(platform)
    push.init("c1", URL, CHANNEL, **rec.callbacks())
    push.open("c1")
    platform.last_socket.server_accepts()
    platform.last_socket.closes(1006)
    assert push.clients["c1"].state == "waiting"
    platform.clock.advance(0)
    assert len(platform.sockets) == 2


def test_N1_C2_close_while_offline_ends_at_once_with_the_last_close(
    push, platform, connected, rec, client
):
    offline(push, platform)
    connected.closes(1006, event="the-close")
    push.close("c1")
    assert rec.calls[-1] == ("close", 1006, CHANNEL, "the-close")
    assert client.state == "idle" and platform.clock.pending == 0
    online(push, platform)
    assert len(platform.sockets) == 1


def test_N1_open_while_offline_waits_for_the_network(push, platform, connected, client):
    offline(push, platform)
    connected.closes(1006)
    push.open("c1")
    assert len(platform.sockets) == 1 and client.state == "offline"


# -- N2: online again, at once -------------------------------------------------------


def test_N2_online_reconnects_an_offline_client_at_once_with_its_count_intact(
    push, platform, connected, client, rec
):
    drop_and_fail(platform, connected, 2)  # attempt 3 scheduled, 1000 ms away
    offline(push, platform)
    assert lifecycle(client).attempts == 2
    platform.clock.advance(FIVE_MINUTES)
    online(push, platform)
    assert len(platform.sockets) == 4, "no attempt at once"
    assert lifecycle(client).attempts == 3
    # E8 goes on where it was: a failure now waits 1500 ms.
    platform.last_socket.closes(1006)
    assert platform.clock.delays()[-1] == 1500
    assert len(rec.named("error")) == 4


def test_N2_online_reconnects_a_waiting_client_without_waiting_for_its_timer(
    push, platform, connected, client
):
    drop_and_fail(platform, connected, 20)  # attempt 21 is 10 s away
    sockets = len(platform.sockets)
    online(push, platform)
    assert len(platform.sockets) == sockets + 1
    assert lifecycle(client).attempts == 21
    assert platform.clock.pending == 0, "the old timer would make a second attempt"


def test_N2_online_and_offline_leave_an_open_socket_without_heartbeats_alone(
    push, platform, connected, client, rec
):
    offline(push, platform)
    online(push, platform)
    platform.clock.advance(FIVE_MINUTES)
    assert platform.sockets == [connected] and not connected.close_called
    assert client.state == "open"


def test_N2_E8_schedule_unchanged_while_online(push, platform, connected, rec):
    """E8's whole schedule and its one onclose after a network blip while the socket was open."""
    offline(push, platform)
    online(push, platform)
    connected.closes(1006)
    for _ in range(MAX_RECONNECT_ATTEMPTS):
        platform.clock.advance(12_000)
        platform.last_socket.closes(1006)
    assert platform.clock.delays() == [500 * n for n in range(MAX_RECONNECT_ATTEMPTS)]
    assert len(rec.named("close")) == 1


# -- N3: back to the page -------------------------------------------------------


def test_N3_a_page_shown_again_reconnects_a_waiting_client_at_once(
    push, platform, connected, client
):
    drop_and_fail(platform, connected, 10)
    sockets = len(platform.sockets)
    push.page_shown()
    assert len(platform.sockets) == sockets + 1 and platform.clock.pending == 0


def test_N3_a_page_shown_while_the_browser_is_back_online_ends_the_offline_wait(
    push, platform, connected, client
):
    """An ``online`` event missed while the page slept: navigator.onLine says it."""
    offline(push, platform)
    connected.closes(1006)
    push.page_shown()  # still offline
    assert len(platform.sockets) == 1
    platform.online = True  # and no ``online`` event
    push.page_shown()
    assert len(platform.sockets) == 2 and client.state == "connecting"


def test_N3_an_open_socket_silent_past_its_heartbeats_is_replaced_when_the_page_is_shown(
    push, platform, connected, client, rec
):
    socket = negotiated(platform, connected)
    platform.clock.now += 60 * 60 * 1000  # the laptop slept for an hour: no timer ran
    push.page_shown()
    assert socket.close_called
    platform.clock.advance(0)  # E8: the first attempt after a stable connection, at once
    assert platform.last_socket is not socket
    assert "pypush-resume=Ep0ch:1" in platform.last_socket.url


def test_N3_a_healthy_socket_is_kept_when_the_page_is_shown(push, platform, connected, client):
    socket = negotiated(platform, connected)
    platform.clock.now += 10_000
    socket.server_controls(pypush="heartbeat")
    push.page_shown()
    online(push, platform)
    assert not socket.close_called and client.state == "open"


def test_N3_without_heartbeats_an_open_socket_is_never_judged(push, platform, connected, client):
    """A Faces server announces nothing: silence is not death (it may have nothing to say)."""
    socket = negotiated(platform, connected, heartbeat=NONE)
    platform.clock.now += 60 * 60 * 1000
    push.page_shown()
    platform.clock.advance(FIVE_MINUTES)
    assert not socket.close_called and client.state == "open"


# -- N4: sockets that died without a word ---------------------------------------------------------


def test_N4_deadline_is_the_interval_plus_half_of_it_at_least_a_second():
    assert heartbeat_deadline_ms(25_000) == 37_500
    assert heartbeat_deadline_ms(1_000) == 2_000
    assert heartbeat_deadline_ms(100) == 1_100


def test_N4_heartbeats_keep_a_socket_that_hears_nothing_else(push, platform, connected, client):
    socket = negotiated(platform, connected)
    for _ in range(20):
        platform.clock.advance(HEARTBEAT)
        socket.server_controls(pypush="heartbeat")
    assert not socket.close_called and platform.last_socket is socket


def test_N4_messages_count_as_heard(push, platform, connected, client, rec):
    socket = negotiated(platform, connected)
    for offset in range(2, 12):
        socket.server_sends("m", offset=offset)
        platform.clock.advance(DEADLINE - 1)
    assert not socket.close_called
    assert [call[1] for call in rec.named("message")] == ["first"] + ["m"] * 10


def test_N4_silence_past_the_deadline_replaces_the_socket_resuming(
    push, platform, connected, client, rec
):
    socket = negotiated(platform, connected)
    platform.clock.advance(10_000)
    socket.server_controls(pypush="heartbeat")  # the last word
    platform.clock.advance(DEADLINE - 1)
    assert not socket.close_called
    errors = len(rec.named("error"))
    platform.clock.advance(1)
    assert socket.close_called, "the dead socket is not closed"
    platform.clock.advance(0)
    again = platform.last_socket
    assert again is not socket and "pypush-resume=Ep0ch:1" in again.url
    assert rec.named("error")[errors:] == [("error", 1006, CHANNEL, None)]
    assert "nothing heard for 37500 ms" in platform.notices[-1]
    # Its close event, whenever the browser gets to it, belongs to no one (E10).
    socket.closes(1006)
    again.server_accepts()
    again.server_controls(pypush="resume", id="Ep0ch:1", missed=0, heartbeat=HEARTBEAT)
    again.server_sends("after", offset=2)
    assert rec.calls[-1][:2] == ("message", "after")
    assert client.state == "open" and len(rec.named("close")) == 0


def test_N4_a_dead_socket_found_offline_waits_for_the_network(push, platform, connected, client):
    socket = negotiated(platform, connected)
    offline(push, platform)
    platform.clock.advance(DEADLINE + 1)
    assert socket.close_called and client.state == "offline"
    assert platform.last_socket is socket
    online(push, platform)
    assert platform.last_socket is not socket


def test_N4_a_heartbeat_never_reaches_onmessage(push, platform, connected, rec):
    socket = negotiated(platform, connected)
    before = list(rec.calls)
    socket.server_controls(pypush="heartbeat")
    assert rec.calls == before and platform.warnings == []


def test_N4_without_an_announcement_nothing_changes(push, platform, connected, client):
    socket = negotiated(platform, connected, heartbeat=NONE)
    platform.clock.advance(FIVE_MINUTES)
    assert not socket.close_called and platform.clock.pending == 0


def test_N4_a_socket_that_neither_resumed_nor_said_hello_is_never_watched(
    push, platform, connected, client, rec
):
    """A Faces server's socket (P2): a heartbeat frame there is no push message (E6)."""
    connected.server_controls(pypush="heartbeat")
    assert "did not ask for" in platform.warnings[-1]
    platform.clock.advance(FIVE_MINUTES)
    assert not connected.close_called and rec.named("message") == []


@pytest.mark.parametrize("value", [0, -1, True, "25000", 1.5, None, 10**12])
def test_N4_an_interval_that_is_not_one_is_no_announcement(push, platform, connected, value):
    socket = negotiated(platform, connected, heartbeat=value)
    assert "heartbeat interval" in platform.warnings[-1]
    platform.clock.advance(FIVE_MINUTES)
    assert not socket.close_called


def test_N4_each_socket_is_watched_by_its_own_announcement(push, platform, connected, client):
    """A reconnect whose server no longer announces heartbeats is not judged by the old ones."""
    socket = negotiated(platform, connected)
    socket.closes(1006)
    platform.clock.advance(0)
    again = platform.last_socket
    again.server_accepts()
    again.server_controls(pypush="resume", id="Ep0ch:1", missed=0)
    platform.clock.advance(FIVE_MINUTES)
    assert not again.close_called and client.state == "open"


def test_N4_C1_close_stops_the_watchdog(push, platform, connected, client, rec):
    socket = negotiated(platform, connected)
    push.close("c1")
    socket.closes(1000)
    assert platform.clock.pending == 0 and client.state == "idle"


def test_N4_a_page_whose_setTimeout_throws_is_told_and_keeps_its_socket(
    push, platform, connected, client
):
    connected.server_sends("first", offset=1, epoch="Ep0ch")
    connected.closes(1006)
    platform.clock.advance(0)
    socket = platform.last_socket
    socket.server_accepts()
    platform.timer_error = RuntimeError("no timers")
    socket.server_controls(pypush="resume", id="Ep0ch:1", missed=0, heartbeat=HEARTBEAT)
    assert "cannot watch the server's heartbeats" in platform.errors[-1][0]
    assert client.state == "open"


def test_N1_N2_many_clients_follow_the_network_together(platform):
    push = PushRegistry(platform)
    recs = [Recorder() for _ in range(3)]
    for n, rec in enumerate(recs):
        push.init("c%d" % n, URL, CHANNEL, autoconnect=True, **rec.callbacks())
        platform.last_socket.server_accepts()
    platform.clock.advance(600)
    offline(push, platform)
    for socket in list(platform.sockets):
        socket.closes(1006)
    platform.clock.advance(FIVE_MINUTES)
    assert len(platform.sockets) == 3
    online(push, platform)
    assert len(platform.sockets) == 6


def test_N2_an_open_socket_silent_past_its_deadline_is_replaced_at_online(
    push, platform, connected, client
):
    """Wi-Fi to mobile data: the old socket may be dead, and says nothing."""
    socket = negotiated(platform, connected)
    platform.clock.now += DEADLINE  # the timers were late (a phone asleep)
    online(push, platform)
    assert socket.close_called
    platform.clock.advance(0)
    assert platform.last_socket is not socket


def test_N5_a_message_asks_the_host_for_nothing(push, platform, connected, rec):
    """The glue keeps the time of the last frame; the core reads it only when it checks."""
    socket = negotiated(platform, connected)
    asked = []
    measure = socket.silence_ms
    socket.silence_ms = lambda: asked.append(1) or measure()
    for offset in range(2, 1002):
        socket.server_sends(offset, offset=offset)
    assert asked == [] and len(rec.named("message")) == 1001
    platform.clock.advance(DEADLINE - 600)  # the watchdog, armed at the resume frame
    assert len(asked) == 1  # its one check


# -- N4 on a lifecycle's first socket: the hello (H8) ---------------------------------------


def test_N4_a_first_socket_says_hello_once_after_its_first_positioned_message(
    push, platform, connected, client, rec
):
    """It cannot resume yet, so it tells its server (pypush's: it sent positions) it is
    pypush's; the answer announces the heartbeats, and the socket is watched from then on."""
    for offset in (1, 2, 3):
        connected.server_sends("m", offset=offset, epoch="Ep0ch" if offset == 1 else None)
    assert connected.sent == [HELLO_FRAME]
    connected.server_controls(pypush="hello", heartbeat=HEARTBEAT)
    connected.server_controls(pypush="heartbeat")
    platform.clock.advance(DEADLINE - 1)
    assert not connected.close_called
    platform.clock.advance(1)
    assert connected.close_called
    platform.clock.advance(0)
    assert "pypush-resume=Ep0ch:3" in platform.last_socket.url
    assert len(rec.named("message")) == 3  # neither the hello nor a heartbeat is a message


def test_N4_a_faces_server_is_never_sent_anything(push, platform, connected, client):
    """No position, no hello: the client sends nothing, as Mojarra's, through reconnects."""
    connected.server_sends("plain")
    connected.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends("again")
    assert all(socket.sent == [] for socket in platform.sockets)


def test_N4_a_resumed_socket_says_no_hello(push, platform, connected, client):
    socket = negotiated(platform, connected)
    socket.server_sends("m", offset=2, epoch="Ep0ch")
    assert socket.sent == []


def test_N4_a_hello_answer_without_heartbeats_watches_nothing(push, platform, connected, client):
    connected.server_sends("m", offset=1, epoch="Ep0ch")
    connected.server_controls(pypush="hello")
    platform.clock.advance(FIVE_MINUTES)
    assert not connected.close_called and platform.warnings == []


def test_N4_P2_a_hello_answer_nobody_asked_for_is_skipped(push, platform, connected, client):
    connected.server_controls(pypush="hello", heartbeat=1000)
    connected.server_controls(pypush="heartbeat")
    assert len(platform.warnings) == 2 and "did not ask for" in platform.warnings[0]
    platform.clock.advance(FIVE_MINUTES)
    assert not connected.close_called


def test_N4_a_socket_that_cannot_say_hello_is_reported_and_goes_on(
    push, platform, connected, client, rec
):
    connected.send_error = RuntimeError("send threw")
    connected.server_sends("m", offset=1, epoch="Ep0ch")
    assert "cannot say hello" in platform.errors[-1][0]
    assert rec.named("message") and client.state == "open"
