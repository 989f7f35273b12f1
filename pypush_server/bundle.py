"""Writes the static bundle: everything a page needs to run faces.push.

The bundle is a folder whose entry is ``faces-push.js``. Every other file is
loaded relative to that script's own URL, so the folder works under any
prefix on any static file server. It holds:

- ``faces-push.js``: the loader;
- ``pyodide/``: the Pyodide runtime files, from the npm package the set-up installs;
- ``micropython/``: the MicroPython runtime, likewise;
- ``pypush.json``: the ``pypush`` package's sources as ``{path: text}``, which the
  loader writes into the interpreter's file system (MicroPython has no zipimport);
- ``pyscript/``: PyScript (``@pyscript/core``), and ``pyscript-py.json`` and
  ``pyscript-mpy.json``, PyScript configurations that use the bundled
  interpreters and fetch the ``pypush`` package (also here as ``pypush/*.py``).
"""

import json
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WEB = PROJECT_ROOT / "web"
PACKAGE = PROJECT_ROOT / "pypush"
PYODIDE_DIST = WEB / "node_modules" / "pyodide"
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
MICROPYTHON_DIST = WEB / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
MICROPYTHON_FILES = ("micropython.mjs", "micropython.wasm")
PYSCRIPT_DIST = WEB / "node_modules" / "@pyscript" / "core" / "dist"
RUNTIMES = {
    "pyodide": (PYODIDE_DIST, PYODIDE_FILES),
    "micropython": (MICROPYTHON_DIST, MICROPYTHON_FILES),
}


class BundleError(RuntimeError):
    """The bundle cannot be written (usually: the set-up has not installed the runtimes)."""


def package_manifest() -> str:
    """The ``pypush`` package's sources as JSON ``{"pypush/x.py": text}``, in a stable order."""
    files = {
        path.relative_to(PROJECT_ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    return json.dumps(files, ensure_ascii=False, separators=(",", ":"))


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
    for runtime, (dist, names) in RUNTIMES.items():
        (destination / runtime).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(dist / name, destination / runtime / name)
    shutil.copyfile(WEB / "faces-push.js", destination / "faces-push.js")
    (destination / "pypush.json").write_text(package_manifest(), encoding="utf-8")
    write_pyscript(destination, url_prefix or "./")
    return destination


def write_pyscript(destination: Path, url_prefix: str) -> None:
    """PyScript, the package as files, and a PyScript configuration per interpreter."""
    if not (PYSCRIPT_DIST / "core.js").is_file():
        raise BundleError("PyScript is not installed (%s); run the set-up" % PYSCRIPT_DIST)
    shutil.copytree(
        PYSCRIPT_DIST,
        destination / "pyscript",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.map"),
    )
    sources = sorted(path.relative_to(PROJECT_ROOT).as_posix() for path in PACKAGE.rglob("*.py"))
    for source in sources:
        (destination / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / source, destination / source)
    # PyScript resolves "files" against the configuration file's own URL.
    files = {"./" + source: "./" + source for source in sources}
    # ... but "interpreter" against the page: hence the prefix.
    for kind, interpreter in (
        ("py", "pyodide/pyodide.mjs"),
        ("mpy", "micropython/micropython.mjs"),
    ):
        config = {"interpreter": url_prefix + interpreter, "files": files}
        (destination / ("pyscript-%s.json" % kind)).write_text(json.dumps(config, indent=1))
