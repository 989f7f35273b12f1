"""Heartbeats in the hub core (spec H7): fake sinks, a fake clock, no event loop.

Only a socket that asked to resume (its client is pypush's, H2) is told of heartbeats, in
its ``resume`` frame, and sent them; a socket of a client written like Mojarra's never
sees a frame without ``data``.
"""

import json

import pytest

from pypush_server.hub import DEFAULT_HEARTBEAT_SECONDS, Hub
from tests.hub.test_hub import Clock, FakeSink, run


def frames(sink: FakeSink) -> list[dict]:
    return [json.loads(text) for text in sink.written]


def heartbeats(sink: FakeSink) -> int:
    return sum(1 for frame in frames(sink) if frame == {"pypush": "heartbeat"})


@pytest.fixture
def clock() -> Clock:
    return Clock()


def setup(clock: Clock, **options):
    """A hub, a channelId with one message, a Mojarra-style socket and a resumed one."""
    hub = Hub(clock=clock, **options)
    channel_id = run(hub.register("news"))
    plain = FakeSink()
    hub.connect("news", channel_id, plain)
    run(hub.send("news", "first"))
    position = frames(plain)[0]["id"]
    resumed = FakeSink()
    connection = hub.connect("news", channel_id, resumed, resume=position)
    run(hub.resume(connection))
    return hub, plain, resumed


def test_H7_the_resume_frame_announces_the_interval_in_milliseconds(clock):
    _hub, _plain, resumed = setup(clock, heartbeat_seconds=1.5)
    assert frames(resumed)[0]["heartbeat"] == 1500
    _hub, _plain, resumed = setup(clock)
    assert frames(resumed)[0]["heartbeat"] == DEFAULT_HEARTBEAT_SECONDS * 1000 == 25_000


def test_H7_a_resumed_socket_gets_a_heartbeat_every_interval_a_mojarra_style_one_never(clock):
    hub, plain, resumed = setup(clock, heartbeat_seconds=10)
    for _ in range(100):  # a tick a second for 100 s
        clock.now += 1
        hub.tick()
    assert heartbeats(resumed) == 10
    assert all("data" in frame for frame in frames(plain)), "a Mojarra-style client got a frame"
    assert heartbeats(plain) == 0


def test_H7_heartbeats_are_not_counted_as_messages_sent(clock):
    hub, _plain, resumed = setup(clock, heartbeat_seconds=1)
    sent = dict(hub.sent)
    for _ in range(5):
        clock.now += 1
        hub.tick()
    assert heartbeats(resumed) == 5 and hub.sent == sent


def test_H7_without_heartbeats_nothing_is_announced_or_sent(clock):
    hub, _plain, resumed = setup(clock, heartbeat_seconds=None)
    assert "heartbeat" not in frames(resumed)[0]
    for _ in range(100):
        clock.now += 1
        hub.tick()
    assert heartbeats(resumed) == 0


def test_H7_a_closed_or_still_resuming_socket_is_sent_none(clock):
    hub, _plain, resumed = setup(clock, heartbeat_seconds=1)
    channel_id = next(iter(hub.sent))
    waiting = FakeSink()
    hub.connect("news", channel_id, waiting, resume="nonsense")  # its replay not out yet
    gone = hub.sockets("news")[1]
    hub.disconnect(gone)
    clock.now += 1
    hub.tick()
    assert waiting.written == [] and heartbeats(resumed) == 0


def test_H7_the_tick_comes_often_enough_for_short_intervals():
    assert Hub(heartbeat_seconds=25).tick_seconds == 1.0
    assert Hub(heartbeat_seconds=0.4).tick_seconds == pytest.approx(0.1)
    assert Hub(heartbeat_seconds=None).tick_seconds == 1.0
    with pytest.raises(ValueError):
        Hub(heartbeat_seconds=0)


# -- H8: a first socket's hello --------------------------------------------------------------


def test_H8_a_hello_makes_a_socket_negotiated_answered_with_the_interval_then_heartbeats(clock):
    hub, plain, _resumed = setup(clock, heartbeat_seconds=1)
    connection = hub.sockets("news")[0]
    hub.client_frame(connection, '{"pypush":"hello"}')
    assert frames(plain)[-1] == {"pypush": "hello", "heartbeat": 1000}
    clock.now += 1
    hub.tick()
    assert heartbeats(plain) == 1
    hub.client_frame(connection, '{"pypush":"hello"}')  # once is enough: no second answer
    assert [f for f in frames(plain) if f.get("pypush") == "hello"] == [
        {"pypush": "hello", "heartbeat": 1000}
    ]


def test_H8_without_heartbeats_the_answer_announces_none(clock):
    hub, plain, _resumed = setup(clock, heartbeat_seconds=None)
    hub.client_frame(hub.sockets("news")[0], '{"pypush":"hello"}')
    assert frames(plain)[-1] == {"pypush": "hello"}


@pytest.mark.parametrize(
    "text",
    ['{"pypush":"hello","x":1}', '{"pypush":"Hello"}', "hello", "[]", "", '{"pypush":"hello"}' * 5],
)
def test_H8_any_other_client_frame_is_ignored_as_a_faces_server_does(clock, text):
    hub, plain, _resumed = setup(clock, heartbeat_seconds=1)
    before = list(plain.written)
    hub.client_frame(hub.sockets("news")[0], text)
    clock.now += 1
    hub.tick()
    assert plain.written == before
