"""The demo page at / as a person uses it: two tabs, a clock, a broadcast form."""

import pytest

from tests.support import wait_until


def test_demo_two_tabs_see_each_others_messages_and_the_clock_ticks(browser, start_push_server):
    server = start_push_server()  # with the demo clock, which the shared server leaves out
    context = browser.new_context()
    first = context.new_page()
    second = context.new_page()
    for tab in (first, second):
        tab.goto(server.base_url + "/")
    for tab in (first, second):
        wait_until(lambda tab=tab: tab.text_content("#chat-state") == "open", 60, "chat open")
        wait_until(lambda tab=tab: tab.text_content("#clock-state") == "open", 10, "clock open")
    assert first.text_content("#runtime") == "micropython ready"  # S8: the default

    first.fill("#chat-text", "hello from the first tab")
    first.click("#chat-form button")
    second.fill("#chat-text", "and back from the second")
    second.press("#chat-text", "Enter")
    for tab in (first, second):
        wait_until(lambda tab=tab: len(tab.query_selector_all("#chat-log li")) == 2, 10, "both")
        log = tab.inner_text("#chat-log")
        assert "hello from the first tab" in log and "and back from the second" in log

    shown = first.text_content("#clock")
    wait_until(lambda: first.text_content("#clock") not in (shown, "--:--:--"), 5, "a clock tick")

    first.click("#clock-toggle")  # Disconnect: faces.push.close
    wait_until(lambda: first.text_content("#clock-state").startswith("closed ("), 10, "closed")
    first.click("#clock-toggle")  # Connect again
    wait_until(lambda: first.text_content("#clock-state") == "open", 10, "reopened")
    context.close()


@pytest.mark.parametrize("path", ["/pyodide", "/pyscript", "/pyscript-mpy"])
def test_every_demo_page_connects_ticks_and_chats(browser, start_push_server, path):
    server = start_push_server()
    context = browser.new_context()
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(server.base_url + path)
    wait_until(lambda: tab.text_content("#clock-state") == "open", 60, "clock open")
    wait_until(lambda: tab.text_content("#chat-state") == "open", 10, "chat open")
    assert "ready" in tab.text_content("#runtime")
    shown = tab.text_content("#clock")
    wait_until(lambda: tab.text_content("#clock") not in (shown, "--:--:--"), 5, "a clock tick")
    wait_until(lambda: server.stats()["sockets"] == 2, 10, "both sockets")  # clock and chat
    tab.fill("#chat-text", "hello from " + path)
    tab.press("#chat-text", "Enter")
    wait_until(lambda: "hello from " + path in tab.inner_text("#chat-log"), 10, "the message")
    assert tab.locator("nav a").count() == 3  # the other three demo pages are linked
    assert errors == []
    context.close()
