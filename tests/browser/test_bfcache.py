"""A page restored from the back/forward cache reconnects (spec N3), in Chromium.

Playwright starts Chromium with the cache switched off (``--disable-back-forward-cache``):
this test starts one of its own without that switch. Chromium fails a page's WebSockets as
it enters the cache ("Page entered Back-Forward Cache"; the close event comes when the page
is restored); the client reconnects at once, resuming, and receives what was pushed while
the page was away. The
other engines cannot be driven into the cache here (WebDriver), so the event a restored
page gets, ``pageshow`` with ``persisted``, is dispatched by hand there
(tests/browser/test_resume.py).

On MicroPython only: Chromium keeps a Pyodide page out of the cache about half the time,
with no reason it shows (``notRestoredReasons``: "masked"), so such a test could not tell
pypush's fault from the cache's choice. The core, which decides, is the same on both.
"""

import shutil

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, PushPage
from tests.support import wait_until


def restored(page: PushPage) -> bool:
    try:
        return page.evaluate("window.restored === 1")
    except Exception:  # the other page, or between the two: not yet
        return False


@pytest.mark.chromium_only  # the real back/forward cache: Chromium without Playwright's switch
def test_N3_a_page_restored_from_the_back_forward_cache_reconnects_and_resumes(
    engine, playwright, server
):
    browser = playwright.chromium.launch(
        executable_path=shutil.which("chromium"),
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    try:
        page = PushPage(browser.new_context().new_page(), server, "micropython").open_harness()
        page.evaluate(
            "() => { window.restored = 0; addEventListener('pageshow', (e) => {"
            " if (e.persisted) restored++; }); }"
        )
        channel = server.channel()
        page.init("bf", channel)
        page.wait_for("bf", "open")
        channel.push("before")
        page.wait_for("bf", "message", 1)
        page.page.goto(server.base_url + "/test/elsewhere.html")
        channel.push("while away")  # the page in the cache cannot receive it
        # Not go_back(), which waits for a load a restored page never has.
        page.page.evaluate("() => { setTimeout(() => history.back(), 0); }")
        wait_until(lambda: restored(page), 10, "the restore")
        wait_until(lambda: page.state("bf") == "open", 10, "open again")
        channel.push("after")
        messages = page.wait_for("bf", "message", 3)
        assert [call[1] for call in messages] == ["before", "while away", "after"]
        kinds = page.kinds("bf")
        assert kinds.count("open") == 1 and kinds.count("close") == 0
    finally:
        browser.close()
