"""pypush under a strict Content-Security-Policy, on every engine and interpreter (S7).

The pages come from ``tests.browser.csp_site`` (the push server with its test pages
served under the policy a Faces page in CSP mode sends, a fresh nonce each time):

    default-src 'self'; script-src 'self' 'nonce-RANDOM' 'wasm-unsafe-eval';
    connect-src 'self' ws://HOST; style-src 'self' 'unsafe-inline'; object-src 'none';
    base-uri 'self'

The pages report what happens in their own DOM (callbacks, pypush.ready, every
``securitypolicyviolation``) and the tests read it as text and click buttons: no
test tool evaluates a string in these pages, which the policy would refuse.
"""

import urllib.parse
from collections.abc import Iterator

import pytest

from tests.browser.sites import started_site
from tests.support import PushServer, wait_until

BOOT_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def csp_site() -> Iterator[PushServer]:
    with started_site("tests.browser.csp_site", "csp site") as site:
        yield site


def lines(page, selector: str) -> list[str]:
    return [item.text_content() for item in page.query_selector_all(selector + " li")]


def wait_for_line(page, selector: str, expected: str, timeout: float = 10) -> list[str]:
    return wait_until(
        lambda: expected in lines(page, selector) and lines(page, selector),
        timeout,
        "%r in %s (have %s)" % (expected, selector, lines(page, selector)),
    )


def open_page(page, csp_site, name: str, **query: str):
    channel = csp_site.channel()
    query = {"url": channel.url, "channel": channel.name, **query}
    page.goto(csp_site.base_url + "/csp/%s?%s" % (name, urllib.parse.urlencode(query)))
    return page, channel


def wait_ready(page) -> str:
    return wait_until(
        lambda: (
            (page.text_content("#ready") or "pending") != "pending" and page.text_content("#ready")
        ),
        BOOT_TIMEOUT_S,
        "pypush.ready to settle",
    )


def test_S7_boots_connects_delivers_reconnects_and_closes_under_the_strict_policy(
    fresh_page, csp_site
):
    interpreter = fresh_page.interpreter
    page, channel = open_page(fresh_page.page, csp_site, "csp.html", interpreter=interpreter)
    assert wait_ready(page) == "ready " + interpreter
    wait_for_line(page, "#log", "open " + channel.name)
    channel.wait_for_sockets(1)

    assert channel.push({"under": "csp"}) == 1
    assert channel.push("refresh") == 1
    wait_for_line(page, "#log", "behavior refresh")
    assert 'message {"under":"csp"} ' + channel.name in lines(page, "#log")

    channel.close_sockets(1011, "restarting")  # E8: onerror, then a reconnect
    wait_for_line(page, "#log", "error 1011 " + channel.name)
    channel.wait_for_sockets(1)
    assert channel.push("after the reconnect") == 1
    wait_for_line(page, "#log", 'message "after the reconnect" ' + channel.name)

    page.click("#close")  # C1
    wait_for_line(page, "#log", "close 1000 " + channel.name)
    channel.wait_for_sockets(0)
    assert lines(page, "#violations") == []


def test_S7_the_policy_is_in_force_an_inline_script_without_the_nonce_is_refused(
    fresh_page, csp_site, page_errors
):
    page_errors.allow("Executing inline script violates")
    page = fresh_page.page
    page.goto(csp_site.base_url + "/csp/csp-no-nonce.html")
    wait_until(lambda: lines(page, "#violations"), 10, "the violation report")
    assert page.text_content("#inline") == "not run"
    [violation] = lines(page, "#violations")
    assert violation.startswith("script-src") and "inline" in violation, violation
    nonced = page.query_selector("#violations").get_attribute("data-nonced")
    assert nonced == "ran"  # the script with the nonce did run


@pytest.fixture
def blank_page(browser) -> Iterator[object]:
    """A page of a new context, for the PyScript pages (PyScript picks the interpreter)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_S5_S7_pyscript_needs_unsafe_eval_and_ready_says_so(
    blank_page, csp_site, kind, page_errors
):
    """PyScript 0.7 compiles strings with Function() itself: under the strict policy it
    cannot start, and pypush.ready rejects naming what is missing."""
    page_errors.allow(
        "pypush could not start Python",
        "Evaluating a string as JavaScript violates",  # Chromium
        "Refused to evaluate a string as JavaScript",  # WebKit
        r"call to Function\(\) blocked by CSP",  # Firefox
    )
    page, _ = open_page(blank_page, csp_site, "csp-pyscript.html", kind=kind)
    ready = wait_ready(page)
    assert ready.startswith("failed ") and "PyScript" in ready and "'unsafe-eval'" in ready, ready
    violations = lines(page, "#violations")
    assert violations and all("/pypush/pyscript/" in v for v in violations), violations


@pytest.mark.parametrize("kind", ["py", "mpy"])
def test_S7_on_pyscript_pages_pypush_needs_nothing_more_than_pyscript(blank_page, csp_site, kind):
    """With 'unsafe-eval' added (what PyScript needs), everything runs and nothing of
    pypush's is refused: JavaScript and Python clients on PyScript's interpreter."""
    page, channel = open_page(
        blank_page, csp_site, "csp-pyscript.html", kind=kind, csp="unsafe-eval"
    )
    assert wait_ready(page) == "ready pyscript"
    wait_for_line(page, "#log", "open " + channel.name, timeout=BOOT_TIMEOUT_S)
    channel.wait_for_sockets(2, timeout=BOOT_TIMEOUT_S)
    assert channel.push("both") == 2
    wait_for_line(page, "#log", "python both")
    wait_for_line(page, "#log", 'message "both" ' + channel.name)
    assert lines(page, "#violations") == []
