"""From raw runs to the issue's figures: per-target summaries and the target checks.

Every comparison is computed within a run (run *i* of pypush against run *i*
of its floor, measured minutes apart in the same browser) and only then
summarised over runs, so slow drift of the machine does not leak into ratios.
"""

from collections.abc import Callable

from bench.pages import INTERPRETERS
from bench.stats import summary

Run = dict[str, float] | None  # None: that run failed (its error is in the report)

WARM_LIMIT = 0.80
""""Warm clearly faster than cold", made concrete: warm/cold at most 0.80."""

DEFAULT_PATH = "pypush-micropython"
"""What a page gets from faces-push.js without data-interpreter (spec S8)."""


def summaries(runs: dict[str, list[Run]]) -> dict[str, dict[str, dict]]:
    """Median, min and max of every figure of every target, over its successful runs."""
    result = {}
    for name, target_runs in runs.items():
        good = [run for run in target_runs if run]
        keys = dict.fromkeys(key for run in good for key in run)
        result[name] = {key: summary([run[key] for run in good if key in run]) for key in keys}
    return result


def _paired(
    runs: dict[str, list[Run]],
    a: str,
    b: str,
    combine: Callable[[dict, dict], float],
) -> list[float]:
    if a not in runs or b not in runs:
        return []
    values = [combine(x, y) for x, y in zip(runs[a], runs[b], strict=True) if x and y]
    return [value for value in values if value is not None]


def _single(runs: dict[str, list[Run]], a: str, key: str) -> list[float]:
    return [run[key] for run in runs.get(a, []) if run and key in run]


def _ratio(key: str) -> Callable[[dict, dict], float | None]:
    """x/y of ``key`` in a pair of runs; None when a run lacks it (the 4G phase has fewer)."""
    return lambda x, y: x[key] / y[key] if key in x and key in y else None


def _difference(key: str) -> Callable[[dict, dict], float | None]:
    return lambda x, y: x[key] - y[key] if key in x and key in y else None


def startup_and_cost(runs: dict[str, list[Run]]) -> list[tuple]:
    """The benchmark's targets: start-up on a real link, CPU per message, memory."""
    default = DEFAULT_PATH
    rows = [
        (
            "4G ready cold, default path (MicroPython) / JS floor",
            "x",
            2.6,
            _paired(runs, default, "js-floor", _ratio("ready_4g_cold_ms")),
        ),
        (
            "4G ready warm, default path (MicroPython) / JS floor",
            "x",
            1.2,
            _paired(runs, default, "js-floor", _ratio("ready_4g_warm_ms")),
        ),
        (
            "JS heap + WebAssembly memory after the bursts, default path",
            "MB",
            5.0,
            [
                r["heap_after_large_mb"] + r["wasm_after_mb"]
                for r in runs.get(default, [])
                if r and "wasm_after_mb" in r
            ],
        ),
        (
            "ready cold, pypush / bare boot, pyodide",
            "x",
            0.5,
            _paired(runs, "pypush-pyodide", "bare-pyodide", _ratio("ready_cold_ms")),
        ),
        (
            "4G ready cold, pypush / bare boot, pyodide",
            "x",
            None,
            _paired(runs, "pypush-pyodide", "bare-pyodide", _ratio("ready_4g_cold_ms")),
        ),
        (
            "4G ready warm, pypush / bare boot, pyodide",
            "x",
            None,
            _paired(runs, "pypush-pyodide", "bare-pyodide", _ratio("ready_4g_warm_ms")),
        ),
    ]
    for interpreter in INTERPRETERS:
        pypush = "pypush-" + interpreter
        for label, size, limit in (("small", "100 B", 1.4), ("large", "10 KB", 1.15)):
            rows += [
                (
                    "CPU/msg (thread CPU) %s, pypush / JS floor, %s" % (size, interpreter),
                    "x",
                    limit,
                    _paired(runs, pypush, "js-floor", _ratio(label + "_cpu_us")),
                ),
                (
                    "CPU/msg (Task) %s, pypush / JS floor, %s" % (size, interpreter),
                    "x",
                    None,
                    _paired(runs, pypush, "js-floor", _ratio(label + "_task_us")),
                ),
            ]
    return [row for row in rows if row[3]]


def comparisons(runs: dict[str, list[Run]]) -> list[dict]:
    """The issue's targets (with a limit) and the context figures beside them (limit None)."""
    rows: list[tuple[str, str, float | None, list[float]]] = startup_and_cost(runs)
    for interpreter in INTERPRETERS:
        pypush, floor, bare = ("%s-%s" % (k, interpreter) for k in ("pypush", "py-floor", "bare"))
        rows += [
            (
                "ready cold, pypush / bare boot, " + interpreter,
                "x",
                1.10,
                # Pyodide's target is 0.5 now (startup_and_cost), shown once there.
                _paired(runs, pypush, bare, _ratio("ready_cold_ms"))
                if interpreter == "micropython"
                else [],
            ),
            (
                "ready warm / cold, pypush, " + interpreter,
                "x",
                WARM_LIMIT,
                [r["ready_warm_ms"] / r["ready_cold_ms"] for r in runs.get(pypush, []) if r],
            ),
            (
                "ready cold, pypush / JS floor, " + interpreter,
                "x",
                None,
                _paired(runs, pypush, "js-floor", _ratio("ready_cold_ms")),
            ),
            (
                "ready warm, pypush / bare boot, " + interpreter,
                "x",
                None,
                _paired(runs, pypush, bare, _ratio("ready_warm_ms")),
            ),
        ]
        for label, size in (("small", "100 B"), ("large", "10 KB")):
            rows += [
                (
                    "CPU/msg (thread CPU) %s, pypush / Python floor, %s" % (size, interpreter),
                    "x",
                    1.25,
                    _paired(runs, pypush, floor, _ratio(label + "_cpu_us")),
                ),
                (
                    "CPU/msg (Task) %s, pypush / Python floor, %s" % (size, interpreter),
                    "x",
                    None,
                    _paired(runs, pypush, floor, _ratio(label + "_task_us")),
                ),
                (
                    "CPU/msg (Script) %s, pypush / Python floor, %s" % (size, interpreter),
                    "x",
                    None,
                    _paired(runs, pypush, floor, _ratio(label + "_script_us")),
                ),
            ]
        rows += [
            (
                "latency p99 overhead, pypush - JS floor, " + interpreter,
                "ms",
                1.0,
                _paired(runs, pypush, "js-floor", _difference("latency_p99_ms")),
            ),
            (
                "latency p50 overhead, pypush - JS floor, " + interpreter,
                "ms",
                None,
                _paired(runs, pypush, "js-floor", _difference("latency_p50_ms")),
            ),
            (
                "in-task p99 overhead, pypush - JS floor, " + interpreter,
                "ms",
                None,
                _paired(runs, pypush, "js-floor", _difference("in_task_p99_ms")),
            ),
            (
                "JS heap after bursts - idle, pypush, " + interpreter,
                "MB",
                5.0,
                _single(runs, pypush, "heap_delta_mb"),
            ),
        ]
    for name, target_runs in runs.items():
        if not name.startswith("pypush-"):
            warm_cold = [r["ready_warm_ms"] / r["ready_cold_ms"] for r in target_runs if r]
            rows.append(("ready warm / cold, " + name, "x", None, warm_cold))
    result = []
    for label, unit, limit, values in rows:
        if not values:
            continue  # a target of the pair was not run (--only)
        row: dict = {"label": label, "unit": unit, "limit": limit, "runs": values}
        row.update(summary(values))
        if limit is not None:
            row["verdict"] = "PASS" if row["median"] <= limit else "MISS"
        result.append(row)
    return result
