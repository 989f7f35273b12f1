"""The few FFI primitives :mod:`pypush.browser` needs, for MicroPython's ``jsffi``."""

import gc
import json

import js
import jsffi

JsProxy = jsffi.JsProxy
INTERPRETER = "micropython"


def js_function(*params_and_body: str) -> object:
    """Compile a small JavaScript helper once (``new Function(...)``)."""
    return js.Function.new(*params_and_body)


def proxy(function: object) -> object:
    """A JavaScript function that calls ``function``."""
    return jsffi.create_proxy(function)


def release(handle: object) -> None:
    """MicroPython frees a proxy when JavaScript drops it; nothing to do here."""


def to_python(value: object) -> object:
    """A JavaScript value as plain Python data (dict, list, str, int, float, bool, None)."""
    if isinstance(value, JsProxy):
        return json.loads(js.JSON.stringify(value))
    return value


def collector() -> object:
    """``gc.collect`` for JavaScript to call after every megabyte or so of messages.

    Each message reaches Python as a proxy that keeps its JavaScript object alive
    until MicroPython's collector frees the proxy. That collector runs on Python
    heap pressure, which a proxy hardly makes: large messages would pile up in the
    JavaScript heap (about 3 MB after 2,000 messages of 10 KB, before this).
    """
    return jsffi.create_proxy(gc.collect)
