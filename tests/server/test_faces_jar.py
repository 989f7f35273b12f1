"""The resource jar (``pypush bundle --jar``) and the Faces application serve.py plays for it.

A Java Faces application serves ``META-INF/resources/pypush/NAME`` of a jar in
``WEB-INF/lib`` at ``.../jakarta.faces.resource/NAME.xhtml?ln=pypush`` (FacesServlet on
``*.xhtml``) or ``.../faces/jakarta.faces.resource/NAME?ln=pypush`` (on ``/faces/*``);
``serve.py --faces-jar`` must map them the same way for the browser tests to mean anything.
"""

import urllib.error
import urllib.request
import zipfile
from xml.etree import ElementTree

import pytest

from pypush_build.bundle import assets_folder, write_bundle
from pypush_build.jar import RESOURCES, WEB_FRAGMENT, is_compressed_copy, write_jar

FORMS = {
    "suffix": "/faces-app/jakarta.faces.resource/%s.xhtml?ln=pypush",
    "suffix-v": "/faces-app/jakarta.faces.resource/%s.xhtml?ln=pypush&v=4.0.2",
    "prefix": "/faces-app/faces/jakarta.faces.resource/%s?ln=pypush",
    "prefix-v": "/faces-app/faces/jakarta.faces.resource/%s?ln=pypush&v=4.0.2",
    "no-library": "/faces-app/jakarta.faces.resource/pypush/%s.xhtml",  # name="pypush/..."
    "static": "/faces-app/pypush/%s",  # the container's static files (Servlet 3.0)
}


@pytest.fixture(scope="module")
def jar(tmp_path_factory):
    return write_jar(tmp_path_factory.mktemp("jar") / "pypush.jar")


@pytest.fixture(scope="module")
def faces_app(jar, start_module_server):
    return start_module_server("--no-demo-clock", "--faces-jar", str(jar))


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


def test_the_jar_holds_the_bundle_under_meta_inf_resources_with_its_manifest_first(jar, tmp_path):
    bundle = write_bundle(tmp_path / "bundle")
    entries = zipfile.ZipFile(jar).namelist()
    assert entries[:2] == ["META-INF/MANIFEST.MF", WEB_FRAGMENT]
    files = sorted(
        p.relative_to(bundle).as_posix()
        for p in bundle.rglob("*")
        if p.is_file() and not is_compressed_copy(p)  # Faces would never send them
    )
    assert len(files) < len([p for p in bundle.rglob("*") if p.is_file()])
    assert sorted(e[len(RESOURCES) :] for e in entries[2:]) == files
    assert all(e.startswith(RESOURCES) for e in entries[2:])
    with zipfile.ZipFile(jar) as archive:
        assert archive.read(RESOURCES + "faces-push.js") == (bundle / "faces-push.js").read_bytes()
        assert archive.read("META-INF/MANIFEST.MF").startswith(b"Manifest-Version: 1.0\r\n")


def test_the_jars_web_fragment_maps_wasm_and_mjs_and_adds_nothing_else(jar):
    """Containers read META-INF/web-fragment.xml of every jar in WEB-INF/lib: the jar's
    maps the types browsers insist on (module scripts, streamed WebAssembly), so that an
    application need not edit its web.xml; it declares no servlet, filter or listener."""
    namespace = "{https://jakarta.ee/xml/ns/jakartaee}"
    root = ElementTree.fromstring(zipfile.ZipFile(jar).read(WEB_FRAGMENT))
    assert root.tag == namespace + "web-fragment"
    assert root.get("metadata-complete") == "true"
    mappings = {
        m.findtext(namespace + "extension"): m.findtext(namespace + "mime-type")
        for m in root.iter(namespace + "mime-mapping")
    }
    assert mappings == {"wasm": "application/wasm", "mjs": "text/javascript"}
    assert {child.tag for child in root} == {namespace + "name", namespace + "mime-mapping"}


def test_jars_written_with_source_date_epoch_are_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = write_jar(tmp_path / "first.jar").read_bytes()
    assert write_jar(tmp_path / "second.jar").read_bytes() == first


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_file_of_the_jar_is_served_in_every_form_with_its_content_type(faces_app, jar, form):
    with zipfile.ZipFile(jar) as archive:
        names = [e[len(RESOURCES) :] for e in archive.namelist() if e.startswith(RESOURCES)]
        folder = next(n.split("/")[0] for n in names if n.startswith("v-"))
        for name in names:
            status, headers, body = get(faces_app.base_url + FORMS[form] % name)
            assert status == 200, name
            assert body == archive.read(RESOURCES + name), name
    types = {
        "faces-push.js": "text/javascript",
        folder + "/micropython/micropython.wasm": "application/wasm",
        folder + "/micropython/micropython.mjs": "text/javascript",
        folder + "/pyodide/pyodide.asm.wasm": "application/wasm",
        folder + "/pypush-pyc.json": "application/json",
    }
    for name, content_type in types.items():
        _, headers, _ = get(faces_app.base_url + FORMS[form] % name)
        assert headers["Content-Type"].split(";")[0] == content_type, name


def test_what_faces_would_not_serve_is_404(faces_app, jar):
    base = faces_app.base_url + "/faces-app"
    folder = assets_folder_of(jar)
    for path in (
        "/faces/jakarta.faces.resource/faces-push.js",  # no ln: META-INF/resources/faces-push.js
        "/jakarta.faces.resource/faces-push.js",  # not .xhtml: not the FacesServlet's
        "/jakarta.faces.resource/faces-push.js.xhtml?ln=other",
        "/jakarta.faces.resource/faces-push.js.xhtml?ln=../pypush",  # an unsafe library name
        "/jakarta.faces.resource/faces-push.js.xhtml?ln=pypush%2Fx",
        "/jakarta.faces.resource/%s/../faces-push.js.xhtml?ln=pypush" % folder,
        "/jakarta.faces.resource/MANIFEST.MF.xhtml?ln=../META-INF",
        "/faces/jakarta.faces.resource/x.properties?ln=pypush",  # excluded by Faces
        "/index.xhtml",  # a page, not a resource
        "/META-INF/MANIFEST.MF",
    ):
        assert get(base + path)[0] == 404, path


def test_faces_answers_304_to_a_browser_that_has_the_resource(faces_app):
    url = faces_app.base_url + FORMS["suffix"] % "faces-push.js"
    status, headers, _ = get(url)
    assert status == 200 and "Expires" in headers
    status, _, body = get(url, {"If-Modified-Since": headers["Last-Modified"]})
    assert (status, body) == (304, b"")


def assets_folder_of(jar) -> str:
    with zipfile.ZipFile(jar) as archive:
        return next(
            e[len(RESOURCES) :].split("/")[0]
            for e in archive.namelist()
            if e.startswith(RESOURCES + "v-")
        )


def test_the_jars_assets_folder_is_the_bundles(jar, tmp_path):
    assert assets_folder_of(jar) == assets_folder(write_bundle(tmp_path / "bundle"))
