"""Soak: 100 clients on one page; every client receives every pushed message exactly once,
in order, while the server goes away under them (P1-P5, H1-H6).

Not part of the default suite (``-m soak`` runs it; ``make soak`` is the documented
command). For two minutes (``SOAK_SECONDS`` to change it) the server pushes numbered
messages to 100 clients, each on its own channelId, without pausing, and every few
seconds something breaks their sockets while pushes are in flight:

- one process (memory history): the listener goes down for a second and drops every
  socket (the ``down`` fault), every socket is dropped and handshakes are refused for two
  seconds, every socket is closed with 4000;
- ``--redis`` with three workers (history in Redis Streams): one worker is killed with -9
  (its clients reconnect to the others and resume there; the supervisor starts another),
  a worker's sockets are dropped, or closed with 4000.

Pushes go on meanwhile (only while the listener is down do they wait, as the API is on
it). Each client counts, in the page: messages received, repeats, skips (a number missed)
and gaps reported (pypush.ongap). The test asserts for every client: it received exactly
0 … pushed-1, in order, no repeat, no skip, no gap, one onopen, and it is open at the end.
"""

import itertools
import os
import re
import signal
import time
import urllib.error

import pytest
import redis

from tests.browser.conftest import PushPage
from tests.support import RedisServer, wait_until

CLIENTS = 100
EVENT_EVERY = 4.0  # seconds of pushing between two faults
DOWN_FOR = 1.0  # seconds the listener stays down
REFUSE_FOR = 2.0  # seconds handshakes are refused after a drop
BATCH = 20  # numbered messages per push
BATCH_EVERY = 0.25  # seconds between pushes
HISTORY_SECONDS = "30"  # the outages here last seconds; less memory than the default 180

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))

TOPOLOGIES = {
    "one-process": ("restart", "drop-and-refuse", "close-4000"),
    "redis-workers": ("kill-9", "drop", "close-4000"),
}


@pytest.fixture
def soak_redis(request, tmp_path):
    """A redis-server for the Redis topology (it stops after the servers that use it)."""
    if request.node.callspec.params["topology"] != "redis-workers":
        yield None
        return
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.mark.soak
@pytest.mark.timeout(SOAK_SECONDS + 400)
@pytest.mark.parametrize("topology", list(TOPOLOGIES))
def test_soak_every_client_receives_every_message_once_in_order_through_faults(
    soak_redis, fresh_page, start_push_server, capsys, topology
):
    options = ["--no-demo-clock", "--history-seconds", HISTORY_SECONDS]
    if soak_redis is not None:
        options += ["--redis", soak_redis.url, "--workers", "3"]
    server = start_push_server(*options)
    channel_name = server.channel().name
    urls = [server.post("/api/channels", {"channel": channel_name}) for _ in range(CLIENTS)]
    page: PushPage = fresh_page
    page.page.goto(server.base_url + "/test/harness.html?interpreter=" + page.interpreter)
    page.wait_ready()
    page.evaluate(
        """([urls, ch]) => {
            const byId = {};
            pypush.ongap = (id) => { byId[id].gaps++; };
            window.soak = urls.map((info, i) => {
                const state = { id: 'soak-' + i, channelId: info.channelId, received: 0,
                                next: 0, repeats: 0, skipped: 0, gaps: 0,
                                opens: 0, errors: 0, closes: 0 };
                byId[state.id] = state;
                faces.push.init(state.id, info.url, ch,
                    () => state.opens++,
                    (n) => {
                        state.received++;
                        if (n === state.next) state.next++;
                        else if (n < state.next) state.repeats++;
                        else { state.skipped += n - state.next; state.next = n + 1; }
                    },
                    () => state.errors++, () => state.closes++, null, true);
                return state;
            });
        }""",
        [urls, channel_name],
    )
    open_everywhere = "soak.every((s) => pypush.state(s.id) === 'open')"
    wait_until(lambda: page.evaluate(open_everywhere), 60, "every client connected")

    faults = Faults(server, channel_name, soak_redis)
    pushed, events = 0, []
    kinds = itertools.cycle(TOPOLOGIES[topology])
    started = time.monotonic()
    next_event = started + EVENT_EVERY
    while time.monotonic() - started < SOAK_SECONDS:
        if time.monotonic() >= next_event:
            kind = next(kinds)
            faults.cause(kind)  # between two pushes: none is in flight to the API
            events.append(kind)
            next_event = time.monotonic() + EVENT_EVERY
        try:
            server.post(
                "/api/channels/%s/burst" % channel_name,
                {"count": BATCH, "numbered": True, "start": pushed},
            )
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError):
                raise  # anything else could mean pushed or not: never guess
            time.sleep(0.05)  # the listener is down: the same batch again
            continue
        pushed += BATCH
        time.sleep(BATCH_EVERY)

    wait_until(lambda: page.evaluate(open_everywhere), 60, "every client open again")
    wait_until(
        lambda: page.evaluate("soak.every((s) => s.received >= %d)" % pushed), 120, "delivery"
    )
    time.sleep(1.0)  # anything extra (a repeat) would arrive now
    clients = page.evaluate(
        """() => soak.map((s) => ({
            id: s.id, received: s.received, next: s.next, repeats: s.repeats,
            skipped: s.skipped, gaps: s.gaps, opens: s.opens, errors: s.errors,
            closes: s.closes, state: pypush.state(s.id) }))"""
    )
    stats = server.stats()  # with workers: the one process that answers
    with capsys.disabled():
        print(
            "\nsoak (%s): %.0f s, %d clients, %d numbered messages pushed, %d faults: %s"
            % (
                topology,
                SOAK_SECONDS,
                CLIENTS,
                pushed,
                len(events),
                ", ".join("%d %s" % (events.count(k), k) for k in TOPOLOGIES[topology]),
            )
        )
        print(
            "%-9s %9s %7s %7s %5s %5s %6s %6s"
            % ("client", "received", "repeats", "skipped", "gaps", "opens", "errors", "state")
        )
        for client in clients:
            print(
                "%-9s %9d %7d %7d %5d %5d %6d %6s"
                % (
                    client["id"],
                    client["received"],
                    client["repeats"],
                    client["skipped"],
                    client["gaps"],
                    client["opens"],
                    client["errors"],
                    client["state"],
                )
            )
        print(
            "server%s: %d sockets resumed, %d with a gap"
            % (" (one worker)" if soak_redis else "", stats["resumed"], stats["gaps"])
        )
        errors = [c["errors"] for c in clients]
        print(
            "every client: %d of %d received, in order, none twice; reconnects per client %d-%d"
            % (pushed, pushed, min(errors), max(errors))
        )
    for client in clients:
        assert client["received"] == client["next"] == pushed, client
        assert client["repeats"] == client["skipped"] == client["gaps"] == 0, client
        assert client["state"] == "open" and client["closes"] == 0, client
        assert client["opens"] == 1, client  # reconnections never call onopen again
        assert client["errors"] >= 1, client  # its sockets did break under it
    assert len(events) >= max(1, int(SOAK_SECONDS / (EVENT_EVERY + 4)))


class Faults:
    """What breaks the clients' sockets, one kind at a time."""

    def __init__(self, server, channel: str, redis_server: RedisServer | None) -> None:
        self.server = server
        self.channel = channel
        self.redis_server = redis_server

    def cause(self, kind: str) -> None:
        getattr(self, kind.replace("-", "_"))()

    def restart(self) -> None:
        self.server.fault("down", seconds=DOWN_FOR)
        wait_until(lambda: _down(self.server), 5, "the listener to go down")

    def drop_and_refuse(self) -> None:
        self.server.fault("refuse", channel=self.channel, seconds=REFUSE_FOR)
        self.server.post("/api/channels/%s/drop" % self.channel, {})

    def drop(self) -> None:
        self.server.post("/api/channels/%s/drop" % self.channel, {})

    def close_4000(self) -> None:
        body = {"code": 4000, "reason": "soak"}
        self.server.post("/api/channels/%s/close" % self.channel, body)

    def kill_9(self) -> None:
        """The worker with the most sockets: kill -9, and wait until it is gone."""
        counts = _sockets_per_worker(self.redis_server.url)
        victim = max(counts, key=counts.get)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: not _alive(victim), 10, "worker %d gone" % victim)
        log = self.server.log_path
        wait_until(
            lambda: re.search(
                r"pid %d\) exited with -9; starting another" % victim, log.read_text()
            ),
            10,
            "the supervisor to notice",
        )


def _down(server) -> bool:
    try:
        server.stats()
    except OSError:
        return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as stat:  # a zombie is gone too
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _sockets_per_worker(url: str) -> dict[int, int]:
    """Open sockets per live worker pid, as the workers count them in Redis."""
    client = redis.Redis.from_url(url)
    counts = {}
    for key in client.scan_iter("pypush:worker:*"):
        pid = int(key.decode().rsplit("-", 2)[1])
        if _alive(pid):
            counts[pid] = sum(int(v) for f, v in client.hgetall(key).items() if f != b"_")
    client.close()
    return counts
