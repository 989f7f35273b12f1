"""Spec section 4: what happens on socket events (E1 to E10)."""

import pytest

from pypush.core import MAX_RECONNECT_ATTEMPTS, PushRegistry
from tests.unit.fakes import FakePlatform, Recorder

CHANNEL = "news"


def test_E1_onopen_on_the_first_connection_only(push, platform, connected, rec):
    connected.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.server_accepts()
    assert rec.named("open") == [("open", CHANNEL)]
    assert len(platform.sockets) == 2


def test_E2_onopen_and_onmessage_receive_the_channel_not_the_client_id(connected, rec):
    connected.server_sends({"a": 1}, "ev")
    assert rec.calls == [("open", CHANNEL), ("message", {"a": 1}, CHANNEL, "ev")]


@pytest.mark.parametrize("message", ["text", 42, 1.5, True, None, {"k": [1, 2]}, [1, "x"]])
def test_E3_onmessage_gets_the_message_value_channel_and_event(connected, rec, message):
    connected.server_sends(message, "ev")
    assert rec.named("message") == [("message", message, CHANNEL, "ev")]


def test_E3_behaviors_named_by_the_message_run_in_order_after_onmessage(push, platform, rec):
    order = []
    push.init(
        "c",
        "/p?x",
        CHANNEL,
        onmessage=lambda m, ch, ev: order.append(("onmessage", m)),
        behaviors={
            "refresh": [lambda: order.append("first"), lambda: order.append("second")],
            "other": [lambda: order.append("other")],
        },
        autoconnect=True,
    )
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends("refresh")
    platform.last_socket.server_sends({"refresh": 1})
    assert order == [("onmessage", "refresh"), "first", "second", ("onmessage", {"refresh": 1})]


@pytest.mark.parametrize(
    "name", ["constructor", "toString", "__proto__", "hasOwnProperty", "__class__", "get", "keys"]
)
def test_E4_prototype_like_names_call_nothing_unless_an_own_key(push, platform, name):
    called = []
    push.init(
        "c", "/p?x", CHANNEL, behaviors={"real": [lambda: called.append("real")]}, autoconnect=True
    )
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends(name)
    assert called == []
    push.init(
        "d", "/p?x", CHANNEL, behaviors={name: [lambda: called.append(name)]}, autoconnect=True
    )
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends(name)
    assert called == [name]


def test_E5_a_throwing_onmessage_or_behavior_stops_nothing_and_is_reported(push, platform):
    ran = []

    def boom(*args):
        raise RuntimeError("kaput")

    push.init(
        "c",
        "/p?x",
        CHANNEL,
        onmessage=boom,
        behaviors={"go": [boom, lambda: ran.append("after")]},
        autoconnect=True,
    )
    socket = platform.last_socket
    socket.server_accepts()
    socket.server_sends("go")
    socket.server_sends("go")
    assert ran == ["after", "after"]
    assert len(platform.errors) == 4
    message, cause = platform.errors[0]
    assert "'c'" in message and CHANNEL in message and "kaput" in message
    assert isinstance(cause, RuntimeError)
    assert not socket.close_called


@pytest.mark.parametrize("callback", ["onopen", "onerror", "onclose"])
def test_E5_throwing_lifecycle_callbacks_do_not_break_the_state_machine(callback):
    platform = FakePlatform()
    push = PushRegistry(platform)
    rec = Recorder()
    callbacks = rec.callbacks()

    def boom(*args):
        callbacks_record = getattr(rec, callback)
        callbacks_record(*args)
        raise RuntimeError("kaput")

    callbacks[callback] = boom
    push.init("c", "/p?x", CHANNEL, autoconnect=True, **callbacks)
    platform.last_socket.server_accepts()
    platform.last_socket.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.server_accepts()
    push.close("c")
    platform.last_socket.closes(1000)
    assert [c[0] for c in rec.calls] == ["open", "error", "close"]
    assert len(platform.errors) == 1


def test_E6_a_bad_frame_is_reported_and_skipped(connected, platform, rec):
    connected.bad_frame("Unexpected token")
    connected.server_sends("after")
    assert len(platform.warnings) == 1
    assert "'c1'" in platform.warnings[0] and CHANNEL in platform.warnings[0]
    assert "Unexpected token" in platform.warnings[0]
    assert rec.named("message") == [("message", "after", CHANNEL, "message-event")]
    assert not connected.close_called


# -- E7: the final closes ---------------------------------------------------------


@pytest.mark.parametrize("code, reason", [(1008, ""), (1008, "Unknown channel"), (1000, "Expired")])
def test_E7_policy_violation_and_expired_are_final(push, platform, connected, rec, code, reason):
    connected.closes(code, reason, "ev")
    assert rec.calls[-1] == ("close", code, CHANNEL, "ev")
    assert rec.named("error") == []
    platform.clock.advance(600_000)
    assert len(platform.sockets) == 1
    assert push.clients["c1"].state == "idle"


@pytest.mark.parametrize(
    "code, reason", [(1000, ""), (1000, "Bye"), (1001, "Expired"), (1006, ""), (1011, "")]
)
def test_E7_E8_other_codes_after_an_open_are_not_final(connected, rec, code, reason):
    connected.closes(code, reason, "ev")
    assert rec.named("close") == []
    assert rec.named("error") == [("error", code, CHANNEL, "ev")]


def test_E7_a_first_attempt_that_never_opened_is_final(push, platform, client, rec):
    push.open("c1")
    platform.last_socket.closes(1006, event="ev")
    assert rec.calls == [("close", 1006, CHANNEL, "ev")]
    platform.clock.advance(600_000)
    assert len(platform.sockets) == 1


def test_E7_never_opened_counts_per_lifecycle(push, platform, connected, rec):
    push.close("c1")
    connected.closes(1000)
    push.open("c1")
    platform.last_socket.closes(1006)  # the new lifecycle never opened: final
    assert [c[0] for c in rec.calls] == ["open", "close", "close"]
    assert len(platform.sockets) == 2


# -- E8: the reconnect schedule ---------------------------------------------------


def test_E8_whole_schedule_25_attempts_then_one_onclose(push, platform, connected, rec):
    connected.closes(1006)
    for attempt in range(1, MAX_RECONNECT_ATTEMPTS + 1):
        delay = 500 * (attempt - 1)
        if delay:
            platform.clock.advance(delay - 1)
            assert len(platform.sockets) == attempt, "attempt %d came early" % attempt
        platform.clock.advance(1)
        assert len(platform.sockets) == attempt + 1, "attempt %d did not come" % attempt
        platform.last_socket.closes(1006)
    assert platform.clock.delays() == [500 * n for n in range(25)]
    assert sum(platform.clock.delays()) == 150_000  # about three minutes
    assert len(rec.named("error")) == 25
    assert rec.named("close") == [("close", 1006, CHANNEL, ("close-event", 1006))]
    platform.clock.advance(3_600_000)
    assert len(platform.sockets) == 26  # the first socket and 25 attempts, no more
    assert platform.clock.pending == 0


def test_E8_last_attempt_may_still_succeed(push, platform, connected, rec):
    connected.closes(1006)
    for _ in range(24):
        platform.clock.advance(15_000)
        platform.last_socket.closes(1006)
    platform.clock.advance(15_000)
    platform.last_socket.server_accepts()
    assert rec.named("close") == []
    assert [c[0] for c in rec.calls].count("open") == 1


def test_E8_reconnect_then_messages_flow_on_the_new_socket(push, platform, connected, rec):
    connected.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.server_accepts()
    platform.last_socket.server_sends("again")
    assert rec.named("message") == [("message", "again", CHANNEL, "message-event")]


def test_E8_a_reconnect_the_page_cannot_schedule_ends_with_one_onclose_and_says_why(
    push, platform, connected, rec
):
    platform.timer_error = RuntimeError("setTimeout is not a function")
    connected.closes(1011, "restarting")
    # No timer means no reconnect: not "waiting" for ever, but ended, and said.
    assert [c[0] for c in rec.calls] == ["open", "close"]
    assert rec.named("close") == [("close", 1011, CHANNEL, ("close-event", 1011))]
    assert push.clients["c1"].state == "idle"
    [(message, cause)] = platform.errors
    assert "'c1'" in message and CHANNEL in message
    assert "setTimeout is not a function" in message and cause is platform.timer_error
    platform.timer_error = None
    push.open("c1")  # C3: a later open() starts afresh
    assert len(platform.sockets) == 2


def test_E9_without_a_stability_timer_the_connection_stays_open_and_it_is_said(
    push, platform, client, rec
):
    push.open("c1")
    platform.timer_error = RuntimeError("no timers")
    platform.last_socket.server_accepts()
    assert rec.named("open") == [("open", CHANNEL)]
    assert push.clients["c1"].state == "open"
    assert len(platform.errors) == 1 and "no timers" in platform.errors[0][0]


# -- E9: stability ---------------------------------------------------------------


def test_E9_a_connection_open_500ms_resets_the_count(push, platform, connected, rec):
    connected.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.closes(1006)  # next waits 500
    platform.clock.advance(500)
    platform.last_socket.server_accepts()
    platform.clock.advance(500)  # stable now
    platform.last_socket.closes(1006)
    assert platform.clock.delays() == [0, 500, 0]


def test_E9_a_connection_dropped_before_500ms_does_not_reset_the_count(push, platform, connected):
    connected.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.server_accepts()
    platform.clock.advance(499)
    platform.last_socket.closes(1006)
    assert platform.clock.delays() == [0, 500]
    assert platform.clock.delays("on_stable") == [500, 500]


def test_E9_accept_and_drop_storm_ends_at_the_limit_never_a_0ms_loop(push, platform, rec):
    push.init("c", "/p?x", CHANNEL, autoconnect=True, **rec.callbacks())
    while platform.clock.pending or platform.last_socket.ready_state == 0:
        socket = platform.last_socket
        socket.server_accepts()
        socket.closes(1006)
        platform.clock.advance(60_000)
        if len(platform.sockets) > 100:
            pytest.fail("reconnect storm")
    assert len(platform.sockets) == 26
    assert platform.clock.delays() == [500 * n for n in range(25)]  # one 0 ms retry, no loop
    assert len(rec.named("error")) == 25
    assert len(rec.named("close")) == 1
    assert len(rec.named("open")) == 1


# -- E10: stale sockets -----------------------------------------------------------


def test_E10_old_socket_events_after_close_then_open_touch_nothing_new(
    push, platform, connected, rec
):
    push.close("c1")
    push.open("c1")
    new = platform.last_socket
    new.server_accepts()
    connected.server_sends("late message")
    connected.closes(1006, event="old-close")  # arrives late
    platform.clock.advance(600_000)
    assert rec.named("error") == []
    assert rec.named("message") == []
    assert rec.named("close") == [("close", 1006, CHANNEL, "old-close")]  # ends the OLD lifecycle
    assert len(platform.sockets) == 2
    assert push.clients["c1"].state == "open"
    push.close("c1")
    new.closes(1000, event="new-close")
    assert rec.named("close")[-1] == ("close", 1000, CHANNEL, "new-close")
    assert len(rec.named("close")) == 2
    assert [c[0] for c in rec.calls].count("open") == 2


def test_E10_a_stale_open_event_is_ignored(push, platform, client, rec):
    push.open("c1")
    old = platform.last_socket
    push.close("c1")
    push.open("c1")
    old.server_accepts()  # the old socket opens after all
    assert rec.named("open") == []
    platform.last_socket.server_accepts()
    assert rec.named("open") == [("open", CHANNEL)]


def test_E10_messages_after_close_are_not_delivered(push, connected, rec):
    push.close("c1")
    connected.server_sends("after close")
    assert rec.named("message") == []
