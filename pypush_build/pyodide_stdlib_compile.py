"""Run inside Pyodide (by pyodide_stdlib.mjs): its standard library, byte-compiled.

Reads the zip at sys.argv-like paths given as globals ``SOURCE`` and ``TARGET``,
writes every ``.py`` as a sourceless ``.pyc`` of Pyodide's own CPython (its magic
number), everything else as it is, all stored uncompressed so that the HTTP layer's
Brotli compresses the whole file.
"""

import importlib.util
import marshal
import zipfile

SOURCE = globals()["SOURCE"]
TARGET = globals()["TARGET"]
HEADER = importlib.util.MAGIC_NUMBER + b"\0" * 12  # flags 0, no source to compare with

compiled = 0
with zipfile.ZipFile(SOURCE) as source, zipfile.ZipFile(TARGET, "w", zipfile.ZIP_STORED) as out:
    for info in source.infolist():
        data = source.read(info)
        if info.filename.endswith(".py"):
            try:
                code = compile(data, info.filename, "exec", dont_inherit=True)
            except SyntaxError:  # kept as source: Python reports it where it is imported
                out.writestr(info.filename, data)
                continue
            out.writestr(info.filename + "c", HEADER + marshal.dumps(code))
            compiled += 1
        else:
            out.writestr(info.filename, data)
print(compiled)
