"""The server's logger, and how input is shown in it.

Log lines are read by people and parsed by tools; a client must not be able
to write one. Anything that came from a request is logged through
:func:`shown` (quoted, control characters escaped, cut short), and the
logger's own filter escapes whatever non-printable text still reaches a
message, so a line break in input can never start a forged line.
"""

import logging

SHOWN_CHARS = 80


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``value`` as a quoted, printable string for a log line: ``'x\\nINFO …'``.

    ``repr`` escapes every character that is not printable (line breaks,
    U+2028, escape sequences, lone surrogates) and keeps readable text as it is.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)


def escape_unprintable(text: str) -> str:
    """Escape each non-printable character of ``text`` as ``repr`` would (``\\n``, ``\\x1b``)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class EscapeUnprintable(logging.Filter):
    """The safety net: a record whose message holds a non-printable character is escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.isprintable():
            record.msg, record.args = escape_unprintable(message), None
        return True


log = logging.getLogger("pypush.server")
log.addFilter(EscapeUnprintable())
