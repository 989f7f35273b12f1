"""Brokers: where the registry of channelIds lives and how pushes reach every process's hub.

One interface, two engines (as Centrifugo's ``broker_memory.go`` and ``broker_redis.go``):
:mod:`pypush_server.brokers.memory`, the embedded default, one process with everything in
memory; :mod:`pypush_server.brokers.redis`, any number of processes over one Redis.

A broker has ``attach(hub)``, ``start()``/``stop()``, the registry (``register``,
``channel_of``, ``channel_ids``, ``expire``), the bus (``publish``: the frames reach
``hub.deliver`` in every process; with an idempotency key, at most once per key) and the
socket counts (``sockets_changed``, ``socket_count``).
"""

import re

IDEMPOTENCY_SECONDS = 300
"""How long a push's idempotency key is remembered, per channel (Centrifugo's 5 minutes)."""

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached: the request (a push, a registration) was not done."""


class OutcomeUnknown(ConnectionError):
    """The push was sent to the broker (Redis) and no answer came: it may have been published
    or not. Sending it again with the same idempotency key publishes it at most once."""


def check_idempotency_key(key: str | None) -> None:
    """ValueError unless ``key`` is None or 1 to 128 visible ASCII characters."""
    if key is not None and (not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key)):
        raise ValueError("an idempotency key is 1 to 128 visible ASCII characters, not %r" % key)


class RecentAnswers:
    """The answers of pushes sent with an idempotency key, per channel, each kept
    :data:`IDEMPOTENCY_SECONDS`: a repeat answers as the first did and publishes nothing."""

    def __init__(self, clock) -> None:
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, int]] = {}  # oldest first

    def get(self, channel: str, key: str) -> int | None:
        self.sweep(self._clock())
        found = self._answers.get((channel, key))
        return None if found is None else found[1]

    def remember(self, channel: str, key: str, answer: int) -> None:
        self._answers[(channel, key)] = (self._clock() + IDEMPOTENCY_SECONDS, answer)

    def sweep(self, now: float) -> None:
        """Forget the keys older than the bound (kept in insertion order: oldest first)."""
        while self._answers:
            entry, (until, _) = next(iter(self._answers.items()))
            if until > now:
                break
            del self._answers[entry]
