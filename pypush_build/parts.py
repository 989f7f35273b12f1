"""The bundle's parts in an installed wheel, and the build step that puts them there.

In the repository, :mod:`pypush_build.bundle` takes its parts from ``web/`` and the
npm runtimes the set-up installs there, and compiles the package with mpy-cross.
A wheel has neither Node nor ``web/``, so its build writes the parts into it,
made from the pinned runtimes there and then:

- ``pypush`` (the project's wheel) carries the default path: the loader, the glue,
  the package as MicroPython bytecode and MicroPython, in
  ``pypush_build/parts/``, and the demo pages in ``pypush_server/demo/``;
- ``pypush-pyodide`` and ``pypush-pyscript`` (``runtimes/``, the extras
  ``pypush[pyodide]`` and ``pypush[pyscript]``) carry Pyodide (with its standard
  library and the package byte-compiled, which needs Node.js) and PyScript, which most of the bytes
  are and the default path never loads, in ``pypush_pyodide/files/`` and
  ``pypush_pyscript/files/``.

What a bundle's build does beyond copying (MicroPython's memory shrunk, ``.br`` and
``.gz`` copies) needs no Node, so an installed pypush does it where it writes the
bundle, and the wheels carry no compressed copies.

An installed ``pypush`` then writes bundles from these (``pypush bundle``), with the
runtimes that are installed.
"""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PARTS = Path(__file__).resolve().parent / "parts"
"""The parts an installed wheel carries in place of ``web/`` (written by :func:`write_parts`)."""
INSTALLED = (
    not (PROJECT_ROOT / "web" / "faces-push.js").is_file() and (PARTS / "faces-push.js").is_file()
)
"""True in an installed wheel: no repository around, the parts are in :data:`PARTS`."""
MANIFESTS = ("pypush-mpy.json",)
"""The default path's; ``pypush-pyc.json`` (Pyodide's bytecode) is the Pyodide wheel's."""
LOADER_FILES = ("faces-push.js", "pypush-glue.js")
RUNTIME_PACKAGES = {"pyodide": "pypush_pyodide", "pyscript": "pypush_pyscript"}
"""The runtime wheels' import packages; each holds its runtime's files in ``files/``."""


def installed_runtime(runtime: str) -> Path | None:
    """The files of ``pypush[runtime]``'s wheel (pyodide or pyscript), or None: not installed."""
    spec = importlib.util.find_spec(RUNTIME_PACKAGES[runtime])
    if spec is None or spec.origin is None:
        return None
    files = Path(spec.origin).parent / "files"
    return files if files.is_dir() else None


def packaged_manifests() -> dict[str, str]:
    """The package's manifests as the wheel's build made them."""
    return {name: (PARTS / name).read_text(encoding="utf-8") for name in MANIFESTS}


# -- the build step (setup.py and runtimes/*/setup.py call these) --------------------------


def write_parts(build_lib: Path) -> None:
    """The project's wheel: the default path's parts and the demo, into ``build_lib``."""
    from pypush_build import bundle

    ensure_runtimes([bundle.MICROPYTHON_DIST / name for name in bundle.MICROPYTHON_FILES])
    parts = Path(build_lib) / "pypush_build" / "parts"
    shutil.rmtree(parts, ignore_errors=True)
    (parts / "micropython").mkdir(parents=True)
    for name in bundle.MICROPYTHON_FILES:
        shutil.copyfile(bundle.MICROPYTHON_DIST / name, parts / "micropython" / name)
    for name in LOADER_FILES:
        shutil.copyfile(bundle.WEB / name, parts / name)
    # MANIFESTS: only MicroPython's bytecode (Pyodide's is the Pyodide wheel's to carry).
    (parts / "pypush-mpy.json").write_text(bundle.compiled_manifest(), encoding="utf-8")
    demo = Path(build_lib) / "pypush_server" / "demo"
    shutil.rmtree(demo, ignore_errors=True)
    shutil.copytree(bundle.WEB / "demo", demo)


def write_runtime(runtime: str, build_lib: Path) -> None:
    """A runtime wheel (pyodide or pyscript): that runtime's files, into ``build_lib``."""
    from pypush_build import bundle

    files = Path(build_lib) / RUNTIME_PACKAGES[runtime] / "files"
    shutil.rmtree(files, ignore_errors=True)
    if runtime == "pyodide":
        ensure_runtimes([bundle.PYODIDE_DIST / name for name in bundle.PYODIDE_FILES])
        files.mkdir(parents=True)
        for name in bundle.PYODIDE_FILES:
            shutil.copyfile(bundle.PYODIDE_DIST / name, files / name)
        # Its standard library byte-compiled by Pyodide under Node.js, which the
        # installed wheel will not have (pyodide_stdlib).
        bundle.write_compiled_stdlib(files / bundle.COMPILED_STDLIB)
        # pypush itself as this Pyodide's bytecode, likewise (the runtime wheel has
        # pypush's own version, so it is this pypush).
        (files / bundle.PYODIDE_MANIFEST).write_text(bundle.pyodide_manifest(), encoding="utf-8")
    else:
        ensure_runtimes([bundle.PYSCRIPT_DIST / "core.js"])
        # What the bundle copies of PyScript (its source maps are left out there too).
        shutil.copytree(bundle.PYSCRIPT_DIST, files, ignore=shutil.ignore_patterns("*.map"))
        shutil.copyfile(bundle.PYSCRIPT_DIST.parent / "LICENSE", files.parent / "LICENSE")


def runtime_version(runtime: str) -> str:
    """The npm version the lock file pins for a runtime (pyodide, pyscript, micropython)."""
    package = {
        "pyodide": "pyodide",
        "pyscript": "@pyscript/core",
        "micropython": "@micropython/micropython-webassembly-pyscript",
    }[runtime]
    lock = json.loads((PROJECT_ROOT / "web" / "package-lock.json").read_text(encoding="utf-8"))
    return lock["packages"]["node_modules/" + package]["version"]


def ensure_runtimes(needed: list[Path]) -> None:
    """The pinned runtimes, installed by ``npm ci`` when missing (a build from an sdist)."""
    from pypush_build.bundle import BundleError

    if all(path.is_file() for path in needed):
        return
    web = PROJECT_ROOT / "web"
    npm = shutil.which("npm")
    if npm is None or not (web / "package-lock.json").is_file():
        raise BundleError(
            "building pypush's wheels needs the runtimes web/package-lock.json pins "
            "(missing %s): run `make setup` (or `npm ci` in web/) first"
            % ", ".join(str(path) for path in needed if not path.is_file())
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=web, check=True)
