"""Positions, history and resume in the hub core (spec section 7a: H1 to H6).

Fake sinks and a fake clock, as in test_hub.py: each test feeds the hub calls and reads
what it wrote to its sockets. The edge cases are those Socket.IO tests its connection
state recovery with: a position from another channelId, a malformed one, a long idle
connection, a stream that no longer holds what was missed.
"""

import asyncio
import json
import tracemalloc

import hypothesis
import pytest

from pypush_server.history import HistoryBounds, MemoryHistory, Position, Stored
from pypush_server.hub import (
    CLOSE_FELL_BEHIND,
    CLOSE_NO_HISTORY,
    Hub,
    plan_resume,
    split_query,
)
from tests.hub.test_hub import Clock, FakeSink, run


def hub_with(clock: Clock, **bounds) -> Hub:
    """A hub without heartbeats: H3's resume frames as they are (H7, with them, in
    test_heartbeats.py)."""
    return Hub(
        max_queue_bytes=100_000,
        clock=clock,
        history=HistoryBounds(**bounds),
        heartbeat_seconds=None,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(clock) -> Hub:
    return hub_with(clock)


def frames(sink: FakeSink) -> list[dict]:
    return [json.loads(text) for text in sink.written]


def datas(sink: FakeSink) -> list:
    return [frame["data"] for frame in frames(sink) if "data" in frame]


def last_position(sink: FakeSink) -> str:
    return [frame["id"] for frame in frames(sink) if "data" in frame][-1]


def resume(hub: Hub, channel: str, channel_id: str, position: str | None):
    sink = FakeSink()
    connection = hub.connect(channel, channel_id, sink, resume=position)
    run(hub.resume(connection))
    return connection, sink


# -- H1: positions on the wire ----------------------------------------------------------------


def test_H1_every_message_carries_its_position_offsets_count_up_per_channel_id(hub):
    news, other = run(hub.register("news")), run(hub.register("news"))
    first, second = FakeSink(), FakeSink()
    hub.connect("news", news, first)
    hub.connect("news", other, second)
    run(hub.send("news", "a"))
    run(hub.send("news", "b", channel_id=other))
    run(hub.send_many("news", ["c", "d"]))
    ids = [f["id"] for f in frames(first)]
    epoch = ids[0].split(":")[0]
    assert ids == ["%s:%d" % (epoch, n) for n in (1, 2, 3)]
    assert datas(first) == ["a", "c", "d"]
    other_ids = [f["id"] for f in frames(second)]
    assert [int(i.split(":")[1]) for i in other_ids] == [1, 2, 3, 4]
    assert other_ids[0].split(":")[0] != epoch  # each channelId's stream has its own epoch
    # Mojarra's client reads only data: the frame is {"data": ..., "id": ...} and nothing else.
    assert all(set(f) == {"data", "id"} for f in frames(first) + frames(second))


def test_H1_frames_sent_as_they_are_have_no_position_and_no_history(hub):
    news = run(hub.register("news"))
    sink = FakeSink()
    hub.connect("news", news, sink)
    run(hub.send_frames("news", ['{"data":"raw"}']))
    run(hub.send("news", "positioned"))
    assert sink.written[0] == '{"data":"raw"}'
    assert frames(sink)[1]["id"].endswith(":1")
    assert hub.broker.history.held(news) == 1


def test_H2_a_socket_that_did_not_ask_to_resume_is_never_sent_anything_but_messages(hub):
    """A Faces client (or pypush before it has seen a position) gets push messages only."""
    news = run(hub.register("news"))
    sink = FakeSink()
    hub.connect("news", news, sink)
    run(hub.send_many("news", [1, 2]))
    assert all("pypush" not in f and "data" in f for f in frames(sink))


# -- H2/H4: resume -----------------------------------------------------------------------------


def test_H3_H4_a_resume_replays_what_was_missed_in_order_then_goes_live(hub):
    news = run(hub.register("news"))
    sink = FakeSink()
    connection = hub.connect("news", news, sink)
    run(hub.send_many("news", ["a", "b"]))
    position = last_position(sink)
    hub.disconnect(connection)
    run(hub.send_many("news", ["c", "d", "e"]))  # while the client was away

    connection, again = resume(hub, "news", news, position)
    run(hub.send("news", "f"))
    [control, *messages] = frames(again)
    assert control == {"pypush": "resume", "id": position, "missed": 0}
    assert [m["data"] for m in messages] == ["c", "d", "e", "f"]
    assert [int(m["id"].split(":")[1]) for m in messages] == [3, 4, 5, 6]
    assert hub.stats["resumed"] == 1 and hub.stats["gaps"] == 0
    assert hub.sent[news] == 2 + 4  # the control frame is not a message


def test_H4_live_messages_during_the_replay_wait_behind_it_and_none_comes_twice(clock):
    """The history is read while pushes go on: each message reaches the socket once."""
    hub = hub_with(clock)
    broker = hub.broker
    news = run(hub.register("news"))

    async def scenario() -> FakeSink:
        sink = FakeSink()
        connection = hub.connect("news", news, sink)
        await hub.send_many("news", ["a", "b"])
        position = last_position(sink)
        hub.disconnect(connection)
        await hub.send("news", "c")
        reading, release = asyncio.Event(), asyncio.Event()
        read = broker.read_history

        async def slow_read(channel_id, after):
            reading.set()
            await release.wait()
            return await read(channel_id, after)

        broker.read_history = slow_read
        sink = FakeSink()
        connection = hub.connect("news", news, sink, resume=position)
        resuming = asyncio.ensure_future(hub.resume(connection))
        await reading.wait()
        await hub.send("news", "d")  # live, while the history is being read
        assert sink.written == []  # nothing overtakes the replay
        release.set()
        await resuming
        # The store's answer held "d" too (it came before the read finished); and with
        # Redis a message the read saw may reach this process's bus reader only after.
        hub.deliver_messages("news", news, position.split(":")[0], 4, [b'"d"'])
        await hub.send("news", "e")
        return sink

    sink = run(scenario())
    assert datas(sink) == ["c", "d", "e"]
    assert frames(sink)[0]["missed"] == 0


def test_H5_what_the_history_no_longer_holds_is_counted_and_the_rest_replayed(clock):
    hub = hub_with(clock, messages=3)
    news = run(hub.register("news"))
    sink = FakeSink()
    connection = hub.connect("news", news, sink)
    run(hub.send("news", 1))
    position = last_position(sink)
    hub.disconnect(connection)
    run(hub.send_many("news", list(range(2, 11))))  # 2..10: only 8, 9, 10 are kept
    _, again = resume(hub, "news", news, position)
    epoch = position.split(":")[0]
    [control, *messages] = frames(again)
    assert control == {
        "pypush": "resume",
        "id": "%s:7" % epoch,
        "missed": 6,
        "reason": "trimmed",
    }
    assert [m["data"] for m in messages] == [8, 9, 10]
    assert hub.stats["gaps"] == 1


def test_H6_messages_older_than_the_age_bound_are_gone_and_counted(clock):
    hub = hub_with(clock, seconds=180)
    news = run(hub.register("news"))
    sink = FakeSink()
    connection = hub.connect("news", news, sink)
    run(hub.send("news", "seen"))
    position = last_position(sink)
    hub.disconnect(connection)
    run(hub.send("news", "old"))
    clock.now += 120
    run(hub.send("news", "recent"))
    clock.now += 61  # "old" is 181 s old, "recent" 61 s
    _, again = resume(hub, "news", news, position)
    [control, *messages] = frames(again)
    assert (control["missed"], control["reason"]) == (1, "trimmed")
    assert [m["data"] for m in messages] == ["recent"]


def test_H5_a_message_larger_than_the_byte_bound_is_not_kept_and_its_loss_is_counted(clock):
    hub = hub_with(clock, bytes=100)
    news = run(hub.register("news"))
    sink = FakeSink()
    connection = hub.connect("news", news, sink)
    run(hub.send("news", "seen"))
    position = last_position(sink)
    hub.disconnect(connection)
    run(hub.send_many("news", ["small", "x" * 200, "after"]))
    _, again = resume(hub, "news", news, position)
    [control, *messages] = frames(again)
    assert (control["missed"], control["reason"]) == (1, "trimmed")
    assert [m["data"] for m in messages] == ["small", "after"]


def test_H6_the_byte_bound_trims_the_oldest(clock):
    hub = hub_with(clock, bytes=30)
    news = run(hub.register("news"))
    run(hub.send_many("news", ["x" * 8, "y" * 8, "z" * 8]))  # 10 bytes of JSON each
    assert hub.broker.history.held(news) == 3
    run(hub.send("news", "w" * 8))
    assert hub.broker.history.held(news) == 3


def test_H6_a_long_idle_connection_resumes_with_nothing_missed(clock):
    """Its last message aged out of the history long ago; nothing came since."""
    hub = hub_with(clock, seconds=180)
    news = run(hub.register("news"))
    sink = FakeSink()
    connection = hub.connect("news", news, sink)
    run(hub.send("news", "long ago"))
    position = last_position(sink)
    clock.now += 3600
    hub.tick()  # the sweep lets the message go
    assert hub.broker.history.held(news) == 0
    hub.disconnect(connection)
    _, again = resume(hub, "news", news, position)
    assert frames(again) == [{"pypush": "resume", "id": position, "missed": 0}]
    run(hub.send("news", "now"))
    assert datas(again) == ["now"]


def test_H5_a_position_from_another_channel_id_is_not_this_streams(hub):
    news, other = run(hub.register("news")), run(hub.register("news"))
    theirs = FakeSink()
    hub.connect("news", other, theirs)
    run(hub.send_many("news", [1, 2, 3]))
    _, again = resume(hub, "news", news, last_position(theirs))
    [control] = frames(again)
    epoch = hub.broker.history.read(news, None).epoch
    assert control == {
        "pypush": "resume",
        "id": "%s:3" % epoch,
        "missed": None,
        "reason": "unknown-position",
    }
    run(hub.send("news", 4))
    assert datas(again) == [4]  # live messages go on


@pytest.mark.parametrize(
    "asked", ["EPOCHxyz:99", "unknown:1"], ids=["ahead-of-the-stream", "unknown-epoch"]
)
def test_H5_a_position_this_stream_never_had_is_not_guessed_at(hub, asked):
    news = run(hub.register("news"))
    run(hub.send("news", 1))
    epoch = hub.broker.history.read(news, None).epoch
    if asked.startswith("EPOCH"):
        asked = "%s:99" % epoch  # the right epoch, an offset it never reached
    _, again = resume(hub, "news", news, asked)
    assert frames(again) == [
        {"pypush": "resume", "id": "%s:1" % epoch, "missed": None, "reason": "unknown-position"}
    ]


MALFORMED = ["", "abc", "abc:", ":5", "abc:-1", "abc:01", "abc:1x", "a b:1", "a" * 65 + ":1"]


@pytest.mark.parametrize("asked", MALFORMED)
def test_H5_a_malformed_position_fails_closed(hub, asked):
    news = run(hub.register("news"))
    run(hub.send_many("news", [1, 2]))
    _, again = resume(hub, "news", news, asked)
    [control] = frames(again)
    assert (control["missed"], control["reason"]) == (None, "malformed-position")
    assert control["id"].endswith(":2")
    run(hub.send("news", 3))
    assert datas(again) == [3]


def test_H5_a_position_before_the_first_message_replays_the_whole_history(hub):
    news = run(hub.register("news"))
    epoch = hub.broker.history.read(news, None).epoch
    run(hub.send_many("news", ["a", "b"]))
    _, again = resume(hub, "news", news, "%s:0" % epoch)
    assert frames(again)[0]["missed"] == 0 and datas(again) == ["a", "b"]


def test_H5_a_store_that_cannot_answer_closes_with_1013_so_the_client_tries_again(hub):
    news = run(hub.register("news"))

    async def unavailable(channel_id, after):
        raise ConnectionError("could not reach Redis")

    hub.broker.read_history = unavailable
    connection, sink = resume(hub, "news", news, "abc:1")
    assert sink.closed == CLOSE_NO_HISTORY and sink.written == [] and not connection.open
    assert CLOSE_NO_HISTORY[0] == 1013  # a code Faces clients retry (E8), never final


def test_H4_live_messages_piling_up_during_a_replay_are_bounded(clock):
    hub = Hub(max_queue_bytes=100, clock=clock)
    news = run(hub.register("news"))
    sink = FakeSink()
    connection = hub.connect("news", news, sink, resume="abc:1")
    assert connection.resuming
    run(hub.send("news", "x" * 60))
    run(hub.send("news", "y" * 60))
    assert sink.closed == CLOSE_FELL_BEHIND and connection.pending == []


def test_expiry_forgets_the_channel_ids_stream(hub):
    news = run(hub.register("news"))
    run(hub.send("news", 1))
    run(hub.expire(news))
    assert hub.broker.history.read(news, None).epoch is None


# -- the pieces ---------------------------------------------------------------------------------


def test_split_query_finds_the_resume_parameter_only_where_pypush_puts_it():
    assert split_query("abc") == ("abc", None)
    assert split_query("abc&pypush-resume=E:5") == ("abc", "E:5")
    assert split_query("abc&pypush-resume=") == ("abc", "")
    assert split_query("pypush-resume=E:5") == ("pypush-resume=E:5", None)  # no channelId
    assert split_query("abc&other=1") == ("abc&other=1", None)  # as a Faces server reads it


def test_position_parse_and_text():
    assert Position.parse("Ab-_9:12") == Position("Ab-_9", 12)
    assert str(Position("E", 3)) == "E:3"
    assert Position.parse(None) is None and Position.parse(5) is None


def test_plan_resume_every_case():
    stored = Stored("E", 10, [(8, b"8"), (9, b"9"), (10, b"10")])
    plan = plan_resume(Position("E", 7), stored)
    assert (plan.missed, plan.reason, str(plan.position), len(plan.replay)) == (0, None, "E:7", 3)
    plan = plan_resume(Position("E", 5), stored)
    assert (plan.missed, plan.reason, str(plan.position)) == (2, "trimmed", "E:7")
    plan = plan_resume(Position("E", 10), Stored("E", 10, []))
    assert (plan.missed, plan.replay) == (0, [])
    plan = plan_resume(Position("E", 4), Stored("E", 10, []))
    assert (plan.missed, str(plan.position)) == (6, "E:10")
    assert plan_resume(Position("F", 4), stored).reason == "unknown-position"
    assert plan_resume(Position("E", 11), stored).reason == "unknown-position"
    assert plan_resume(None, stored).reason == "malformed-position"
    nothing = plan_resume(Position("E", 1), Stored(None, 0, []))
    assert (nothing.missed, nothing.position) == (None, None)


def test_memory_history_age_sweep_is_oldest_first_across_streams(clock):
    history = MemoryHistory(HistoryBounds(seconds=10), clock)
    history.append("a", [b"1"])
    clock.now += 5
    history.append("b", [b"2"])
    clock.now += 6
    history.sweep(clock.now)
    assert (history.held("a"), history.held("b")) == (0, 1)
    assert history.read("a", 0).last == 1  # the stream's position stays


def test_history_bounds_are_checked():
    with pytest.raises(ValueError):
        HistoryBounds(messages=-1)
    with pytest.raises(ValueError):
        HistoryBounds(seconds=float("nan"))
    with pytest.raises(ValueError):
        HistoryBounds(bytes=True)


def test_H6_the_age_index_never_holds_more_than_the_history_does(clock):
    """200,000 pushes to a history of 10 messages: what the process holds for the age bound
    stays that of 10 messages, not of every message pushed within the age bound."""
    history = MemoryHistory(HistoryBounds(messages=10, bytes=1000), clock)
    history.append("a", [b"0"])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(200_000):
            history.append("a", [b"%d" % n])
            clock.now += 0.0001  # 20 s in all: well within the 180 s age bound
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert history.held("a") == 10
    assert grown < 100_000, "%d bytes held for 10 messages" % grown
    assert history.index_size() <= history.held("a")


def test_H6_the_age_bound_reaches_every_stream_whatever_trimmed_it_before(clock):
    history = MemoryHistory(HistoryBounds(messages=2, seconds=10), clock)
    start = clock.now
    history.append("a", [b"1"])  # at 0: trimmed by the count bound below
    clock.now = start + 1
    history.append("b", [b"2"])  # at 1
    clock.now = start + 5
    history.append("a", [b"3"])  # at 5
    clock.now = start + 8
    history.append("a", [b"4"])  # at 8: "a" holds 5 and 8
    assert (history.held("a"), history.held("b"), history.index_size()) == (2, 1, 2)
    clock.now = start + 12  # older than 2 goes: "b"'s message
    history.sweep(clock.now)
    assert (history.held("a"), history.held("b"), history.index_size()) == (2, 0, 1)
    clock.now = start + 16  # older than 6 goes: "a"'s message of 5
    history.sweep(clock.now)
    assert [body for _, body in history.read("a", 0).entries] == [b"4"]
    history.forget("a")
    assert history.index_size() == 0


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
    hypothesis.strategies.lists(
        hypothesis.strategies.tuples(
            hypothesis.strategies.sampled_from(["push", "forget", "sweep"]),
            hypothesis.strategies.sampled_from(["a", "b", "c"]),
            hypothesis.strategies.integers(0, 4),  # seconds that pass first
            hypothesis.strategies.lists(hypothesis.strategies.binary(max_size=6), max_size=3),
        ),
        max_size=40,
    )
)
def test_H6_memory_history_keeps_what_the_three_bounds_allow_and_indexes_no_more(steps):
    """Against a plain model: each stream's last messages within the count and byte bounds,
    none older than the age bound; the age index one entry at most per message held."""
    clock = Clock()
    bounds = HistoryBounds(messages=3, bytes=10, seconds=5)
    history = MemoryHistory(bounds, clock)
    model: dict[str, tuple[int, list[tuple[int, bytes, float]]]] = {}
    for action, stream, seconds, bodies in steps:
        clock.now += seconds
        if action == "forget":
            history.forget(stream)
            model.pop(stream, None)
        elif action == "push":
            history.append(stream, bodies)
            last, kept = model.get(stream, (0, []))
            for body in bodies:
                last += 1
                if len(body) <= bounds.bytes:
                    kept.append((last, body, clock.now))
            while len(kept) > bounds.messages or sum(len(e[1]) for e in kept) > bounds.bytes:
                kept.pop(0)
            model[stream] = (last, kept)
        else:
            history.sweep(clock.now)
        for name, (last, kept) in model.items():
            fresh = [(o, b) for o, b, when in kept if when >= clock.now - bounds.seconds]
            stored = history.read(name, 0)
            assert (stored.last, stored.entries) == (last, fresh)
        held = sum(history.held(name) for name in model)
        assert history.index_size() <= held
