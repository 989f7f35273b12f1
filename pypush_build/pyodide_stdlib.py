"""Pyodide's standard library, and pypush itself, byte-compiled at build time.

Pyodide 314 ships its standard library as source (559 ``.py``, no ``.pyc``), so
every page that boots it compiles what it imports: most of a bare boot's 2 to 3
seconds here. Compiled once at build time, by Pyodide itself (its CPython's own
bytecode), the same boot takes about 0.4 s. The zip stores its members
uncompressed so that the HTTP layer's Brotli compresses it whole (2.9 MB against
the source zip's 2.5 MB). The loader hands it to Pyodide (``stdLibURL``); the
original zip stays in the bundle for PyScript and the benchmark's bare boot.

pypush's own package is compiled the same way (``pypush-pyc.json`` in the bundle), as
MicroPython's is by mpy-cross.

Compiling needs Node.js (which the set-up has, for the npm runtimes); the result
is kept by the hash of its inputs, so a rebuild compiles nothing again.
"""

import hashlib
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from pypush_build.compress import cache_dir

HERE = Path(__file__).resolve().parent
COMPILED_NAME = "python_stdlib_pyc.zip"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""The timestamp of every member of a package's source zip: the same sources, the same bytes."""


class StdlibError(RuntimeError):
    """The standard library could not be compiled (no Node.js, or Pyodide failed)."""


def compiled_stdlib(pyodide_dir: Path, target: Path) -> Path:
    """Write the byte-compiled standard library of ``pyodide_dir`` to ``target``."""
    cached = compiled_zip(pyodide_dir, (pyodide_dir / "python_stdlib.zip").read_bytes())
    shutil.copyfile(cached, target)
    return target


def compiled_package(pyodide_dir: Path, sources: dict[str, str]) -> dict[str, bytes]:
    """``{"pypush/x.py": source}`` as ``{"pypush/x.pyc": sourceless bytecode}`` of this
    Pyodide's CPython: importing it compiles nothing, about 0.1 s of a cold start on
    Pyodide (pypush's sources, compiled in the page, took 86-130 ms here)."""
    source = io.BytesIO()
    with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(sources):
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), sources[name].encode("utf-8"))
    with zipfile.ZipFile(compiled_zip(pyodide_dir, source.getvalue())) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def compiled_zip(pyodide_dir: Path, source: bytes) -> Path:
    """The zip ``source`` with every ``.py`` byte-compiled by Pyodide (under Node.js), as
    a file in the cache, named after the hash of what made it."""
    digest = hashlib.sha256(source)
    for path in (
        pyodide_dir / "pyodide.asm.wasm",
        HERE / "pyodide_stdlib_compile.py",
        HERE / "pyodide_stdlib.mjs",
    ):
        digest.update(path.read_bytes())
    cached = cache_dir().parent / "stdlib" / (digest.hexdigest() + ".zip")
    if cached.is_file():
        return cached
    node = shutil.which("node")
    if node is None:
        raise StdlibError("Node.js is needed to byte-compile Python for Pyodide")
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Its own names: builds running at once (pytest's workers with an empty cache) must
    # not move each other's files away; the last to finish replaces an equal one.
    partial = cached.with_name("%s.%d.partial" % (cached.name, os.getpid()))
    given = cached.with_name("%s.%d.source" % (cached.name, os.getpid()))
    given.write_bytes(source)
    try:
        done = subprocess.run(
            [node, str(HERE / "pyodide_stdlib.mjs"), str(pyodide_dir), str(given), str(partial)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        given.unlink()
    if done.returncode != 0 or not partial.is_file():
        raise StdlibError("byte-compiling Python with Pyodide failed: %s" % done.stderr[-2000:])
    partial.replace(cached)
    return cached
