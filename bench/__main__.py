"""``python -m bench``: pypush in Chromium against its JavaScript and Python floors.

Measures, in headless Chromium against the real push server (the aiohttp
application of ``serve.py``, in-process), each figure the median of ``--runs``
runs with min and max:

- ready time, cold (new browser context) and warm (second visit, HTTP cache in
  place): navigation start to the first onopen, or to the interpreter being
  loaded for the bare boots;
- bursts of ``--messages`` messages of ~100 B and ``--large-messages`` JSON
  objects of ~10 KB: messages per second and main-thread CPU per message;
- latency of ``--probes`` sparse messages, p50 and p99, server send to the
  page's handler, on one clock;
- JS heap after ``gc()`` (idle and after the bursts) and WebAssembly memory.

Targets: the plain JavaScript page (JavaScript floor), and per interpreter the
bare boot, the simplest Python ``onmessage`` (Python floor) and pypush. Runs
are interleaved (run 1 of every target, then run 2, ...; the order rotates)
so ratios compare runs measured close together. Writes ``results.json``,
``results.md`` and ``chart.png`` into ``--out``.
"""

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.analysis import comparisons, summaries
from bench.chart import draw
from bench.echo import EchoServer
from bench.machine import describe, load_average
from bench.measure import Runner, Workload
from bench.network import NETWORK_TARGETS, PROFILE_4G
from bench.pages import INTERPRETERS, pages
from bench.payloads import frame_bytes, large_message, small_message
from bench.report import markdown
from pypush_server.testing import PushTestServer
from pypush_server.testing.pytest_plugin import CHROMIUM_ARGS, find_chromium
from pypush_server.testing.server import testing_config

# Precise (unquantised) performance.memory, and gc() for the page.
MEMORY_ARGS = ("--enable-precise-memory-info", "--js-flags=--expose-gc")
DEFAULTS = {
    "runs": 5,
    "messages": 20_000,
    "large_messages": 2_000,
    "probes": 200,
    "network_runs": 3,
}
QUICK = {"runs": 1, "messages": 2_000, "large_messages": 200, "probes": 50, "network_runs": 1}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0].split(": ", 1)[1]
    )
    parser.add_argument("--runs", type=int, help="runs per target (default 5)")
    parser.add_argument("--messages", type=int, help="messages in the 100 B burst (20000)")
    parser.add_argument(
        "--large-messages", type=int, help="objects in the 10 KB burst (default 2000)"
    )
    parser.add_argument("--probes", type=int, help="sparse latency messages (default 200)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="results folder")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help="targets to run: names (js-floor, bare-pyodide, py-floor-micropython, "
        "pypush-pyodide, ...) or an interpreter (pyodide, micropython) for its three",
    )
    parser.add_argument(
        "--network-runs",
        type=int,
        help="runs of start-up on the 4G profile (bench.network) per target (default 3, 0: none)",
    )
    parser.add_argument(
        "--heapsizes",
        metavar="SIZE[,SIZE]",
        type=_sizes,
        default=(),
        help="also measure pypush on MicroPython with these initial heaps (e.g. 512K,2M,16M)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 run, 2000/200 messages, 50 probes (explicit options still win)",
    )
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if min(args.messages, args.large_messages, args.probes) < 2:
        parser.error("every message count must be at least 2")
    return args


def _sizes(text: str) -> tuple[int, ...]:
    units = {"K": 1024, "M": 1024 * 1024}
    try:
        return tuple(
            int(word[:-1]) * units[word[-1].upper()] if word[-1].upper() in units else int(word)
            for word in text.split(",")
            if word
        )
    except (ValueError, IndexError) as exc:
        raise argparse.ArgumentTypeError("sizes like 512K,2M,16M: %s" % exc) from exc


def select(names: list[str], only: str | None) -> list[str]:
    """The targets ``--only`` names, in report order (all of them without it)."""
    if not only:
        return names
    wanted = [word.strip() for word in only.split(",") if word.strip()]
    unknown = [w for w in wanted if w not in names and w not in INTERPRETERS]
    if unknown:
        raise SystemExit("unknown target %s; known: %s" % (unknown, ", ".join(names)))
    return [
        n
        for n in names
        if n in wanted or any(n.startswith(w + "-") or ("-" + w) in n for w in wanted)
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_at_start = load_average()
    workload = Workload(
        small=[small_message(n) for n in range(args.messages)],
        large=[large_message(n) for n in range(args.large_messages)],
        probes=args.probes,
    )
    executable = find_chromium()
    failures: list[dict] = []
    # A burst is pushed at once (2,000 x 10 KB: 20 MB): the server's slow-client bound
    # (8 MiB or 30 s behind, then 1013) would cut a page that a loaded machine slows,
    # and the bench measures the client, not that policy.
    config = testing_config(send_queue_bytes=1024 * 1024 * 1024, send_queue_seconds=600.0)
    with (
        PushTestServer(config) as server,
        EchoServer() as echo,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *MEMORY_ARGS]
        )
        channel = server.channel("bench")
        all_pages = pages(channel.url, server.assets_url, args.heapsizes)
        names = select(list(all_pages), args.only)
        urls = {name: server.add_page(name + ".html", all_pages[name]) for name in names}
        runner = Runner(browser, server, channel, echo, workload)
        runs: dict[str, list] = {name: [None] * args.runs for name in names}
        for run in range(args.runs):
            shift = run % len(names)
            for name in names[shift:] + names[:shift]:
                began = time.monotonic()
                try:
                    runs[name][run] = runner.run(name, urls[name])
                except Exception as exc:  # record it, keep the other targets' runs
                    traceback.print_exc()
                    failures.append({"target": name, "run": run + 1, "error": repr(exc)})
                print(
                    "run %d/%d %-22s %5.1f s %s"
                    % (
                        run + 1,
                        args.runs,
                        name,
                        time.monotonic() - began,
                        json.dumps({k: round(v, 2) for k, v in (runs[name][run] or {}).items()}),
                    ),
                    flush=True,
                )
        network_names = [n for n in names if n in NETWORK_TARGETS]
        for run in range(min(args.network_runs, args.runs)):
            shift = run % max(len(network_names), 1)
            for name in network_names[shift:] + network_names[:shift]:
                began = time.monotonic()
                try:
                    figures = runner.run_network(name, urls[name])
                except Exception as exc:  # record it, keep the other targets' runs
                    traceback.print_exc()
                    failures.append({"target": name, "run": run + 1, "error": repr(exc)})
                    continue
                if runs[name][run] is not None:
                    runs[name][run].update(figures)
                print(
                    "4G  %d/%d %-22s %5.1f s %s"
                    % (
                        run + 1,
                        args.network_runs,
                        name,
                        time.monotonic() - began,
                        json.dumps({k: round(v, 1) for k, v in figures.items()}),
                    ),
                    flush=True,
                )
        machine = describe(browser.version, executable, load_at_start)
        browser.close()
    report = {
        "machine": machine,
        "config": {
            "runs": args.runs,
            "small_messages": args.messages,
            "small_frame_bytes": frame_bytes(workload.small),
            "large_messages": args.large_messages,
            "large_frame_bytes": frame_bytes(workload.large),
            "probes": args.probes,
            "network_runs": min(args.network_runs, args.runs),
            "network_profile": PROFILE_4G,
            "probe_spacing_ms": [s * 1000 for s in workload.spacing_s],
            "chromium_args": [*CHROMIUM_ARGS, *MEMORY_ARGS],
        },
        "seconds": time.monotonic() - started,
        "results": summaries(runs),
        "comparisons": comparisons(runs),
        "failures": failures,
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    text = markdown(report)
    (args.out / "results.md").write_text(text)
    draw(
        report["results"],
        args.out / "chart.png",
        "pypush bench: median of %d runs, bars min-max; %s, %s cores, Chromium %s, %s"
        % (args.runs, machine["cpu"], machine["cores"], machine["chromium"], machine["date"]),
    )
    print(text)
    print("wrote %s in %.0f s" % (args.out, report["seconds"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
