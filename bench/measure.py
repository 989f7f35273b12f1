"""One run of one target in Chromium: every figure of the issue, from one browser context.

A run opens a new browser context (empty HTTP cache) and in one tab:

1. cold visit: navigate, wait for ``readyAt`` (first onopen, or the bare boot);
2. warm visit: navigate the same tab to the same URL again, cache in place;
3. idle memory: JS heap after ``gc()`` and WebAssembly memory;
4. burst of small messages, then burst of ~10 KB objects: messages per second
   (first to last arrival at the handler) and main-thread CPU per message from
   the DevTools protocol's ``Performance.getMetrics`` (``TaskDuration``: all
   main-thread tasks; ``ScriptDuration``: the JavaScript and WebAssembly in
   them), differences taken around each burst; and the CPU time the renderers'
   main threads actually ran (Linux's schedstat: :func:`renderer_cpu_ns`), which,
   unlike TaskDuration, does not count the time a task waited for a core while the
   push server or the browser's other processes held both;
5. memory after the bursts;
6. latency: sparse probes, from handing each to the server to the echo of the
   page's handler, on the bench's own clock (see :mod:`bench.echo`);
7. the JS heap at the end, before and after the interpreter's own
   ``gc.collect()``: JS objects still referenced from Python proxies are
   released only by that collector.

Bare boots stop after step 3: they open no socket. Every step touches only the
page's instrumentation (:mod:`bench.pages`), identical for all targets.
"""

import os
import random
import time
from dataclasses import dataclass
from typing import Any

from bench.echo import EchoServer
from bench.network import throttle
from bench.pages import connects
from bench.payloads import probe
from bench.stats import percentile
from pypush_server.testing import PushChannel, PushTestServer
from pypush_server.testing.processes import descendants, main_thread_cpu_ns

MB = 1e6
# The loader's performance marks (faces-push.js: pypush:loader, :runtime, ...), ms since
# navigation start, and when the first onopen came: where a cold start's time goes.
PHASES_JS = """() => performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith('pypush:'))
    .map((m) => [m.name.slice(7), m.startTime])"""
READY_TIMEOUT_MS = 90_000
BURST_TIMEOUT_MS = 600_000
POLL_MS = 100  # page polls during bursts: ~10 tasks/s, negligible against thousands of messages


@dataclass(frozen=True)
class Workload:
    """What each run pushes; the message lists are built once and shared by all targets."""

    small: list[dict]
    large: list[dict]
    probes: int
    spacing_s: tuple[float, float] = (0.020, 0.030)


class Runner:
    """Runs targets in one browser against one push server and one echo endpoint."""

    def __init__(
        self,
        browser: Any,
        server: PushTestServer,
        channel: PushChannel,
        echo: EchoServer,
        workload: Workload,
    ) -> None:
        self.browser = browser
        self.server = server
        self.channel = channel
        self.echo = echo
        self.workload = workload

    def run(self, name: str, url: str) -> dict[str, float]:
        """One run of target ``name`` at ``url``: a flat dict of figures."""
        context = self.browser.new_context()
        try:
            page = context.new_page()
            result = {"ready_cold_ms": self._visit(page, url, name)}
            live = page.evaluate("window.liveAt")
            if live is not None:
                result["live_cold_ms"] = live
            result["ready_warm_ms"] = self._visit(page, url, name)
            idle = page.evaluate("memoryNow()")
            result["heap_idle_mb"] = idle["heap"] / MB
            result["wasm_idle_mb"] = idle["wasm"] / MB
            if connects(name):
                result.update(self._bursts_and_latency(context, page, result["heap_idle_mb"]))
        finally:
            context.close()
        if connects(name):
            self.channel.wait_for_sockets(0, timeout=30)
        return result

    def run_network(self, name: str, url: str) -> dict[str, float]:
        """Cold and warm ready of target ``name`` on the 4G profile (bench.network)."""
        context = self.browser.new_context()
        try:
            page = context.new_page()
            throttle(context, page)
            result = {"ready_4g_cold_ms": self._visit(page, url, name)}
            live = page.evaluate("window.liveAt")
            if live is not None:
                result["live_4g_cold_ms"] = live
            for mark, at in page.evaluate(PHASES_JS):
                result["phase_4g_%s_ms" % mark] = at
            result["ready_4g_warm_ms"] = self._visit(page, url, name)
        finally:
            context.close()
        if connects(name):
            self.channel.wait_for_sockets(0, timeout=30)
        return result

    def _visit(self, page: Any, url: str, name: str) -> float:
        page.goto(url)
        page.wait_for_function(
            "window.readyAt !== undefined || window.benchError !== null",
            polling=50,
            timeout=READY_TIMEOUT_MS,
        )
        ready, error = page.evaluate("[window.readyAt, benchError]")
        if ready is None:
            raise RuntimeError("%s did not start: %s" % (name, error))
        if connects(name):
            self.channel.wait_for_sockets(1, timeout=30)  # the previous visit's socket gone
        return ready

    def _bursts_and_latency(self, context: Any, page: Any, idle_mb: float) -> dict[str, float]:
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        result: dict[str, float] = {}
        for label, messages in (("small", self.workload.small), ("large", self.workload.large)):
            for key, value in self._burst(page, cdp, messages).items():
                result["%s_%s" % (label, key)] = value
            after = page.evaluate("memoryNow()")
            result["heap_after_%s_mb" % label] = after["heap"] / MB
        result["heap_delta_small_mb"] = result["heap_after_small_mb"] - idle_mb
        result["heap_delta_mb"] = result["heap_after_large_mb"] - idle_mb
        result["wasm_after_mb"] = after["wasm"] / MB
        result.update(self._latency(page))
        result["heap_end_mb"] = page.evaluate("memoryNow()")["heap"] / MB
        result["heap_end_python_gc_mb"] = page.evaluate("memoryAfterPythonGc()")["heap"] / MB
        return result

    def _burst(self, page: Any, cdp: Any, messages: list[dict]) -> dict[str, float]:
        count = len(messages)
        page.evaluate("received = 0; firstAt = 0; lastAt = 0")
        renderers = renderer_pids()
        before, cpu_before = _metrics(cdp), renderer_cpu_ns(renderers)
        self.server.send_many(self.channel.name, messages, channel_id=self.channel.channel_id)
        page.wait_for_function("received >= %d" % count, polling=POLL_MS, timeout=BURST_TIMEOUT_MS)
        after, cpu_after = _metrics(cdp), renderer_cpu_ns(renderers)
        received, span_ms = page.evaluate("[received, lastAt - firstAt]")
        if received != count:
            raise AssertionError("%d messages received, %d sent" % (received, count))
        return {
            "msgs_per_s": (count - 1) / (span_ms / 1000) if span_ms > 0 else float("nan"),
            "task_us": (after["TaskDuration"] - before["TaskDuration"]) * 1e6 / count,
            "script_us": (after["ScriptDuration"] - before["ScriptDuration"]) * 1e6 / count,
            "cpu_us": (cpu_after - cpu_before) / 1e3 / count,
        }

    def _latency(self, page: Any) -> dict[str, float]:
        """Sparse probes, one every 20-30 ms; same spacing for every target and run."""
        count = self.workload.probes
        self.echo.reset()
        page.evaluate("url => openEcho(url)", self.echo.url)
        spacing = random.Random(5)
        sent: list[float] = []
        next_at = time.perf_counter()
        for seq in range(count):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += spacing.uniform(*self.workload.spacing_s)
            sent.append(time.perf_counter())
            if self.channel.send(probe(seq)) != 1:
                raise RuntimeError("probe %d did not reach exactly one socket" % seq)
        self.echo.wait_for(count, timeout=30)
        in_task = page.evaluate("echo.close(); echo = null; inTask")
        arrivals = self.echo.arrivals
        samples = [(arrivals[seq] - sent[seq]) * 1000 for seq in range(count)]
        return {
            "latency_p50_ms": percentile(samples, 50),
            "latency_p99_ms": percentile(samples, 99),
            "latency_max_ms": max(samples),
            "in_task_p50_ms": percentile(in_task, 50),
            "in_task_p99_ms": percentile(in_task, 99),
        }


def _metrics(cdp: Any) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def renderer_pids() -> list[int]:
    """The browser's renderer processes (Chromium's ``--type=renderer``) under this one."""
    return [pid for pid, cmdline in descendants(os.getpid()) if b"--type=renderer" in cmdline]


def renderer_cpu_ns(pids: list[int]) -> int:
    """CPU time so far of the renderers' main threads, where every page's script runs.

    Only the tab under test works during a burst; the others' main threads sleep."""
    total = 0
    for pid in pids:
        ran = main_thread_cpu_ns(pid)
        if ran is None:
            raise RuntimeError("renderer %d ended during a burst" % pid)
        total += ran
    return total
