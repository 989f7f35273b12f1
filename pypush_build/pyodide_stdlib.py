"""Pyodide's standard library, byte-compiled at build time.

Pyodide 314 ships its standard library as source (559 ``.py``, no ``.pyc``), so
every page that boots it compiles what it imports: most of a bare boot's 2 to 3
seconds here. Compiled once at build time, by Pyodide itself (its CPython's own
bytecode), the same boot takes about 0.4 s. The zip stores its members
uncompressed so that the HTTP layer's Brotli compresses it whole (2.9 MB against
the source zip's 2.5 MB). The loader hands it to Pyodide (``stdLibURL``); the
original zip stays in the bundle for PyScript and the benchmark's bare boot.

Compiling needs Node.js (which the set-up has, for the npm runtimes); the result
is kept by the hash of its inputs, so a rebuild compiles nothing again.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from pypush_build.compress import cache_dir

HERE = Path(__file__).resolve().parent
COMPILED_NAME = "python_stdlib_pyc.zip"


class StdlibError(RuntimeError):
    """The standard library could not be compiled (no Node.js, or Pyodide failed)."""


def compiled_stdlib(pyodide_dir: Path, target: Path) -> Path:
    """Write the byte-compiled standard library of ``pyodide_dir`` to ``target``."""
    source = pyodide_dir / "python_stdlib.zip"
    digest = hashlib.sha256()
    for path in (
        source,
        pyodide_dir / "pyodide.asm.wasm",
        HERE / "pyodide_stdlib_compile.py",
        HERE / "pyodide_stdlib.mjs",
    ):
        digest.update(path.read_bytes())
    cached = cache_dir().parent / "stdlib" / (digest.hexdigest() + ".zip")
    if not cached.is_file():
        node = shutil.which("node")
        if node is None:
            raise StdlibError("Node.js is needed to byte-compile Pyodide's standard library")
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Its own name: builds running at once (pytest's workers with an empty cache) must
        # not move each other's file away; the last to finish replaces an equal one.
        partial = cached.with_name("%s.%d.partial" % (cached.name, os.getpid()))
        done = subprocess.run(
            [node, str(HERE / "pyodide_stdlib.mjs"), str(pyodide_dir), str(source), str(partial)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not partial.is_file():
            raise StdlibError(
                "byte-compiling Pyodide's standard library failed: %s" % done.stderr[-2000:]
            )
        partial.replace(cached)
    shutil.copyfile(cached, target)
    return target
