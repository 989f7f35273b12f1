"""What the wire allows: channel names (the Faces rule) and close frames (RFC 6455)."""

import re

from pypush_server.logs import shown

CHANNEL_NAME = re.compile(r"[A-Za-z0-9_.-]+")
"""The Faces rule for channel names: letters, digits, ``-``, ``_``, ``.``."""

MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 5.5: 125 bytes of payload, 2 of them the code


def valid_channel_name(name: object) -> bool:
    # fullmatch: "$" would let one final line break through ("news\n").
    return isinstance(name, str) and CHANNEL_NAME.fullmatch(name) is not None


def sendable_close_code(code: object) -> bool:
    """Codes a server may put in a close frame (RFC 6455 7.4; 1005/1006/1015 are reserved)."""
    return type(code) is int and (
        1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
    )


def close_problem(code: object, reason: object) -> str | None:
    """Why ``code`` and ``reason`` cannot make a close frame; None when they can."""
    if not sendable_close_code(code):
        return "%s is not a close code a server may send (1000-1003, 1007-1014, 3000-4999)" % (
            shown(code)
        )
    if not isinstance(reason, str):
        return "the reason must be a string"
    try:
        size = len(reason.encode("utf-8"))
    except UnicodeEncodeError:
        return "the reason holds a lone surrogate, which UTF-8 cannot carry"
    if size > MAX_CLOSE_REASON_BYTES:
        return "the reason is %d bytes of UTF-8; a close frame holds %d" % (
            size,
            MAX_CLOSE_REASON_BYTES,
        )
    return None
