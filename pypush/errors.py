"""Exceptions the faces.push core raises synchronously to its caller.

Each carries the exact message the page sees: the JavaScript adapter turns them
into a JavaScript ``Error`` (or ``TypeError``) with the same text.
"""


class PushError(Exception):
    """Base class of every error pypush raises to the caller of init/open/close."""


class UnknownClientError(PushError):
    """open()/close() named a clientId that init() never registered (spec S3)."""

    def __init__(self, client_id: object, shown: str | None = None) -> None:
        self.client_id = client_id
        # Mojarra's exact wording: ``Unknown clientId: <clientId>``.
        super().__init__("Unknown clientId: " + (shown if shown is not None else str(client_id)))


class PushUrlError(PushError):
    """The client's URL cannot make a WebSocket (spec I6); raised at open()."""


class PushArgumentError(PushError):
    """init() was called with an argument of the wrong kind (for example no URL).

    Adapters raise it to JavaScript as a ``TypeError``. (It cannot also subclass
    Python's TypeError: MicroPython allows one built-in base class only.)
    """
