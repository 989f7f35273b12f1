"""Writes the static bundle: everything a page needs to run faces.push.

The bundle is a folder whose entry is ``faces-push.js``. Every other file is
loaded relative to that script's own URL, so the folder works under any
prefix on any static file server. It holds:

- ``faces-push.js``: the loader;
- ``pyodide/``: the Pyodide runtime files, from the npm package the set-up installs;
- ``pypush.zip``: the ``pypush`` package, imported by Python straight from the zip.
"""

import shutil
import zipfile
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


class BundleError(RuntimeError):
    """The bundle cannot be written (usually: the set-up has not installed the runtimes)."""


def package_zip_bytes() -> bytes:
    """The ``pypush`` package as a zip archive (sources only, stable order)."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PACKAGE.rglob("*.py")):
            archive.write(path, path.relative_to(PROJECT_ROOT).as_posix())
    return buffer.getvalue()


def write_bundle(destination: Path) -> Path:
    """Write the bundle into ``destination`` (created if needed) and return it."""
    missing = [name for name in PYODIDE_FILES if not (PYODIDE_DIST / name).is_file()]
    if missing:
        raise BundleError(
            "the Pyodide runtime is not installed (missing %s in %s); run the set-up "
            "(`make setup`, or `npm ci` in web/)" % (", ".join(missing), PYODIDE_DIST)
        )
    destination = Path(destination)
    runtime = destination / "pyodide"
    runtime.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copyfile(PYODIDE_DIST / name, runtime / name)
    shutil.copyfile(WEB / "faces-push.js", destination / "faces-push.js")
    (destination / "pypush.zip").write_bytes(package_zip_bytes())
    return destination
