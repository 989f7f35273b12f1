"""Binds the core to a browser through Pyodide's ``js`` and ``pyodide.ffi``.

Only this module (and later the MicroPython one) touches browser APIs. It does
four things: make WebSockets and turn their events into core calls, run timers
through the page's own ``setTimeout`` (R2), report errors the way a page sees
them (``reportError``, the console), and expose ``init/open/close`` to the
JavaScript loader with JavaScript's argument conventions (I1, I5, S3).
"""

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, JsProxy, create_proxy, jsnull

from pypush.core import PushRegistry
from pypush.errors import PushError, UnknownClientError
from pypush.platform import Platform, Socket, SocketEvents

# Small JavaScript helpers, compiled once. Each replaces several FFI crossings
# per call with one, and none holds any faces.push logic.
_decode_frame = run_js(
    """(event) => {
        const text = event.data;
        if (typeof text !== 'string') throw new TypeError('a binary frame, expected JSON text');
        const frame = JSON.parse(text);
        if (frame === null || typeof frame !== 'object' || !('data' in frame))
            throw new TypeError('JSON without a "data" property');
        return frame.data;
    }"""
)
_global_function = run_js(
    "(name) => { const f = globalThis[name]; return typeof f === 'function' ? f : null; }"
)
_has_websocket = run_js("() => typeof globalThis.WebSocket === 'function'")
_own_entries = run_js(
    """(object) => Object.keys(object).map((key) => {
        const value = object[key];
        return [key, Array.isArray(value) ? value : [value]];
    })"""
)
_base_url = run_js("() => (globalThis.document && document.baseURI) || globalThis.location.href")

live_proxies = 0
"""Proxies of Python callables this adapter created and has not yet destroyed (R1)."""


def _proxy(function: object) -> JsProxy:
    global live_proxies
    live_proxies += 1
    return create_proxy(function)


def _destroy(proxy: JsProxy) -> None:
    global live_proxies
    live_proxies -= 1
    proxy.destroy()


class _BrowserSocket(Socket):
    """A ``WebSocket`` whose events reach the core; its proxies die with it (R1)."""

    def __init__(self, url: str, events: SocketEvents) -> None:
        self.events = events
        # O3: look up window.WebSocket now, so a page or a test can wrap it.
        self.ws = js.WebSocket.new(url)
        self.handlers = (
            _proxy(self.on_open),
            _proxy(self.on_message),
            _proxy(self.on_close),
        )
        self.ws.onopen, self.ws.onmessage, self.ws.onclose = self.handlers

    def close(self) -> None:
        self.ws.close()

    def on_open(self, event: JsProxy) -> None:
        self.events.opened()

    def on_message(self, event: JsProxy) -> None:
        try:
            message = _decode_frame(event)
        except JsException as exc:
            self.events.bad_frame(str(exc), event)
            return
        self.events.message(message, event)

    def on_close(self, event: JsProxy) -> None:
        ws = self.ws
        ws.onopen = ws.onmessage = ws.onclose = None
        for handler in self.handlers:
            _destroy(handler)
        self.handlers = ()
        self.events.closed(event.code, event.reason, event)


class _Timer:
    """One ``setTimeout``; its proxy is destroyed when it fires or is cleared (R1)."""

    def __init__(self, delay_ms: int, callback: object) -> None:
        self.callback = callback
        self.proxy = _proxy(self.fire)
        # R2: the page's setTimeout, looked up at each call, so page.clock governs it.
        self.id = js.setTimeout(self.proxy, delay_ms)

    def fire(self) -> None:
        self.release()
        self.callback()

    def release(self) -> None:
        if self.proxy is not None:
            _destroy(self.proxy)
            self.proxy = None


class PyodidePlatform(Platform):
    """The core's platform in a browser page running Pyodide."""

    def websocket_available(self) -> bool:
        return bool(_has_websocket())

    def resolve_url(self, url: str) -> str:
        try:
            return js.URL.new(url, _base_url()).href
        except JsException as exc:
            raise ValueError(str(exc)) from exc

    def open_socket(self, url: str, events: SocketEvents) -> Socket:
        return _BrowserSocket(url, events)

    def set_timer(self, delay_ms: int, callback: object) -> _Timer:
        return _Timer(delay_ms, callback)

    def clear_timer(self, handle: _Timer) -> None:
        js.clearTimeout(handle.id)
        handle.release()

    def report_error(self, message: str, cause: BaseException | None) -> None:
        error = js.Error.new(message)
        if isinstance(cause, JsException):
            error.cause = cause
        js.reportError(error)

    def warn(self, message: str) -> None:
        js.console.error(message)


def _callback(value: object) -> object:
    """I1: a function, the name of a global function, or anything else meaning none."""
    if isinstance(value, JsProxy):
        return value if value.typeof == "function" else None
    if isinstance(value, str):
        return _global_function(value)
    return None


def _behaviors(client_id: str, value: object) -> dict:
    """I5/E4: the object's own keys, each mapped to its list of functions."""
    if value is None or value is jsnull:
        return {}
    if not isinstance(value, JsProxy) or value.typeof != "object":
        raise TypeError(
            "faces.push.init: behaviors of clientId '%s' must be an object mapping "
            "messages to arrays of functions" % client_id
        )
    behaviors = {}
    for key, functions in _own_entries(value):
        callables = [f for f in functions if isinstance(f, JsProxy) and f.typeof == "function"]
        if len(callables) != functions.length:
            js.console.error(
                "faces.push.init: behavior '%s' of clientId '%s' holds something that is not "
                "a function; it is ignored" % (key, client_id)
            )
        behaviors[key] = callables
    return behaviors


def _js_truthy(value: object) -> bool:
    """JavaScript truthiness of a value that crossed the FFI (I4's autoconnect)."""
    if value is None or value is jsnull:
        return False
    if isinstance(value, JsProxy):
        return True
    if isinstance(value, float) and value != value:
        return False
    return bool(value)


class JavaScriptApi:
    """What ``faces.push`` calls once Python is live, in JavaScript's conventions.

    Each method returns ``None`` on success or a JavaScript ``Error`` for the
    loader to throw: Pyodide would wrap a raised exception in a ``PythonError``
    with a traceback, and S3 wants Mojarra's exact message.
    """

    def __init__(self, registry: PushRegistry) -> None:
        self.registry = registry

    def init(
        self,
        client_id: object = None,
        url: object = None,
        channel: object = None,
        onopen: object = None,
        onmessage: object = None,
        onerror: object = None,
        onclose: object = None,
        behaviors: object = None,
        autoconnect: object = None,
    ) -> object:
        return _error_of(
            lambda: self.registry.init(
                client_id,
                url,
                channel,
                _callback(onopen),
                _callback(onmessage),
                _callback(onerror),
                _callback(onclose),
                _behaviors(client_id, behaviors),
                _js_truthy(autoconnect),
            )
        )

    def open(self, client_id: object = None) -> object:
        return _error_of(lambda: self.registry.open(client_id))

    def close(self, client_id: object = None) -> object:
        return _error_of(lambda: self.registry.close(client_id))

    def state(self, client_id: str) -> str:
        """``idle``, ``connecting``, ``open``, ``waiting`` or ``closing`` (for pages and tests)."""
        return self.registry.client(client_id).state

    def live_proxies(self) -> int:
        return live_proxies


def _error_of(operation: object) -> JsProxy | None:
    """Run ``operation``; the JavaScript Error to throw for a caller's mistake, else None."""
    try:
        operation()
    except (PushError, TypeError) as exc:
        return _js_error(exc)
    return None


def _js_error(exc: Exception) -> JsProxy:
    if isinstance(exc, UnknownClientError):
        return js.Error.new("Unknown clientId: " + js.String(exc.client_id))
    if isinstance(exc, TypeError):
        return js.TypeError.new(str(exc))
    return js.Error.new(str(exc))


def install() -> JavaScriptApi:
    """Called once by the loader: the object behind ``faces.push``."""
    return JavaScriptApi(PushRegistry(PyodidePlatform()))
