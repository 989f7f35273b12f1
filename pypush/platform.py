"""The small interface the sans-I/O core needs from its host.

The core never touches a browser API itself: an adapter (Pyodide, MicroPython,
or the fake one the unit tests use) implements this class. Keeping the surface
this small is what lets every rule of the spec be tested under plain CPython
with a fake socket and a fake clock.
"""


class SocketEvents:
    """What a socket tells the core. The adapter calls exactly one of these per event.

    The core hands an object of this kind to :meth:`Platform.open_socket`; the
    adapter keeps it and calls it from the socket's event handlers.
    """

    def opened(self) -> None:
        raise NotImplementedError

    def message(
        self,
        offset: int | None = None,
        epoch: str | None = None,
        message: object = None,
        event: object = None,
    ) -> None:
        """A frame was decoded: ``message`` stands for ``JSON.parse(frame).data``.

        It is the platform's handle for the message: the value itself, or (in a
        browser, which passes none) whatever the platform and the page's faces know
        how to read, so that a message need not cross into Python unless Python
        needs it. ``offset`` is the message's offset when its frame had an ``id``
        of the form ``EPOCH:OFFSET`` (pypush's server, spec P1), else None;
        ``epoch`` comes with it whenever it is not the epoch of the socket's
        previous positioned message (so, at least with the socket's first one).
        """
        raise NotImplementedError

    def control(self, text: str, event: object) -> None:
        """A JSON frame with no ``data`` but a ``pypush`` key: for the client, not the page."""
        raise NotImplementedError

    def bad_frame(self, why: str, event: object) -> None:
        """A frame could not be decoded (not JSON, binary, no ``data``): spec E6."""
        raise NotImplementedError

    def closed(self, code: int, reason: str, event: object) -> None:
        raise NotImplementedError


class Socket:
    """The handle :meth:`Platform.open_socket` returns."""

    def close(self) -> None:
        """Start closing; the adapter later reports ``SocketEvents.closed``."""
        raise NotImplementedError

    def send(self, text: str) -> None:
        """Send a text frame (only ever a hello to pypush's server, spec N4); may raise."""
        raise NotImplementedError

    def silence_ms(self) -> int:
        """Milliseconds since the socket last received a frame (or opened): spec N4.

        The host keeps the time, so that a message costs no extra call into Python.
        """
        raise NotImplementedError


class Platform:
    """Everything the core needs from the outside world."""

    def websocket_available(self) -> bool:
        """Whether the host can make WebSockets at all (spec I2)."""
        raise NotImplementedError

    def is_online(self) -> bool:
        """What the browser says of the network now (``navigator.onLine``, spec N1)."""
        raise NotImplementedError

    def resolve_url(self, url: str) -> str:
        """``url`` made absolute against the document's base URL; may raise ValueError."""
        raise NotImplementedError

    def open_socket(self, url: str, events: SocketEvents) -> Socket:
        """Create a WebSocket now (the host's current constructor, spec O3).

        Raises whatever the host raises when the URL cannot make a socket.
        """
        raise NotImplementedError

    def set_timer(self, delay_ms: int, callback: object) -> object:
        """Call ``callback()`` once after ``delay_ms`` through the host's timers (R2)."""
        raise NotImplementedError

    def clear_timer(self, handle: object) -> None:
        """Cancel a timer from :meth:`set_timer` that has not fired yet."""
        raise NotImplementedError

    def message_key(self, message: object) -> str | None:
        """The text of a message handle when the message is a string, else None (E3/E4)."""
        raise NotImplementedError

    def report_error(self, message: str, cause: BaseException | None) -> None:
        """Report an error without throwing (reportError in a browser, spec E5)."""
        raise NotImplementedError

    def warn(self, message: str) -> None:
        """Log a problem that does not stop anything (the console, spec E6)."""
        raise NotImplementedError

    def notice(self, message: str) -> None:
        """Log what the page should know of (console.warn: messages lost across a reconnect)."""
        raise NotImplementedError
