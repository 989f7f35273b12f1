"""The core's platform in a browser page: WebSockets, timers and reports.

With its FFI shim (:mod:`pypush.ffi_pyodide` or :mod:`pypush.ffi_micropython`)
this is the only Python that touches browser APIs, always through the functions
of ``web/pypush-glue.js``. Those never throw (MicroPython cannot catch a
JavaScript exception): failures come back as values and become Python
exceptions here.

A message reaches the core with no handle at all (None): it is "the message being
delivered", which the glue holds during the one synchronous call into Python that
delivers it, a call with no arguments (the cheapest crossing there is). So the
page's onmessage gets exactly what ``JSON.parse(frame).data`` gave, never a copy
that went through Python (MicroPython would cut a string at its first U+0000), and
a message costs no proxy (MicroPython frees proxies only when its collector runs).
Python reads the message only when it needs it: its text for a behavior key
(E3/E4), its value and event for the Python face.
"""

try:
    from pypush import ffi_pyodide as ffi
except ImportError:  # no pyodide module: MicroPython
    from pypush import ffi_micropython as ffi

import json

from pypush.platform import Platform, Socket, SocketEvents

glue = ffi.glue
js_text = ffi.js_text
_collect = ffi.collector()
COLLECT_EVERY_CHARS = 1 << 20
CLOSE_GRACE_MS = 1000
"""WebKit: how long to wait for the close event after an error before open (see glue.wire)."""

live_proxies = 0
"""Proxies of Python callables this module created and has not yet released (R1)."""


def proxy(function: object) -> object:
    global live_proxies
    live_proxies += 1
    return ffi.proxy(function)


def release(handle: object) -> None:
    global live_proxies
    live_proxies -= 1
    ffi.release(handle)


class JavaScriptError(Exception):
    """A page callback threw; ``js_error`` is what it threw."""

    def __init__(self, js_error: object) -> None:
        super().__init__(from_js(glue.string(js_error)))
        self.js_error = js_error


class BrowserSocket(Socket):
    """A ``WebSocket`` whose events reach the core; its proxies die with it (R1)."""

    def __init__(self, ws: object, events: SocketEvents) -> None:
        self.ws = ws
        self.events = events
        self.handlers = (
            proxy(events.opened),
            proxy(events.message),
            proxy(self.on_control),
            proxy(self.on_bad_frame),
            proxy(self.on_close),
        )
        glue.wire(ws, *self.handlers, CLOSE_GRACE_MS, _collect, COLLECT_EVERY_CHARS)

    def close(self) -> None:
        problem = glue.closeSocket(self.ws)
        if problem:
            raise RuntimeError("WebSocket.close() threw: " + from_js(problem))

    def send(self, text: str) -> None:
        problem = glue.sendText(self.ws, js_text(text))
        if problem:
            raise RuntimeError("WebSocket.send() threw: " + from_js(problem))

    def silence_ms(self) -> int:
        return glue.silence(self.ws)  # N4: the glue keeps the time of the last frame

    def on_control(self, text: str, event: object) -> None:
        self.events.control(from_js(text), event)

    def on_bad_frame(self, why: str, event: object) -> None:
        self.events.bad_frame(from_js(why), event)

    def on_close(self, event: object) -> None:
        for handler in self.handlers:
            release(handler)
        self.handlers = ()
        self.events.closed(event.code, event.reason, event)


class Timer:
    """One ``setTimeout``; its proxy is released when it fires or is cleared (R1)."""

    def __init__(self, delay_ms: int, callback: object) -> None:
        self.callback = callback
        self.proxy = proxy(self.fire)
        self.id = glue.setTimer(self.proxy, delay_ms)  # R2: the page's own setTimeout
        if type(self.id) is str:
            self.release()
            raise RuntimeError(from_js(self.id))

    def fire(self) -> None:
        self.release()
        self.callback()

    def release(self) -> None:
        if self.proxy is not None:
            release(self.proxy)
            self.proxy = None


class BrowserPlatform(Platform):
    """The core's platform in a browser page."""

    def websocket_available(self) -> bool:
        return glue.hasWebSocket() is True

    def is_online(self) -> bool:
        return glue.isOnline() is True

    def resolve_url(self, url: str) -> str:
        resolved = glue.resolveUrl(js_text(url))
        if resolved is False:
            raise ValueError("not a valid URL")
        return resolved

    def open_socket(self, url: str, events: SocketEvents) -> Socket:
        ws = glue.newWebSocket(js_text(url))
        if type(ws) is str:
            raise ValueError(from_js(ws))
        return BrowserSocket(ws, events)

    def set_timer(self, delay_ms: int, callback: object) -> Timer:
        return Timer(delay_ms, callback)

    def clear_timer(self, handle: Timer) -> None:
        glue.clearTimer(handle.id)
        handle.release()

    def message_key(self, message: object) -> str | None:
        return from_js(glue.keyOf())

    def report_error(self, message: str, cause: BaseException | None) -> None:
        js_cause = cause.js_error if isinstance(cause, JavaScriptError) else None
        glue.report(js_text(message), js_cause)

    def warn(self, message: str) -> None:
        glue.warn(js_text(message))

    def notice(self, message: str) -> None:
        glue.notice(js_text(message))


def from_js(value: object) -> object:
    """A value the glue's ``py()`` prepared: as it is, or decoded from its JSON.

    Strings, booleans and small numbers cross as they are; objects, arrays, null,
    large integers and strings an interpreter would change (MicroPython miscounts
    one with a lone surrogate) come as U+0001 + JSON.
    """
    if type(value) is str and value[:1] == "\x01":
        return json.loads(value[1:])
    return value


def message_value(message: object) -> object:
    """The message being delivered as Python data (dict, list, str, int, float, bool, None)."""
    return from_js(glue.dataOf())


def message_event(event: object) -> object:
    """The MessageEvent of the message being delivered."""
    return glue.messageEvent()
