"""pypush's push server: a hub without I/O, adapters for aiohttp and ASGI, brokers.

    from pypush_server import Hub
    hub = Hub()                       # Hub(RedisBroker(url)) for many processes
    channel_id = await hub.register("news")
    await hub.send("news", {"title": "Hello"})

Not part of what runs in the browser: this is CPython code. ``serve.py`` is its demo and
test server (:mod:`pypush_server.cli`); :mod:`pypush_server.testing` its test helpers.
"""

__all__ = ["Hub"]


def __getattr__(name: str) -> object:
    """``Hub`` on first use: ``serve.py bundle`` imports this package for its command line,
    and must run on a Python that has only what the bundle needs (not the server's own
    dependencies)."""
    if name == "Hub":
        from pypush_server.hub import Hub

        return Hub
    raise AttributeError("module 'pypush_server' has no attribute %r" % name)
