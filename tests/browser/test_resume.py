"""Nothing lost across reconnects (P1-P5, H1-H8): real browsers, real serve.py, on page.clock.

The server here keeps 20 messages per channelId (``--history-messages 20``), so a test
can push more than it holds. One page per engine and interpreter, its clock installed
and paused as in test_fault_recovery.py: the client's reconnect comes when the test
moves page time. Each test: the client receives a message (it has seen a position),
the server refuses handshakes and drops the socket, pushes go on while the client is
away, then the refusal ends and the client reconnects by itself.
"""

import json
import re
import time
import uuid

import pytest

from pypush.core import heartbeat_deadline_ms, reconnect_delay_ms
from tests.browser.conftest import PushPage
from tests.support import wait_until

HISTORY = 20


@pytest.fixture(scope="module")
def resume_server(start_module_server):
    return start_module_server("--no-demo-clock", "--history-messages", str(HISTORY))


@pytest.fixture(scope="module")
def clock_page(browser, resume_server, interpreter):
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    push_page = PushPage(page, resume_server, interpreter).open_harness()
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)
    push_page.evaluate(
        "window.gaps = []; pypush.ongap = (...args) => gaps.push(args);window.byHand = {}"
    )
    yield push_page
    context.close()


def new_id() -> str:
    return "r-" + uuid.uuid4().hex[:8]


class Away:
    """A client that has seen a message, then is away while the test pushes."""

    def __init__(self, page: PushPage, server) -> None:
        self.page = page
        self.server = server
        self.channel = server.channel()
        self.id = new_id()
        page.init(self.id, self.channel)
        page.wait_for(self.id, "open")
        self.channel.wait_for_sockets(1)
        self.page.page.clock.run_for(600)  # E9: stable

    def first_message(self, message: object = "before") -> None:
        self.channel.push(message)
        self.page.wait_for(self.id, "message", 1)

    def go_away(self) -> None:
        """Refuse handshakes, drop the socket, let the immediate retry fail (E8)."""
        self.server.fault("refuse", channel=self.channel.name)
        self.channel.drop()
        self.page.wait_for(self.id, "error", 1)
        self.page.page.clock.run_for(0)  # attempt 1, refused
        self.page.wait_for(self.id, "error", 2)

    def come_back(self) -> None:
        self.server.clear_fault("refuse", self.channel.name)
        self.page.page.clock.run_for(reconnect_delay_ms(1))  # attempt 2
        self.channel.wait_for_sockets(1)
        wait_until(lambda: self.page.state(self.id) == "open", 10, "open again")

    def messages(self) -> list:
        return [call[1] for call in self.page.calls(self.id) if call[0] == "message"]

    def wait_messages(self, count: int) -> list:
        def enough() -> list | None:
            got = self.messages()
            return got if len(got) >= count else None

        return wait_until(enough, 15, "%d messages" % count)

    def urls(self) -> list[str]:
        return self.page.evaluate(
            "(base) => [...new Set(socketURLs.filter((u) => u.startsWith(base)))]",
            self.channel.url,
        )

    def gaps(self) -> list:
        return self.page.evaluate("(id) => gaps.filter((g) => g[0] === id)", self.id)


def test_P3_H4_what_was_pushed_while_away_arrives_after_the_reconnect_in_order_once(
    clock_page, resume_server
):
    client = Away(clock_page, resume_server)
    client.first_message()
    client.go_away()
    client.channel.burst(count=12, numbered=True)  # while the client is away
    client.come_back()
    client.channel.push("live")
    assert client.wait_messages(14) == ["before", *range(12), "live"]
    # P2: every reconnect asked to resume after the one message it had delivered.
    first, *reconnects = client.urls()
    assert first == client.channel.url and len(reconnects) == 1
    assert re.fullmatch(re.escape(first) + r"&pypush-resume=[A-Za-z0-9_-]{8}:1", reconnects[0])
    assert client.gaps() == [] and clock_page.kinds(client.id).count("open") == 1
    time.sleep(0.3)
    assert len(client.messages()) == 14  # nothing twice


def test_P4_H5_more_than_the_history_holds_is_a_gap_the_page_learns_of(clock_page, resume_server):
    client = Away(clock_page, resume_server)
    client.first_message()
    client.go_away()
    client.channel.burst(count=HISTORY + 5, numbered=True)  # 0..24: 20 are kept, 5 are not
    client.come_back()
    client.channel.push("live")
    assert client.wait_messages(HISTORY + 2) == ["before", *range(5, HISTORY + 5), "live"]
    assert client.gaps() == [[client.id, client.channel.name, 5, "trimmed"]]
    notice = (
        "faces.push: clientId '%s' on channel '%s': 5 messages pushed while it was away "
        "could not be recovered (trimmed); it goes on with live messages"
        % (client.id, client.channel.name)
    )
    wait_until(lambda: notice in clock_page.console, 10, "the console warning")


def test_P2_a_server_that_never_sent_a_position_is_never_asked_to_resume(clock_page, resume_server):
    """Frames without "id", as a Faces server sends them: the client reconnects as today."""
    client = Away(clock_page, resume_server)
    client.channel.push_raw('{"data":"as Mojarra sends it"}')
    client.page.wait_for(client.id, "message", 1)
    client.go_away()
    client.come_back()
    assert client.urls() == [client.channel.url]  # every attempt on the page's own URL
    client.channel.push_raw('{"data":"again"}')
    assert client.wait_messages(2) == ["as Mojarra sends it", "again"]
    assert client.gaps() == []


def test_P2_a_client_that_reconnects_before_its_first_message_reconnects_as_today(
    clock_page, resume_server
):
    client = Away(clock_page, resume_server)
    client.go_away()
    client.come_back()
    assert client.urls() == [client.channel.url]
    client.channel.push("after")
    assert client.wait_messages(1) == ["after"]


def test_H1_a_client_written_like_mojarras_reads_data_and_nothing_else(clock_page, resume_server):
    """faces.js's own onmessage: JSON.parse(event.data).data, for each frame, through a
    reconnect of its own. It never asks to resume, so it is never sent anything else."""
    channel = resume_server.channel()
    key = uuid.uuid4().hex[:8]
    connect = """([key, url]) => {
        const got = (byHand[key] = byHand[key] || []);
        const socket = new WebSocket(url);
        socket.onmessage = (event) => got.push(JSON.parse(event.data).data);
        byHand[key + 'socket'] = socket;
    }"""
    clock_page.evaluate(connect, [key, channel.url])
    channel.wait_for_sockets(1)
    channel.burst(count=3, numbered=True)
    wait_until(lambda: len(clock_page.evaluate("(k) => byHand[k]", key)) == 3)
    channel.drop()
    channel.wait_for_sockets(0)
    channel.push("while away")
    clock_page.evaluate(connect, [key, channel.url])
    channel.wait_for_sockets(1)
    channel.push("after")
    wait_until(lambda: len(clock_page.evaluate("(k) => byHand[k]", key)) == 4)
    time.sleep(0.3)
    assert clock_page.evaluate("(k) => byHand[k]", key) == [0, 1, 2, "after"]
    clock_page.evaluate("(k) => byHand[k + 'socket'].close()", key)


PYTHON_CLIENT = """
import json
import js
from pypush.browser import push

def record(*items):
    js.window.pyRecord.push(json.dumps(items))

push.ongap = lambda client_id, channel, missed, reason: record(
    "gap", client_id, channel, missed, reason)
push.init(js.window.pyArgs[0], js.window.pyArgs[1], js.window.pyArgs[2], None,
          lambda message, channel, event: record("message", message),
          lambda code, channel, event: js.window.pyErrors.push(code), None, None, True)
"""


def test_P4_the_python_face_learns_of_a_gap_through_push_ongap(clock_page, resume_server):
    client_id = new_id()
    channel = resume_server.channel()
    clock_page.evaluate(
        """([args, code]) => {
            window.pyRecord = []; window.pyErrors = []; window.pyArgs = args;
            return pypush.ready.then((info) => { info[info.interpreter].runPython(code); });
        }""",
        [[client_id, channel.url, channel.name], PYTHON_CLIENT],
    )

    def entries() -> list:
        return [json.loads(item) for item in clock_page.evaluate("window.pyRecord")]

    channel.wait_for_sockets(1)
    clock_page.page.clock.run_for(600)
    channel.push("before")
    wait_until(lambda: len(entries()) == 1, 10, "the first message")
    resume_server.fault("refuse", channel=channel.name)
    channel.drop()
    errors = lambda: clock_page.evaluate("window.pyErrors.length")  # noqa: E731
    wait_until(lambda: errors() == 1, 10, "onerror")
    clock_page.page.clock.run_for(0)  # attempt 1, refused
    wait_until(lambda: errors() == 2, 10, "attempt 1's onerror")
    channel.burst(count=HISTORY + 2, numbered=True)
    resume_server.clear_fault("refuse", channel.name)
    clock_page.page.clock.run_for(reconnect_delay_ms(1))
    wait_until(lambda: len(entries()) == 2 + HISTORY, 15, "the replay")
    got = entries()
    assert got[0] == ["message", "before"]
    assert got[1] == ["gap", client_id, channel.name, 2, "trimmed"]
    assert [entry[1] for entry in got[2:]] == list(range(2, HISTORY + 2))
    clock_page.evaluate("(id) => faces.push.close(id)", client_id)


# -- Connectivity (spec section 4b): offline, online, the page shown again, and a
# server that vanished without a word. The server announces heartbeats every 25 s (its
# default): the client's deadline is 37.5 s of page time.

HEARTBEAT_DEADLINE_MS = heartbeat_deadline_ms(25_000)


def set_network(client: Away, engine: str, online: bool) -> None:
    """Chromium: Playwright's network emulation (navigator.onLine and the events follow).
    WebKit and Firefox: what the browser does when it goes offline, by hand: navigator.onLine
    changes, then the event fires."""
    if engine == "chromium":
        client.page.page.context.set_offline(not online)
        return
    client.page.evaluate(
        """(online) => {
            Object.defineProperty(navigator, "onLine", { configurable: true, get: () => online });
            window.dispatchEvent(new Event(online ? "online" : "offline"));
        }""",
        online,
    )


def sockets_made(client: Away) -> int:
    return client.page.evaluate(
        "(base) => (socketsMade[base] || []).length",
        client.channel.url,
    )


def test_N1_N2_five_minutes_offline_no_attempt_then_online_reconnects_at_once_and_resumes(
    clock_page, resume_server, engine
):
    client = Away(clock_page, resume_server)
    client.first_message()
    set_network(client, engine, False)
    try:
        client.channel.drop()  # the link went with the network
        client.page.wait_for(client.id, "error", 1)
        client.channel.burst(count=5, numbered=True)  # pushed while the client is offline
        clock_page.page.clock.run_for(5 * 60_000)  # five minutes of page time
        time.sleep(0.3)
        assert sockets_made(client) == 1, "an attempt was made offline"
        assert clock_page.kinds(client.id).count("error") == 1  # N1: one onerror, not 25
        assert clock_page.state(client.id) == "offline"
    finally:
        set_network(client, engine, True)
    # N2: at once, without page time moving (the clock is paused): within a real second.
    wait_until(lambda: sockets_made(client) == 2, 1.0, "the reconnect at `online`")
    wait_until(lambda: clock_page.state(client.id) == "open", 10, "open again")
    client.channel.push("live")
    assert client.wait_messages(7) == ["before", *range(5), "live"]
    assert client.urls()[1].endswith(":1")  # it resumed after the one message it had
    kinds = clock_page.kinds(client.id)
    assert kinds.count("error") == 1 and kinds.count("close") == 0 and client.gaps() == []


def test_N1_N2_E8_a_reconnect_waiting_when_the_network_goes_keeps_its_count(
    clock_page, resume_server, engine
):
    """Attempt 2 waits 500 ms when the browser goes offline: it is not made for five minutes,
    then made at `online`; refused, the next waits 1000 ms, as E8 counts on from there."""
    client = Away(clock_page, resume_server)
    client.first_message()
    client.go_away()  # the drop and attempt 1, refused: attempt 2 waits 500 ms
    set_network(client, engine, False)
    try:
        clock_page.page.clock.run_for(5 * 60_000)
        time.sleep(0.3)
        assert sockets_made(client) == 2 and clock_page.state(client.id) == "offline"
    finally:
        set_network(client, engine, True)
    wait_until(lambda: sockets_made(client) == 3, 1.0, "attempt 2 at `online`")
    clock_page.wait_for(client.id, "error", 3)  # refused still
    client.server.clear_fault("refuse", client.channel.name)
    clock_page.page.clock.run_for(reconnect_delay_ms(2) - 1)
    time.sleep(0.3)
    assert sockets_made(client) == 3, "attempt 3 came early: the count was not kept"
    clock_page.page.clock.run_for(1)
    wait_until(lambda: clock_page.state(client.id) == "open", 10, "attempt 3, open")
    client.channel.push("after")
    assert client.wait_messages(2) == ["before", "after"]
    assert clock_page.kinds(client.id).count("error") == 3


def test_N3_a_page_shown_again_reconnects_a_waiting_client_at_once(clock_page, resume_server):
    """``visibilitychange`` to visible, then ``pageshow`` with ``persisted`` (a page restored
    from the back/forward cache): each ends a reconnect's wait at once."""
    client = Away(clock_page, resume_server)
    client.first_message()
    for event in (
        "document.dispatchEvent(new Event('visibilitychange'))",
        "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))",
    ):
        errors = clock_page.kinds(client.id).count("error")
        client.server.fault("refuse", channel=client.channel.name)
        client.channel.drop()
        clock_page.wait_for(client.id, "error", errors + 1)
        clock_page.page.clock.run_for(0)  # attempt 1, refused
        clock_page.wait_for(client.id, "error", errors + 2)
        # Attempt 2 now waits 500 ms of page time, which does not pass.
        client.server.clear_fault("refuse", client.channel.name)
        made = sockets_made(client)
        clock_page.evaluate("() => { %s; }" % event)
        wait_until(
            lambda made=made: sockets_made(client) == made + 1, 1.0, "the reconnect on " + event
        )
        wait_until(lambda: clock_page.state(client.id) == "open", 10, "open again")
        clock_page.page.clock.run_for(600)  # E9: stable
    client.channel.push("after")
    assert client.wait_messages(2) == ["before", "after"]


def pypush_frames(client: Away) -> list[str]:
    return client.page.evaluate("(base) => pypushFrames[base] || []", client.channel.url)


def vanish_and_replace(clock_page, client: Away, message: str, heard_ms_ago: int = 0) -> None:
    """The server goes silent under the client's open socket (which last heard a frame
    ``heard_ms_ago`` of page time ago) and a message is pushed: the socket is found dead at
    the heartbeat deadline, not a millisecond before, and replaced."""
    client.channel.vanish()
    client.channel.push(message)
    made = sockets_made(client)
    errors = clock_page.kinds(client.id).count("error")
    clock_page.page.clock.run_for(HEARTBEAT_DEADLINE_MS - heard_ms_ago - 1)
    time.sleep(0.3)
    assert sockets_made(client) == made and clock_page.state(client.id) == "open"
    clock_page.page.clock.run_for(1)  # the deadline: dead
    # E8: the first attempt after a stable connection is a 0 ms timer; set in the watchdog's
    # own callback, page.clock fires it on the next run of at least a millisecond.
    clock_page.page.clock.run_for(1)
    wait_until(lambda: sockets_made(client) == made + 1, 5, "the replacement socket")
    wait_until(lambda: clock_page.state(client.id) == "open", 10, "open again")
    wait_until(lambda: message in client.messages(), 10, "what was pushed into the void")
    calls = [c for c in clock_page.calls(client.id) if c[0] == "error"]
    assert len(calls) == errors + 1 and calls[-1][1] == 1006


def test_N4_H7_H8_a_server_that_vanished_is_found_dead_at_the_heartbeat_deadline_and_replaced(
    clock_page, resume_server
):
    """A first socket: after its first message with a position the client says hello, and
    the answer announces the heartbeats; the socket that replaces it resumed, and its resume
    frame announces them. Each is found dead at the deadline when the server vanishes."""
    client = Away(clock_page, resume_server)
    client.first_message()
    wait_until(lambda: len(pypush_frames(client)) == 2, 10, "the hello and its answer")
    assert pypush_frames(client) == [
        'sent {"pypush":"hello"}',
        '{"pypush":"hello","heartbeat":25000}',
    ]
    vanish_and_replace(clock_page, client, "while the first socket was silent")
    assert client.urls()[-1].endswith(":1")  # resumed after the one message it had
    clock_page.page.clock.run_for(600)  # E9: stable
    assert pypush_frames(client)[-1].startswith('{"pypush":"resume"')
    assert '"heartbeat":25000' in pypush_frames(client)[-1]
    vanish_and_replace(clock_page, client, "while the second was silent", heard_ms_ago=600)
    assert client.messages() == [
        "before",
        "while the first socket was silent",
        "while the second was silent",
    ]  # nothing lost, nothing twice, no heartbeat or hello among them
    notice = "nothing heard for %d ms" % HEARTBEAT_DEADLINE_MS
    assert sum(notice in line for line in clock_page.console) >= 2
