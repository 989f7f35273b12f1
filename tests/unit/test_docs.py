"""The documentation's own machinery: its command-line reference, its examples, the README."""

import argparse
import importlib.util
import re

import pytest

from pypush_server import cli
from tests.doc_examples import ROOT, RUN, blocks, example


def hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name, parser", [("serve", cli.serve_parser()), ("bundle", cli.bundle_parser())]
)
def test_the_cli_reference_has_every_option_help_shows(name, parser):
    page = hooks().render(name)
    shown = [
        action
        for action in parser._actions
        if action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)
    ]
    assert shown
    first_cells = [line.split(" | ")[0] for line in page.splitlines() if line.startswith("| `")]
    options = set(re.findall(r"--?[\w-]+", "\n".join(first_cells)))
    for action in shown:
        assert set(action.option_strings) <= options
    assert page.count("\n| ") == len(shown) + 1  # the header and one row per option


def test_the_cli_reference_shows_no_secret_of_the_environment_it_was_built_in(monkeypatch):
    """--api-token and --redis default to $PYPUSH_API_TOKEN and $PYPUSH_REDIS_URL: a site
    built where they are set must show neither value."""
    monkeypatch.setenv("PYPUSH_API_TOKEN", "token-of-the-build-machine")
    monkeypatch.setenv("PYPUSH_REDIS_URL", "redis://:password-of-the-build-machine@db:6379/0")
    page = hooks().render("serve")
    assert "of-the-build-machine" not in page
    assert "| `--api-token TOKEN` |  |" in page and "| `--redis URL` |  |" in page


def test_the_cli_reference_shows_help_text_as_text():
    page = hooks().render("bundle")
    assert '&lt;h:outputScript library="pypush" name="faces-push.js"/&gt;' in page


def test_every_python_example_in_the_documentation_is_one_a_test_runs():
    pages = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
    run = [example(page, heading) for page, heading in RUN]
    for page in pages:
        for block in blocks(page):
            assert block in run, "%s has a Python example no test runs:\n%s" % (page, block)


def test_an_example_is_looked_up_by_its_heading_and_the_section_ends_at_the_next():
    with pytest.raises(LookupError, match="no heading"):
        example("docs/python-apps.md", "No such heading")
    with pytest.raises(LookupError, match="no ```python block"):
        example("docs/python-apps.md", "Slow clients")  # a section without one


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_the_documented_content_security_policy_is_the_one_the_csp_tests_serve():
    from tests.browser.csp_site import policy

    header = example("docs/faces.md", "Under a strict Content-Security-Policy", "http")
    name, _, value = " ".join(header.split()).partition(": ")
    assert name == "Content-Security-Policy"
    assert value == policy("RANDOM", "HOST", unsafe_eval=False)
