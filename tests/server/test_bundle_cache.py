"""The bundle's layout and how serve.py lets browsers cache it (warm visits)."""

import base64
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile

import pytest

from pypush_build.bundle import PROJECT_ROOT, assets_folder, package_sources, write_bundle
from pypush_server.server_app import CACHE_FOREVER, CACHE_LOADER
from tests.support import ROOT, start_server, stop_server

MPY_MAGIC = b"M\x06"  # .mpy format 6: what MicroPython 1.27 imports


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("bundle"))


def test_the_loader_names_the_hashed_assets_folder(bundle):
    folder = assets_folder(bundle)
    assert folder.startswith("v-") and len(folder) == 14
    loader = (bundle / "faces-push.js").read_text()
    assert 'var assets = "./%s/";' % folder in loader
    for name in ("pyodide/pyodide.asm.wasm", "micropython/micropython.wasm", "pypush-pyc.json"):
        assert (bundle / folder / name).is_file(), name


def test_a_changed_package_gets_a_new_folder_and_the_old_one_goes(bundle, monkeypatch):
    import pypush_build.bundle as module

    before = assets_folder(bundle)
    monkeypatch.setattr(module, "compiled_manifest", lambda: '{"pypush/x.mpy": "changed"}')
    write_bundle(bundle)
    after = assets_folder(bundle)  # exactly one folder: the old one was removed
    assert after != before
    monkeypatch.undo()
    write_bundle(bundle)
    assert assets_folder(bundle) == before  # the hash depends on the contents only


def test_micropython_gets_the_package_as_bytecode_of_every_module(bundle):
    folder = bundle / assets_folder(bundle)
    compiled = json.loads((folder / "pypush-mpy.json").read_text())
    assert sorted(compiled) == sorted(name[: -len(".py")] + ".mpy" for name in package_names())
    for name, data in compiled.items():
        assert base64.b64decode(data).startswith(MPY_MAGIC), name


def test_pyodide_gets_the_package_as_its_own_bytecode_of_every_module(bundle):
    """Sourceless .pyc files of Pyodide's CPython (its magic number, no source to check),
    which the loader writes where Python imports them: no compiling at start-up."""
    folder = bundle / assets_folder(bundle)
    compiled = json.loads((folder / "pypush-pyc.json").read_text())
    assert sorted(compiled) == sorted(name + "c" for name in package_names())
    [magic] = {base64.b64decode(data)[:4] for data in compiled.values()}
    with zipfile.ZipFile(folder / "pyodide" / "python_stdlib_pyc.zip") as stdlib:
        assert stdlib.read("json/__init__.pyc")[:4] == magic  # the stdlib Pyodide boots with
    for name, data in compiled.items():
        assert base64.b64decode(data)[4:16] == b"\0" * 12, name  # flags 0: never checked


def package_names() -> list[str]:
    return [path.relative_to(PROJECT_ROOT).as_posix() for path in package_sources()]


def get(url: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_serve_caches_assets_for_good_and_the_loader_for_ten_minutes(tmp_path):
    process, base_url = start_server(tmp_path / "serve.log")
    try:
        status, headers = get(base_url + "/pypush/faces-push.js")
        assert status == 200 and headers["Cache-Control"] == CACHE_LOADER == "public, max-age=600"
        status, headers = get(base_url + "/pypush/pyscript-mpy.json")
        assert status == 200 and headers["Cache-Control"] == "no-cache"
        loader = urllib.request.urlopen(base_url + "/pypush/faces-push.js").read().decode()
        folder = loader.split('var assets = "./', 1)[1].split("/", 1)[0]
        status, headers = get(base_url + "/pypush/%s/micropython/micropython.wasm" % folder)
        assert status == 200 and headers["Cache-Control"] == CACHE_FOREVER
        assert headers["Content-Type"] == "application/wasm"  # streaming compile + code cache
        status, headers = get(base_url + "/pypush/%s/no-such-file" % folder)
        assert status == 404 and "immutable" not in headers.get("Cache-Control", "")
    finally:
        stop_server(process)


def test_every_compressible_file_has_brotli_and_gzip_copies_that_decompress_to_it(bundle):
    import gzip

    import brotli

    folder = bundle / assets_folder(bundle)
    for name in (
        "micropython/micropython.wasm",
        "micropython/micropython.mjs",
        "pypush-mpy.json",
        "pypush-glue.js",
    ):
        original = (folder / name).read_bytes()
        assert brotli.decompress((folder / (name + ".br")).read_bytes()) == original, name
        assert gzip.decompress((folder / (name + ".gz")).read_bytes()) == original, name
    assert (bundle / "faces-push.js.br").is_file()
    assert not (folder / "pyodide" / "python_stdlib.zip.br").exists()  # already compressed


def test_micropython_starts_with_the_memory_its_static_part_needs_not_17_mb(bundle):
    from pypush_build.wasm_memory import shrink_initial_memory

    data = (bundle / assets_folder(bundle) / "micropython" / "micropython.wasm").read_bytes()
    _, pages, again = shrink_initial_memory(data)  # already shrunk: nothing left to do
    assert pages == again <= 8  # 64 KiB pages: at most 512 KiB at start (17 MB before)


def test_serve_py_sends_the_precompressed_copy_with_the_original_type(tmp_path):
    import brotli

    process, base_url = start_server(tmp_path / "serve.log")
    try:
        loader = urllib.request.urlopen(base_url + "/pypush/faces-push.js", timeout=10).read()
        folder = loader.decode().split('var assets = "./', 1)[1].split("/", 1)[0]
        request = urllib.request.Request(
            base_url + "/pypush/%s/micropython/micropython.wasm" % folder,
            headers={"Accept-Encoding": "gzip, deflate, br"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Encoding"] == "br"
            assert response.headers["Content-Type"] == "application/wasm"
            assert response.headers["Cache-Control"] == CACHE_FOREVER
            body = brotli.decompress(response.read())
        assert body.startswith(b"\0asm")
    finally:
        stop_server(process)


def test_builds_at_once_with_an_empty_cache_each_get_the_compiled_standard_library(tmp_path):
    """pytest's workers each start serve.py, each building a bundle: with an empty cache
    they byte-compile Pyodide's standard library at the same time, into the same cache."""
    build = (
        "import sys; from pathlib import Path; "
        "from pypush_build.bundle import PYODIDE_DIST; "
        "from pypush_build.pyodide_stdlib import compiled_stdlib; "
        "compiled_stdlib(PYODIDE_DIST, Path(sys.argv[1]))"
    )
    environment = dict(os.environ, PYPUSH_CACHE=str(tmp_path / "cache"))
    targets = [tmp_path / ("stdlib-%d.zip" % n) for n in range(3)]
    builds = [
        subprocess.Popen(
            [sys.executable, "-c", build, str(target)],
            cwd=ROOT,
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        for target in targets
    ]
    errors = [process.communicate(timeout=600)[1] for process in builds]
    assert [process.returncode for process in builds] == [0, 0, 0], errors
    contents = {target.read_bytes() for target in targets}
    assert len(contents) == 1 and zipfile.ZipFile(targets[0]).testzip() is None
    assert not list((tmp_path / "cache").rglob("*.partial"))  # none left behind


def test_micropythons_glue_is_rewritten_as_a_release_build_would_be(bundle):
    """emscripten_release: the npm glue's debug wrappers and table check, gone; nothing else."""
    from pypush_build.bundle import MICROPYTHON_DIST
    from pypush_build.emscripten_release import EXPORT_WRAPPER, MIRROR_ASSERT

    original = (MICROPYTHON_DIST / "micropython.mjs").read_text()
    written = (bundle / assets_folder(bundle) / "micropython" / "micropython.mjs").read_text()
    exports = EXPORT_WRAPPER.findall(original)
    assert "malloc" in exports and "proxy_c_to_js_call" in exports
    assert not EXPORT_WRAPPER.search(written) and MIRROR_ASSERT not in written
    for name in exports:
        assert 'createExportWrapper("%s"' % name in original
        assert '=wasmExports["%s"]' % name in written
    # Put back, the rewrites give the original byte for byte: nothing else changed.
    restored = written
    for name in exports:
        nargs = re.search(r'createExportWrapper\("%s",(\d+)\)' % re.escape(name), original)[1]
        restored = restored.replace(
            'wasmExports["%s"]' % name, 'createExportWrapper("%s",%s)' % (name, nargs), 1
        )
    at = original.index(MIRROR_ASSERT)
    assert restored[:at] + MIRROR_ASSERT + restored[at:] == original


@pytest.mark.parametrize(
    "glue, problem",
    [
        ("var a=1;", "not an ASSERTIONS build"),
        ('function(wasmExports){Module._f=createExportWrapper("f",1)}', "mirror assertion"),
        ('Module._f=createExportWrapper("f",1);function(wasmExports){}', "outside the function"),
    ],
)
def test_a_glue_of_another_shape_is_refused_not_half_rewritten(glue, problem):
    from pypush_build.emscripten_release import GlueShapeError, release_glue

    with pytest.raises(GlueShapeError, match=problem):
        release_glue(glue)
