"""MkDocs hook: the command-line reference, rendered from ``pypush_server.cli``'s parsers.

A page says ``<!-- pypush-cli: serve -->`` or ``<!-- pypush-cli: bundle -->`` where the
options go; each build writes them from the parsers the commands themselves use, so the
reference cannot drift from ``--help``.
"""

import argparse
import contextlib
import html
import os
import re
from collections.abc import Iterator

from pypush_server import cli

MARKER = re.compile(r"<!-- pypush-cli: (\w+) -->")
# The docstrings cite each other with Sphinx roles (:meth:`x`), which Markdown shows as text.
ROLE = re.compile(r":(?:meth|func|class|mod|attr|exc|data):(?=<code>)")
PARSERS = {
    "serve": lambda: cli.serve_parser("pypush serve"),
    "bundle": lambda: cli.bundle_parser("pypush bundle"),
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda match: render(match.group(1)), markdown)


def on_page_content(html: str, page, config, files) -> str:
    """The Python API's docstrings without their Sphinx role prefixes (the name stays code)."""
    return ROLE.sub("", html)


def render(name: str) -> str:
    """The usage line and a table of every option the parser shows in ``--help``."""
    if name not in PARSERS:
        raise ValueError("docs: no parser named %r for <!-- pypush-cli -->" % name)
    with _secrets_unset():
        parser = PARSERS[name]()
    # A fixed width: the usage line must not depend on the terminal the build ran in.
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=88)
    rows = [
        "| option | default | what |",
        "|---|---|---|",
    ]
    for action in parser._actions:  # argparse has no public list of a parser's actions
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        rows.append(
            "| %s | %s | %s |"
            % (_code(_invocation(action)), _default(action), _help(parser, action))
        )
    usage = parser.format_usage().strip()
    return "```text\n%s\n```\n\n%s\n" % (usage, "\n".join(rows))


@contextlib.contextmanager
def _secrets_unset() -> Iterator[None]:
    """The build's environment without the variables that give options their secrets
    (``$PYPUSH_API_TOKEN``, ``$PYPUSH_REDIS_URL``): the parser takes its defaults from them,
    and the site must not show the build machine's token or Redis password."""
    saved = {
        name: os.environ.pop(name) for name in cli.SECRET_OPTIONS.values() if name in os.environ
    }
    try:
        yield
    finally:
        os.environ.update(saved)


def _invocation(action: argparse.Action) -> str:
    if not action.option_strings:
        return action.metavar or action.dest
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if action.choices and not action.metavar:
        metavar = "{%s}" % ",".join(map(str, action.choices))
    return ", ".join("%s %s" % (option, metavar) for option in action.option_strings)


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, [], argparse.SUPPRESS):
        return ""
    return _code(str(action.default))


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    text = action.help or ""
    if "%" in text:  # argparse's own expansion: %(default)s, %(prog)s, %(choices)s...
        values = dict(vars(action), prog=parser.prog)
        values["choices"] = ", ".join(map(str, action.choices or ()))
        text = text % values
    return _text(text)


def _code(text: str) -> str:
    """Code in a Markdown table cell (a ``|`` escaped, which would end the cell)."""
    return "`%s`" % text.replace("|", "\\|") if text else ""


def _text(text: str) -> str:
    """Plain text in a Markdown table cell, shown as written: no markup, no column break."""
    text = html.escape(text, quote=False)
    for char in "|*_[]`":
        text = text.replace(char, "&#%d;" % ord(char))
    return text
