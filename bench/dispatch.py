"""``python -m bench.dispatch``: one message's cost inside the page, with warm and cold caches.

Why does pypush's CPU per 10 KB message stay above the JavaScript floor's in
``python -m bench``, when its own path per message (one call into Python,
which decides, then the page's onmessage) is short? This takes the network out: each
page's WebSocket (captured through ``window.WebSocket``, which the loader and the
floor both call) gets MessageEvents made here, one per task, as a socket delivers
them, and only the ``onmessage`` call is timed. It runs twice per target:

- **warm**: nothing runs between messages, so the interpreter's code and data stay
  in the CPU's caches;
- **walked**: before each message the page reads a buffer of ``--walk-mb`` MB, one
  read per cache line, as the browser's own work between two network messages
  (reading the socket, decoding 10 KB of UTF-8, dispatching the event) evicts them.

The frames carry positions of their own epoch (``dispatch:1``, ``dispatch:2``, ...),
so pypush's core checks every one as it checks a server's (P1). The figures are
medians over rounds (the first round, a warm-up, left out), all from this one run.
"""

import argparse
import json
import statistics
from typing import Any

from playwright.sync_api import sync_playwright

from bench.__main__ import MEMORY_ARGS
from bench.pages import pages
from bench.payloads import large_message, small_message
from pypush_server.testing import PushTestServer
from pypush_server.testing.pytest_plugin import CHROMIUM_ARGS, find_chromium

TARGETS = ("js-floor", "pypush-micropython", "pypush-pyodide")

# Before the page's own scripts: every socket the page makes is kept in window.sockets.
CAPTURE_JS = """<script>
  (function () {
    const Native = WebSocket;
    window.sockets = [];
    function Capturing(url, protocols) {
      const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
      sockets.push(ws);
      return ws;
    }
    Capturing.prototype = Native.prototype;
    for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Capturing[name] = Native[name];
    window.WebSocket = Capturing;
  })();
</script>
"""

# One round: the frames as MessageEvents, each handed to the socket's onmessage in a task
# of its own (a MessageChannel message), after walking the buffer when there is one.
ROUND_JS = """async ([frames, first, walkInts]) => {
  const ws = sockets[0];
  const events = frames.map((frame, i) =>
    new MessageEvent("message", { data: frame.replace("@ID@", "dispatch:" + (first + i)) }));
  if (walkInts && (!window.walkBuffer || walkBuffer.length !== walkInts)) {
    window.walkBuffer = new Int32Array(walkInts).map((_, i) => i);
  }
  const buffer = walkInts ? walkBuffer : null;
  let inHandler = 0, sink = 0;
  await new Promise((done) => {
    const channel = new MessageChannel();
    let i = 0;
    channel.port1.onmessage = () => {
      if (buffer) for (let j = 0; j < buffer.length; j += 16) sink += buffer[j];
      const started = performance.now();
      ws.onmessage(events[i]);
      inHandler += performance.now() - started;
      if (++i === events.length) { channel.port1.close(); done(); }
    };
    for (let k = 0; k < events.length; k++) channel.port2.postMessage(k);
  });
  window.walkSink = sink;
  return inHandler * 1000 / events.length;
}"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--messages", type=int, default=500, help="messages per round (500)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per target (10)")
    parser.add_argument("--walk-mb", type=float, default=8.0, help="buffer walked (8 MB)")
    parser.add_argument("--small", action="store_true", help="100 B messages, not 10 KB objects")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rounds < 2:
        parser.error("at least one message and two rounds")
    return args


def frames_of(args: argparse.Namespace) -> list[str]:
    make = small_message if args.small else large_message
    return [json.dumps({"data": make(n), "id": "@ID@"}) for n in range(args.messages)]


def measure(page: Any, frames: list[str], rounds: int, walk_ints: int, first: int) -> list[float]:
    """µs per onmessage call, one figure per round; ``first`` is the first offset used."""
    figures = []
    for _ in range(rounds):
        page.evaluate("received = 0")
        figures.append(page.evaluate(ROUND_JS, [frames, first, walk_ints]))
        first += len(frames)
        received = page.evaluate("received")
        if received != len(frames):
            raise AssertionError("%d of %d messages reached the handler" % (received, len(frames)))
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    frames = frames_of(args)
    walk_ints = int(args.walk_mb * 1024 * 1024 / 4)
    executable = find_chromium()
    results: dict[str, dict[str, float]] = {}
    with PushTestServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *MEMORY_ARGS]
        )
        for name in TARGETS:
            channel = server.channel("dispatch")
            html = pages(channel.url, server.assets_url)[name]
            if "<body>\n" not in html:
                raise RuntimeError("no <body> in the %s page to capture its socket before" % name)
            html = html.replace("<body>\n", "<body>\n" + CAPTURE_JS, 1)
            context = browser.new_context()
            try:
                page = context.new_page()
                page.goto(server.add_page("dispatch-%s.html" % name, html))
                page.wait_for_function("window.readyAt !== undefined", timeout=90_000)
                warm = measure(page, frames, args.rounds, 0, 1)
                walked = measure(
                    page, frames, args.rounds, walk_ints, 1 + args.rounds * len(frames)
                )
            finally:
                context.close()
            results[name] = {
                "warm": statistics.median(warm[1:]),
                "walked": statistics.median(walked[1:]),
            }
            print(
                "%-20s warm %6.1f µs/msg   walked %6.1f µs/msg"
                % (name, results[name]["warm"], results[name]["walked"]),
                flush=True,
            )
        browser.close()
    floor = results["js-floor"]
    kind = "100 B" if args.small else "10 KB"
    print("\nonmessage per %s message, against the JavaScript floor:" % kind)
    for name in TARGETS[1:]:
        figures = results[name]
        print(
            "%-20s warm %+6.1f µs (%.2f x)   walked %+6.1f µs (%.2f x)"
            % (
                name,
                figures["warm"] - floor["warm"],
                figures["warm"] / floor["warm"],
                figures["walked"] - floor["walked"],
                figures["walked"] / floor["walked"],
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
