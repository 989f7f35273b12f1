"""Push messages as frames, and JSON as the API reads it: standard JSON only, both ways.

Every frame the push endpoint sends is JSON text ``{"data": message, "id": position}``
(spec section 7), and a client parses it with ``JSON.parse``. Python's ``json``
accepts and writes ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON:
a frame holding one is dropped by every client. So a message that holds one
(or a float too large for a double, such as ``1e999``) is refused where it
comes in, with a :class:`MessageError` that says why (400 over HTTP).

So is JSON nested more deeply than Python's recursion limit lets ``json`` read or write
(some hundreds of arrays or objects within each other): a :class:`TooDeep`, never a
RecursionError out of a handler.
"""

import json
import math
import re

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class MessageError(ValueError):
    """A message that cannot be sent as a push frame; the text says why."""


class TooDeep(MessageError):
    """JSON nested too deeply for Python's ``json`` to read or write here."""


NESTED_TOO_DEEPLY = (
    "%s is nested too deeply (arrays and objects within each other: several hundred levels at most)"
)


def encode_message(message: object) -> str:
    """The wire frame of Mojarra's ``PushContext.send``: ``{"data": message}``.

    (The hub sends messages with their position, ``{"data": message, "id": "E:O"}``,
    from :func:`encode_data`; this is the frame without one.)
    """
    return '{"data":' + encode_data(message) + "}"


def encode_data(message: object) -> str:
    """``message`` as the JSON text that goes under ``"data"`` in a frame.

    Raises MessageError for NaN or Infinity (TooDeep for a value nested too deeply to
    write), TypeError for what is not a JSON value.
    A lone surrogate (text JavaScript can hold, UTF-8 cannot) is written as its
    ``\\uXXXX`` escape, so the frame is UTF-8 and ``JSON.parse`` gives back the same
    UTF-16 code units.
    """
    try:
        frame = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise MessageError(
            "the message holds NaN or Infinity, which JSON cannot carry (JSON.parse "
            "would refuse the frame); send null or a string instead"
        ) from None
    except RecursionError:  # how deep json.dumps can go depends on the stack it is called on
        raise TooDeep(NESTED_TOO_DEEPLY % "the message") from None
    try:
        frame.encode("utf-8")
    except UnicodeEncodeError:
        frame = LONE_SURROGATE.sub(lambda found: "\\u%04x" % ord(found.group()), frame)
    return frame


def check_text_frame(text: str, what: str = "the frame") -> None:
    """A text frame is UTF-8 (RFC 6455 5.6): a lone surrogate, such as ``"\\ud800"``, is not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MessageError(
            "%s holds a lone surrogate (U+%04X at %d), which UTF-8 cannot carry"
            % (what, ord(exc.object[exc.start]), exc.start)
        ) from None


def _refuse_constant(name: str) -> object:
    raise MessageError("%s is not JSON: JSON has no NaN or Infinity" % name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MessageError("%s is too large for a JSON number (a double)" % text)
    return value


def parse_json(text: str) -> object:
    """Standard JSON only: MessageError (a ValueError) for NaN, Infinity or ``1e999``;
    TooDeep (one too) for JSON nested too deeply to read.

    A ``\\ud800`` escape is standard JSON: the text it gives is refused where it
    would be sent (:func:`check_text_frame`)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # json's reader recurses once per array or object
        raise TooDeep(NESTED_TOO_DEEPLY % "the JSON") from None
