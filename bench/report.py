"""The Markdown report: one table per measurement, then the targets with PASS or MISS.

Each cell is ``median (min-max)`` over the runs, so the spread is always beside
the figure it qualifies.
"""

from bench.pages import connects

DASH = "-"
LABELS = {
    "pypush-micropython": "pypush-micropython (the default)",
    "pypush-pyodide": "pypush-pyodide (data-interpreter=pyodide; the default before)",
}


def label(name: str) -> str:
    """A target's name in the tables: the default path and the former one say so."""
    return LABELS.get(name, name)


def cell(figure: dict | None, digits: int = 1) -> str:
    """``median (min-max)``, or a dash when the target has no such figure."""
    if not figure:
        return DASH
    return "%.*f (%.*f-%.*f)" % (
        digits,
        figure["median"],
        digits,
        figure["min"],
        digits,
        figure["max"],
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _ready_rows(results: dict, names: list[str], link: str) -> list[list[str]]:
    """Cold, warm and pypush.ready per target; ``link``: "" (loopback) or "4g_"."""
    return [
        [
            label(n),
            cell(results[n].get("ready_%scold_ms" % link), 0),
            cell(results[n].get("ready_%swarm_ms" % link), 0),
            cell(results[n].get("live_%scold_ms" % link), 0),
        ]
        for n in names
    ]


def markdown(report: dict) -> str:
    """The whole results.md."""
    results: dict[str, dict] = report["results"]
    config = report["config"]
    names = list(results)
    sockets = [name for name in names if connects(name)]
    lines = ["# pypush benchmark", ""]
    machine = report["machine"]
    lines += [
        "%s; %s, %s cores; Chromium %s; Python %s; Pyodide %s; MicroPython %s; %s."
        % (
            machine["platform"],
            machine["cpu"],
            machine["cores"],
            machine["chromium"],
            machine["python"],
            machine["pyodide"],
            machine["micropython"],
            machine["date"],
        ),
        "",
        "Load average (1/5/15 min) at start %s, at end %s."
        % (machine["load_average_start"], machine["load_average_end"]),
        "",
        "Every cell: median (min-max) of %d runs; ratios and differences are taken within"
        " each run, then summarised. Wall time %.0f s." % (config["runs"], report["seconds"]),
        "",
        "## Ready time (ms, navigation start to first onopen; bare: interpreter loaded)",
        "",
        "Warm: the same tab navigated to the same URL again, HTTP cache in place."
        " pypush.ready: when the loader's promise resolved (interpreter booted, package"
        " loaded, init replayed, socket created), i.e. before the WebSocket handshake.",
        "",
    ]
    lines += _table(
        ["target", "cold (new context)", "warm (same tab, cached)", "cold: pypush.ready"],
        _ready_rows(results, names, ""),
    )
    network = [n for n in names if results[n].get("ready_4g_cold_ms")]
    if network:
        profile = config.get("network_profile") or {}
        lines += [
            "## Ready time on a real link (ms): %d ms round trip, %.1f Mbit/s down, %.0f kbit/s up"
            % (
                profile.get("latency", 0),
                profile.get("downloadThroughput", 0) * 8 / 1e6,
                profile.get("uploadThroughput", 0) * 8 / 1e3,
            ),
            "",
            "Chromium's network emulation (Lighthouse's mobile throttling), every file sent"
            " compressed; median (min-max) of %d runs." % config.get("network_runs", 0),
            "",
        ]
        lines += _table(
            ["target", "cold", "warm", "cold: pypush.ready"],
            _ready_rows(results, network, "4g_"),
        )
        phases = ("loader", "glue", "package", "runtime", "python", "live")
        timed = [n for n in network if results[n].get("phase_4g_loader_ms")]
        if timed:
            lines += [
                "Where a cold start on that link goes: the loader's performance marks"
                " (ms since navigation start; loader: its script runs; glue, package,"
                " runtime: each downloaded and ready; python: pypush imported; live: the"
                " page's calls replayed), then the first onopen.",
                "",
            ]
            lines += _table(
                ["target", *phases, "first onopen"],
                [
                    [
                        label(n),
                        *(cell(results[n].get("phase_4g_%s_ms" % p), 0) for p in phases),
                        cell(results[n].get("ready_4g_cold_ms"), 0),
                    ]
                    for n in timed
                ],
            )
    lines += [
        "## Burst (%d x %.0f B, then %d x %.0f B JSON objects)"
        % (
            config["small_messages"],
            config["small_frame_bytes"],
            config["large_messages"],
            config["large_frame_bytes"],
        ),
        "",
        "msgs/s: first to last arrival at the handler. CPU: renderer main thread per message,"
        " in us: thread CPU (the time it ran on a core, Linux schedstat), and"
        " Performance.getMetrics TaskDuration (all tasks, wall time: it also counts the time a"
        " task waited for a core held by another process) and ScriptDuration (script only).",
        "",
    ]
    lines += _table(
        [
            "target",
            "100 B msgs/s",
            "100 B CPU us/msg",
            "100 B Task us/msg",
            "100 B Script us/msg",
            "10 KB msgs/s",
            "10 KB CPU us/msg",
            "10 KB Task us/msg",
            "10 KB Script us/msg",
        ],
        [
            [
                label(n),
                cell(results[n].get("small_msgs_per_s"), 0),
                cell(results[n].get("small_cpu_us")),
                cell(results[n].get("small_task_us")),
                cell(results[n].get("small_script_us")),
                cell(results[n].get("large_msgs_per_s"), 0),
                cell(results[n].get("large_cpu_us")),
                cell(results[n].get("large_task_us")),
                cell(results[n].get("large_script_us")),
            ]
            for n in sockets
        ],
    )
    lines += [
        "## Latency (ms, %d probes every 20-30 ms)" % config["probes"],
        "",
        "From handing a probe to the push server to the arrival of the handler's echo (a second"
        " plain WebSocket), both stamped with the bench's perf_counter: one clock. The echo's way"
        " back is the same JavaScript for every target. In-task: MessageEvent creation to the"
        " handler (performance.now - event.timeStamp, 0.1 ms resolution), free of network and"
        " scheduling noise.",
        "",
    ]
    lines += _table(
        ["target", "p50", "p99", "max", "in-task p50", "in-task p99"],
        [
            [
                label(n),
                cell(results[n].get("latency_p50_ms"), 2),
                cell(results[n].get("latency_p99_ms"), 2),
                cell(results[n].get("latency_max_ms"), 2),
                cell(results[n].get("in_task_p50_ms"), 2),
                cell(results[n].get("in_task_p99_ms"), 2),
            ]
            for n in sockets
        ],
    )
    lines += [
        "## Memory (MB = 10^6 bytes; JS heap = usedJSHeapSize after gc())",
        "",
    ]
    lines += _table(
        [
            "target",
            "heap idle",
            "heap after 100 B burst",
            "heap after both bursts",
            "heap delta (both - idle)",
            "heap at end",
            "at end after Python gc.collect()",
            "wasm idle",
            "wasm after bursts",
        ],
        [
            [
                label(n),
                cell(results[n].get("heap_idle_mb"), 2),
                cell(results[n].get("heap_after_small_mb"), 2),
                cell(results[n].get("heap_after_large_mb"), 2),
                cell(results[n].get("heap_delta_mb"), 2),
                cell(results[n].get("heap_end_mb"), 2),
                cell(results[n].get("heap_end_python_gc_mb"), 2) if n != "js-floor" else DASH,
                cell(results[n].get("wasm_idle_mb"), 1) if n != "js-floor" else DASH,
                cell(results[n].get("wasm_after_mb"), 1) if n != "js-floor" else DASH,
            ]
            for n in names
        ],
    )
    checks = [c for c in report["comparisons"] if c["limit"] is not None]
    context = [c for c in report["comparisons"] if c["limit"] is None]
    lines += ["## Targets", ""]
    lines += _table(
        ["target", "measured", "limit", "verdict"],
        [
            [
                c["label"],
                cell(c, 2) + " " + c["unit"],
                "<= %g %s" % (c["limit"], c["unit"]),
                c["verdict"],
            ]
            for c in checks
        ],
    )
    lines += ["## Other comparisons (same-run ratios and differences)", ""]
    lines += _table(
        ["comparison", "measured"],
        [[c["label"], cell(c, 2) + " " + c["unit"]] for c in context],
    )
    if report["failures"]:
        lines += ["## Failed runs", ""]
        lines += [
            "- %s run %d: %s" % (f["target"], f["run"], f["error"]) for f in report["failures"]
        ]
        lines.append("")
    return "\n".join(lines)
