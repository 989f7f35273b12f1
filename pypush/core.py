"""The faces.push state machine, free of I/O (spec sections 2 to 6).

This module decides everything: which clients exist, when a socket is made,
which callback runs, whether a close is final or followed by a reconnect, and
after how long. It talks to the outside world only through a
:class:`pypush.platform.Platform`, so the same code runs in the browser (through
an adapter) and in unit tests (with a fake socket and a fake clock).

It sticks to the Python subset MicroPython runs: plain classes, no dataclasses,
enum or typing imports at run time.
"""

from pypush.errors import PushArgumentError, PushUrlError, UnknownClientError
from pypush.urls import websocket_url

MAX_RECONNECT_ATTEMPTS = 25
"""Reconnect attempts allowed since the last stable connection (E7, E8)."""

RECONNECT_INTERVAL_MS = 500
"""Attempt n waits ``n * RECONNECT_INTERVAL_MS`` (0, 500, 1000, ... ms; E8)."""

STABLE_AFTER_MS = 500
"""A connection resets the attempt count only after staying open this long (E9)."""

CODE_NO_WEBSOCKET = -1
CODE_NORMAL = 1000
CODE_POLICY_VIOLATION = 1008
REASON_EXPIRED = "Expired"

# Lifecycle states.
CONNECTING = "connecting"
OPEN = "open"
WAITING = "waiting"  # a reconnect timer is pending
CLOSING = "closing"  # close() was called; waiting for the socket's close event
ENDED = "ended"


def _noop(*args: object) -> None:
    return None


def reconnect_delay_ms(attempt: int) -> int:
    """Delay before reconnect attempt ``attempt + 1`` (E8: 500 ms times n, from 0)."""
    return RECONNECT_INTERVAL_MS * attempt


def is_final_close(code: int, reason: str, ever_opened: bool, attempts: int) -> bool:
    """Whether a close the user did not ask for ends the client (E7) or retries (E8)."""
    return (
        code == CODE_POLICY_VIOLATION
        or (code == CODE_NORMAL and reason == REASON_EXPIRED)
        or not ever_opened
        or attempts >= MAX_RECONNECT_ATTEMPTS
    )


class PushClient:
    """One registered clientId: its fixed settings and its current lifecycle.

    A *lifecycle* runs from an open() of an idle client to the one onclose that
    ends it (E10). ``close()`` detaches the lifecycle at once, so a following
    ``open()`` starts a new one while the old socket is still closing.
    """

    def __init__(
        self,
        platform: object,
        client_id: str,
        url: str | None,
        url_problem: str | None,
        channel: object,
        onopen: object,
        onmessage: object,
        onerror: object,
        onclose: object,
        behaviors: dict,
    ) -> None:
        self.platform = platform
        self.client_id = client_id
        self.url = url
        self.url_problem = url_problem
        self.channel = channel
        self.onopen = onopen or _noop
        self.onmessage = onmessage or _noop
        self.onerror = onerror or _noop
        self.onclose = onclose or _noop
        self.behaviors = behaviors
        self.lifecycle: _Lifecycle | None = None

    # -- the public operations -------------------------------------------------

    def open(self) -> None:
        lifecycle = self.lifecycle
        if lifecycle is not None:
            lifecycle.open_again()
            return
        if self.url is None:
            raise PushUrlError(
                "faces.push: cannot open clientId '%s': %s" % (self.client_id, self.url_problem)
            )
        lifecycle = _Lifecycle(self)
        self.lifecycle = lifecycle
        try:
            lifecycle.connect()
        except BaseException:
            self.lifecycle = None
            raise

    def close(self) -> None:
        lifecycle = self.lifecycle
        if lifecycle is None:
            return  # C3: not connected, nothing to do
        self.lifecycle = None
        lifecycle.close_by_user()

    @property
    def state(self) -> str:
        """``idle`` or the state of the current lifecycle (for status displays and tests)."""
        return "idle" if self.lifecycle is None else self.lifecycle.state

    # -- callbacks, each isolated (E5) -------------------------------------------

    def call(self, what: str, function: object, *args: object) -> None:
        try:
            function(*args)
        except Exception as exc:  # a page callback may raise anything
            self.report("%s threw: %s" % (what, exc), exc)

    def report(self, problem: str, cause: BaseException | None = None) -> None:
        """Report a problem of this client without throwing, naming it and its channel."""
        self.platform.report_error(
            "faces.push: clientId '%s' on channel '%s': %s"
            % (self.client_id, self.channel, problem),
            cause,
        )

    def deliver(self, message: object, event: object) -> None:
        """E3/E4/E5: onmessage, then the behaviors that are own keys of the message.

        ``message`` is the platform's handle for the message; only a client with
        behaviors asks the platform for its text (E3: string messages only). This
        runs for every message, so it calls onmessage itself rather than through
        :meth:`call` (each Python call costs, most of all on MicroPython).
        """
        try:
            self.onmessage(message, self.channel, event)
        except Exception as exc:  # a page callback may raise anything
            self.report("onmessage threw: %s" % (exc,), exc)
        if self.behaviors:
            key = self.platform.message_key(message)
            functions = self.behaviors.get(key) if type(key) is str else None
            if functions:
                for function in functions:
                    self.call("behavior '%s'" % key, function)


class _Lifecycle:
    """From an open() of an idle client to its single onclose (E7 to E10, C1, C2)."""

    def __init__(self, client: PushClient) -> None:
        self.client = client
        self.state = CONNECTING
        self.ever_opened = False
        self.attempts = 0
        self.socket: object = None
        self.events: _SocketEvents | None = None
        self.retry_timer: object = None
        self.stable_timer: object = None
        self.last_code = 0
        self.last_event: object = None

    def connect(self) -> None:
        client = self.client
        events = _SocketEvents(self)
        try:
            socket = client.platform.open_socket(client.url, events)
        except Exception as exc:  # the host's constructor may raise anything
            raise PushUrlError(
                "faces.push: cannot open clientId '%s': WebSocket('%s') failed: %s"
                % (client.client_id, client.url, exc)
            ) from exc
        self.events = events
        self.socket = socket
        self.state = CONNECTING

    def open_again(self) -> None:
        """open() on a client that already has a lifecycle."""
        if self.state == WAITING:
            # The user asks for a connection now: do not wait for the timer.
            self.cancel_retry()
            self.retry()
        # O1/O2: CONNECTING or OPEN, nothing happens.

    def close_by_user(self) -> None:
        if self.state == WAITING:
            # C2: the pending reconnect is cancelled and the lifecycle ends now,
            # reporting the last close the socket saw.
            self.cancel_retry()
            self.end(self.last_code, self.last_event)
        elif self.state in (CONNECTING, OPEN):
            self.cancel_stable()
            self.state = CLOSING
            self.socket.close()  # C1: onclose follows with the close event's code

    # -- socket events ---------------------------------------------------------------

    def on_open(self, events: "_SocketEvents") -> None:
        if events is not self.events or self.state != CONNECTING:
            return  # E10: a socket that is no longer ours
        self.state = OPEN
        first = not self.ever_opened
        self.ever_opened = True
        # E9: only a connection that lasts resets the attempt count. Without a timer
        # (the page's setTimeout threw) the count is simply not reset: said, not fatal.
        try:
            self.stable_timer = self.client.platform.set_timer(STABLE_AFTER_MS, self.on_stable)
        except Exception as exc:  # the host's timers may raise anything
            self.client.report(
                "cannot time the connection's stability (the page's setTimeout failed: %s)"
                % (exc,),
                exc,
            )
        if first:
            client = self.client
            client.call("onopen", client.onopen, client.channel)  # E1, E2

    def on_stable(self) -> None:
        self.stable_timer = None
        if self.state == OPEN:
            self.attempts = 0

    def on_bad_frame(self, events: "_SocketEvents", why: str) -> None:
        if events is self.events and self.state == OPEN:
            client = self.client
            client.platform.warn(
                "faces.push: skipped a frame for clientId '%s' on channel '%s': %s"
                % (client.client_id, client.channel, why)
            )

    def on_close(self, events: "_SocketEvents", code: int, reason: str, event: object) -> None:
        if events is not self.events:
            return  # E10
        self.events = None
        self.socket = None
        self.cancel_stable()
        self.last_code = code
        self.last_event = event
        if self.state == CLOSING:
            self.end(code, event)  # C1
        elif self.state in (CONNECTING, OPEN):
            if is_final_close(code, reason, self.ever_opened, self.attempts):
                self.end(code, event)  # E7
            else:
                self.schedule_retry(code, event)  # E8

    # -- reconnecting -------------------------------------------------------------

    def schedule_retry(self, code: int, event: object) -> None:
        delay = reconnect_delay_ms(self.attempts)
        client = self.client
        try:
            self.retry_timer = client.platform.set_timer(delay, self.on_retry_timer)
        except Exception as exc:  # the host's timers may raise anything
            # No timer, no reconnect: end the lifecycle now and say why, rather than
            # wait for ever in WAITING with neither onerror nor onclose.
            client.report(
                "cannot reconnect after close code %d: the page's setTimeout failed: %s"
                % (code, exc),
                exc,
            )
            self.end(code, event)
            return
        self.attempts += 1
        self.state = WAITING
        client.call("onerror", client.onerror, code, client.channel, event)

    def on_retry_timer(self) -> None:
        self.retry_timer = None
        if self.state == WAITING:
            self.retry()

    def retry(self) -> None:
        try:
            self.connect()
        except PushUrlError as exc:
            # The URL worked before, so the host changed under us (for example a
            # page replaced window.WebSocket with something that throws): say so
            # and end the lifecycle rather than hang in WAITING forever.
            self.client.platform.report_error(str(exc), exc)
            self.end(self.last_code, self.last_event)

    def cancel_retry(self) -> None:
        if self.retry_timer is not None:
            self.client.platform.clear_timer(self.retry_timer)
            self.retry_timer = None

    def cancel_stable(self) -> None:
        if self.stable_timer is not None:
            self.client.platform.clear_timer(self.stable_timer)
            self.stable_timer = None

    def end(self, code: int, event: object) -> None:
        """The one onclose of this lifecycle (E10)."""
        self.state = ENDED
        client = self.client
        if client.lifecycle is self:
            client.lifecycle = None
        client.call("onclose", client.onclose, code, client.channel, event)


class _SocketEvents:
    """Routes one socket's events to the lifecycle that made it (E10)."""

    def __init__(self, lifecycle: _Lifecycle) -> None:
        self.lifecycle = lifecycle

    def opened(self) -> None:
        self.lifecycle.on_open(self)

    def message(self, message: object = None, event: object = None) -> None:
        # The hot path, one Python call per message (E3, E10): a browser passes no
        # handles at all, meaning "the message being delivered" (see browser_platform).
        lifecycle = self.lifecycle
        if lifecycle.events is self and lifecycle.state == OPEN:
            lifecycle.client.deliver(message, event)

    def bad_frame(self, why: str, event: object) -> None:
        self.lifecycle.on_bad_frame(self, why)

    def closed(self, code: int, reason: str, event: object) -> None:
        self.lifecycle.on_close(self, code, reason, event)


class PushRegistry:
    """The ``faces.push`` namespace: init/open/close over a map of clients."""

    def __init__(self, platform: object) -> None:
        self.platform = platform
        self.clients: dict = {}

    def init(
        self,
        client_id: object,
        url: object,
        channel: object,
        onopen: object = None,
        onmessage: object = None,
        onerror: object = None,
        onclose: object = None,
        behaviors: dict | None = None,
        autoconnect: bool = False,
    ) -> None:
        """Register ``client_id`` (first init wins, I3) and open it if ``autoconnect`` (I4).

        Callbacks arrive already resolved to callables or None (I1 is the
        adapter's job, since it knows what a global function is).
        """
        if type(client_id) is not str:
            raise PushArgumentError(
                "faces.push.init: clientId must be a string, got %r" % (client_id,)
            )
        if not self.platform.websocket_available():
            # I2: like Mojarra, report and give up; unlike Mojarra, pass the channel.
            client = PushClient(
                self.platform, client_id, None, None, channel, None, None, None, onclose, {}
            )
            client.call("onclose", client.onclose, CODE_NO_WEBSOCKET, channel)
            return
        client = self.clients.get(client_id)
        if client is None:
            if type(url) is not str or not url:
                raise PushArgumentError(
                    "faces.push.init: clientId '%s' needs a URL string, got %r" % (client_id, url)
                )
            ws_url, problem = self.websocket_url_of(url)
            client = PushClient(
                self.platform,
                client_id,
                ws_url,
                problem,
                channel,
                onopen,
                onmessage,
                onerror,
                onclose,
                behaviors or {},
            )
            self.clients[client_id] = client
        if autoconnect:
            client.open()

    def websocket_url_of(self, url: str) -> tuple:
        """(ws URL, None) or (None, why not): I6 raises the reason at open()."""
        try:
            absolute = self.platform.resolve_url(url)
        except Exception as exc:  # the host's URL parser may raise anything
            return None, "URL '%s' cannot be resolved: %s" % (url, exc)
        ws_url = websocket_url(absolute)
        if ws_url is None:
            return None, "URL '%s' (resolved to '%s') is not a ws:, wss:, http: or https: URL" % (
                url,
                absolute,
            )
        return ws_url, None

    def client(self, client_id: object) -> PushClient:
        client = self.clients.get(client_id) if type(client_id) is str else None
        if client is None:
            raise UnknownClientError(client_id)
        return client

    def open(self, client_id: object) -> None:
        self.client(client_id).open()

    def close(self, client_id: object) -> None:
        self.client(client_id).close()

    def forget(self, client_id: object) -> None:
        """Close ``client_id`` if it is connected and drop it: nothing of it stays.

        Clients made for one use (a subscription) call this when they end, so a
        page that subscribes a thousand times keeps no thousand clients. A later
        open() of a forgotten clientId raises ``Unknown clientId``.
        """
        client = self.clients.pop(client_id, None) if type(client_id) is str else None
        if client is not None:
            client.close()
