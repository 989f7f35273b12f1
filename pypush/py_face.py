"""``faces.push`` for Python code in the page: Python callables, Python values.

:class:`PythonApi` shares the page's registry with the JavaScript face, so a
clientId initialised from JavaScript can be opened or closed from Python and
back. Mistakes raise :class:`pypush.errors.PushError` subclasses. Messages reach
Python callbacks as plain Python data, read from the message the glue decoded.
"""

from pypush.browser_platform import message_event, message_value
from pypush.core import PushRegistry
from pypush.errors import PushArgumentError


class PythonApi:
    """``push.init(...)``, ``push.open(id)``, ``push.close(id)``, ``push.state(id)``.

    ``push.ongap``: set it to ``callable(client_id, channel, missed, reason)`` to learn
    of messages lost across a reconnect of a client initialised here (spec P4;
    ``missed`` is None when their number is unknown).
    """

    def __init__(self, registry: PushRegistry) -> None:
        self.registry = registry
        self.ongap = None

    def init(
        self,
        client_id: str,
        url: str,
        channel: str,
        onopen: object = None,
        onmessage: object = None,
        onerror: object = None,
        onclose: object = None,
        behaviors: dict | None = None,
        autoconnect: bool = False,
    ) -> None:
        """Register ``client_id``; callbacks get Python values and the raw event.

        ``onopen(channel)``, ``onmessage(message, channel, event)``,
        ``onerror(code, channel, event)``, ``onclose(code, channel, event)``;
        ``behaviors`` maps a message to a list of callables taking no argument.
        """
        for name, value in (
            ("onopen", onopen),
            ("onmessage", onmessage),
            ("onerror", onerror),
            ("onclose", onclose),
        ):
            if value is not None and not callable(value):
                raise PushArgumentError("pypush.init: %s must be callable or None" % name)
        if behaviors is not None and not isinstance(behaviors, dict):
            raise PushArgumentError("pypush.init: behaviors must be a dict of lists of callables")
        message_callback = None
        if onmessage is not None:

            def message_callback(message: object, channel: object, event: object) -> None:
                onmessage(message_value(message), channel, message_event(event))

        self.registry.init(
            client_id,
            url,
            channel,
            onopen,
            message_callback,
            onerror,
            onclose,
            {k: list(v) for k, v in (behaviors or {}).items()},
            autoconnect,
            self.gap_callback(client_id, channel),
        )

    def gap_callback(self, client_id: object, channel: object) -> object:
        """What the core calls on a gap (P4): ``push.ongap`` as it is set at that moment."""

        def ongap(missed: int | None, reason: str) -> None:
            if self.ongap is not None:
                self.ongap(client_id, channel, missed, reason)

        return ongap

    def open(self, client_id: str) -> None:
        self.registry.open(client_id)

    def close(self, client_id: str) -> None:
        self.registry.close(client_id)

    def state(self, client_id: str) -> str:
        return self.registry.client(client_id).state


def subscribe(
    registry: PushRegistry,
    url: str,
    channel: str,
    face: PythonApi | None = None,
    onopen: object = None,
) -> "pypush.subscribe.Subscription":  # noqa: F821
    """A :class:`pypush.subscribe.Subscription` whose messages are Python data; its gaps
    (P4) are in ``subscription.gaps`` and go to ``face.ongap`` too."""
    # Imported here: asyncio costs a JavaScript-only page start-up time for nothing.
    from pypush.subscribe import Subscription

    ongap = None
    if face is not None:

        def ongap(client_id: object, channel: object, missed: object, reason: str) -> None:
            if face.ongap is not None:
                face.ongap(client_id, channel, missed, reason)

    return Subscription(registry, url, channel, message_value, ongap, onopen)
