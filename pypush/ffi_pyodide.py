"""The few FFI primitives the browser side needs, for Pyodide."""

from pyodide.ffi import JsProxy, create_proxy

from pypush.jsglue import glue

INTERPRETER = "pyodide"


def proxy(function: object) -> JsProxy:
    """A JavaScript function that calls ``function`` until :func:`release` is called."""
    return create_proxy(function)


def release(handle: JsProxy) -> None:
    handle.destroy()


def js_text(text: str) -> str:
    """A text for JavaScript: Pyodide carries any string as it is."""
    return text


def collector() -> None:
    """Pyodide frees a message's proxy when the call returns: no collector needed."""
    return None


__all__ = ["INTERPRETER", "collector", "glue", "js_text", "proxy", "release"]
