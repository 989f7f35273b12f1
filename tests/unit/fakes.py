"""A fake platform for the core: sockets the test drives by hand, a clock it advances.

Nothing here sleeps; time moves only when a test calls ``clock.advance``.
"""

import json

from pypush.platform import Platform, Socket, SocketEvents


class FakeClock:
    """Timers ordered by due time, fired only by :meth:`advance`."""

    def __init__(self) -> None:
        self.now = 0
        self._timers: dict[int, tuple[int, object]] = {}
        self._next_id = 1
        self.scheduled: list[tuple[int, str]] = []  # (delay, callback name), in order

    def set_timer(self, delay_ms: int, callback) -> int:
        handle = self._next_id
        self._next_id += 1
        self._timers[handle] = (self.now + delay_ms, callback)
        self.scheduled.append((delay_ms, getattr(callback, "__name__", "?")))
        return handle

    def clear_timer(self, handle: int) -> None:
        self._timers.pop(handle, None)

    def delays(self, callback_name: str = "on_retry_timer") -> list[int]:
        """The delays asked for timers that call ``callback_name`` (reconnects by default)."""
        return [delay for delay, name in self.scheduled if name == callback_name]

    @property
    def pending(self) -> int:
        return len(self._timers)

    def advance(self, ms: int) -> None:
        """Move time forward by ``ms``, firing due timers in order (0 ms ones included)."""
        until = self.now + ms
        while True:
            due = [(when, handle) for handle, (when, _) in self._timers.items() if when <= until]
            if not due:
                break
            when, handle = min(due)
            _, callback = self._timers.pop(handle)
            self.now = when
            callback()
        self.now = until


class FakeSocket(Socket):
    """A socket whose events the test fires, as a server and a browser would."""

    def __init__(self, url: str, events: SocketEvents, clock: FakeClock | None = None) -> None:
        self.url = url
        self.events = events
        self.close_called = False
        self.ready_state = 0  # CONNECTING
        self.clock = clock or FakeClock()
        self.heard_at = self.clock.now  # what the glue keeps: the time of the last frame
        self.sent: list[str] = []  # text frames the client sent
        self.send_error: Exception | None = None

    def close(self) -> None:
        self.close_called = True
        self.ready_state = 2

    def send(self, text: str) -> None:
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(text)

    def silence_ms(self) -> int:
        return self.clock.now - self.heard_at

    def _heard(self) -> None:
        self.heard_at = self.clock.now

    # What the browser would report:
    def server_accepts(self) -> None:
        self.ready_state = 1
        self._heard()
        self.events.opened()

    def server_sends(
        self,
        message: object,
        event: object = "message-event",
        offset: int | None = None,
        epoch: str | None = None,
    ) -> None:
        self._heard()
        self.events.message(offset, epoch, message, event)

    def server_controls(self, **fields: object) -> None:
        """A frame for pypush (no ``data``), as pypush's server sends after a resume."""
        self._heard()
        self.events.control(json.dumps(fields), "message-event")

    def bad_frame(self, why: str = "not JSON") -> None:
        self._heard()
        self.events.bad_frame(why, "message-event")

    def closes(self, code: int = 1006, reason: str = "", event: object = None) -> None:
        self.ready_state = 3
        self.events.closed(code, reason, event if event is not None else ("close-event", code))


class FakePlatform(Platform):
    def __init__(self, base_url: str = "http://example.test/app/page.xhtml") -> None:
        from urllib.parse import urljoin

        self._urljoin = urljoin
        self.base_url = base_url
        self.clock = FakeClock()
        self.sockets: list[FakeSocket] = []
        self.errors: list[tuple[str, BaseException | None]] = []
        self.warnings: list[str] = []
        self.notices: list[str] = []
        self.has_websocket = True
        self.online = True  # navigator.onLine
        self.socket_factory_error: Exception | None = None
        self.timer_error: Exception | None = None  # set_timer raises it (a broken setTimeout)

    def websocket_available(self) -> bool:
        return self.has_websocket

    def is_online(self) -> bool:
        return self.online

    def resolve_url(self, url: str) -> str:
        return self._urljoin(self.base_url, url)

    def open_socket(self, url: str, events: SocketEvents) -> FakeSocket:
        if self.socket_factory_error is not None:
            raise self.socket_factory_error
        socket = FakeSocket(url, events, self.clock)
        self.sockets.append(socket)
        return socket

    def set_timer(self, delay_ms: int, callback) -> int:
        if self.timer_error is not None:
            raise self.timer_error
        return self.clock.set_timer(delay_ms, callback)

    def clear_timer(self, handle: int) -> None:
        self.clock.clear_timer(handle)

    def message_key(self, message: object) -> str | None:
        return message if type(message) is str else None

    def report_error(self, message: str, cause: BaseException | None) -> None:
        self.errors.append((message, cause))

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def notice(self, message: str) -> None:
        self.notices.append(message)

    @property
    def last_socket(self) -> FakeSocket:
        return self.sockets[-1]


class Recorder:
    """The four callbacks, recording every call in one ordered list."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def onopen(self, *args):
        self.calls.append(("open", *args))

    def onmessage(self, *args):
        self.calls.append(("message", *args))

    def onerror(self, *args):
        self.calls.append(("error", *args))

    def onclose(self, *args):
        self.calls.append(("close", *args))

    def ongap(self, *args):
        self.calls.append(("gap", *args))

    def named(self, kind: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == kind]

    def callbacks(self) -> dict:
        return {
            "onopen": self.onopen,
            "onmessage": self.onmessage,
            "onerror": self.onerror,
            "onclose": self.onclose,
            "ongap": self.ongap,
        }
