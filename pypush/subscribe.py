"""``async for message in subscribe(url, channel)``: the Pythonic way to receive push.

Built on the same core as ``faces.push``, with the same reconnects and the same
final closes (E7): the iteration ends when the client closes for good, and
``close_code`` then says why. Leaving the loop early (``break`` inside
``async with``, or cancelling the task) closes the socket. An ended
subscription, or one whose URL was refused, leaves nothing in the page's
registry. Runs on CPython, Pyodide and MicroPython (only ``asyncio.Event`` is
needed).
"""

import asyncio

from pypush.core import PushRegistry
from pypush.fifo import Fifo


class Subscription:
    """An async iterator of push messages from one channel URL."""

    _count = 0

    def __init__(
        self,
        registry: PushRegistry,
        url: str,
        channel: str,
        convert=None,
        ongap=None,
        onopen=None,
    ) -> None:
        """``onopen(channel)``, if given, is called when the socket first opens (E1; not at
        reconnects, as faces.push's onopen): a page can show that it is connected, which
        the iteration alone cannot tell before a message comes."""
        Subscription._count += 1
        self.client_id = "pypush-subscription-%d" % Subscription._count
        self.channel = channel
        self.close_code: int | None = None
        """The code of the final close once the subscription has ended, else None."""
        self.gaps: list = []
        """``(missed, reason)`` of each gap (spec P4): messages lost across a reconnect."""
        self._ongap = ongap
        self._registry = registry
        self._messages = Fifo()  # unread messages; O(1) at both ends
        self._changed = asyncio.Event()
        self._convert = convert
        try:
            registry.init(
                self.client_id,
                url,
                channel,
                onopen,
                self._on_message,
                None,
                self._on_close,
                None,
                True,
                self._on_gap,
            )
        except BaseException:
            registry.forget(self.client_id)  # a refused URL leaves no client behind
            raise

    def _on_message(self, message: object, channel: object, event: object) -> None:
        self._messages.append(self._convert(message) if self._convert else message)
        self._changed.set()

    def _on_gap(self, missed: object, reason: str) -> None:
        self.gaps.append((missed, reason))
        if self._ongap is not None:
            self._ongap(self.client_id, self.channel, missed, reason)

    def _on_close(self, code: int, channel: object, event: object = None) -> None:
        self.close_code = code
        self._registry.forget(self.client_id)  # the lifecycle has ended: drop the client
        self._changed.set()

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> object:
        while not self._messages:
            if self.close_code is not None:
                raise StopAsyncIteration
            self._changed.clear()
            try:
                await self._changed.wait()
            except asyncio.CancelledError:
                self.close()
                raise
        return self._messages.popleft()

    def close(self) -> None:
        """Close the socket; the iteration ends once its close event has come (C1)."""
        if self.close_code is None:
            self._registry.close(self.client_id)

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
