"""Brokers: where the registry of channelIds lives and how pushes reach every process's hub.

One interface, two engines (as Centrifugo's ``broker_memory.go`` and ``broker_redis.go``):
:mod:`pypush_server.brokers.memory`, the embedded default, one process with everything in
memory; :mod:`pypush_server.brokers.redis`, any number of processes over one Redis.

A broker has ``attach(hub)``, ``start()``/``stop()``, the registry (``register``,
``channel_of``, ``channel_ids``, ``expire``), the bus (``publish``: the frames reach
``hub.deliver`` in every process) and the socket counts (``sockets_changed``,
``socket_count``).
"""


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached: the request (a push, a registration) was not done."""
