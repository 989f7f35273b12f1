"""Property-based: any ordering of page calls, socket events and time keeps the rules.

Hypothesis drives one client through arbitrary sequences of open(), close(),
server accepts/sends/closes, bad frames and clock advances, and checks after
every step what must hold whatever happens (E7-E10, C1-C3, O1/O2, R2), with the
browser going offline and online and the page shown again among them (N1-N3):

- never more than one socket that is not closed (O2, E10);
- every lifecycle ends in exactly one onclose, and nothing follows it but a new
  lifecycle's onopen, onerror or onclose (E10);
- onmessage only between an onopen and the lifecycle's end (E3, E10);
- an idle client has no timer pending (C2: nothing left to reconnect it);
- offline, no reconnect attempt is made (N1).
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from pypush.core import PushRegistry
from tests.unit.fakes import FakePlatform, Recorder

CLOSES = [
    (1000, "Expired"),
    (1000, ""),
    (1006, ""),
    (1008, "Unknown channel"),
    (1011, ""),
    (4000, ""),
]
STEPS = st.sampled_from(
    [("open",), ("close",), ("accept",), ("send",), ("bad frame",)]
    + [("server closes", close) for close in CLOSES[:3]]
    + [("advance", ms) for ms in (0, 500, 200_000)]
    + [("offline",), ("online",), ("shown",)]
)


def live(platform: FakePlatform) -> list:
    return [s for s in platform.sockets if s.ready_state in (0, 1)]


@settings(max_examples=2000, deadline=None, database=None)
@given(steps=st.lists(STEPS, max_size=60))
def test_any_ordering_keeps_one_socket_one_onclose_per_lifecycle_and_no_stray_timer(steps):
    platform = FakePlatform()
    push = PushRegistry(platform)
    rec = Recorder()
    push.init("c", "/app/jakarta.faces.push/news?x", "news", **rec.callbacks())
    client = push.clients["c"]
    lifecycles = 0
    for step in steps:
        kind = step[0]
        sockets = live(platform)
        made = len(platform.sockets)
        was_idle = client.state == "idle"
        if kind == "open":
            if client.state == "idle":
                lifecycles += 1
            push.open("c")
        elif kind == "close":
            push.close("c")
        elif kind == "accept" and sockets and sockets[-1].ready_state == 0:
            sockets[-1].server_accepts()
        elif kind == "send" and sockets and sockets[-1].ready_state == 1:
            sockets[-1].server_sends("m")
        elif kind == "bad frame" and sockets and sockets[-1].ready_state == 1:
            sockets[-1].bad_frame()
        elif kind == "server closes" and sockets:
            code, reason = step[1]
            sockets[-1].closes(code, reason)
        elif kind == "advance":
            platform.clock.advance(step[1])
        elif kind in ("offline", "online"):
            platform.online = kind == "online"
            push.network_changed(platform.online)
        elif kind == "shown":
            push.page_shown()
        # A socket the user closed goes on closing; the browser reports it some time:
        for socket in platform.sockets:
            if socket.close_called and socket.ready_state == 2:
                socket.closes(1000)

        assert len(live(platform)) <= 1, "two live sockets after %r" % (step,)
        if not push.network.online and not (kind == "open" and was_idle):
            # N1: offline, only a lifecycle's first attempt is made (the browser may be wrong).
            assert len(platform.sockets) == made, "an attempt while offline after %r" % (step,)
        kinds = [call[0] for call in rec.calls]
        assert kinds.count("close") <= lifecycles
        if client.state == "idle":
            assert kinds.count("close") == lifecycles, "an ended lifecycle without onclose"
            assert platform.clock.pending == 0, "an idle client with a timer pending"
        # Between one onclose and the next lifecycle's first callback: nothing.
        opened = False
        for call in kinds:
            if call == "open":
                opened = True
            elif call == "message":
                assert opened, "onmessage outside an open lifecycle"
            elif call == "close":
                opened = False
