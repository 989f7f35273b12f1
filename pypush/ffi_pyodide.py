"""The few FFI primitives :mod:`pypush.browser` needs, for Pyodide."""

import js
from pyodide.ffi import JsException, JsProxy, create_proxy  # noqa: F401 - re-exported

INTERPRETER = "pyodide"


def js_function(*params_and_body: str) -> JsProxy:
    """Compile a small JavaScript helper once (``new Function(...)``)."""
    return js.Function.new(*params_and_body)


def proxy(function: object) -> JsProxy:
    """A JavaScript function that calls ``function`` until :func:`release` is called."""
    return create_proxy(function)


def release(handle: JsProxy) -> None:
    handle.destroy()


def to_python(value: object) -> object:
    """A JavaScript value as plain Python data (dict, list, str, int, float, bool, None)."""
    if isinstance(value, JsProxy):
        return value.to_py()
    return None if type(value).__name__ == "JsNull" else value


def collector() -> None:
    """Pyodide frees a message's proxy when the call returns: no collector needed."""
    return None
