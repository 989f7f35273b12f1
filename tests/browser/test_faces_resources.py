"""The loader from the resource jar, included the way a Java Faces application includes it.

``<h:outputScript library="pypush" name="faces-push.js"/>`` renders a Faces resource URL
(``.../jakarta.faces.resource/faces-push.js.xhtml?ln=pypush`` when the FacesServlet is
mapped to ``*.xhtml``, ``.../faces/jakarta.faces.resource/faces-push.js?ln=pypush`` when it
is mapped to ``/faces/*``, either maybe with ``&v=``), where a relative sibling URL misses.
serve.py ``--faces-jar`` serves the jar ``pypush bundle --jar`` writes exactly as Faces maps
such URLs (:mod:`pypush_server.testing.faces_resources`); every file the page loads must
come through that same form, and a push must arrive (issue 16).
"""

import urllib.parse
import urllib.request

import pytest

from pypush_build.jar import write_jar
from tests.browser.conftest import PushPage

FORMS = {
    # mapping: (path before the name, suffix after it)
    "suffix": ("/faces-app/jakarta.faces.resource/", ".xhtml"),
    "prefix": ("/faces-app/faces/jakarta.faces.resource/", ""),
}
RUNTIME_WASM = {
    "pyodide": "pyodide/pyodide.asm.wasm",
    "micropython": "micropython/micropython.wasm",
}


@pytest.fixture(scope="module")
def faces_server(tmp_path_factory, start_module_server):
    jar = write_jar(tmp_path_factory.mktemp("jar") / "pypush.jar")
    return start_module_server("--no-demo-clock", "--faces-jar", str(jar))


def requested(page: PushPage) -> list[str]:
    """The URLs the page fetched (Resource Timing), without fragments."""
    names = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
    return sorted({name.split("#", 1)[0] for name in names})


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
        assert not [url for url in requested(page) if "/pypush/" in url]  # not serve.py's bundle
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
