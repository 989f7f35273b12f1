"""Faults a test (or a curious person) can switch on, and the listener that can go away.

A fault has a kind, a scope (one channel, or ``*`` for all) and an optional
end time; the push endpoint asks :meth:`Faults.active` at each handshake.
"""

import asyncio
import math
import time

from aiohttp import web

from pypush_server.logs import log, shown

REFUSE = "refuse"  # answer handshakes with an HTTP error instead of upgrading
FLAP = "flap"  # accept, then at once close with a code (or drop)
SLOW_CLOSE = "slow-close"  # answer a client's close frame only after a delay
KINDS = (REFUSE, FLAP, SLOW_CLOSE)
ALL = "*"


def check_seconds(name: str, value: object) -> float:
    """A duration: a finite number >= 0 (not a boolean, not NaN); ValueError otherwise."""
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise ValueError('"%s" must be a number of seconds >= 0, not %s' % (name, shown(value)))
    return float(value)


class Faults:
    def __init__(self) -> None:
        self._faults: dict[tuple[str, str], tuple[object, float]] = {}

    def set(self, kind: str, scope: str, value: object, seconds: float | None) -> None:
        """Switch a fault on for ``seconds`` (None: until cleared); ValueError for bad durations."""
        if kind == SLOW_CLOSE:
            check_seconds("delay", value)
        until = (
            float("inf")
            if seconds is None
            else time.monotonic() + check_seconds("seconds", seconds)
        )
        self._faults[(kind, scope)] = (value, until)
        log.info(
            "fault %s on %s: %r for %s",
            kind,
            scope,
            value,
            "ever" if seconds is None else "%gs" % seconds,
        )

    def clear(self, kind: str, scope: str) -> bool:
        log.info("fault %s on %s cleared", kind, scope)
        return self._faults.pop((kind, scope), None) is not None

    def scopes(self, kind: str) -> list[str]:
        """The scopes that have a fault of ``kind`` set (expired or not)."""
        return [scope for (k, scope) in self._faults if k == kind]

    # What the push endpoint asks at each handshake (aiohttp_app.NoFaults answers the same).

    def refusal(self, channel: str) -> int | None:
        return self.active(REFUSE, channel)

    def flap(self, channel: str) -> object | None:
        return self.active(FLAP, channel)

    def close_delay(self, channel: str) -> float:
        return self.active(SLOW_CLOSE, channel) or 0.0

    def active(self, kind: str, channel: str) -> object | None:
        """The value of the fault of ``kind`` that applies to ``channel`` now, if any."""
        now = time.monotonic()
        for scope in (channel, ALL):
            entry = self._faults.get((kind, scope))
            if entry is not None:
                value, until = entry
                if now < until:
                    return value
                del self._faults[(kind, scope)]
        return None


class Listener:
    """The server's listening socket, which the ``down`` fault can close and reopen."""

    def __init__(self, host: str, port: int, reuse_port: bool = False) -> None:
        self.runner: web.AppRunner | None = None  # set once the runner is set up
        self.host = host
        self.port = port
        self.reuse_port = reuse_port  # one of several workers on one port (SO_REUSEPORT)
        self.site: web.TCPSite | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> int:
        self.site = web.TCPSite(
            self.runner, self.host, self.port, reuse_address=True, reuse_port=self.reuse_port
        )
        await self.site.start()
        self.port = self.runner.addresses[-1][1]
        return self.port

    def schedule_down(self, seconds: float, drop: object) -> None:
        """Go down shortly (so the request that asked is answered first)."""
        check_seconds("seconds", seconds)

        async def later() -> None:
            await asyncio.sleep(0.05)
            await self.go_down(seconds, drop)

        self.task = asyncio.create_task(later())

    async def go_down(self, seconds: float, drop: object) -> None:
        """Stop listening and drop every socket, then listen again on the same port."""
        if self.site is None:
            return
        await self.site.stop()
        self.site = None
        drop()
        log.info("listener down for %gs", seconds)
        await asyncio.sleep(seconds)
        await self.start()
        log.info("listener back on port %d", self.port)
