"""R1: 1,000 open/close cycles and 20,000 messages leave no live proxies and no heap growth.

Runs in its own Chromium with ``--enable-precise-memory-info`` (exact heap
figures) and ``--js-flags=--expose-gc`` (a real ``gc()`` before each reading).
"""

import time

import pytest

from tests.browser.conftest import PushPage, launch_chromium
from tests.support import wait_until

CYCLES = 1_000
MESSAGES = 20_000
HEAP_GROWTH_BOUND = 2 * 1024 * 1024  # bytes, after gc(): noise is well under this

# Chromium only: exact heap figures (performance.memory with --enable-precise-memory-info)
# and a real gc() (--js-flags=--expose-gc) exist in Chromium alone; WebKit has neither.
pytestmark = pytest.mark.chromium_only


@pytest.fixture(scope="module")
def measured_page(playwright, server, interpreter, engine):
    browser = launch_chromium(playwright, "--enable-precise-memory-info", "--js-flags=--expose-gc")
    yield PushPage(browser.new_page(), server, interpreter).open_harness()
    browser.close()


def heap_after_gc(push_page: PushPage) -> int:
    return push_page.evaluate("() => { gc(); gc(); return performance.memory.usedJSHeapSize; }")


def settled_live_proxies(push_page: PushPage, capsys, within_s: float = 5.0) -> int:
    """pypush's live proxies once they stop falling, for at most ``within_s``.

    Seen once in about thirty runs of this file (Chromium, Pyodide, and once in a
    fresh-clone run on MicroPython): five live proxies, one socket's handlers, read just
    as the client went idle. A socket the core gave up on (E10) is released only when
    its own close event comes, which may follow the client's onclose; what that socket
    was has not been caught. A proxy released a moment later is no leak; one still live
    after the wait is, and fails the test. The wait, when there is one, is printed.
    """
    live = push_page.evaluate("pypush.liveProxies()")
    seen, deadline = [live], time.monotonic() + within_s
    while live and time.monotonic() < deadline:
        time.sleep(0.1)
        live = push_page.evaluate("pypush.liveProxies()")
        seen.append(live)
    if len(seen) > 1:
        with capsys.disabled():
            print("\nR1: live proxies after the client went idle, every 0.1 s: %s" % seen)
    return live


def test_R1_cycles_and_messages_leak_no_proxies_and_no_heap(measured_page, server, capsys):
    channel = server.channel()
    measured_page.evaluate(
        """([url, ch]) => {
            window.resources = { opened: 0, closed: 0, received: 0, last: -1, disorder: 0 };
            faces.push.init('res', url, ch,
                () => resources.opened++,
                (n) => { if (n !== resources.last + 1) resources.disorder++;
                         resources.last = n; resources.received++; },
                null, () => resources.closed++, null, false);
        }""",
        [channel.url, channel.name],
    )
    # Warm up once, so that first-use allocations are not counted as growth.
    cycle_js = """async (count) => {
        const until = (test) => new Promise((resolve) => {
            const poll = () => test() ? resolve() : setTimeout(poll, 0);
            poll();
        });
        for (let i = 0; i < count; i++) {
            const closed = resources.closed;
            faces.push.init('res', 'ignored: the first init wins', 'x', null, null, null, null,
                            null, true);
            await until(() => pypush.state('res') === 'open');
            faces.push.close('res');
            await until(() => resources.closed > closed);
        }
    }"""
    measured_page.evaluate(cycle_js, 5)
    proxies_before = measured_page.evaluate("pypush.liveProxies()")
    heap_before = heap_after_gc(measured_page)

    measured_page.evaluate(cycle_js, CYCLES)
    assert measured_page.evaluate("resources.closed") == CYCLES + 5

    measured_page.evaluate("faces.push.open('res')")
    wait_until(lambda: measured_page.state("res") == "open")
    channel.wait_for_sockets(1)
    assert channel.burst(count=MESSAGES, numbered=True)["delivered"] == MESSAGES
    wait_until(lambda: measured_page.evaluate("resources.received") == MESSAGES, 60, "messages")
    measured_page.evaluate("faces.push.close('res')")
    wait_until(lambda: measured_page.state("res") == "idle")

    proxies_after = settled_live_proxies(measured_page, capsys)
    heap_after = heap_after_gc(measured_page)
    with capsys.disabled():
        print(
            "\nR1: %d cycles + %d messages: live proxies %d -> %d, JS heap %.2f -> %.2f MB"
            " (growth %+.3f MB, bound %.1f MB)"
            % (
                CYCLES,
                MESSAGES,
                proxies_before,
                proxies_after,
                heap_before / 2**20,
                heap_after / 2**20,
                (heap_after - heap_before) / 2**20,
                HEAP_GROWTH_BOUND / 2**20,
            )
        )
    assert measured_page.evaluate("resources.disorder") == 0
    assert proxies_after == proxies_before == 0
    assert heap_after - heap_before < HEAP_GROWTH_BOUND


BAD_FRAMES = 40
BAD_FRAME_CHARS = 256 * 1024  # 10 MB of frames in all, each kept alive by its event


def test_R1_events_handed_to_python_are_freed_bad_frames_included(
    measured_page, server, page_errors
):
    """A frame that is not a push message reaches Python with its event (E6: reported,
    skipped), and the event holds the frame: nothing of the 10 MB may stay. On MicroPython
    the event's proxy lives until its collector runs; the glue collects after every
    megabyte of frames whose event Python was handed (here the growth was 0.28 MB
    without that, -0.13 MB with it), and never for messages Python left in JavaScript."""
    page_errors.allow("skipped a frame")
    channel = server.channel()
    measured_page.evaluate(
        """([url, ch]) => {
            window.badFrames = { messages: 0, closes: 0 };
            faces.push.init('bad-frames', url, ch, null, () => badFrames.messages++,
                            null, () => badFrames.closes++, null, true);
        }""",
        [channel.url, channel.name],
    )
    wait_until(lambda: measured_page.state("bad-frames") == "open")
    channel.wait_for_sockets(1)
    heap_before = heap_after_gc(measured_page)
    for n in range(BAD_FRAMES):
        assert channel.push_raw("%d " % n + "x" * BAD_FRAME_CHARS) == 1
    assert channel.push("after") == 1  # frames keep their order: all the bad ones came first
    wait_until(lambda: measured_page.evaluate("badFrames.messages") == 1, 30, "the message")
    heap_after = heap_after_gc(measured_page)
    assert measured_page.evaluate("badFrames.closes") == 0
    assert measured_page.state("bad-frames") == "open"
    # Kept until the end, the 40 frames would be 10 MB; at most a megabyte of them waits.
    assert heap_after - heap_before < HEAP_GROWTH_BOUND
    measured_page.evaluate("faces.push.close('bad-frames')")
