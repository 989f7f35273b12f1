"""``faces.push`` for JavaScript: the object the loader calls once Python is live.

It speaks JavaScript's conventions (I1 callbacks by name, I5 behaviors objects,
S3's exact ``Unknown clientId`` message) over the page's one registry. The page's
callbacks stay JavaScript functions bound to the channel the page passed
(``glue.pageCallbacks``), so what they receive never makes a round trip through
Python: the channel and the message arrive exactly as the page and the server
gave them.
"""

import pypush.browser_platform as platform
from pypush.browser_platform import JavaScriptError, from_js, glue, js_text
from pypush.core import PushRegistry
from pypush.errors import PushArgumentError, PushError, UnknownClientError


def _failed(error: object) -> None:
    """What a glue wrapper returned: False, or what the page's function threw (E5)."""
    if error is not False:
        raise JavaScriptError(error)


class _OnOpen:
    def __init__(self, wrapper: object) -> None:
        self.wrapper = wrapper

    def __call__(self, channel: object) -> None:
        _failed(self.wrapper())


class _OnMessage:
    def __init__(self, wrapper: object) -> None:
        self.wrapper = wrapper

    def __call__(self, message: object, channel: object, event: object) -> None:
        # Per message: the glue hands the page the message being delivered.
        error = self.wrapper()
        if error is not False:
            raise JavaScriptError(error)


class _OnClose:
    """onerror and onclose: ``(code, channel, event)``; I2's onclose has no event."""

    def __init__(self, wrapper: object) -> None:
        self.wrapper = wrapper

    def __call__(self, code: int, channel: object, event: object = None) -> None:
        _failed(self.wrapper(code) if event is None else self.wrapper(code, event))


class _OnGap:
    """P4: ``window.pypush.ongap(clientId, channel, missed, reason)``, if the page set one."""

    def __init__(self, wrapper: object) -> None:
        self.wrapper = wrapper

    def __call__(self, missed: int | None, reason: str) -> None:
        _failed(self.wrapper(missed, js_text(reason)))


class _Behavior:
    def __init__(self, function: object) -> None:
        self.guarded = glue.guard(function)

    def __call__(self) -> None:
        _failed(self.guarded())


def _wrap(kind: type, wrapper: object) -> object:
    """I1: the wrapper of a page callback, or None where the page gave none.

    The glue answers ``undefined`` for "no callback". Pyodide hands that to Python as
    None, MicroPython as an object of its own ``undefined`` type (truthy, and not None),
    so the check asks JavaScript what the value is rather than testing for None.
    """
    return kind(wrapper) if glue.typeOf(wrapper) == "function" else None


def _behaviors(client_id: object, value: object) -> dict:
    """I5/E4: the object's own keys, each mapped to its list of functions."""
    kind = glue.typeOf(value)
    if kind in ("null", "undefined"):
        return {}
    if kind != "object":
        raise PushArgumentError(
            "faces.push.init: behaviors of clientId '%s' must be an object mapping "
            "messages to arrays of functions" % (client_id,)
        )
    behaviors = {}
    entries = glue.ownEntries(value)
    for i in range(entries.length):
        key, functions = from_js(entries[i][0]), entries[i][1]
        callables = []
        for j in range(functions.length):
            function = functions[j]
            if glue.typeOf(function) == "function":
                callables.append(_Behavior(function))
        if len(callables) != functions.length:
            glue.warn(
                js_text(
                    "faces.push.init: behavior '%s' of clientId '%s' holds something that is "
                    "not a function; it is ignored" % (key, client_id)
                )
            )
        behaviors[key] = callables
    return behaviors


class JavaScriptApi:
    """What ``faces.push`` calls, in JavaScript's conventions.

    Each method returns ``""`` on success or ``"Error: …"``/``"TypeError: …"``
    (through :func:`js_text`) for the loader to throw as that error. An exception
    raised across the FFI would reach JavaScript wrapped in a traceback (S3 wants
    Mojarra's exact message), and a JavaScript object made here and returned does
    not always survive MicroPython's trip back; a string does.
    """

    def __init__(self, registry: PushRegistry, interpreter: str) -> None:
        self.registry = registry
        self.interpreter = interpreter

    def init(self, args: object) -> str:
        """``args``: the page's arguments to ``faces.push.init``, as one array."""
        return _error_text_of(lambda: self._init(args))

    def _init(self, args: object) -> None:
        given = args.length  # Pyodide raises IndexError past the end of an array
        behaviors = args[7] if given > 7 else None
        autoconnect = given > 8 and glue.truthy(args[8]) is True
        texts = glue.initTexts(args)
        client_id, url, channel = from_js(texts[0]), from_js(texts[1]), from_js(texts[2])
        callbacks = glue.pageCallbacks(args)
        self.registry.init(
            client_id,
            url,
            channel,
            _wrap(_OnOpen, callbacks.onopen),
            _wrap(_OnMessage, callbacks.onmessage),
            _wrap(_OnClose, callbacks.onerror),
            _wrap(_OnClose, callbacks.onclose),
            _behaviors(client_id, behaviors),
            autoconnect,
            _OnGap(callbacks.ongap),
        )

    def open(self, client_id: object = None) -> str:
        return _error_text_of(lambda: self.registry.open(client_id))

    def close(self, client_id: object = None) -> str:
        return _error_text_of(lambda: self.registry.close(client_id))

    def state(self, client_id: str) -> str:
        """``idle``, ``connecting``, ``open``, ``waiting``, ``offline`` (N1) or ``closing``
        (for pages and tests)."""
        return self.registry.client(client_id).state

    def live_proxies(self) -> int:
        return platform.live_proxies


def _error_text_of(operation: object) -> str:
    """Run ``operation``: ``""``, or the text of the caller's mistake for the loader to throw."""
    try:
        operation()
    except PushError as exc:
        return js_text(_error_text(exc))
    return ""


def _error_text(exc: PushError) -> str:
    if isinstance(exc, UnknownClientError):
        shown = exc.client_id if type(exc.client_id) is str else from_js(glue.string(exc.client_id))
        return "Error: Unknown clientId: " + shown
    return ("TypeError: " if isinstance(exc, PushArgumentError) else "Error: ") + str(exc)


__all__ = ["JavaScriptApi"]
