"""The documentation's own machinery: its command-line reference, its examples, the README."""

import argparse
import importlib.util
import re

import pytest

from pypush_server import cli
from tests.doc_examples import NOT_RUN, ROOT, RUN, example, located_blocks


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


PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
TESTS = [path for path in (ROOT / "tests").rglob("*.py") if path.name != "doc_examples.py"]


def test_every_block_of_the_documentation_is_an_example_a_test_runs_or_is_said_not_to_be():
    run = {(page, example(page, heading, language)) for page, heading, language in RUN}
    for page in PAGES:
        for heading, language, block in located_blocks(page):
            assert (page, block) in run or (page, heading, language) in NOT_RUN, (
                "%s, %r: a ```%s block that no test runs (tests/doc_examples.py: RUN, "
                "or NOT_RUN with the reason):\n%s" % (page, heading, language, block)
            )


def test_each_example_said_to_run_is_one_a_test_names_and_each_exclusion_is_still_there():
    sources = "\n".join(path.read_text(encoding="utf-8") for path in TESTS)
    for page, heading, _ in RUN:
        assert repr(heading) in sources or '"%s"' % heading in sources, (
            "no test names the section %r of %s" % (heading, page)
        )
    for page, heading, language in NOT_RUN:
        assert any(
            (found_heading, found_language) == (heading, language)
            for found_heading, found_language, _ in located_blocks(page)
        ), "NOT_RUN lists %s, %r, %s: no such block" % (page, heading, language)


def normalized_tags(xml: str) -> list[str]:
    """The tags of ``xml`` (comments left out), each with its whitespace runs as one space."""
    xml = re.sub(r"<!--.*?-->", "", xml, flags=re.S)
    return [" ".join(tag.split()) for tag in re.findall(r"<[^>]*>", xml)]


@pytest.mark.parametrize(
    "page, heading", [("docs/faces.md", "The resource jar"), ("README.md", "A Faces page")]
)
def test_the_documented_faces_markup_is_the_real_faces_applications(page, heading):
    """tests/browser/test_real_faces.py runs tests/real_faces/app on real Faces servers: each
    tag of the documentation's Faces markup is written in one of its pages as it is here."""
    app = ROOT / "tests" / "real_faces" / "app" / "src" / "main" / "webapp"
    written = set()
    for path in app.rglob("*.xhtml"):
        written.update(normalized_tags(path.read_text(encoding="utf-8")))
    tags = normalized_tags(example(page, heading, "xml"))
    assert tags
    for tag in tags:
        assert tag in written, "%s, %r: %s is in no page of the real Faces application" % (
            page,
            heading,
            tag,
        )


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
