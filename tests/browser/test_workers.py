"""serve.py --workers 3 over a real redis-server, with real pypush clients in a browser.

kill -9 one worker while the clients listen: the clients it served see their socket cut
(1006, not final), reconnect by themselves on the reconnect schedule (spec E8) to the other
workers on the same port, and receive later pushes; the others notice nothing. The server
itself (Redis, pushes through any process) is tested without a browser in
tests/server/test_redis.py; MicroPython here, as the interpreter is not what is tested.
"""

import os
import re
import signal

import pytest
import redis

from tests.browser.conftest import PushPage
from tests.support import RedisServer, wait_until

CLIENTS = 12


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def sockets_per_worker(url: str) -> dict[int, int]:
    """Open sockets per worker pid, as the workers count them in Redis."""
    client = redis.Redis.from_url(url)
    counts = {}
    for key in client.scan_iter("pypush:worker:*"):
        pid = int(key.decode().rsplit("-", 2)[1])
        counts[pid] = sum(int(v) for f, v in client.hgetall(key).items() if f != b"_")
    client.close()
    return counts


def test_kill_9_of_one_worker_its_clients_reconnect_to_the_others_and_receive_later_pushes(
    browser, redis_server, start_push_server
):  # redis_server first: it stops after the workers
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url, "--workers", "3")
    context = browser.new_context()
    page = PushPage(context.new_page(), server, "micropython").open_harness()
    channels = {"w%d" % n: server.channel() for n in range(CLIENTS)}
    for client_id, channel in channels.items():
        page.init(client_id, channel)
    for client_id in channels:
        page.wait_for(client_id, "open", timeout=20)
    counts = wait_until(
        lambda: (c := sockets_per_worker(redis_server.url)) and sum(c.values()) == CLIENTS and c,
        10,
        "every socket counted",
    )
    victim, victims_sockets = max(counts.items(), key=lambda item: item[1])
    assert len(counts) == 3 and victims_sockets >= 1

    os.kill(victim, signal.SIGKILL)

    def reconnected() -> bool:
        errors = sum(page.kinds(c).count("error") for c in channels)
        states = {page.state(c) for c in channels}
        # Each of its clients reconnected (one may have needed a second try under load).
        return errors >= victims_sockets and states == {"open"}

    wait_until(reconnected, 20, "the killed worker's clients open again")
    for channel in channels.values():
        channel.push("after the kill")
    for client_id in channels:
        [message] = page.wait_for(client_id, "message", timeout=10)
        assert message[1] == "after the kill"
        kinds = page.kinds(client_id)
        assert "close" not in kinds and kinds.count("open") == 1  # E1: no second onopen
    codes = {call[1] for c in channels for call in page.calls(c) if call[0] == "error"}
    assert codes == {1006}  # the connection was cut: retried (E8), never final (E7)
    log = server.log_path.read_text()
    assert re.search(r"worker \d \(pid %d\) exited with -9; starting another" % victim, log)
    context.close()
