"""The embedded default broker: one process, the registry in a dict, pushes delivered at once."""

from pypush_server.hub import CLOSE_EXPIRED, Frame


class MemoryBroker:
    def __init__(self) -> None:
        self._channel_of: dict[str, str] = {}  # channelId -> channel
        self._ids: dict[str, dict[str, None]] = {}  # channel -> its channelIds, in order
        self.hub = None

    def attach(self, hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def register(self, channel: str, channel_id: str) -> None:
        self._channel_of[channel_id] = channel
        self._ids.setdefault(channel, {})[channel_id] = None

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
        return self.hub.close_channel_id(channel_id, *CLOSE_EXPIRED)

    async def publish(self, channel: str, channel_id: str | None, frames: list[Frame]) -> int:
        if channel_id is not None and self._channel_of.get(channel_id) != channel:
            return 0
        return self.hub.deliver(channel, channel_id, frames)

    def sockets_changed(self, channel_id: str, count: int) -> None:
        pass

    async def socket_count(self, channel: str, channel_id: str | None = None) -> int:
        return self.hub.local_count(channel, channel_id)
