"""Run inside Pyodide (by pyodide_stdlib.mjs): its standard library, byte-compiled.

Reads the zip at sys.argv-like paths given as globals ``SOURCE`` and ``TARGET``,
writes every ``.py`` as a sourceless ``.pyc`` of Pyodide's own CPython (its magic
number), everything else as it is, all stored uncompressed so that the HTTP layer's
Brotli compresses the whole file. Each member keeps its source's timestamp, so that
every build of the same input writes the same bytes.
"""

import importlib.util
import marshal
import zipfile

SOURCE = globals()["SOURCE"]
TARGET = globals()["TARGET"]
HEADER = importlib.util.MAGIC_NUMBER + b"\0" * 12  # flags 0, no source to compare with

compiled = 0


def member(name: str, info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A stored (uncompressed) member with the source member's timestamp."""
    return zipfile.ZipInfo(name, info.date_time)


with zipfile.ZipFile(SOURCE) as source, zipfile.ZipFile(TARGET, "w", zipfile.ZIP_STORED) as out:
    for info in source.infolist():
        data = source.read(info)
        if info.filename.endswith(".py"):
            try:
                code = compile(data, info.filename, "exec", dont_inherit=True)
            except SyntaxError:  # kept as source: Python reports it where it is imported
                out.writestr(member(info.filename, info), data)
                continue
            out.writestr(member(info.filename + "c", info), HEADER + marshal.dumps(code))
            compiled += 1
        else:
            out.writestr(member(info.filename, info), data)
print(compiled)
