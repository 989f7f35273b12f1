"""Precompressed copies of a bundle's files, for servers that send them as they are.

Over a real link start-up is bytes and round trips: MicroPython's WebAssembly is
434 KB, 166 KB with Brotli. Compressing at build time, at the highest levels,
costs nothing per request: aiohttp's static files (what ``serve.py`` uses) send
``NAME.br`` or ``NAME.gz`` when the browser accepts that encoding, as nginx's
``gzip_static``/``brotli_static`` and most CDNs do (see the README).
"""

import gzip
import hashlib
import logging
import os
from pathlib import Path

try:
    import brotli
except ImportError:  # a Python without it (the repository's serve.py under a plain python3)
    brotli = None

log = logging.getLogger("pypush.build")

NO_BROTLI = (
    "brotli is not installed: the bundle gets .gz copies but no .br ones "
    "(pip install brotli, or run the set-up's .venv/bin/python)"
)

COMPRESSIBLE = (".js", ".mjs", ".json", ".wasm", ".css", ".html", ".txt", ".py", ".map", ".zip")
"""Suffixes worth compressing (a .zip only when stored, as the byte-compiled stdlib is:
the MIN_SAVING rule leaves a deflated one alone)."""

MIN_SAVING = 0.05
"""A compressed copy is kept only when it is at least this much smaller."""

BEST_UP_TO = 16 * 1024 * 1024
"""Files up to this size get Brotli's best level (11), larger ones level 9. Level 11
takes time (Pyodide's 9.6 MB WebAssembly: 28 s here, 2.74 MB against 3.10 at level 9),
once: copies are kept by content hash (cache_dir)."""


def cache_dir() -> Path:
    """Where compressed copies are kept by content hash, so a rebuild compresses nothing again."""
    base = os.environ.get("PYPUSH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pypush"
    )
    return Path(base) / "compressed"


def _cached(data: bytes, kind: str, make) -> bytes:
    key = hashlib.sha256(data).hexdigest() + "." + kind
    path = cache_dir() / key
    try:
        return path.read_bytes()
    except OSError:
        packed = make(data)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".%d.tmp" % os.getpid())
            temporary.write_bytes(packed)
            temporary.replace(path)
        except OSError:
            pass  # no cache: compress again next time
        return packed


def _brotli(data: bytes) -> bytes:
    return brotli.compress(data, quality=11 if len(data) <= BEST_UP_TO else 9)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def compress_tree(root: Path) -> list[Path]:
    """Write ``.br`` and ``.gz`` beside every compressible file under ``root``; what was written.

    Copies that would not be meaningfully smaller are not written (a server then
    sends the file as it is), and stale copies of a file that changed are replaced.
    Without the brotli module only the ``.gz`` copies are written (and ``.br`` ones left
    from an earlier build are removed, as they may be stale), and a warning says so:
    servers then send gzip, which every browser accepts.
    """
    kinds = ((".br", _brotli if brotli is not None else None), (".gz", _gzip))
    if brotli is None:
        log.warning(NO_BROTLI)
    written = []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        data = path.read_bytes()
        for suffix, compressed in kinds:
            target = path.with_name(path.name + suffix)
            packed = _cached(data, suffix[1:], compressed) if compressed else None
            if packed is not None and len(packed) <= len(data) * (1 - MIN_SAVING):
                target.write_bytes(packed)
                written.append(target)
            elif target.exists():
                target.unlink()
    return written
