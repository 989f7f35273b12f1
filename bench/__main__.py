"""``python -m bench``: ready time and CPU per message, pypush against its floors.

A first cut of issue 5's suite (latency, memory, warm visits and the chart are
still to come). In headless Chromium against the in-process push server it
measures, each as the median of ``--runs`` runs with min and max:

- ready: navigation start to the first ``onopen`` (pypush), or to the
  interpreter being loaded (bare boot), in a new browser context (cold);
- burst: ``--messages`` messages of about 100 bytes pushed as fast as the
  server can to one client: messages per second and main-thread CPU time per
  message (Chrome's ``TaskDuration`` from ``Performance.getMetrics``).

Targets: the plain JavaScript page (the JavaScript floor), and per interpreter
the simplest Python ``onmessage`` (the Python floor) and pypush. Results go to
``bench-results/`` as JSON and a Markdown table.
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from pypush_server.pytest_plugin import CHROMIUM_ARGS, CHROMIUM_NAMES
from pypush_server.testing import PushTestServer

INTERPRETERS = ("pyodide", "micropython")
COUNTER_JS = """
<script>
  window.received = 0; window.firstAt = 0; window.lastAt = 0;
  window.handler = function (message) {
    if (!received) firstAt = performance.now();
    received++; lastAt = performance.now();
  };
  window.opened = function () { window.readyAt = performance.now(); };
</script>"""

# The bare interpreter: booted straight from the bundle, nothing else.
BOOT = {
    "pyodide": "const { loadPyodide } = await import('/pypush/pyodide/pyodide.mjs');"
    " const py = await loadPyodide({ indexURL: '/pypush/pyodide/' });",
    "micropython": "const { loadMicroPython } ="
    " await import('/pypush/micropython/micropython.mjs');"
    " const py = await loadMicroPython({ heapsize: 16 * 1024 * 1024 });",
}
# The Python floor: the simplest onmessage that parses and calls the handler.
FLOOR_PYTHON = {
    "pyodide": "from pyodide.ffi import create_proxy",
    "micropython": "from jsffi import create_proxy",
}


def pages(url: str) -> dict[str, str]:
    """Every target page, by name."""
    result = {
        "js-floor": COUNTER_JS
        + """<script>
            const ws = new WebSocket(%s);
            ws.onopen = opened;
            ws.onmessage = (event) => handler(JSON.parse(event.data).data);
        </script>"""
        % json.dumps(url),
    }
    for interpreter in INTERPRETERS:
        result["bare-" + interpreter] = (
            COUNTER_JS
            + """<script type="module">
            %s window.readyAt = performance.now();
        </script>"""
            % BOOT[interpreter]
        )
        result["py-floor-" + interpreter] = (
            COUNTER_JS
            + """<script type="module">
            %s
            py.runPython(`
import js
%s
def onmessage(event):
    js.handler(js.JSON.parse(event.data).data)
ws = js.WebSocket.new(%s)
ws.onopen = create_proxy(lambda event: js.opened())
ws.onmessage = create_proxy(onmessage)
`);
        </script>"""
            % (BOOT[interpreter], FLOOR_PYTHON[interpreter], json.dumps(url))
        )
        result["pypush-" + interpreter] = (
            COUNTER_JS
            + """
            <script src="/pypush/faces-push.js" data-interpreter="%s"></script>
            <script>faces.push.init('b', %s, 'bench', opened, handler, null, null, null, true);
            </script>"""
            % (interpreter, json.dumps(url))
        )
    return result


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(browser, server: PushTestServer, name: str, url: str, messages: int) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.readyAt !== undefined", timeout=120_000)
    result = {"ready_ms": page.evaluate("readyAt")}
    if not name.startswith("bare-"):
        server.wait_for_sockets("bench", 1)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        before = _metrics(cdp)
        payload = "x" * 80
        server.send_many("bench", [{"n": n, "p": payload} for n in range(messages)])
        page.wait_for_function("received === %d" % messages, timeout=300_000)
        after = _metrics(cdp)
        span = page.evaluate("lastAt - firstAt") / 1000
        result["messages_per_s"] = messages / span if span else float("inf")
        result["cpu_us_per_message"] = (
            (after["TaskDuration"] - before["TaskDuration"]) * 1e6 / messages
        )
        result["script_us_per_message"] = (
            (after["ScriptDuration"] - before["ScriptDuration"]) * 1e6 / messages
        )
    context.close()
    return result


def _metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    import shutil

    executable = next(filter(None, (shutil.which(n) for n in CHROMIUM_NAMES)), None)
    results: dict[str, dict] = {}
    with PushTestServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        channel = server.channel("bench")
        urls = {
            name: server.add_page(name + ".html", html) for name, html in pages(channel.url).items()
        }
        for name, url in urls.items():
            runs = [measure(browser, server, name, url, args.messages) for _ in range(args.runs)]
            results[name] = {key: summary([run[key] for run in runs]) for key in runs[0]}
            print(
                name,
                json.dumps({k: round(v["median"], 2) for k, v in results[name].items()}),
                flush=True,
            )
        browser.close()
    report = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "chromium": executable,
            "when": time.strftime("%Y-%m-%d %H:%M"),
        },
        "runs": args.runs,
        "messages": args.messages,
        "results": results,
        "ratios": ratios(results),
    }
    args.out.mkdir(exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1))
    (args.out / "results.md").write_text(markdown(report))
    print(markdown(report))


def ratios(results: dict) -> dict:
    """The issue's target ratios, from medians measured in the same run."""
    out = {}
    for interpreter in INTERPRETERS:
        pypush, floor, bare = (
            results["%s-%s" % (kind, interpreter)] for kind in ("pypush", "py-floor", "bare")
        )
        out["ready pypush / bare boot, " + interpreter] = (
            pypush["ready_ms"]["median"] / bare["ready_ms"]["median"]
        )
        out["CPU/msg pypush / Python floor, " + interpreter] = (
            pypush["cpu_us_per_message"]["median"] / floor["cpu_us_per_message"]["median"]
        )
    return out


def markdown(report: dict) -> str:
    lines = [
        "| target | ready ms (min-max) | msgs/s | CPU µs/msg (min-max) |",
        "|---|---|---|---|",
    ]
    for name, result in report["results"].items():
        ready = result["ready_ms"]
        row = "| %s | %.0f (%.0f-%.0f) |" % (name, ready["median"], ready["min"], ready["max"])
        if "cpu_us_per_message" in result:
            cpu = result["cpu_us_per_message"]
            row += " %.0f | %.1f (%.1f-%.1f) |" % (
                result["messages_per_s"]["median"],
                cpu["median"],
                cpu["min"],
                cpu["max"],
            )
        else:
            row += " - | - |"
        lines.append(row)
    lines.append("")
    lines.extend("- %s: **%.2f**" % item for item in report["ratios"].items())
    machine = report["machine"]
    lines.append("")
    lines.append(
        "%d runs each, %d messages per burst; %s, Python %s, %s."
        % (
            report["runs"],
            report["messages"],
            machine["platform"],
            machine["python"],
            machine["when"],
        )
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
