"""MicroPython's JavaScript glue, rewritten to what an Emscripten release build does.

The npm package's ``micropython.mjs`` was built with Emscripten's ``ASSERTIONS`` on:
every call into the WebAssembly (``malloc``, ``free``, ``proxy_c_to_js_call``, …) goes
through ``createExportWrapper``, which gathers its arguments into an array and builds
three message strings for its asserts before it calls the export; and every indirect
call through the function table (``invoke_*``, MicroPython's exception handling) reads
the table a second time to assert that the mirror of it is up to date. A message
crosses between JavaScript and MicroPython twice, each crossing making several such
calls: a profile of a 20,000-message burst put about a fifth of pypush's own script
time per message in them.

A release build (``ASSERTIONS=0``) assigns each export as it is and trusts the mirror:
this step makes the glue do the same, and nothing else. It refuses a glue that does
not have exactly the shape it knows (another MicroPython release must be looked at
again), rather than leave it half rewritten.
"""

import re

EXPORT_WRAPPER = re.compile(r'createExportWrapper\("([A-Za-z_$][\w$]*)",\d+\)')
"""An export wrapped with asserts; in the one function that receives ``wasmExports``."""
RECEIVES_EXPORTS = "function(wasmExports){"
MIRROR_ASSERT = (
    'assert(wasmTable.get(funcPtr)==func,"JavaScript-side Wasm function table mirror is out '
    'of date!"),'
)
"""getWasmTableEntry's check; MicroPython's glue never changes the table (no addFunction)."""


class GlueShapeError(RuntimeError):
    """The glue is not the build this step was written for."""


def release_glue(text: str) -> tuple[str, int]:
    """``text`` with its exports unwrapped and the table mirror trusted; how many exports."""
    wrapped = EXPORT_WRAPPER.findall(text)
    if not wrapped:
        raise GlueShapeError("no createExportWrapper(...) exports: not an ASSERTIONS build")
    if text.count(RECEIVES_EXPORTS) != 1:
        raise GlueShapeError("expected one function(wasmExports){...} assigning the exports")
    start = text.index(RECEIVES_EXPORTS)
    if any(match.start() < start for match in EXPORT_WRAPPER.finditer(text)):
        raise GlueShapeError("an export is wrapped outside the function that receives them")
    if text.count(MIRROR_ASSERT) != 1:
        raise GlueShapeError("getWasmTableEntry's mirror assertion is not the one known")
    if "wasmTable.set(" in text or "wasmTable.grow(" in text:
        raise GlueShapeError("the glue changes the function table: its mirror must be checked")
    text = EXPORT_WRAPPER.sub(lambda match: 'wasmExports["%s"]' % match.group(1), text)
    return text.replace(MIRROR_ASSERT, ""), len(wrapped)
