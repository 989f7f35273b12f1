"""Test helpers of the push server, apart from it (the hub, adapters and brokers never import
them): :class:`PushTestServer` (the server in-process, for tests), the faults serve.py can
inject (:mod:`.faults`, :mod:`.fault_api`) and the pytest plugin (:mod:`.pytest_plugin`)."""

__all__ = ["PushChannel", "PushTestServer"]


def __getattr__(name: str):
    # Lazily: serve.py's application imports the fault API from this package, and
    # PushTestServer imports that application.
    if name in __all__:
        from pypush_server.testing import server

        return getattr(server, name)
    raise AttributeError(name)
