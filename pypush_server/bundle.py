"""Writes the static bundle: everything a page needs to run faces.push.

The bundle is a folder whose entry is ``faces-push.js``. Every other file is
loaded relative to that script's own URL, so the folder works under any
prefix on any static file server. It holds:

- ``faces-push.js``: the loader;
- ``pyodide/``: the Pyodide runtime files, from the npm package the set-up installs;
- ``micropython/``: the MicroPython runtime, likewise;
- ``pypush.json``: the ``pypush`` package's sources as ``{path: text}``, which the
  loader writes into the interpreter's file system (MicroPython has no zipimport).
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


def write_bundle(destination: Path) -> Path:
    """Write the bundle into ``destination`` (created if needed) and return it."""
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
    return destination
