"""The pytest plugin as a user meets it: sample test modules run by pytester in a subprocess."""

import pytest

SCOPE_PROBE = """
ports = []

def test_first(push_server):
    ports.append(push_server.port)

def test_second(push_server):
    ports.append(push_server.port)

def test_compare():
    print("PORTS", ports)
    assert {expectation}
"""


@pytest.mark.parametrize(
    "how, expectation",
    [
        ([], "ports[0] == ports[1]"),
        (["--pypush-server-scope=function"], "ports[0] != ports[1]"),
        ("ini", "ports[0] != ports[1]"),
    ],
)
def test_push_server_scope_is_the_users_choice(pytester, how, expectation):
    pytester.makepyfile(SCOPE_PROBE.format(expectation=expectation))
    if how == "ini":
        pytester.makeini("[pytest]\npypush_server_scope = function\n")
        how = []
    result = pytester.runpytest_subprocess(*how)
    result.assert_outcomes(passed=3)


def test_a_bad_scope_is_a_usage_error(pytester):
    pytester.makepyfile("def test_x(push_server):\n    pass\n")
    pytester.makeini("[pytest]\npypush_server_scope = module\n")
    result = pytester.runpytest_subprocess()
    assert "pypush_server_scope must be session or function" in result.stdout.str() + (
        result.stderr.str()
    )


def test_fixtures_and_helpers_on_pages(pytester):
    pytester.makepyfile(
        """
        import pytest
        from pypush_server.testing.pytest_plugin import PushPage, open_push_page, record_push


        def test_push_page_is_ready_and_records(push_server, push_page):
            assert isinstance(push_page, PushPage)
            assert push_page.page.evaluate("Object.keys(faces.push)") == ["init", "open", "close"]
            channel = push_server.channel("c1")
            client = push_page.record("one", channel, autoconnect=False)
            assert client.state() == "idle"
            client.open()
            client.wait_for("open")
            push_server.wait_for_sockets("c1", 1)
            assert client.state() == "open"
            assert push_server.send_raw("c1", "not json") == 1
            assert channel.send([1, {"two": 2}]) == 1
            assert client.wait_for("message")[0]["args"][:2] == [[1, {"two": 2}], "c1"]
            client.close()
            client.wait_for("close")
            assert client.kinds() == ["open", "message", "close"]
            assert client.state() == "idle"


        def test_faults_reach_the_page(push_server, push_page):
            channel = push_server.channel("c2")
            client = push_page.record("two", channel)
            client.wait_for("open")
            channel.wait_for_sockets(1)
            push_server.refuse("c2")
            assert channel.drop() == 1
            client.wait_for("error", 2)  # the drop, then the refused 0 ms attempt
            push_server.accept("c2")
            channel.wait_for_sockets(1, timeout=15)  # the 500 ms attempt gets through
            assert client.kinds().count("open") == 1


        def test_wait_for_reports_what_did_arrive(push_server, push_page):
            client = push_page.record("three", push_server.channel("c3"))
            client.wait_for("open")
            with pytest.raises(AssertionError, match=r'waiting for 1 message.*\\["open"\\]'):
                client.wait_for("message", timeout=0.3)


        def test_helpers_work_on_any_playwright_page(push_server, push_browser):
            page = push_browser.new_page()
            url = push_server.add_page("mine.html", "<script src='/pypush/faces-push.js'></script>")
            assert open_push_page(page, push_server, url) is page
            recording = record_push(page, "four", push_server.channel("c4"))
            recording.wait_for("open")
            page.close()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
