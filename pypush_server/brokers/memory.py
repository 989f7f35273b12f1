"""The embedded default broker: one process, the registry in a dict, pushes delivered at once,
each channelId's history in memory (:class:`pypush_server.history.MemoryHistory`)."""

import asyncio

from pypush_server.brokers import RecentAnswers
from pypush_server.history import MemoryHistory, Stored
from pypush_server.hub import CLOSE_EXPIRED, Frame
from pypush_server.logs import log


class MemoryBroker:
    def __init__(self) -> None:
        self._channel_of: dict[str, str] = {}  # channelId -> channel
        self._ids: dict[str, dict[str, None]] = {}  # channel -> its channelIds, in order
        self.hub = None
        self.history: MemoryHistory | None = None
        self.answers: RecentAnswers | None = None

    def attach(self, hub) -> None:
        self.hub = hub
        self.history = MemoryHistory(hub.history, hub.clock)
        self.answers = RecentAnswers(hub.clock)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def register(self, channel: str, channel_id: str) -> None:
        self._channel_of[channel_id] = channel
        self._ids.setdefault(channel, {})[channel_id] = None
        self.history.create(channel_id)

    async def channel_of(self, channel_id: str) -> str | None:
        return self._channel_of.get(channel_id)

    async def channel_ids(self, channel: str) -> list[str]:
        return list(self._ids.get(channel, ()))

    async def expire(self, channel_id: str) -> int | None:
        channel = self._channel_of.pop(channel_id, None)
        if channel is None:
            return None
        ids = self._ids.get(channel, {})
        ids.pop(channel_id, None)
        if not ids:
            self._ids.pop(channel, None)
        self.history.forget(channel_id)
        return self.hub.close_channel_id(channel_id, *CLOSE_EXPIRED)

    async def publish(
        self,
        channel: str,
        channel_id: str | None,
        frames: list[Frame],
        idempotency_key: str | None = None,
    ) -> int:
        return self._once(
            channel, idempotency_key, lambda: self._publish(channel, channel_id, frames)
        )

    def _publish(self, channel: str, channel_id: str | None, frames: list[Frame]) -> int:
        if channel_id is not None and self._channel_of.get(channel_id) != channel:
            return 0
        return self.hub.deliver(channel, channel_id, frames)

    async def publish_messages(
        self,
        channel: str,
        channel_id: str | None,
        bodies: list[bytes],
        idempotency_key: str | None = None,
    ) -> int:
        """Each channelId's stream gives the messages their offsets, keeps them, and the hub
        delivers them to its sockets; then the event loop has a turn, as a round trip to
        Redis gives it: the sockets send one part of a long push (the hub sends many
        messages in parts) before the next part's frames are built."""
        handed = self._once(
            channel, idempotency_key, lambda: self._publish_messages(channel, channel_id, bodies)
        )
        await asyncio.sleep(0)
        return handed

    def _publish_messages(self, channel: str, channel_id: str | None, bodies: list[bytes]) -> int:
        if channel_id is not None:
            if self._channel_of.get(channel_id) != channel:
                return 0
            targets = [channel_id]
        else:
            targets = list(self._ids.get(channel, ()))
        handed = 0
        for target in targets:
            epoch, first = self.history.append(target, bodies)
            handed += self.hub.deliver_messages(channel, target, epoch, first, bodies)
        return handed

    def _once(self, channel: str, key: str | None, publish) -> int:
        """Publish, or, for a key this channel saw within the bound, answer as it did then
        (no await in between: nothing else runs between the check and the publish)."""
        if key is None:
            return publish()
        answer = self.answers.get(channel, key)
        if answer is not None:
            log.info(
                "push to %s with idempotency key %s: a repeat, not published again", channel, key
            )
            return answer
        answer = publish()
        self.answers.remember(channel, key, answer)
        return answer

    async def read_history(self, channel_id: str, after: int | None) -> Stored:
        return self.history.read(channel_id, after)

    def tick(self, now: float) -> None:
        self.history.sweep(now)
        self.answers.sweep(now)

    def sockets_changed(self, channel_id: str, count: int) -> None:
        pass

    async def socket_count(self, channel: str, channel_id: str | None = None) -> int:
        return self.hub.local_count(channel, channel_id)
