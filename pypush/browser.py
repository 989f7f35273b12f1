"""pypush in a browser page: the page's one registry behind both faces.

Python code in the page uses :data:`push` and :func:`subscribe`; the loader
(``faces-push.js``) gets the JavaScript face from :func:`install`. The pieces:

- :mod:`pypush.browser_platform`: WebSockets, timers and reports for the core,
  through the JavaScript module ``web/pypush-glue.js``;
- :mod:`pypush.js_face`: ``faces.push`` in JavaScript's conventions;
- :mod:`pypush.py_face`: the same for Python, with Python values.
"""

from pypush.browser_platform import BrowserPlatform, ffi, glue
from pypush.core import PushRegistry
from pypush.js_face import JavaScriptApi
from pypush.py_face import PythonApi
from pypush.py_face import subscribe as _subscribe

registry = PushRegistry(BrowserPlatform())
"""The page's one registry, behind both faces."""

# N1-N3: the browser's offline/online events and the page shown again reach the core,
# which decides (the proxies live as long as the page).
glue.watchPage(ffi.proxy(registry.network_changed), ffi.proxy(registry.page_shown))

push = PythonApi(registry)
"""``faces.push`` for Python: ``push.init(...)``, ``push.open(id)``, ``push.close(id)``."""


def subscribe(url: str, channel: str, onopen: object = None) -> "pypush.subscribe.Subscription":  # noqa: F821
    """``async for message in subscribe(url, channel)``: messages as Python values;
    ``onopen(channel)``, if given, when it first opens (E1).

    Reconnects like ``faces.push``; the iteration ends on the final close, whose
    code is then ``subscription.close_code``. Breaking out of ``async with
    subscribe(...) as messages`` or cancelling the task closes the socket.
    """
    return _subscribe(registry, url, channel, push, onopen)


def install() -> JavaScriptApi:
    """Called once by the loader: the object behind ``faces.push``."""
    return JavaScriptApi(registry, ffi.INTERPRETER)


# One interpreter per page: on a PyScript page the loader takes this module's API
# (now, or from window.pypushPythonApi if it runs later): see glue.attach.
glue.attach(ffi.proxy(install()))
