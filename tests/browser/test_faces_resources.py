"""The loader from the resource jar, included the way a Java Faces application includes it.

``<h:outputScript library="pypush" name="faces-push.js"/>`` renders a Faces resource URL
(``.../jakarta.faces.resource/faces-push.js.xhtml?ln=pypush`` when the FacesServlet is
mapped to ``*.xhtml``, ``.../faces/jakarta.faces.resource/faces-push.js?ln=pypush`` when it
is mapped to ``/faces/*``, either maybe with ``&v=``), where a relative sibling URL misses.
serve.py ``--faces-jar`` serves the jar ``pypush bundle --jar`` writes exactly as Faces maps
such URLs (:mod:`pypush_server.testing.faces_resources`); every file the page loads must
come through that same form, and a push must arrive.
"""

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from pypush_build.jar import write_jar
from tests.browser.conftest import PushPage
from tests.support import PushServer, start_server, stop_server, wait_until

FORMS = {
    # mapping: (path before the name, suffix after it)
    "suffix": ("/faces-app/jakarta.faces.resource/", ".xhtml"),
    "prefix": ("/faces-app/faces/jakarta.faces.resource/", ""),
}
STATIC_PREFIX = "/faces-app/pypush/"
"""Where a servlet container serves the jar's META-INF/resources/pypush/ as static files."""
RUNTIME_WASM = {
    "pyodide": "pyodide/pyodide.asm.wasm",
    "micropython": "micropython/micropython.wasm",
}


@pytest.fixture(scope="session")
def faces_server(tmp_path_factory) -> Iterator[PushServer]:
    """serve.py with the jar as a Faces application: one per run, since the engines' tests
    of this module do not run in one stretch."""
    folder = tmp_path_factory.mktemp("faces")
    # The prefix is for PyScript pages, which load the jar from the container's static path.
    jar = write_jar(folder / "pypush.jar", STATIC_PREFIX)
    process, base_url = start_server(folder / "serve.log", "--no-demo-clock", "--faces-jar", jar)
    yield PushServer(base_url)
    stop_server(process)


def requested(page: PushPage) -> list[str]:
    """The URLs the page fetched (Resource Timing), without fragments."""
    names = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
    return sorted({name.split("#", 1)[0] for name in names})


def from_servers_own_bundle(page: PushPage) -> list[str]:
    """What the page fetched of serve.py's own bundle (/pypush/): nothing, from the jar."""
    return [
        url for url in requested(page) if urllib.parse.urlsplit(url).path.startswith("/pypush/")
    ]


@pytest.mark.parametrize("version", [None, "4.0.2"], ids=["no-v", "v"])
@pytest.mark.parametrize("mapping", sorted(FORMS))
def test_the_loader_loads_everything_through_faces_resource_urls(
    browser, faces_server, interpreter, mapping, version
):
    context = browser.new_context()
    try:
        page = PushPage(context.new_page(), faces_server, interpreter)
        query = {"faces": mapping, **({"v": version} if version else {})}
        page.open_harness("/test/harness.html?" + urllib.parse.urlencode(query))
        info = page.evaluate("pypush.ready.then((info) => info.interpreter)")
        assert info == interpreter

        channel = faces_server.channel()
        page.init("faces", channel)
        page.wait_for("faces", "open")
        assert channel.push("from the jar") == 1
        assert page.wait_for("faces", "message")[0][1] == "from the jar"

        before, suffix = FORMS[mapping]
        expected_query = {"ln": ["pypush"], **({"v": [version]} if version else {})}
        ours = [url for url in requested(page) if "/faces-app/" in url]
        assert not from_servers_own_bundle(page)
        names = []
        for url in ours:
            parts = urllib.parse.urlsplit(url)
            assert parts.path.startswith(before) and parts.path.endswith(suffix), url
            assert urllib.parse.parse_qs(parts.query) == expected_query, url
            names.append(parts.path[len(before) : len(parts.path) - len(suffix)])
            with urllib.request.urlopen(url, timeout=10) as response:  # each one was there
                assert response.status == 200, url
        assert "faces-push.js" in names
        assert any(name.endswith("/" + RUNTIME_WASM[interpreter]) for name in names), names
        assert any(name.endswith("/pypush-glue.js") for name in names), names
        assert page.evaluate("window.errors") == []
    finally:
        context.close()


@pytest.mark.parametrize(
    "kind",
    [
        # Pyodide under PyScript takes the same path (the configuration's interpreter
        # URL) as MicroPython does; test_python_in_page runs it on every engine.
        pytest.param("py", marks=pytest.mark.chromium_only),
        "mpy",
    ],
)
def test_a_pyscript_page_loads_pypush_from_the_jars_static_path(browser, faces_server, kind):
    """PyScript's modules import each other by relative URLs, which Faces resource URLs
    break: PyScript pages load the jar from the container's static path instead."""
    context = browser.new_context()
    try:
        page = PushPage(context.new_page(), faces_server)
        channel = faces_server.channel()
        query = {"kind": kind, "url": channel.url, "channel": channel.name, "url2": channel.url}
        page.page.goto(
            faces_server.base_url + "/test/faces-pyscript.html?" + urllib.parse.urlencode(query)
        )
        page.page.wait_for_function("window.pyStarted === true", timeout=60_000)
        assert page.evaluate("pypush.ready.then((info) => info.interpreter)") == "pyscript"
        page.init("from-js", channel)
        page.wait_for("from-js", "open")
        channel.wait_for_sockets(3)  # the page's Python client, its subscription, JavaScript's
        assert channel.push("from the jar") == 3
        log = lambda: [json.loads(item) for item in page.evaluate("window.pyLog")]  # noqa: E731
        wait_until(lambda: ["subscribed", "str", "from the jar"] in log(), 10, "Python's")
        assert ["message", "str", "from the jar", channel.name, "message"] in log()
        assert page.wait_for("from-js", "message")[0][1] == "from the jar"
        loaded = [url for url in requested(page) if "/faces-app/" in url]
        assert loaded and all(
            url.startswith(faces_server.base_url + STATIC_PREFIX) for url in loaded
        )
        assert not from_servers_own_bundle(page)
    finally:
        context.close()
