"""The faces.push state machine, free of I/O (spec sections 2 to 6).

This module decides everything: which clients exist, when a socket is made,
which callback runs, whether a close is final or followed by a reconnect, and
after how long. It talks to the outside world only through a
:class:`pypush.platform.Platform`, so the same code runs in the browser (through
an adapter) and in unit tests (with a fake socket and a fake clock).

It sticks to the Python subset MicroPython runs: plain classes, no dataclasses,
enum or typing imports at run time.

Positions (spec section 4a): pypush's server gives each message its place
in its channelId's stream (``"id": "EPOCH:OFFSET"`` next to ``data``). Once a client
has seen positions, and never otherwise, its reconnects ask the server to resume
after the last message it delivered; the server replays what was missed, or says
what it could not recover, which the page learns of as a *gap* (P4). Against a
server that never sent a position (a Faces server) nothing of this ever happens.

Connectivity (spec section 4b): the host reports what the browser says of
the network (``offline``/``online``) and of the page (shown again after being hidden,
or restored from the back/forward cache); the core decides what follows. Offline, no
attempt is made or counted (N1); online again, or back on the page, a waiting client
reconnects at once (N2, N3). A socket whose server announced heartbeats (only
pypush's, to a socket that asked to resume or said hello) and that hears nothing for
the announced interval plus a grace is treated as dead and replaced (N4).
"""

import json

from pypush.errors import PushArgumentError, PushUrlError, UnknownClientError
from pypush.urls import websocket_url

MAX_RECONNECT_ATTEMPTS = 25
"""Reconnect attempts allowed since the last stable connection (E7, E8)."""

RECONNECT_INTERVAL_MS = 500
"""Attempt n waits ``n * RECONNECT_INTERVAL_MS`` (0, 500, 1000, ... ms; E8)."""

STABLE_AFTER_MS = 500
"""A connection resets the attempt count only after staying open this long (E9)."""

HELLO_FRAME = '{"pypush":"hello"}'
"""N4: what a client sends, once, on a socket that did not resume, after its first message
with a position (its server is pypush's): the server answers with its heartbeats (H8)."""

RESUME_PARAMETER = "pypush-resume"
"""The reconnect URL's query gains ``&pypush-resume=EPOCH:OFFSET`` (P2)."""

GAP_STREAM_CHANGED = "stream-changed"
"""P5: the server's stream changed under an open socket, unannounced."""

HEARTBEAT_GRACE_MIN_MS = 1000
"""N4: the grace past the announced heartbeat interval is half the interval, at least this."""

MAX_HEARTBEAT_MS = 24 * 3600 * 1000
"""N4: an announced interval beyond a day (or not a positive integer) is no announcement."""

_EPOCH_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

CODE_NO_WEBSOCKET = -1
CODE_NORMAL = 1000
CODE_ABNORMAL = 1006
CODE_POLICY_VIOLATION = 1008
REASON_EXPIRED = "Expired"

# Lifecycle states.
CONNECTING = "connecting"
OPEN = "open"
WAITING = "waiting"  # a reconnect timer is pending
CLOSING = "closing"  # close() was called; waiting for the socket's close event
OFFLINE = "offline"  # N1: no socket and no timer; the next attempt waits for the network
ENDED = "ended"


def _noop(*args: object) -> None:
    return None


def reconnect_delay_ms(attempt: int) -> int:
    """Delay before reconnect attempt ``attempt + 1`` (E8: 500 ms times n, from 0)."""
    return RECONNECT_INTERVAL_MS * attempt


def heartbeat_deadline_ms(interval_ms: int) -> int:
    """N4: the silence after which a socket whose server sends heartbeats every
    ``interval_ms`` is dead: the interval plus a grace of half of it (at least 1 s)."""
    return interval_ms + max(interval_ms // 2, HEARTBEAT_GRACE_MIN_MS)


def announced_heartbeat(value: object) -> int | None:
    """The interval a ``resume`` or ``hello`` frame's ``heartbeat`` announces (ms), or None."""
    if type(value) is not int or value < 1 or value > MAX_HEARTBEAT_MS:
        return None
    return value


def is_final_code(code: int, reason: str) -> bool:
    """E7: the closes that end a client whatever else holds (1008, 1000 ``Expired``)."""
    return code == CODE_POLICY_VIOLATION or (code == CODE_NORMAL and reason == REASON_EXPIRED)


def parse_position(text: object) -> tuple | None:
    """``(epoch, offset)`` of an ``EPOCH:OFFSET`` text, or None when it is not one.

    The same rule as the glue's for a message's ``id`` and the server's for what a
    client sends: an epoch of 1 to 64 letters, digits, ``-`` or ``_``; an offset of
    decimal digits (no sign, no leading zero).
    """
    if type(text) is not str:
        return None
    at = text.rfind(":")
    epoch, digits = text[:at], text[at + 1 :]
    if at < 1 or at > 64 or not digits or len(digits) > 15 or not digits.isdigit():
        return None
    if len(digits) > 1 and digits[0] == "0":
        return None
    for char in epoch:
        if char not in _EPOCH_CHARACTERS:
            return None
    return epoch, int(digits)


def resume_url(url: str, epoch: str, offset: int) -> str:
    """P2: the client's URL asking to resume after ``epoch:offset``.

    Faces URLs are ``…/{channel}?{channelId}``: the parameter follows the channelId.
    """
    base, mark, fragment = url.partition("#")
    separator = "&" if "?" in base else "?"
    return "%s%s%s=%s:%d%s%s" % (base, separator, RESUME_PARAMETER, epoch, offset, mark, fragment)


def is_final_close(code: int, reason: str, ever_opened: bool, attempts: int) -> bool:
    """Whether a close the user did not ask for ends the client (E7) or retries (E8)."""
    return is_final_code(code, reason) or not ever_opened or attempts >= MAX_RECONNECT_ATTEMPTS


class Network:
    """What the browser last said of the network (N1, N2), shared by a registry's clients.

    It starts as ``navigator.onLine`` says, follows the ``offline`` and ``online``
    events, and a socket that opens proves the network is there: a machine with only
    a loopback interface reports offline, yet reaches a server on it.
    """

    def __init__(self, online: bool = True) -> None:
        self.online = online


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
        ongap: object = None,
        network: Network | None = None,
    ) -> None:
        self.platform = platform
        self.network = network if network is not None else Network()
        self.client_id = client_id
        self.url = url
        self.url_problem = url_problem
        self.channel = channel
        self.onopen = onopen or _noop
        self.onmessage = onmessage or _noop
        self.onerror = onerror or _noop
        self.onclose = onclose or _noop
        self.ongap = ongap or _noop
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

    def report_gap(self, missed: int | None, reason: str) -> None:
        """P4: messages were lost and could not be recovered; the client goes on live."""
        lost = (
            "messages" if missed is None else "%d message%s" % (missed, "" if missed == 1 else "s")
        )
        self.platform.notice(
            "faces.push: clientId '%s' on channel '%s': %s pushed while it was away could "
            "not be recovered (%s); it goes on with live messages"
            % (self.client_id, self.channel, lost, reason)
        )
        self.call("ongap", self.ongap, missed, reason)

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
        # P1: the position of the last message delivered, once the server has sent one.
        self.epoch: str | None = None
        self.offset = 0
        # N4: the heartbeat interval the current socket's server announced (ms), if any.
        self.heartbeat_ms: int | None = None
        self.watchdog_timer: object = None

    def connect(self) -> None:
        client = self.client
        resuming = self.epoch is not None
        url = resume_url(client.url, self.epoch, self.offset) if resuming else client.url
        events = _SocketEvents(self, resuming)
        try:
            socket = client.platform.open_socket(url, events)
        except Exception as exc:  # the host's constructor may raise anything
            raise PushUrlError(
                "faces.push: cannot open clientId '%s': WebSocket('%s') failed: %s"
                % (client.client_id, client.url, exc)
            ) from exc
        self.events = events
        self.socket = socket
        self.state = CONNECTING
        self.heartbeat_ms = None

    def open_again(self) -> None:
        """open() on a client that already has a lifecycle."""
        if self.state == WAITING:
            # The user asks for a connection now: do not wait for the timer.
            self.cancel_retry()
            self.retry()
        # O1/O2: CONNECTING or OPEN, nothing happens. N1: OFFLINE waits for the network.

    def close_by_user(self) -> None:
        if self.state in (WAITING, OFFLINE):
            # C2: the pending reconnect is cancelled and the lifecycle ends now,
            # reporting the last close the socket saw.
            self.cancel_retry()
            self.end(self.last_code, self.last_event)
        elif self.state in (CONNECTING, OPEN):
            self.cancel_stable()
            self.cancel_watchdog()
            self.state = CLOSING
            self.socket.close()  # C1: onclose follows with the close event's code

    # -- socket events ---------------------------------------------------------------

    def on_open(self, events: "_SocketEvents") -> None:
        if events is not self.events or self.state != CONNECTING:
            return  # E10: a socket that is no longer ours
        self.state = OPEN
        first = not self.ever_opened
        self.ever_opened = True
        self.client.network.online = True  # N1: whatever the browser said, it reached its server
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

    # -- positions (P1-P5) --------------------------------------------------------------

    def on_epoch(self, epoch: str, offset: object) -> int:
        """A message that came with its epoch: the socket's first positioned one, one whose
        stream is not the one we know (P5), or one beyond 32 bits (its offset as digits)."""
        if type(offset) is not int:
            offset = int(offset)
        events = self.events
        if not events.resuming and not events.greeted:
            self.greet(events)
        if epoch != self.epoch:
            if self.epoch is not None:
                # Not announced by a resume frame: the stream changed while we listened.
                self.client.report_gap(None, GAP_STREAM_CHANGED)
            self.epoch = epoch
            self.offset = offset - 1
        return offset

    def greet(self, events: "_SocketEvents") -> None:
        """N4: tell a server that sent positions that this client is pypush's (H8)."""
        events.greeted = True
        try:
            self.socket.send(HELLO_FRAME)
        except Exception as exc:  # a socket that cannot send: it is not watched, said
            self.client.report("cannot say hello to its server: %s" % (exc,), exc)

    def on_repeat(self, offset: int) -> None:
        """P3: a message at or before the last one delivered is never delivered twice."""
        client = self.client
        client.platform.warn(
            "faces.push: skipped a message for clientId '%s' on channel '%s' delivered "
            "before (position %s:%d, delivered up to %d)"
            % (client.client_id, client.channel, self.epoch, offset, self.offset)
        )

    def on_control(self, events: "_SocketEvents", text: str, event: object) -> None:
        """A frame for pypush, not the page (no ``data``): only from a server we asked (P2)."""
        if events is not self.events or self.state != OPEN:
            return
        try:
            fields = json.loads(text)
        except ValueError:
            fields = None
        kind = fields.get("pypush") if type(fields) is dict else None
        if kind == "hello" and events.greeted:
            if "heartbeat" in fields:
                self.watch_heartbeats(events, fields["heartbeat"])
            return
        if not (events.resuming or events.greeted) or kind not in ("resume", "heartbeat"):
            self.on_bad_frame(events, "a pypush control frame this client did not ask for")
            return
        if kind == "heartbeat":
            return  # N4: it was heard (the platform keeps the time); the page never sees it
        if not events.resuming:
            self.on_bad_frame(events, "a resume frame on a socket that did not resume")
            return
        if "heartbeat" in fields:
            self.watch_heartbeats(events, fields["heartbeat"])
        missed = fields.get("missed")
        if missed == 0 and type(missed) is int:
            return  # P3: nothing lost; the replay follows
        reason = fields.get("reason")
        if type(reason) is not str:
            reason = "unknown"
        if (type(missed) is not int or missed < 0) and missed is not None:
            missed = None
        position = parse_position(fields.get("id"))
        if position is None:
            self.epoch, self.offset = None, 0  # nothing to resume from any more
        else:
            self.epoch, self.offset = position
        self.client.report_gap(missed, reason)  # P4

    # -- connectivity (N1-N5) ----------------------------------------------------------

    def watch_heartbeats(self, events: "_SocketEvents", value: object) -> None:
        """N4: the server announced heartbeats: a silence past their deadline means death."""
        interval = announced_heartbeat(value)
        if interval is None:
            self.on_bad_frame(events, "a heartbeat interval that is not one: %r" % (value,))
            return
        self.heartbeat_ms = interval
        self.cancel_watchdog()
        self.arm_watchdog(heartbeat_deadline_ms(interval))

    def arm_watchdog(self, delay_ms: int) -> None:
        try:
            self.watchdog_timer = self.client.platform.set_timer(delay_ms, self.on_watchdog)
        except Exception as exc:  # the host's timers may raise anything
            self.client.report(
                "cannot watch the server's heartbeats (the page's setTimeout failed: %s)" % (exc,),
                exc,
            )

    def on_watchdog(self) -> None:
        self.watchdog_timer = None
        self.check_silence()

    def check_silence(self) -> None:
        """N3/N4: an open socket that heard nothing past the heartbeat deadline is dead;
        otherwise the watchdog waits for the rest of the deadline. Without an announced
        heartbeat (a Faces server, a socket that neither resumed nor said hello) nothing
        is checked."""
        if self.state != OPEN or self.heartbeat_ms is None:
            return
        self.cancel_watchdog()
        deadline = heartbeat_deadline_ms(self.heartbeat_ms)
        silence = self.socket.silence_ms()
        if silence >= deadline:
            self.on_silent(silence)
        else:
            self.arm_watchdog(deadline - silence)

    def on_silent(self, silence: int) -> None:
        """N4: close the dead socket and go on as after a close the browser reported (1006).

        Its own close event may take a minute (a closing handshake nobody answers); it
        is no longer this lifecycle's socket when it comes (E10).
        """
        client = self.client
        client.platform.notice(
            "faces.push: clientId '%s' on channel '%s': nothing heard for %d ms, though its "
            "server sends a heartbeat every %d ms: the connection is dead; reconnecting"
            % (client.client_id, client.channel, silence, self.heartbeat_ms)
        )
        socket = self.socket
        self.events = None
        self.socket = None
        self.cancel_stable()
        self.heartbeat_ms = None
        try:
            socket.close()
        except Exception as exc:  # a socket that cannot even close is gone all the same
            client.report("closing a dead socket threw: %s" % (exc,), exc)
        self.last_code = CODE_ABNORMAL
        self.last_event = None
        self.lost(CODE_ABNORMAL, "", None)

    def on_network(self, online: bool) -> None:
        """N1/N2: the browser said the network went (``offline``) or came back (``online``)."""
        if online:
            if self.state in (WAITING, OFFLINE):
                self.reconnect_now()
            elif self.state == OPEN:
                self.check_silence()  # N3: a network switch may have killed it silently
        elif self.state == WAITING:
            # N1: the attempt the timer would make is not made, so it is not counted.
            self.cancel_retry()
            self.attempts -= 1
            self.state = OFFLINE

    def on_shown(self) -> None:
        """N3: the page is visible again, or restored from the back/forward cache."""
        if self.state == WAITING or (self.state == OFFLINE and self.client.network.online):
            self.reconnect_now()
        elif self.state == OPEN:
            self.check_silence()

    def reconnect_now(self) -> None:
        """N2/N3: the next attempt now rather than at its scheduled time (counted as E8 counts)."""
        if self.state == OFFLINE:
            self.attempts += 1  # the attempt left uncounted while offline is made now
        else:
            self.cancel_retry()
        self.retry()

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
        self.cancel_watchdog()
        self.last_code = code
        self.last_event = event
        if self.state == CLOSING:
            self.end(code, event)  # C1
        elif self.state in (CONNECTING, OPEN):
            self.lost(code, reason, event)

    def lost(self, code: int, reason: str, event: object) -> None:
        """A close the user did not ask for: final (E7), retried (E8), or, offline, neither (N1)."""
        if is_final_code(code, reason):
            self.end(code, event)  # E7
        elif not self.client.network.online:
            # N1: no attempt while offline (a first one that failed offline is not final
            # either: the page waits for the network), and one onerror for this close.
            self.state = OFFLINE
            client = self.client
            client.call("onerror", client.onerror, code, client.channel, event)
        elif is_final_close(code, reason, self.ever_opened, self.attempts):
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

    def cancel_watchdog(self) -> None:
        if self.watchdog_timer is not None:
            self.client.platform.clear_timer(self.watchdog_timer)
            self.watchdog_timer = None

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
    """Routes one socket's events to the lifecycle that made it (E10).

    ``resuming``: the socket was opened asking to resume (P2), so its server is
    pypush's and may send it frames for pypush (a ``resume`` frame first).
    ``greeted``: on a socket that did not, the client said hello after the first
    message with a position (N4), so the server may answer and send heartbeats.
    """

    def __init__(self, lifecycle: _Lifecycle, resuming: bool = False) -> None:
        self.lifecycle = lifecycle
        self.resuming = resuming
        self.greeted = False  # N4: it said hello to its server (H8)

    def opened(self) -> None:
        self.lifecycle.on_open(self)

    def message(
        self,
        offset: object = None,
        epoch: object = None,
        message: object = None,
        event: object = None,
    ) -> None:
        # The hot path, one Python call per message (E3, E10): a browser passes no
        # handles at all, meaning "the message being delivered" (see browser_platform),
        # and, from pypush's server, the message's offset, plus its epoch when it is not
        # the one of the socket's previous message (P1).
        lifecycle = self.lifecycle
        if lifecycle.events is self and lifecycle.state == OPEN:
            if offset is not None:
                if epoch is not None:
                    offset = lifecycle.on_epoch(epoch, offset)
                if offset <= lifecycle.offset:
                    lifecycle.on_repeat(offset)
                    return
                lifecycle.offset = offset
            lifecycle.client.deliver(message, event)

    def control(self, text: str, event: object = None) -> None:
        self.lifecycle.on_control(self, text, event)

    def bad_frame(self, why: str, event: object) -> None:
        self.lifecycle.on_bad_frame(self, why)

    def closed(self, code: int, reason: str, event: object) -> None:
        self.lifecycle.on_close(self, code, reason, event)


class PushRegistry:
    """The ``faces.push`` namespace: init/open/close over a map of clients."""

    def __init__(self, platform: object) -> None:
        self.platform = platform
        self.clients: dict = {}
        self.network = Network(platform.is_online())

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
        ongap: object = None,
    ) -> None:
        """Register ``client_id`` (first init wins, I3) and open it if ``autoconnect`` (I4).

        Callbacks arrive already resolved to callables or None (I1 is the
        adapter's job, since it knows what a global function is). ``ongap(missed,
        reason)`` is told of messages lost across a reconnect (P4): the face's own.
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
                ongap,
                self.network,
            )
            self.clients[client_id] = client
        if autoconnect:
            client.open()

    # -- what the host reports of the browser (N1-N3) ----------------------------------

    def network_changed(self, online: bool) -> None:
        """N1/N2: the browser fired ``offline`` or ``online``."""
        self.network.online = online
        for client in list(self.clients.values()):
            if client.lifecycle is not None:
                client.lifecycle.on_network(online)

    def page_shown(self) -> None:
        """N3: the page became visible, or was restored from the back/forward cache."""
        if not self.network.online and self.platform.is_online():
            self.network_changed(True)  # an ``online`` event missed while the page slept
            return
        for client in list(self.clients.values()):
            if client.lifecycle is not None:
                client.lifecycle.on_shown()

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
