"""The hub core without I/O: fake sockets (sinks) and a fake clock, no event loop of its own.

Like tests/unit for pypush/core.py: each test feeds the hub calls and checks what it did to
its sockets. Spec section 7 for the wire; the bounded send queues keep a slow client from
holding up anyone.
"""

import asyncio
import concurrent.futures
import json
import logging
import re

import pytest
from websockets.frames import Frame as WebsocketsFrame
from websockets.frames import Opcode

from pypush_server.brokers import IDEMPOTENCY_SECONDS, BrokerUnavailable
from pypush_server.brokers.memory import MemoryBroker
from pypush_server.hub import (
    CLOSE_FELL_BEHIND,
    CLOSE_NO_HISTORY,
    CLOSE_TOO_MANY,
    SEND_PART_BYTES,
    SEND_PART_MESSAGES,
    Frame,
    Hub,
    Sink,
)


class FakeSink(Sink):
    """A socket whose transport takes frames at once (or never, when ``stalled``)."""

    def __init__(self, stalled: bool = False) -> None:
        self.stalled = stalled
        self.written: list[str] = []
        self.wakes = 0
        self.closed: tuple[int, str] | None = None
        self.aborted = False

    def write(self, frame: Frame) -> bool:
        if self.stalled:
            return False
        self.written.append(frame.text)
        return True

    def wake(self) -> None:
        self.wakes += 1

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def abort(self) -> None:
        self.aborted = True


POSITION = re.compile(r',"id":"[A-Za-z0-9_-]{8}:[0-9]+"}$')


def without_ids(frames: list[str]) -> list[str]:
    """Frames as Mojarra's server writes them: each message's position (H1) taken out."""
    return [POSITION.sub("}", frame) for frame in frames]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coroutine):
    """In a thread of its own: after browser tests, Playwright's sync API owns this one's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(clock) -> Hub:
    return Hub(max_queue_bytes=1000, max_queue_seconds=10.0, clock=clock)


def connect(hub: Hub, channel: str, channel_id: str, stalled: bool = False):
    sink = FakeSink(stalled)
    return hub.connect(channel, channel_id, sink), sink


def test_a_push_reaches_every_socket_of_the_channel_as_data_json(hub):
    news = run(hub.register("news"))
    other = run(hub.register("news"))
    (_, first), (_, second) = connect(hub, "news", news), connect(hub, "news", other)
    assert run(hub.send("news", {"n": 1})) == 2
    assert without_ids(first.written) == without_ids(second.written) == ['{"data":{"n":1}}']


def test_a_push_to_one_channel_id_reaches_its_sockets_only(hub):
    news, other = run(hub.register("news")), run(hub.register("news"))
    (_, first), (_, second) = connect(hub, "news", news), connect(hub, "news", other)
    assert run(hub.send("news", "x", channel_id=other)) == 1
    assert (first.written, without_ids(second.written)) == ([], ['{"data":"x"}'])
    assert run(hub.send("news", "x", channel_id="unknown")) == 0
    assert run(hub.send("sports", "x", channel_id=other)) == 0  # not sports' channelId


def test_a_push_touches_only_the_sockets_it_is_for(hub):
    """Per-push work is the target's sockets, whatever else the hub knows."""
    others = []
    for n in range(2000):
        channel_id = run(hub.register("c%d" % n))
        others.append(connect(hub, "c%d" % n, channel_id)[1])
    target = run(hub.register("target"))
    _, sink = connect(hub, "target", target)
    assert run(hub.send("target", 1)) == 1
    assert without_ids(sink.written) == ['{"data":1}'] and not any(s.written for s in others)


def test_registration_follows_the_faces_rule_and_ids_are_fresh(hub):
    ids = [run(hub.register("ok-name_1.2")) for _ in range(50)]
    assert len(set(ids)) == 50 and all(len(i) == 32 for i in ids)
    for name in ["", "a b", "news\n", "ü", None]:
        with pytest.raises(ValueError, match="invalid channel name"):
            run(hub.register(name))
    assert run(hub.channel_ids("ok-name_1.2")) == list(ids)  # in the order registered


def test_a_frame_is_encoded_and_framed_once_for_every_socket(hub):
    channel_id = run(hub.register("news"))
    sinks = [connect(hub, "news", channel_id)[1] for _ in range(3)]
    frames: list[Frame] = []
    for sink in sinks:
        sink.write = lambda frame, sink=sink: frames.append(frame) or True
    run(hub.send("news", "shared"))
    assert len(frames) == 3 and frames[0] is frames[1] is frames[2]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
@pytest.mark.parametrize("binary", [False, True])
def test_the_wire_form_is_rfc_6455s_unmasked_frame(size, binary):
    """Checked against websockets' own sans-I/O framing."""
    data = b"a" * size
    frame = Frame(data, binary=binary)
    expected = WebsocketsFrame(Opcode.BINARY if binary else Opcode.TEXT, data).serialize(mask=False)
    assert frame.wire == expected and frame.header + frame.data == expected


def test_a_socket_that_cannot_take_a_frame_queues_it_and_is_woken_once(hub):
    channel_id = run(hub.register("news"))
    connection, sink = connect(hub, "news", channel_id, stalled=True)
    assert run(hub.send_frames("news", ["a", "b", "c"])) == 3
    assert sink.wakes == 1 and connection.queued == 3
    assert hub.sent[channel_id] == 0  # nothing written yet
    assert [connection.next_frame().text for _ in range(3)] == ["a", "b", "c"]
    assert connection.next_frame() is None and connection.queued == 0
    assert hub.sent[channel_id] == 3


def test_a_queue_with_frames_keeps_their_order_even_when_the_transport_frees_up(hub):
    channel_id = run(hub.register("news"))
    connection, sink = connect(hub, "news", channel_id, stalled=True)
    run(hub.send("news", 1))
    sink.stalled = False
    run(hub.send("news", 2))  # must wait behind 1, not overtake it
    assert sink.written == [] and without_ids([f.text for f, _ in connection.queue]) == [
        '{"data":1}',
        '{"data":2}',
    ]


def test_a_socket_over_its_byte_bound_is_closed_with_1013_and_logged(hub, caplog):
    channel_id = run(hub.register("news"))
    slow, slow_sink = connect(hub, "news", channel_id, stalled=True)
    _, healthy = connect(hub, "news", channel_id)
    message = "x" * 300  # 329 bytes a frame with its id: the fourth is over the 1000-byte bound
    with caplog.at_level(logging.WARNING, logger="pypush.server"):
        counts = [run(hub.send("news", message)) for _ in range(5)]
    assert counts == [2, 2, 2, 1, 1]  # from the fourth on, only the healthy socket
    assert (
        slow_sink.closed == CLOSE_FELL_BEHIND == (1013, "Try Again Later: this socket fell behind")
    )
    assert slow.queued == 0 and not slow.queue  # its frames are let go at once
    assert len(healthy.written) == 5
    assert hub.sockets("news") == [hub.socket(2)] and hub.stats["fell_behind"] == 1
    assert "closing socket 1 on news with 1013: 987 bytes waited" in caplog.text


def test_an_empty_queue_takes_a_frame_larger_than_the_bound(hub):
    channel_id = run(hub.register("news"))
    connection, sink = connect(hub, "news", channel_id, stalled=True)
    assert run(hub.send("news", "y" * 5000)) == 1
    assert sink.closed is None and connection.queued == 5029
    assert run(hub.send("news", "z")) == 0 and sink.closed == CLOSE_FELL_BEHIND


def test_a_socket_whose_oldest_frame_waited_too_long_is_closed_by_tick(hub, clock):
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id, stalled=True)
    run(hub.send("news", "old"))
    clock.now += 10.0
    hub.tick()
    assert sink.closed is None  # 10 s is the bound, not over it
    clock.now += 0.5
    hub.tick()
    assert sink.closed == CLOSE_FELL_BEHIND and hub.sockets() == []


def test_a_push_finds_a_socket_whose_oldest_frame_waited_too_long(hub, clock):
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id, stalled=True)
    run(hub.send("news", "old"))
    clock.now += 11
    assert run(hub.send("news", "new")) == 0 and sink.closed == CLOSE_FELL_BEHIND


def test_expiring_closes_1000_expired_and_forgets_everything_of_the_channel_id(hub):
    channel_id, kept = run(hub.register("news")), run(hub.register("news"))
    (_, sink), (_, other) = connect(hub, "news", channel_id), connect(hub, "news", kept)
    run(hub.send("news", 1))
    assert run(hub.expire(channel_id)) == 1
    assert sink.closed == (1000, "Expired") and other.closed is None
    assert channel_id not in hub.sent and hub.sent == {kept: 1}
    assert not run(hub.accepts("news", channel_id)) and run(hub.accepts("news", kept))
    assert run(hub.channel_ids("news")) == [kept]
    assert run(hub.expire(channel_id)) is None  # gone for good


def test_the_cap_counts_one_channel_ids_sockets_never_the_channels(clock):
    """A channelId at its cap refuses its next socket; the channel's other channelIds (other
    pages) still open theirs, and a closed socket frees its channelId's slot."""
    hub = Hub(max_sockets_per_channel_id=2, clock=clock)
    full, other = run(hub.register("news")), run(hub.register("news"))
    kept = [connect(hub, "news", full)[0] for _ in range(2)]
    assert all(kept) and connect(hub, "news", full)[0] is None
    assert connect(hub, "news", other)[0] and connect(hub, "news", other)[0]
    assert run(hub.socket_count("news")) == 4
    hub.disconnect(kept[0])
    assert connect(hub, "news", full)[0] is not None


def test_a_socket_over_the_cap_is_refused_with_a_code_clients_retry():
    """E7: 1008 would end a Faces client for good; 1013 is retried (E8), as H5's is."""
    assert CLOSE_TOO_MANY[0] == 1013 == CLOSE_FELL_BEHIND[0] == CLOSE_NO_HISTORY[0]
    assert CLOSE_TOO_MANY[1].startswith("Try Again Later")


def test_disconnect_forgets_the_socket_and_its_queue(hub):
    channel_id = run(hub.register("news"))
    connection, _ = connect(hub, "news", channel_id, stalled=True)
    run(hub.send("news", 1))
    hub.disconnect(connection)
    hub.disconnect(connection)  # idempotent
    assert not connection.open and connection.queued == 0
    assert hub.sockets() == [] and run(hub.socket_count("news")) == 0
    assert run(hub.send("news", 2)) == 0


def test_stop_closes_every_socket_with_1001(hub):
    channel_id = run(hub.register("news"))
    sinks = [connect(hub, "news", channel_id)[1] for _ in range(2)]
    run(hub.stop())
    assert [s.closed for s in sinks] == [(1001, "Server shutting down")] * 2


def test_what_json_cannot_carry_is_refused_before_any_socket_sees_it(hub):
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)
    with pytest.raises(ValueError, match="NaN or Infinity"):
        run(hub.send("news", float("nan")))
    with pytest.raises(ValueError, match="lone surrogate"):
        run(hub.send_frames("news", ["ok", "\ud800"]))  # a raw text frame must be UTF-8
    assert sink.written == []


class RecordingBroker(MemoryBroker):
    """The in-memory broker, which also notes each part of a push it is handed, and how
    far the push's messages had been read by then."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[tuple[int, int]] = []  # (messages in the part, messages read)
        self.keys: list[str | None] = []  # each part's idempotency key
        self.read = 0

    async def publish_messages(self, channel, channel_id, bodies, idempotency_key=None):
        self.parts.append((len(bodies), self.read))
        self.keys.append(idempotency_key)
        return await super().publish_messages(channel, channel_id, bodies, idempotency_key)


def test_many_messages_reach_the_broker_in_parts_read_as_they_go(clock):
    """A burst of 2,500 is three parts (a script each, with Redis), built from a generator
    as they go; the socket gets every message in order at offsets 1 to 2,500."""
    broker = RecordingBroker()
    hub = Hub(broker, clock=clock)
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)

    def numbers():
        for n in range(2500):
            broker.read += 1
            yield str(n)

    assert run(hub.send_encoded("news", numbers())) == 2500
    # A part goes out when the message after it is read (the last when none is left).
    assert broker.parts == [(SEND_PART_MESSAGES, 1001), (1000, 2001), (500, 2500)]
    frames = [json.loads(text) for text in sink.written]
    assert [f["data"] for f in frames] == list(range(2500))
    assert [int(f["id"].split(":")[1]) for f in frames] == list(range(1, 2501))
    assert run(hub.send_encoded("news", [])) == 0 and len(broker.parts) == 3  # none: no part


def test_a_part_is_at_most_a_mebibyte_and_a_larger_message_a_part_of_its_own(clock):
    broker = RecordingBroker()
    hub = Hub(broker, clock=clock)
    run(hub.register("news"))
    large, small = "x" * (SEND_PART_BYTES + 1), "y" * (SEND_PART_BYTES // 4)
    run(hub.send_encoded("news", [small] * 5 + [large, small]))
    assert [size for size, _ in broker.parts] == [4, 1, 1, 1]


class FailingBroker(RecordingBroker):
    """The in-memory broker, unreachable from its second part on (as Redis going away)."""

    failing = True

    async def publish_messages(self, channel, channel_id, bodies, idempotency_key=None):
        if self.parts and self.failing:
            raise BrokerUnavailable("could not reach the broker to send the push")
        return await super().publish_messages(channel, channel_id, bodies, idempotency_key)


def test_a_broker_failing_after_a_part_says_what_went_out_in_its_own_error(clock):
    hub = Hub(FailingBroker(), clock=clock)
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)
    expected = r"^could not reach the broker .*; messages 1 to 1000 of this push went out"
    with pytest.raises(BrokerUnavailable, match=expected):
        run(hub.send_many("news", range(2500)))
    assert len(sink.written) == 1000


def test_a_push_of_many_parts_retried_with_its_key_publishes_only_the_parts_not_yet_out(clock):
    """Each part of a push is remembered under its own key (the key, then KEY/2, KEY/3):
    after a failure past the first part, the same push sent again with the same key
    delivers every message once, in order."""
    broker = FailingBroker()
    hub = Hub(broker, clock=clock)
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)
    with pytest.raises(BrokerUnavailable):
        run(hub.send_many("news", range(2500), idempotency_key="burst-1"))
    broker.failing = False
    run(hub.send_many("news", range(2500), idempotency_key="burst-1"))
    assert [json.loads(frame)["data"] for frame in sink.written] == list(range(2500))
    assert broker.keys == ["burst-1", "burst-1", "burst-1/2", "burst-1/3"]


def test_a_message_utf8_cannot_carry_says_which_and_what_went_before(hub):
    """Read as they go, the parts before it are out: the error says so."""
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)
    bodies = [str(n) for n in range(1500)]
    bodies[1200] = '"\ud800"'  # a lone surrogate (encode_data would have escaped it)
    expected = r"message 1201 holds a lone surrogate .*; messages 1 to 1000 of this push went out"
    with pytest.raises(ValueError, match=expected):
        run(hub.send_encoded("news", bodies))
    assert len(sink.written) == 1000


def test_a_lone_surrogate_in_a_message_goes_out_as_its_json_escape(hub):
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)
    assert run(hub.send("news", ["\ud800", "é\udfff"])) == 1
    assert without_ids(sink.written) == ['{"data":["\\ud800","é\\udfff"]}']


def test_a_push_sent_again_with_its_idempotency_key_answers_as_the_first_and_is_not_delivered(
    hub, clock
):
    """Centrifugo's idempotency_key: per channel, for IDEMPOTENCY_SECONDS; a retried push
    (its outcome unknown to the sender) is delivered once, under one offset (H1)."""
    news, sports = run(hub.register("news")), run(hub.register("sports"))
    (_, sink), (_, other) = connect(hub, "news", news), connect(hub, "sports", sports)
    assert run(hub.send("news", "once", idempotency_key="k-1")) == 1
    _, late = connect(hub, "news", news)
    assert run(hub.send("news", "once", idempotency_key="k-1")) == 1  # the first's answer
    assert run(hub.send_frames("news", ["raw"], idempotency_key="k-1")) == 1
    assert run(hub.send_many("news", [1, 2], idempotency_key="k-1")) == 1
    assert without_ids(sink.written) == ['{"data":"once"}'] and sink.written[0].endswith(':1"}')
    assert late.written == []
    assert run(hub.send("sports", "same key", idempotency_key="k-1")) == 1  # another channel
    assert without_ids(other.written) == ['{"data":"same key"}']
    clock.now += IDEMPOTENCY_SECONDS - 1
    assert run(hub.send("news", "again", idempotency_key="k-1")) == 1  # still remembered
    assert late.written == []
    clock.now += 1
    hub.tick()
    assert run(hub.send("news", "again", idempotency_key="k-1")) == 2  # forgotten: a new push
    assert without_ids(late.written) == ['{"data":"again"}']
    assert run(hub.send("news", "no key")) == run(hub.send("news", "no key")) == 2
    for bad in ["", "a b", "é", "x" * 129, 7]:
        with pytest.raises(ValueError, match="idempotency key"):
            run(hub.send("news", "x", idempotency_key=bad))


def test_nothing_to_send_publishes_nothing(hub):
    channel_id = run(hub.register("news"))
    _, sink = connect(hub, "news", channel_id)
    assert run(hub.send_frames("news", [])) == run(hub.send_many("news", [])) == 0
    assert sink.written == []
    assert run(hub.send("news", "next")) == 1
    assert sink.written[0].endswith(':1"}')  # no offset taken by the empty push
