"""Soak: 100 clients on one page, the server's listener restarted every few seconds.

Not part of the default suite (``-m soak`` runs it; ``make soak`` is the
documented command). For two minutes (``SOAK_SECONDS`` to change it) the server
pushes numbered messages to 100 clients, each on its own channelId, and every
few seconds stops listening, drops every socket and comes back on the same port
(the ``down`` fault: channelIds survive, as they do when a Faces server's
network blips). Pushes pause around each restart, so every message the server
sends goes to a socket that stays up long enough to deliver it.

It reports, per client, how many messages were sent while it was connected and
how many it received, and asserts: none lost, none duplicated, none out of
order, and every client connected at the end.
"""

import os
import time

import pytest

from tests.browser.conftest import PushPage
from tests.support import wait_until

CLIENTS = 100
RESTART_EVERY = 4.0  # seconds between listener restarts
DOWN_FOR = 1.0  # seconds the listener stays down each time
BATCH = 20  # numbered messages per push
BATCH_EVERY = 0.25  # seconds between pushes


SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "120"))


@pytest.mark.soak
@pytest.mark.timeout(SOAK_SECONDS + 300)
def test_soak_100_clients_through_server_restarts(fresh_page, start_push_server, capsys):
    duration = SOAK_SECONDS
    server = start_push_server("--no-demo-clock")
    channel_name = server.channel().name
    urls = [server.post("/api/channels", {"channel": channel_name}) for _ in range(CLIENTS)]
    page: PushPage = fresh_page
    page.page.goto(server.base_url + "/test/harness.html")
    page.wait_ready()
    page.evaluate(
        """([urls, ch]) => {
            window.soak = urls.map((info, i) => {
                const state = { id: 'soak-' + i, channelId: info.channelId, received: 0,
                                seen: new Set(), duplicates: 0, disorder: 0, last: -1,
                                opens: 0, errors: 0, closes: 0 };
                faces.push.init(state.id, info.url, ch,
                    () => state.opens++,
                    (n) => {
                        if (state.seen.has(n)) state.duplicates++;
                        if (n < state.last) state.disorder++;
                        state.seen.add(n); state.last = n; state.received++;
                    },
                    () => state.errors++, () => state.closes++, null, true);
                return state;
            });
        }""",
        [urls, channel_name],
    )
    status = lambda: server.request("GET", "/api/channels/%s" % channel_name)  # noqa: E731
    wait_until(lambda: status()["sockets"] == CLIENTS, 30, "every client connected")

    pushed, restarts = 0, 0
    started = time.monotonic()
    next_restart = started + RESTART_EVERY
    while time.monotonic() - started < duration:
        if time.monotonic() >= next_restart:
            time.sleep(0.3)  # let the last frames reach the page before the drop
            server.fault("down", seconds=DOWN_FOR)
            restarts += 1
            wait_until(lambda: _down(server), 5, "the listener to go down")
            wait_until(lambda: _up_with(server, channel_name, CLIENTS), 60, "all reconnected")
            next_restart = time.monotonic() + RESTART_EVERY
        result = server.post(
            "/api/channels/%s/burst" % channel_name,
            {"count": BATCH, "numbered": True, "start": pushed},
        )
        assert result["delivered"] == BATCH * CLIENTS
        pushed += BATCH
        time.sleep(BATCH_EVERY)

    sent = status()["sent"]
    wait_until(
        lambda: page.evaluate("soak.every((s) => s.received >= %d)" % pushed), 60, "delivery"
    )
    time.sleep(0.5)  # anything extra (a duplicate) would arrive now
    clients = page.evaluate(
        """() => soak.map((s) => ({
            id: s.id, channelId: s.channelId, received: s.received, distinct: s.seen.size,
            duplicates: s.duplicates, disorder: s.disorder, opens: s.opens, errors: s.errors,
            closes: s.closes, state: pypush.state(s.id) }))"""
    )
    with capsys.disabled():
        print(
            "\nsoak: %.0f s, %d clients, %d restarts, %d numbered messages pushed"
            % (duration, CLIENTS, restarts, pushed)
        )
        print(
            "%-9s %8s %9s %5s %6s %6s %7s %6s"
            % ("client", "sent", "received", "dups", "order", "opens", "errors", "state")
        )
        for client in clients:
            print(
                "%-9s %8d %9d %5d %6d %6d %7d %6s"
                % (
                    client["id"],
                    sent[client["channelId"]],
                    client["received"],
                    client["duplicates"],
                    client["disorder"],
                    client["opens"],
                    client["errors"],
                    client["state"],
                )
            )
    for client in clients:
        assert client["received"] == sent[client["channelId"]] == pushed, client
        assert client["distinct"] == pushed and client["duplicates"] == 0, client
        assert client["disorder"] == 0, client
        assert client["state"] == "open" and client["closes"] == 0, client
        assert client["opens"] == 1, client  # reconnections never call onopen again
    # Each round: RESTART_EVERY of pushing, DOWN_FOR down, then the E8 backoff to reconnect.
    assert restarts >= max(1, int(duration / 15))


def _down(server) -> bool:
    try:
        server.stats()
    except OSError:
        return True
    return False


def _up_with(server, channel: str, count: int) -> bool:
    try:
        return server.request("GET", "/api/channels/%s" % channel)["sockets"] == count
    except OSError:
        return False
