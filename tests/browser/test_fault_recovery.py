"""The hard rules in real Chromium against real serve.py faults, on Playwright's clock.

One page, booted once with ``page.clock`` installed and then paused: every test
moves page time itself with ``run_for`` (R2), so three minutes of backoff take
a second or two. Faults are scoped to each test's own channel.
"""

import time
import uuid

import pytest

from pypush.core import MAX_RECONNECT_ATTEMPTS, reconnect_delay_ms
from tests.browser.conftest import PushPage
from tests.support import wait_until


@pytest.fixture(scope="module")
def clock_page(browser, server, interpreter):
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    push_page = PushPage(page, server, interpreter).open_harness()
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)
    yield push_page
    context.close()


def new_id() -> str:
    return "f-" + uuid.uuid4().hex[:8]


class Client:
    """One recorded client on the clock page, and the checks every test makes."""

    def __init__(self, page: PushPage, channel) -> None:
        self.page = page
        self.channel = channel
        self.id = new_id()
        page.init(self.id, channel)
        page.wait_for(self.id, "open")
        channel.wait_for_sockets(1)
        self.run_for(600)  # E9: stable

    def run_for(self, ms: int) -> None:
        self.page.page.clock.run_for(ms)

    def kinds(self) -> list[str]:
        return self.page.kinds(self.id)

    def count(self, kind: str) -> int:
        return self.kinds().count(kind)

    def sockets_made(self) -> list[int]:
        return self.page.evaluate("(url) => socketsMade[url] || []", self.channel.url)

    def stamps(self, kind: str) -> list[int]:
        return [t for k, t in self.page.evaluate("(id) => stamps[id]", self.id) if k == kind]

    def wait_count(self, kind: str, count: int) -> None:
        wait_until(lambda: self.count(kind) >= count, 10, "%d %s" % (count, kind))

    def fail_attempt(self, attempt: int) -> None:
        """Advance page time to attempt ``attempt``, checking it does not come a ms early."""
        delay = reconnect_delay_ms(attempt - 1)
        made = len(self.sockets_made())
        if delay:
            self.run_for(delay - 1)
            assert len(self.sockets_made()) == made, "attempt %d came early" % attempt
        self.run_for(1 if delay else 0)
        assert len(self.sockets_made()) == made + 1, "attempt %d did not come" % attempt

    def messages(self) -> list:
        return [call[1] for call in self.page.calls(self.id) if call[0] == "message"]

    def assert_single_lifecycle_end(self) -> None:
        assert self.count("close") == 1
        assert self.kinds()[-1] == "close"


def test_server_gone_two_minutes_then_back_reconnects_on_the_E8_schedule(clock_page, server):
    channel = server.channel()
    client = Client(clock_page, channel)
    channel.push(1)
    client.wait_count("message", 1)
    server.fault("refuse", channel=channel.name)
    channel.drop()
    client.wait_count("error", 1)
    gone_since = client.stamps("error")[0]
    attempt = 0
    while client.stamps("error")[-1] - gone_since < 120_000:  # two minutes of page time
        attempt += 1
        client.fail_attempt(attempt)
        client.wait_count("error", attempt + 1)  # E8: one onerror per failed attempt
    assert attempt < MAX_RECONNECT_ATTEMPTS
    server.clear_fault("refuse", channel.name)
    client.run_for(reconnect_delay_ms(attempt))
    channel.wait_for_sockets(1)
    wait_until(lambda: clock_page.state(client.id) == "open")
    channel.push(2)
    client.wait_count("message", 2)
    assert client.messages() == [1, 2]  # none twice
    assert client.count("open") == 1  # E1: no second onopen
    assert client.count("error") == attempt + 1 and client.count("close") == 0
    made = client.sockets_made()
    gaps = [b - a for a, b in zip(client.stamps("error"), made[1:], strict=False)]
    assert gaps == [reconnect_delay_ms(n) for n in range(attempt + 1)]


def test_server_gone_for_good_exactly_25_attempts_then_one_onclose(clock_page, server):
    channel = server.channel()
    client = Client(clock_page, channel)
    server.fault("refuse", channel=channel.name)
    channel.drop()
    client.wait_count("error", 1)
    for attempt in range(1, MAX_RECONNECT_ATTEMPTS + 1):
        client.fail_attempt(attempt)
        if attempt < MAX_RECONNECT_ATTEMPTS:
            client.wait_count("error", attempt + 1)
    client.wait_count("close", 1)
    [close] = [c for c in clock_page.calls(client.id) if c[0] == "close"]
    assert close[1] == 1006 and close[2] == channel.name  # the last code
    assert len(client.sockets_made()) == 1 + MAX_RECONNECT_ATTEMPTS
    client.run_for(3_600_000)  # an hour of page time: nothing more
    time.sleep(0.3)
    assert len(client.sockets_made()) == 1 + MAX_RECONNECT_ATTEMPTS
    assert client.count("error") == MAX_RECONNECT_ATTEMPTS
    client.assert_single_lifecycle_end()
    assert clock_page.state(client.id) == "idle"


def test_E9_accept_and_drop_grows_the_delay_and_ends_at_the_limit(clock_page, server):
    channel = server.channel()
    client = Client(clock_page, channel)
    server.fault("flap", channel=channel.name, code=1011, reason="flapping")
    channel.close_sockets(1011)
    client.wait_count("error", 1)
    for attempt in range(1, MAX_RECONNECT_ATTEMPTS + 1):
        client.fail_attempt(attempt)  # never a 0 ms loop: each waits its full delay
        if attempt < MAX_RECONNECT_ATTEMPTS:
            client.wait_count("error", attempt + 1)
    client.wait_count("close", 1)
    assert client.count("open") == 1
    assert client.count("error") == MAX_RECONNECT_ATTEMPTS
    client.run_for(600_000)
    time.sleep(0.2)
    assert len(client.sockets_made()) == 1 + MAX_RECONNECT_ATTEMPTS
    client.assert_single_lifecycle_end()


def test_C2_close_during_a_pending_retry_cancels_it(clock_page, server):
    channel = server.channel()
    client = Client(clock_page, channel)
    server.fault("refuse", channel=channel.name)
    channel.drop()
    client.wait_count("error", 1)
    client.fail_attempt(1)
    client.wait_count("error", 2)  # attempt 2 now waits 500 ms
    clock_page.evaluate("(id) => faces.push.close(id)", client.id)
    [close] = [c for c in clock_page.calls(client.id) if c[0] == "close"]
    assert close[1] == 1006  # the last close's code
    client.run_for(600_000)
    time.sleep(0.2)
    assert len(client.sockets_made()) == 2
    client.assert_single_lifecycle_end()


def test_E10_close_then_open_with_the_old_close_event_arriving_late(clock_page, server):
    channel = server.channel()
    client = Client(clock_page, channel)
    server.fault("slow-close", channel=channel.name, delay=1.5)
    clock_page.evaluate("(id) => { faces.push.close(id); faces.push.open(id); }", client.id)
    client.wait_count("open", 2)  # the new lifecycle opened while the old socket still closes
    assert client.count("close") == 0
    wait_until(lambda: channel.sockets() == 1, 10)
    client.wait_count("close", 1)  # now the old socket's close event: the old lifecycle's end
    client.run_for(60_000)
    time.sleep(0.2)
    assert client.count("error") == 0  # the late event triggered no retry
    assert len(client.sockets_made()) == 2
    assert clock_page.state(client.id) == "open"
    assert channel.push("once") == 1
    client.wait_count("message", 1)
    time.sleep(0.2)
    assert client.messages() == ["once"]


def test_O2_open_twice_while_connecting_with_a_slow_server(clock_page, server):
    channel = server.channel()
    client = Client(clock_page, channel)
    clock_page.evaluate("(id) => faces.push.close(id)", client.id)
    client.wait_count("close", 1)
    server.fault("refuse", channel=channel.name)  # the next handshake fails: CONNECTING till then
    clock_page.evaluate("(id) => { faces.push.open(id); faces.push.open(id); }", client.id)
    client.wait_count("close", 2)  # E7: a first attempt that fails is final
    assert len(client.sockets_made()) == 2
    assert client.count("error") == 0
