"""Spec section 5: close()."""


def test_C1_close_gives_one_onclose_with_the_events_code_and_no_reconnect(
    push, platform, connected, rec
):
    push.close("c1")
    assert connected.close_called
    assert rec.named("close") == []  # onclose waits for the close event
    connected.closes(1005, event="the-event")
    assert rec.named("close") == [("close", 1005, "news", "the-event")]
    assert rec.named("error") == []
    platform.clock.advance(600_000)
    assert len(platform.sockets) == 1


def test_C1_close_while_connecting_also_ends_with_one_onclose(push, platform, client, rec):
    push.open("c1")
    push.close("c1")
    platform.last_socket.closes(1006)
    assert rec.calls == [("close", 1006, "news", ("close-event", 1006))]
    assert len(platform.sockets) == 1


def test_C2_close_during_a_pending_retry_cancels_it(push, platform, connected, rec):
    connected.closes(1006, event="drop")
    assert rec.named("error") == [("error", 1006, "news", "drop")]
    push.close("c1")
    assert rec.named("close") == [("close", 1006, "news", "drop")]
    assert platform.clock.pending == 0
    platform.clock.advance(600_000)
    assert len(platform.sockets) == 1
    assert len(rec.named("close")) == 1


def test_C2_close_from_inside_onerror_cancels_the_retry(push, platform, rec):
    push.init(
        "c", "/p?x", "ch", onerror=lambda *a: push.close("c"), onclose=rec.onclose, autoconnect=True
    )
    platform.last_socket.server_accepts()
    platform.last_socket.closes(1011)
    platform.clock.advance(600_000)
    assert len(platform.sockets) == 1
    assert rec.named("close") == [("close", 1011, "ch", ("close-event", 1011))]


def test_C3_close_of_an_idle_client_does_nothing(push, platform, client, rec):
    push.close("c1")
    push.close("c1")
    assert rec.calls == []
    assert platform.sockets == []


def test_C3_open_after_close_starts_a_fresh_lifecycle_with_onopen(push, platform, connected, rec):
    push.close("c1")
    connected.closes(1000)
    push.open("c1")
    platform.last_socket.server_accepts()
    assert rec.named("open") == [("open", "news"), ("open", "news")]


def test_close_twice_while_closing_gives_one_onclose(push, platform, connected, rec):
    push.close("c1")
    push.close("c1")
    connected.closes(1000)
    assert len(rec.named("close")) == 1
