"""The documentation's code examples, read from its Markdown pages so that tests run them.

An example is the first fenced block of a language in a section of a page: a test runs
exactly what the page shows, and fails when the heading or the block is gone.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = re.compile(r"^(#+) +(.*?) *$")
FENCE = re.compile(r"^```(\S*)")


def example(page: str, heading: str, language: str = "python") -> str:
    """The first ``language`` block in the section ``heading`` of ``page`` (a path from
    the repository's root: ``docs/...`` or ``README.md``), which ends at the next heading
    of the same or a higher level."""
    path = ROOT / page
    lines = path.read_text(encoding="utf-8").splitlines()
    level = None
    block: list[str] | None = None
    fence: str | None = None  # the language of the block being read, "" for none
    for line in lines:
        opened = FENCE.match(line)
        if fence is not None:
            if opened:  # the block ends
                if block is not None:
                    return "\n".join(block) + "\n"
                fence = None
            elif block is not None:
                block.append(line)
            continue
        if opened:
            fence = opened.group(1)
            if level is not None and fence == language:
                block = []
            continue
        found = HEADING.match(line)
        if found is None:
            continue
        if level is None:
            if found.group(2) == heading:
                level = len(found.group(1))
        elif len(found.group(1)) <= level:
            break
    if level is None:
        raise LookupError("%s has no heading %r" % (page, heading))
    raise LookupError("%s: no ```%s block under %r" % (page, language, heading))


# The examples that tests run or check, as (page, heading, language): each is the first block
# of that language in that section (example() above), and the test that uses it names the
# same heading. Every fenced block of the documentation must be one of them or be in
# NOT_RUN (tests/unit/test_docs.py).
RUN = [
    # tests/server/test_doc_examples.py, tests/plugin/test_doc_example.py,
    # tests/browser/test_wheel.py: installed as the ``sh`` line says, then run.
    ("docs/python-apps.md", "With aiohttp", "python"),
    ("docs/python-apps.md", "With aiohttp", "sh"),
    ("docs/python-apps.md", "With FastAPI (or Starlette)", "python"),
    ("docs/python-apps.md", "With FastAPI (or Starlette)", "sh"),
    ("docs/testing.md", "A complete example", "python"),
    ("README.md", "A Python application", "python"),
    ("README.md", "A Python application", "sh"),
    ("docs/getting-started.md", "The wheels", "sh"),
    # tests/server/test_nginx.py, through tests/support.py: nginx runs this configuration.
    ("docs/deploying.md", "Behind a TLS proxy (nginx)", "nginx"),
    # tests/browser/test_doc_pages.py: pages in Chromium; the CSP header is the one served.
    ("docs/getting-started.md", "Use it in a page", "html"),
    ("docs/getting-started.md", "The bundle", "html"),
    ("docs/python-in-page.md", "PyScript", "html"),
    ("docs/python-in-page.md", "MicroPython by default, Pyodide on request", "html"),
    ("README.md", "A PyScript page", "html"),
    ("docs/faces.md", "Under a strict Content-Security-Policy", "http"),
    ("docs/faces.md", "Under a strict Content-Security-Policy", "html"),
    ("docs/python-apps.md", "Nothing lost across reconnects", "js"),
    # tests/unit/test_docs.py: the markup of tests/real_faces/app's pages, which
    # tests/browser/test_real_faces.py runs on Payara Micro and Tomcat with MyFaces.
    ("docs/faces.md", "The resource jar", "xml"),
    ("README.md", "A Faces page", "xml"),
]

NOT_RUN = {
    ("README.md", "Two commands", "sh"): "make demo and make test: what CI itself runs",
    ("docs/getting-started.md", "Two commands", "sh"): "the same as the README's",
    ("docs/getting-started.md", "The bundle", "sh"): (
        "the bundle command and trying it by hand in terminals; the page of that procedure "
        "is run (RUN), its servers started by the test's fixtures"
    ),
    ("docs/faces.md", "The resource jar", "sh"): (
        "the jar command, with placeholders; tests/browser/test_wheel.py runs pypush bundle --jar"
    ),
    ("docs/deploying.md", "Behind a TLS proxy (nginx)", "sh"): (
        "a production command line (a real host name); tests/server/test_nginx.py starts "
        "serve.py with the same --trusted-proxy behind that configuration"
    ),
    ("docs/benchmarks.md", "In the browser", "sh"): "benchmark runs of minutes, not examples",
    ("docs/benchmarks.md", "The server", "sh"): "benchmark runs of minutes, not examples",
    ("docs/bench/results-dispatch.md", "python -m bench.dispatch", ""): "output samples",
}
"""Blocks that are not examples to run, as (page, heading, language): every block of that
language in that section, with the reason."""


def located_blocks(page: str) -> list[tuple[str, str, str]]:
    """Every fenced block of ``page`` as (heading of its section, language, text)."""
    found: list[tuple[str, str, str]] = []
    heading = ""
    block: list[str] | None = None
    fence: str | None = None
    for line in (ROOT / page).read_text(encoding="utf-8").splitlines():
        opened = FENCE.match(line)
        if fence is not None:
            if opened:
                found.append((heading, fence, "\n".join(block) + "\n"))
                fence, block = None, None
            else:
                block.append(line)
        elif opened:
            fence, block = opened.group(1), []
        elif found_heading := HEADING.match(line):
            heading = found_heading.group(2)
    return found
