"""Browser tests that need a pristine page: a clock installed before navigation,
calls made before Python is ready, other globals, broken or relocated bundles."""

import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

from pypush_build.bundle import assets_folder, write_bundle
from tests.browser.conftest import HARNESS_PATH, PushPage
from tests.support import ROOT, wait_until


def test_S2_S3_calls_before_ready_are_queued_and_replayed_in_order(fresh_page, channel):
    query = urllib.parse.urlencode({"url": channel.url, "channel": channel.name})
    fresh_page.open_harness("/test/before-ready.html?" + query)
    early = fresh_page.evaluate("early")
    assert early["settledWhenCalled"] is False  # every call below was made before ready
    assert early["keys"] == ["init", "open", "close"]
    assert early["unknown"] == [True, "Unknown clientId: never-initialised"]  # S3, synchronous
    fresh_page.wait_for("early", "open")
    fresh_page.wait_for("auto", "open")
    # open then close, replayed in that order: one onclose, and no socket left behind.
    fresh_page.wait_for("opened-then-closed", "close")
    channel.wait_for_sockets(2)
    assert channel.push("after ready") == 2
    fresh_page.wait_for("early", "message")
    assert fresh_page.kinds("early") == ["open", "message"]
    assert fresh_page.kinds("opened-then-closed") == ["close"]


def test_S4_an_existing_faces_object_keeps_its_members_and_jsf_gets_push(fresh_page):
    fresh_page.open_harness("/test/existing-faces.html", wait_ready=False)
    result = fresh_page.evaluate(
        """() => ({
            ajaxKept: typeof faces.ajax.request === 'function' && faces.specVersion === 40000,
            pushReplaced: Object.keys(faces.push),
            jsfShares: jsf.push === faces.push,
        })"""
    )
    assert result == {
        "ajaxKept": True,
        "pushReplaced": ["init", "open", "close"],
        "jsfShares": True,
    }


def test_S4_no_jsf_global_is_created(push_page):
    assert push_page.evaluate("typeof window.jsf") == "undefined"


# What each breakage removes, per interpreter: the message must name it.
MISSING = {
    "wasm": {"pyodide": "pyodide/pyodide.asm.wasm", "micropython": "micropython/micropython.wasm"},
    "runtime": {
        "pyodide": "pyodide/python_stdlib_pyc.zip",
        "micropython": "micropython/micropython.mjs",
    },
    "package": {"pyodide": "pypush-pyc.json", "micropython": "pypush-mpy.json"},
}


# What a boot from a broken bundle reports besides pypush's own error (S5): the browser's
# failed loads, and the runtime's own account of its failure, which differs per runtime
# and engine (Emscripten's wasm fallbacks, Pyodide's fatal error printed line by line).
BROKEN_BOOT_REPORTS = (
    "pypush could not start Python",
    "Failed to load resource",
    r"Failed to load 'http://[^']*/broken-",
    r"\[http://[^ \]]*/broken-\w+/",
    "wasm streaming compile failed",
    "falling back to ArrayBuffer instantiation",
    "failed to asynchronously prepare wasm",
    r"Aborted\(both async and sync fetching of the wasm failed\)",
    "Error occurred while installing the standard library",
    "Fatal Python error: Failed to import encodings module",
    "Python runtime state: core initialized",
    "ModuleNotFoundError: No module named 'encodings'",
    r"Current thread 0x[0-9a-f]+ \(most recent call first\)",
    "<no Python frame>",
    r"console\.error at \S+: $",
)


@pytest.fixture(scope="module")
def broken_bundles(tmp_path_factory, start_module_server):
    """A serve.py that also serves one broken copy of the bundle per breakage,
    at /broken-KIND/: each lacks the files MISSING names (on any engine, no routing)."""
    mounts = []
    for kind, files in MISSING.items():
        bundle = write_bundle(tmp_path_factory.mktemp("broken-" + kind))
        for name in files.values():
            for variant in (name, name + ".br", name + ".gz"):  # and its precompressed copies
                (bundle / assets_folder(bundle) / variant).unlink(missing_ok=True)
        mounts += ["--static", "/broken-%s/=%s" % (kind, bundle)]
    return start_module_server(*mounts)


@pytest.mark.parametrize("breakage", ["wasm", "runtime", "package", "no-webassembly"])
def test_S5_ready_rejects_with_a_clear_error_when_boot_fails(
    fresh_page, broken_bundles, breakage, page_errors
):
    page_errors.allow(*BROKEN_BOOT_REPORTS)
    page = PushPage(fresh_page.page, broken_bundles, fresh_page.interpreter)
    if breakage == "no-webassembly":
        page.open_harness(HARNESS_PATH + "?nowasm=1", wait_ready=False)
        expected = "this browser has no WebAssembly"
    else:
        page.open_harness(HARNESS_PATH + "?bundle=/broken-%s/" % breakage, wait_ready=False)
        expected = MISSING[breakage][fresh_page.interpreter] + " answered 404"
    message = page.evaluate("pypush.ready.then(() => 'resolved', (e) => e.message)")
    assert message.startswith("pypush could not start Python"), message
    assert expected in message, message
    wait_until(lambda: any("could not start" in line for line in page.console))
    # Afterwards every call says why instead of queueing forever.
    after = page.evaluate(
        "() => { try { faces.push.init('late', 'ws://127.0.0.1:1/x?y', 'x'); return 'no error'; }"
        " catch (e) { return e.message; } }"
    )
    assert after.startswith("pypush could not start, faces.push.init is unavailable")


def test_S12_a_failed_start_closes_its_early_sockets_and_calls_onclose(
    fresh_page, broken_bundles, page_errors
):
    """Sockets the loader opened before Python was live (S9) do not outlive a failed
    start: the server sees them go, and each client the page asked to connect gets
    onclose(-1, channel) once (as I2), besides the console error (S5)."""
    page_errors.allow(*BROKEN_BOOT_REPORTS)
    channel = broken_bundles.channel()
    page = PushPage(fresh_page.page, broken_bundles, fresh_page.interpreter)
    query = urllib.parse.urlencode(
        {"url": channel.url, "channel": channel.name, "bundle": "/broken-runtime/"}
    )
    page.open_harness("/test/before-ready.html?" + query, wait_ready=False)
    message = page.evaluate("pypush.ready.then(() => 'resolved', (e) => e.message)")
    assert message.startswith("pypush could not start Python"), message
    channel.wait_for_sockets(0)
    for client in ("early", "auto", "opened-then-closed"):  # each asked to connect
        assert page.calls(client) == [["close", -1, channel.name]], client
    assert page.evaluate("window.errors") == []


def test_E8_R2_a_server_drop_gives_onerror_then_a_reconnect_on_the_page_clock(fresh_page, channel):
    page = fresh_page.page
    page.clock.install()  # R2: pypush's timers are the page's, so this clock drives them
    fresh_page.open_harness()
    fresh_page.init("drop", channel)
    fresh_page.wait_for("drop", "open")
    channel.wait_for_sockets(1)
    page.clock.pause_at(page.evaluate("Date.now()") + 2_000)  # past E9's 500 ms: stable

    assert channel.close_sockets(1011, "server restarting") == 1
    [error] = fresh_page.wait_for("drop", "error")
    assert error[1:3] == [1011, channel.name]
    time.sleep(0.3)  # real time passes; page time does not
    assert channel.sockets() == 0 and fresh_page.state("drop") == "waiting"
    page.clock.run_for(0)  # E8: the first attempt comes after 0 ms
    channel.wait_for_sockets(1)
    wait_until(lambda: fresh_page.state("drop") == "open")
    assert channel.push("back") == 1
    fresh_page.wait_for("drop", "message")
    assert fresh_page.kinds("drop") == ["open", "error", "message"]  # E1: no second onopen

    # E9: dropped again before 500 ms of stability, so the next attempt waits 500 ms.
    channel.close_sockets(1011)
    fresh_page.wait_for("drop", "error", 2)
    page.clock.run_for(499)
    time.sleep(0.3)
    assert channel.sockets() == 0
    page.clock.run_for(1)
    channel.wait_for_sockets(1)
    assert fresh_page.kinds("drop").count("open") == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_bundle_works_under_a_sub_path_on_a_plain_static_server(
    fresh_page, start_push_server, tmp_path
):
    site = tmp_path / "site"
    bundle = site / "app" / "resources" / "pypush"
    built = subprocess.run(
        [sys.executable, str(ROOT / "serve.py"), "bundle", str(bundle)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "faces-push.js" in built.stdout
    (site / "app" / "page.html").write_text(
        """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
        <script src="resources/pypush/faces-push.js" data-interpreter="%s"></script>
        <script>
          window.got = [];
          var q = new URLSearchParams(location.search);
          faces.push.init('sub', q.get('url'), q.get('channel'),
                          function (ch) { got.push('open:' + ch); },
                          function (m) { got.push(m); }, null, null, null, true);
        </script>"""
        % fresh_page.interpreter,
        encoding="utf-8",
    )
    port = free_port()
    # The page comes from another origin than the push server: allow it (same-origin by default).
    channel = start_push_server("--allow-origin", "http://127.0.0.1:%d" % port).channel()
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = "http://127.0.0.1:%d" % port
        wait_until(lambda: _answers(base), 10, "http.server to listen")
        query = urllib.parse.urlencode({"url": channel.url, "channel": channel.name})
        page = fresh_page.page
        page.goto(base + "/app/page.html?" + query)
        fresh_page.wait_ready()
        assert page.evaluate("pypush.base") == base + "/app/resources/pypush/"
        channel.wait_for_sockets(1)
        channel.push({"from": "serve.py"})
        wait_until(lambda: len(page.evaluate("got")) == 2)
        assert page.evaluate("got") == ["open:" + channel.name, {"from": "serve.py"}]
    finally:
        static.terminate()
        static.wait(10)


def _answers(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/", timeout=1):
            return True
    except OSError:
        return False


def test_R1_open_close_cycles_leave_no_live_proxies(fresh_page, channel):
    fresh_page.open_harness()
    fresh_page.init("cycles", channel, autoconnect=False)
    baseline = fresh_page.evaluate("pypush.liveProxies()")
    for cycle in range(1, 11):
        fresh_page.evaluate("faces.push.open('cycles')")
        fresh_page.wait_for("cycles", "open", cycle)
        fresh_page.evaluate("faces.push.close('cycles')")
        fresh_page.wait_for("cycles", "close", cycle)
    assert fresh_page.evaluate("pypush.liveProxies()") == baseline == 0
