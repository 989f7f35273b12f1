"""pypush's push server: a hub without I/O, adapters for aiohttp and ASGI, brokers.

    from pypush_server import Hub
    hub = Hub()                       # Hub(RedisBroker(url)) for many processes
    channel_id = await hub.register("news")
    await hub.send("news", {"title": "Hello"})

Not part of what runs in the browser: this is CPython code. ``serve.py`` is its demo and
test server (:mod:`pypush_server.cli`); :mod:`pypush_server.testing` its test helpers.
"""

from pypush_server.hub import Hub

__all__ = ["Hub"]
