"""Turning the URL a page passes to init() into a WebSocket URL (spec I6).

The platform resolves relative URLs against the document; this module only
swaps the scheme, so it runs anywhere (CPython, Pyodide, MicroPython).
"""

_SCHEMES = {"ws:": "ws:", "wss:": "wss:", "http:": "ws:", "https:": "wss:"}


def websocket_url(absolute_url: str) -> str | None:
    """The ws:/wss: form of an absolute URL, or None when it has no usable scheme.

    ``http:`` becomes ``ws:`` and ``https:`` becomes ``wss:``, so the URL a
    Faces server renders (often ``/ctx/jakarta.faces.push/ch?id``, resolved
    by the platform first) works whatever form it took.
    """
    colon = absolute_url.find(":")
    if colon <= 0:
        return None
    scheme = absolute_url[: colon + 1].lower()
    replacement = _SCHEMES.get(scheme)
    if replacement is None or not absolute_url[colon + 1 :].startswith("//"):
        return None
    if len(absolute_url) <= colon + 3:
        return None
    return replacement + absolute_url[colon + 1 :]
