"""Server benchmarks: ``python -m bench.server [--runs 3] [--quick] [--out bench-results]``.

- **fan-out**: one push to 1,000 and to 10,000 sockets, again and again: frames per second
  until the last socket has the last frame, and the server's CPU per frame, for pypush's
  hub behind its aiohttp endpoint and for the floor, a websockets server whose push is
  ``broadcast()``; both driven the same way (a control socket), side by side in one run,
  rounds interleaved, ratios taken within a round (target: pypush >= 0.8 x the floor);
- **slow client**: 200 pushes of 1 MiB through serve.py's HTTP API with one stalled and one
  healthy socket: how long each push call takes, when the healthy socket has all 200, the
  server's memory, and whether the stalled socket was closed;
- **channels known**: the time of a push to one socket with 10 and with 100,000 other
  channels registered, each with a socket (per-push work must not grow with them).
"""

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.server.common import cpu_seconds, memory_kib, raise_file_limit
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def header_size(payload: int) -> int:
    return 2 if payload < 126 else 4 if payload < 65536 else 10


class Process:
    def __init__(self, *argv: str, stdin: bool = False) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", *argv],
            cwd=ROOT,
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def line(self) -> str:
        return self.process.stdout.readline().strip()

    def say(self, text: str) -> None:
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class FanOut:
    """One server (pypush or the floor) with N clients connected, ready for rounds."""

    def __init__(self, kind: str, sockets: int) -> None:
        self.kind = kind
        self.sockets = sockets
        self.port = free_port()
        self.server = Process("bench.server.%s" % kind, str(self.port))
        ready = self.server.line()
        path = ready.split(" ", 1)[1] if " " in ready else "/listen"
        self.clients = Process(
            "bench.server.clients", str(self.port), path, str(sockets), stdin=True
        )
        assert self.clients.line() == "ready", kind

    async def round(self, pushes: int, size: int) -> dict:
        payload = '{"data":"%s"}' % ("x" * (size - 11))
        self.clients.say("expect %d" % (pushes * (header_size(size) + size)))
        assert self.clients.line() == "expecting"
        async with aiohttp.ClientSession() as session:
            control = await session.ws_connect("ws://127.0.0.1:%d/control" % self.port)
            cpu = cpu_seconds(self.server.process.pid)
            started = time.monotonic()
            for _ in range(pushes):
                await control.send_str(payload)
                assert (await control.receive()).data == "ok"
            done = float(self.clients.line().split()[1])
            cpu = cpu_seconds(self.server.process.pid) - cpu
            await control.close()
        frames = pushes * self.sockets
        return {
            "frames_per_s": frames / (done - started),
            "cpu_us_per_frame": cpu / frames * 1e6,
            "seconds": done - started,
        }

    def stop(self) -> None:
        self.clients.stop()
        self.server.stop()


async def fan_out(sockets: int, pushes: int, runs: int, size: int) -> dict:
    servers = {kind: FanOut(kind, sockets) for kind in ("floor", "ours")}
    rounds = []
    try:
        await servers["ours"].round(2, size)  # warm both: first pushes pay for lazy set-up
        await servers["floor"].round(2, size)
        for _ in range(runs):
            rounds.append({kind: await s.round(pushes, size) for kind, s in servers.items()})
    finally:
        for server in servers.values():
            server.stop()

    def median(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in rounds)

    return {
        "sockets": sockets,
        "pushes": pushes,
        "message_bytes": size,
        "rounds": rounds,
        "ours_frames_per_s": median("ours", "frames_per_s"),
        "floor_frames_per_s": median("floor", "frames_per_s"),
        "ours_cpu_us_per_frame": median("ours", "cpu_us_per_frame"),
        "floor_cpu_us_per_frame": median("floor", "cpu_us_per_frame"),
        "speed_ratio": statistics.median(
            r["ours"]["frames_per_s"] / r["floor"]["frames_per_s"] for r in rounds
        ),
        "cpu_ratio": statistics.median(
            r["floor"]["cpu_us_per_frame"] / r["ours"]["cpu_us_per_frame"] for r in rounds
        ),
    }


async def slow_client(pushes: int = 200) -> dict:
    """serve.py, its HTTP API, one stalled and one healthy socket (as the test does)."""
    from tests.server.test_slow_clients import ends_within, stalled_socket
    from tests.support import PushServer, start_server, stop_server

    log = Path("/tmp/pypush-bench-slow.log")
    process, base_url = start_server(log, "--no-demo-clock")
    server = PushServer(base_url)
    channel = server.channel()
    stalled = stalled_socket(base_url, channel.path)
    message = "m" * (1024 * 1024 - 11)
    try:
        async with aiohttp.ClientSession() as session:
            healthy = await session.ws_connect(
                base_url.replace("http", "ws") + channel.path, max_msg_size=0
            )
            while channel.sockets() != 2:
                await asyncio.sleep(0.02)
            rss_before = memory_kib(process.pid)
            got = 0

            async def read() -> float:
                nonlocal got
                while got < pushes:
                    await healthy.receive()
                    got += 1
                return time.monotonic()

            reader = asyncio.ensure_future(read())
            started = time.monotonic()
            calls = []
            for _ in range(pushes):
                before = time.monotonic()
                await asyncio.to_thread(channel.push, message)
                calls.append((time.monotonic() - before) * 1000)
            pushed = time.monotonic()
            last = await asyncio.wait_for(reader, 120)
            rss_after = memory_kib(process.pid)
            peak = memory_kib(process.pid, "VmHWM")
            left = channel.sockets()  # the healthy one only, if the stalled one was closed
        closed = left == 1 and ends_within(stalled, 20)
    finally:
        stalled.close()
        stop_server(process)
    calls.sort()
    return {
        "pushes": pushes,
        "message_bytes": 1024 * 1024,
        "push_call_ms_p50": statistics.median(calls),
        "push_call_ms_p99": calls[int(len(calls) * 0.99) - 1],
        "push_call_ms_max": calls[-1],
        "all_pushed_s": pushed - started,
        "healthy_received": got,
        "healthy_all_received_s": last - started,
        "server_rss_growth_mib": (rss_after - rss_before) / 1024,
        "server_peak_rss_mib": peak / 1024,
        "stalled_socket_closed": closed,
    }


async def channels_known(others: int, pushes: int = 20000) -> float:
    """Microseconds per push to one socket while ``others`` channels have a socket each."""
    from pypush_server.hub import Hub, Sink

    class Quiet(Sink):
        def write(self, frame) -> bool:
            return True

        def wake(self) -> None:
            pass

        def close(self, code, reason) -> None:
            pass

    async def scenario() -> float:
        hub = Hub(max_sockets_per_channel_id=None)
        for n in range(others):
            hub.connect("c%d" % n, await hub.register("c%d" % n), Quiet())
        hub.connect("target", await hub.register("target"), Quiet())
        started = time.perf_counter()
        for _ in range(pushes):
            await hub.send("target", "m")
        return (time.perf_counter() - started) / pushes * 1e6

    return await scenario()


def markdown(results: dict) -> str:
    lines = [
        "Machine: %s, %d cores, Python %s, %s"
        % (platform.machine(), results["cores"], platform.python_version(), results["date"]),
        "",
        "| fan-out | sockets | frames/s pypush | frames/s floor | ratio | server CPU µs/frame"
        " pypush | floor | ratio (floor/pypush) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["fan_out"]:
        lines.append(
            "| %d pushes of %d B | %d | %.0f | %.0f | **%.2f** | %.2f | %.2f | **%.2f** |"
            % (
                row["pushes"],
                row["message_bytes"],
                row["sockets"],
                row["ours_frames_per_s"],
                row["floor_frames_per_s"],
                row["speed_ratio"],
                row["ours_cpu_us_per_frame"],
                row["floor_cpu_us_per_frame"],
                row["cpu_ratio"],
            )
        )
    slow = results.get("slow_client")
    if slow:
        lines += [
            "",
            "| slow client: 200 x 1 MiB, one stalled + one healthy socket | |",
            "|---|---|",
            "| push call p50 / p99 / max | %.1f / %.1f / %.1f ms |"
            % (slow["push_call_ms_p50"], slow["push_call_ms_p99"], slow["push_call_ms_max"]),
            "| all 200 pushed after | %.2f s |" % slow["all_pushed_s"],
            "| healthy socket received | %d / 200, all after %.2f s |"
            % (slow["healthy_received"], slow["healthy_all_received_s"]),
            "| server memory | RSS +%.1f MiB, peak %.0f MiB |"
            % (slow["server_rss_growth_mib"], slow["server_peak_rss_mib"]),
            "| stalled socket closed (1013) and cut | %s |"
            % ("yes" if slow["stalled_socket_closed"] else "**no**"),
        ]
    known = results.get("channels_known")
    if known:
        lines += [
            "",
            "| one push to one socket, other channels with a socket each | µs per push |",
            "|---|---|",
        ] + ["| %s | %.2f |" % (f"{int(k):,}", v) for k, v in known.items()]
    return "\n".join(lines) + "\n"


async def main(args) -> dict:
    import datetime
    import os

    results = {"cores": os.cpu_count(), "date": datetime.date.today().isoformat(), "fan_out": []}
    plan = [(1000, 20 if args.quick else 200), (10000, 2 if args.quick else 20)]
    for sockets, pushes in plan:
        print("fan-out to %d sockets …" % sockets, flush=True)
        results["fan_out"].append(await fan_out(sockets, pushes, args.runs, 100))
    if not args.quick:
        print("slow client …", flush=True)
        results["slow_client"] = await slow_client()
    print("channels known …", flush=True)
    results["channels_known"] = {
        n: await channels_known(n, 2000 if args.quick else 20000) for n in (10, 100_000)
    }
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short round of each")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    raise_file_limit()
    results = asyncio.run(main(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "server.json").write_text(json.dumps(results, indent=2))
    text = markdown(results)
    (args.out / "server.md").write_text(text)
    print(text)
