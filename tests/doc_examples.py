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


# The Python examples that tests run (page, heading): tests/server/test_doc_examples.py,
# tests/plugin/test_doc_example.py, tests/browser/test_wheel.py. Every Python block of the
# documentation must be one of them (tests/unit/test_docs.py).
RUN = [
    ("docs/python-apps.md", "With aiohttp"),
    ("docs/python-apps.md", "With FastAPI (or Starlette)"),
    ("docs/testing.md", "A complete example"),
    ("README.md", "A Python application"),
]


def blocks(page: str, language: str = "python") -> list[str]:
    """Every ``language`` block of ``page``, in order."""
    found: list[str] = []
    block: list[str] | None = None
    fence: str | None = None
    for line in (ROOT / page).read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            if fence is None:
                fence = FENCE.match(line).group(1)
                block = [] if fence == language else None
            else:
                if block is not None:
                    found.append("\n".join(block) + "\n")
                fence, block = None, None
        elif block is not None:
            block.append(line)
    return found
