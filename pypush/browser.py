"""Binds the core to a browser page, on Pyodide or on MicroPython.

Only this module and its two FFI shims (:mod:`pypush.ffi_pyodide`,
:mod:`pypush.ffi_micropython`) touch browser APIs. It makes WebSockets and turns
their events into core calls, runs timers through the page's own ``setTimeout``
(R2), reports errors the way a page sees them, and offers the one registry of
the page twice: to JavaScript (``faces.push``, through the loader, with
JavaScript's conventions: I1, I5, S3) and to Python code in the page
(:data:`push` and :func:`subscribe`, with Python values and exceptions).

The small JavaScript helpers below each do in one call what would otherwise
take several FFI crossings, and they never throw: MicroPython cannot catch a
JavaScript exception, so failures come back as values.
"""

try:
    from pypush import ffi_pyodide as ffi
except ImportError:  # no pyodide module: MicroPython
    from pypush import ffi_micropython as ffi

import js

from pypush.core import PushRegistry
from pypush.errors import PushArgumentError, PushError, UnknownClientError
from pypush.platform import Platform, Socket, SocketEvents

_type_of = ffi.js_function("v", "return v === null ? 'null' : typeof v")
_truthy = ffi.js_function("v", "return !!v")
_string = ffi.js_function("v", "return String(v)")
_global_function = ffi.js_function(
    "name", "const f = globalThis[name]; return typeof f === 'function' ? f : false"
)
_has_websocket = ffi.js_function("return typeof globalThis.WebSocket === 'function'")
_resolve_url = ffi.js_function(
    "url",
    "try { return new URL(url, (globalThis.document && document.baseURI) || location.href).href; }"
    " catch (e) { return false; }",
)
# O3: window.WebSocket looked up at each call. A failure comes back as its message.
_new_websocket = ffi.js_function(
    "url", "try { return new globalThis.WebSocket(url); } catch (e) { return String(e.message); }"
)
_own_entries = ffi.js_function(
    "o",
    "return Object.keys(o).map((k) => [k, Array.isArray(o[k]) ? o[k] : [o[k]]]);",
)
_guard = ffi.js_function(
    "fn",
    "return function () { try { fn.apply(null, arguments); return false; }"
    " catch (e) { return e; } };",
)
_report = ffi.js_function(
    "message",
    "cause",
    "const e = new Error(message); if (cause) e.cause = cause; globalThis.reportError(e);",
)
# E3/E6: parse the frame in JavaScript and hand Python the message, in one crossing.
# ``collect`` (MicroPython only) runs Python's collector after every ``budget``
# characters of frames: see ffi_micropython.collector.
_message_handler = ffi.js_function(
    "onFrame",
    "onBadFrame",
    "collect",
    "budget",
    """let pending = 0;
    return function (event) {
        const text = event.data;
        if (typeof text !== 'string')
            return onBadFrame('a binary frame, expected JSON text', event);
        let frame;
        try { frame = JSON.parse(text); } catch (e) { return onBadFrame(String(e.message), event); }
        if (frame === null || typeof frame !== 'object' || !('data' in frame))
            return onBadFrame('JSON without a "data" property', event);
        onFrame(frame.data, event);
        if (collect && (pending += text.length) >= budget) { pending = 0; collect(); }
    };""",
)
_collect = ffi.collector()
COLLECT_EVERY_CHARS = 1 << 20

# WebKit: a connection it refuses to even try (a blocked port such as 1 or 6000) fires
# `error` and goes CLOSED, but never fires `close`: the client would stay connecting for
# ever. So when `close` has not come graceMs after an error before open, make it (1006,
# as Chromium reports the same failure). The flag keeps it to one onClose either way.
_watch_close = ffi.js_function(
    "ws",
    "onClose",
    "graceMs",
    """let closed = false, opened = false;
    ws.addEventListener('open', () => { opened = true; });
    ws.onclose = (event) => { if (!closed) { closed = true; onClose(event); } };
    ws.onerror = () => {
        if (opened) return;
        setTimeout(() => {
            if (closed || ws.readyState !== 3) return;  // CLOSED
            ws.onclose(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
        }, graceMs);
    };""",
)
CLOSE_GRACE_MS = 1000

# R2: the page's setTimeout, looked up at each call, so a test clock governs it. What it
# throws comes back as text (MicroPython cannot catch a JavaScript exception).
_set_timeout = ffi.js_function(
    "fn",
    "ms",
    "try { return globalThis.setTimeout(fn, ms); }"
    " catch (e) { return 'setTimeout threw ' + String(e && e.message || e); }",
)
# A clearTimeout that throws leaves the timer to fire; the core ignores timers it no
# longer waits for (the state checks in on_retry_timer and on_stable).
_clear_timeout = ffi.js_function("id", "try { globalThis.clearTimeout(id); } catch (e) {}")

live_proxies = 0
"""Proxies of Python callables this module created and has not yet released (R1)."""


def _proxy(function: object) -> object:
    global live_proxies
    live_proxies += 1
    return ffi.proxy(function)


def _release(handle: object) -> None:
    global live_proxies
    live_proxies -= 1
    ffi.release(handle)


class JavaScriptError(Exception):
    """A page callback threw; ``js_error`` is what it threw."""

    def __init__(self, js_error: object) -> None:
        super().__init__(_string(js_error))
        self.js_error = js_error


class _JsCallback:
    """A page's JavaScript function, called so that its exceptions become Python ones (E5)."""

    def __init__(self, function: object) -> None:
        self.guarded = _guard(function)

    def __call__(self, *args: object) -> None:
        error = self.guarded(*args)
        if error is not False:
            raise JavaScriptError(error)


class _BrowserSocket(Socket):
    """A ``WebSocket`` whose events reach the core; its proxies die with it (R1)."""

    def __init__(self, ws: object, events: SocketEvents) -> None:
        self.ws = ws
        self.events = events
        self.handlers = (
            _proxy(events.opened_event),
            _proxy(events.message),
            _proxy(events.bad_frame),
            _proxy(self.on_close),
        )
        ws.onopen = self.handlers[0]
        ws.onmessage = _message_handler(
            self.handlers[1], self.handlers[2], _collect, COLLECT_EVERY_CHARS
        )
        _watch_close(ws, self.handlers[3], CLOSE_GRACE_MS)

    def close(self) -> None:
        self.ws.close()

    def on_close(self, event: object) -> None:
        ws = self.ws
        ws.onopen = None
        ws.onmessage = None
        ws.onclose = None
        ws.onerror = None
        for handler in self.handlers:
            _release(handler)
        self.handlers = ()
        self.events.closed(event.code, event.reason, event)


class _Timer:
    """One ``setTimeout``; its proxy is released when it fires or is cleared (R1)."""

    def __init__(self, delay_ms: int, callback: object) -> None:
        self.callback = callback
        self.proxy = _proxy(self.fire)
        self.id = _set_timeout(self.proxy, delay_ms)
        if type(self.id) is str:
            self.release()
            raise RuntimeError(self.id)

    def fire(self) -> None:
        self.release()
        self.callback()

    def release(self) -> None:
        if self.proxy is not None:
            _release(self.proxy)
            self.proxy = None


class BrowserPlatform(Platform):
    """The core's platform in a browser page."""

    def websocket_available(self) -> bool:
        return _has_websocket() is True

    def resolve_url(self, url: str) -> str:
        resolved = _resolve_url(url)
        if resolved is False:
            raise ValueError("not a valid URL")
        return resolved

    def open_socket(self, url: str, events: SocketEvents) -> Socket:
        ws = _new_websocket(url)
        if type(ws) is str:
            raise ValueError(ws)
        return _BrowserSocket(ws, _EventAdapter(events))

    def set_timer(self, delay_ms: int, callback: object) -> _Timer:
        return _Timer(delay_ms, callback)

    def clear_timer(self, handle: _Timer) -> None:
        _clear_timeout(handle.id)
        handle.release()

    def report_error(self, message: str, cause: BaseException | None) -> None:
        _report(message, cause.js_error if isinstance(cause, JavaScriptError) else False)

    def warn(self, message: str) -> None:
        js.console.error(message)


class _EventAdapter:
    """Browser event signatures to the core's :class:`SocketEvents` calls."""

    def __init__(self, events: SocketEvents) -> None:
        self.opened = events.opened
        self.message = events.message
        self.bad_frame = events.bad_frame
        self.closed = events.closed

    def opened_event(self, event: object) -> None:
        self.opened()


# -- the JavaScript face: faces.push ---------------------------------------------------------


def _js_callback(value: object) -> object:
    """I1: a function, the name of a global function, or anything else meaning none."""
    kind = _type_of(value)
    if kind == "string":
        value = _global_function(value)
        kind = "function" if value is not False else ""
    return _JsCallback(value) if kind == "function" else None


def _js_behaviors(client_id: object, value: object) -> dict:
    """I5/E4: the object's own keys, each mapped to its list of functions."""
    kind = _type_of(value)
    if kind in ("null", "undefined"):
        return {}
    if kind != "object":
        raise PushArgumentError(
            "faces.push.init: behaviors of clientId '%s' must be an object mapping "
            "messages to arrays of functions" % (client_id,)
        )
    behaviors = {}
    entries = _own_entries(value)
    for i in range(entries.length):
        key, functions = entries[i][0], entries[i][1]
        callables = []
        for j in range(functions.length):
            function = functions[j]
            if _type_of(function) == "function":
                callables.append(_JsCallback(function))
        if len(callables) != functions.length:
            js.console.error(
                "faces.push.init: behavior '%s' of clientId '%s' holds something that is not "
                "a function; it is ignored" % (key, client_id)
            )
        behaviors[key] = callables
    return behaviors


class JavaScriptApi:
    """What ``faces.push`` calls once Python is live, in JavaScript's conventions.

    Each method returns ``""`` on success or ``"Error: …"``/``"TypeError: …"``
    for the loader to throw as that error. An exception raised across the FFI
    would reach JavaScript wrapped in a traceback (S3 wants Mojarra's exact
    message), and a JavaScript object made here and returned does not always
    survive MicroPython's trip back; a string does.
    """

    def __init__(self, registry: PushRegistry) -> None:
        self.registry = registry
        self.interpreter = ffi.INTERPRETER

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
    ) -> str:
        return _error_text_of(
            lambda: self.registry.init(
                client_id,
                url,
                channel,
                _js_callback(onopen),
                _js_callback(onmessage),
                _js_callback(onerror),
                _js_callback(onclose),
                _js_behaviors(client_id, behaviors),
                _truthy(autoconnect) is True,
            )
        )

    def open(self, client_id: object = None) -> str:
        return _error_text_of(lambda: self.registry.open(client_id))

    def close(self, client_id: object = None) -> str:
        return _error_text_of(lambda: self.registry.close(client_id))

    def state(self, client_id: str) -> str:
        """``idle``, ``connecting``, ``open``, ``waiting`` or ``closing`` (for pages and tests)."""
        return self.registry.client(client_id).state

    def live_proxies(self) -> int:
        return live_proxies


def _error_text_of(operation: object) -> str:
    """Run ``operation``: ``""``, or the text of the caller's mistake for the loader to throw."""
    try:
        operation()
    except PushError as exc:
        return _error_text(exc)
    return ""


def _error_text(exc: PushError) -> str:
    if isinstance(exc, UnknownClientError):
        return "Error: Unknown clientId: " + _string(exc.client_id)
    return ("TypeError: " if isinstance(exc, PushArgumentError) else "Error: ") + str(exc)


# -- the Python face ------------------------------------------------------------------------


class PythonApi:
    """``faces.push`` for Python code in the page: Python callables, Python values.

    It shares the page's registry with the JavaScript face, so a clientId
    initialised from JavaScript can be opened or closed from Python and back.
    Errors are raised as :class:`pypush.errors.PushError` subclasses.
    """

    def __init__(self, registry: PushRegistry) -> None:
        self.registry = registry

    def init(
        self,
        client_id: str,
        url: str,
        channel: str,
        onopen: object = None,
        onmessage: object = None,
        onerror: object = None,
        onclose: object = None,
        behaviors: dict | None = None,
        autoconnect: bool = False,
    ) -> None:
        """Register ``client_id``; callbacks get Python values and the raw event.

        ``onopen(channel)``, ``onmessage(message, channel, event)``,
        ``onerror(code, channel, event)``, ``onclose(code, channel, event)``;
        ``behaviors`` maps a message to a list of callables taking no argument.
        """
        for name, value in (
            ("onopen", onopen),
            ("onmessage", onmessage),
            ("onerror", onerror),
            ("onclose", onclose),
        ):
            if value is not None and not callable(value):
                raise PushArgumentError("pypush.init: %s must be callable or None" % name)
        if behaviors is not None and not isinstance(behaviors, dict):
            raise PushArgumentError("pypush.init: behaviors must be a dict of lists of callables")
        message_callback = None
        if onmessage is not None:

            def message_callback(message: object, channel: object, event: object) -> None:
                onmessage(ffi.to_python(message), channel, event)

        self.registry.init(
            client_id,
            url,
            channel,
            onopen,
            message_callback,
            onerror,
            onclose,
            {k: list(v) for k, v in (behaviors or {}).items()},
            autoconnect,
        )

    def open(self, client_id: str) -> None:
        self.registry.open(client_id)

    def close(self, client_id: str) -> None:
        self.registry.close(client_id)

    def state(self, client_id: str) -> str:
        return self.registry.client(client_id).state


registry = PushRegistry(BrowserPlatform())
"""The page's one registry, behind both faces."""

push = PythonApi(registry)
"""``faces.push`` for Python: ``push.init(...)``, ``push.open(id)``, ``push.close(id)``."""


def subscribe(url: str, channel: str) -> "pypush.subscribe.Subscription":  # noqa: F821
    """``async for message in subscribe(url, channel)``: messages as Python values.

    Reconnects like ``faces.push``; the iteration ends on the final close, whose
    code is then ``subscription.close_code``. Breaking out of ``async with
    subscribe(...) as messages`` or cancelling the task closes the socket.
    """
    # Imported here: asyncio costs a JavaScript-only page start-up time for nothing.
    from pypush.subscribe import Subscription

    return Subscription(registry, url, channel, ffi.to_python)


def install() -> JavaScriptApi:
    """Called once by the loader: the object behind ``faces.push``."""
    return JavaScriptApi(registry)


# One interpreter per page: when PyScript runs this module and the loader waits for
# it (data-interpreter="pyscript"), faces.push uses this interpreter too. Before the
# loader has run, the API waits on window.pypushPythonApi for the loader to take it.
_attach = ffi.js_function(
    "api",
    "const p = globalThis.pypush; if (p && p.attach) { p.attach(api); return true; }"
    " globalThis.pypushPythonApi = api; return false;",
)
_attach(ffi.proxy(install()))  # without a loader on the page, the Python face alone serves
