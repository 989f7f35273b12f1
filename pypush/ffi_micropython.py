"""The few FFI primitives the browser side needs, for MicroPython's ``jsffi``."""

import gc
import json

import jsffi

from pypush.jsglue import glue

JsProxy = jsffi.JsProxy
INTERPRETER = "micropython"
_to_json = glue.json


def proxy(function: object) -> object:
    """A JavaScript function that calls ``function``."""
    return jsffi.create_proxy(function)


def release(handle: object) -> None:
    """MicroPython frees a proxy when JavaScript drops it; nothing to do here."""


def js_text(text: str) -> str:
    """A text for JavaScript, whole: glue's ``text()`` and the loader decode it.

    MicroPython 1.27 hands a string to JavaScript through a NUL-terminated
    conversion, so ``"a\\x00b"`` would arrive as ``"a"``. Such a text (and one
    that starts with U+0001, the marker) travels as U+0001 + its JSON instead.
    """
    if "\x00" in text or text[:1] == "\x01":
        return "\x01" + json.dumps(text)
    return text


def to_python(value: object) -> object:
    """A JavaScript value as plain Python data (dict, list, str, int, float, bool, None).

    Strings cross whole from JavaScript; objects as JSON text (JSON.stringify writes
    astral characters as they are, and json.loads keeps U+0000 and lone surrogates).
    """
    if isinstance(value, JsProxy):
        return json.loads(_to_json(value))
    return value


def collector() -> object:
    """``gc.collect`` for JavaScript to call after every megabyte or so of messages.

    Each message reaches Python as a proxy that keeps its JavaScript event alive
    until MicroPython's collector frees the proxy. That collector runs on Python
    heap pressure, which a proxy hardly makes: large messages would pile up in the
    JavaScript heap (about 3 MB after 2,000 messages of 10 KB, before this).
    """
    return jsffi.create_proxy(gc.collect)


__all__ = ["INTERPRETER", "collector", "glue", "js_text", "proxy", "release", "to_python"]
