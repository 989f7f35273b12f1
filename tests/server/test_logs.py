"""The server's log shows input escaped, so no request can write a line of its own."""

import logging

import pytest

from pypush_server.logs import EscapeUnprintable, log, shown


@pytest.mark.parametrize(
    "value, expected",
    [
        ("news", "'news'"),
        ("x\nINFO forged", "'x\\nINFO forged'"),
        ("a\r\x1b[31mred", "'a\\r\\x1b[31mred'"),
        ("line\u2028separator", "'line\\u2028separator'"),
        ("\ud800", "'\\ud800'"),
        ("héllo 𝄞", "'héllo 𝄞'"),
    ],
)
def test_shown_quotes_and_escapes_what_is_not_printable(value, expected):
    assert shown(value) == expected


def test_shown_cuts_long_input_short():
    assert shown("y" * 500) == "'%s'…" % ("y" * 80)


def test_the_loggers_filter_escapes_a_message_that_would_break_the_line(caplog):
    assert any(isinstance(f, EscapeUnprintable) for f in log.filters)
    with caplog.at_level(logging.INFO, logger=log.name):
        log.info("refused %s", "x\nINFO registered channel admin")
        log.info("plain %s", "text")
    assert [r.getMessage() for r in caplog.records] == [
        "refused x\\nINFO registered channel admin",
        "plain text",
    ]
