"""The few FFI primitives the browser side needs, for MicroPython's ``jsffi``."""

import gc

import jsffi

from pypush.jsglue import glue

INTERPRETER = "micropython"


def proxy(function: object) -> object:
    """A JavaScript function that calls ``function``."""
    return jsffi.create_proxy(function)


def release(handle: object) -> None:
    """MicroPython frees a proxy when JavaScript drops it; nothing to do here."""


def js_text(text: str) -> str:
    """A text for JavaScript, whole: the glue's ``text()`` and the loader decode it.

    MicroPython 1.27 hands a string to JavaScript through a NUL-terminated
    conversion, so ``"a\\x00b"`` would arrive as ``"a"``, and decodes longer ones
    with a TextDecoder, which turns a lone surrogate into U+FFFD. Such a text (and
    one that starts with U+0001, the marker) travels as U+0001 + ASCII JSON.
    """
    if "\x00" in text or text[:1] == "\x01" or _has_lone_surrogate(text):
        return "\x01" + ascii_json(text)
    return text


def _has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a surrogate code point (stored as bytes ED A0..BF xx)."""
    raw = text.encode()
    at = raw.find(b"\xed")
    while at >= 0:
        if at + 1 < len(raw) and raw[at + 1] >= 0xA0:
            return True
        at = raw.find(b"\xed", at + 1)
    return False


def ascii_json(text: str) -> str:
    """``text`` as a JSON string in ASCII: every other code point as a \\u escape."""
    out = ['"']
    for char in text:
        code = ord(char)
        if 0x20 <= code < 0x7F and char != '"' and char != "\\":
            out.append(char)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
        else:
            out.append("\\u%04x" % code)
    out.append('"')
    return "".join(out)


def collector() -> object:
    """``gc.collect`` for the glue to call after every megabyte or so of frames whose
    event Python was handed (the Python face's ``event``, control and bad frames).

    Such an event reaches Python as a proxy that keeps it, and its frame, alive in
    JavaScript until MicroPython's collector frees the proxy. That collector runs on
    Python heap pressure, which a proxy hardly makes. Messages the JavaScript face
    delivers never cross as proxies, and cost no collection (see glue.wire).
    """
    return jsffi.create_proxy(gc.collect)


__all__ = ["INTERPRETER", "collector", "glue", "js_text", "proxy", "release"]
