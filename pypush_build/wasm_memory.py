"""Start MicroPython's WebAssembly memory small: it grows by itself.

The npm build of MicroPython (1.27) declares 259 pages (17 MB) of initial memory,
although its static data and stack end below 200 KB and it allocates its heap with
``malloc``, which grows the memory as needed (the module declares a maximum, so
growth is on: Emscripten's ``ALLOW_MEMORY_GROWTH``). Every page gets 17 MB of
WebAssembly memory whatever it uses; with the initial size lowered to what the
static data and stack need, a pypush page holds about what MicroPython allocates
(the benchmark reports it: ``python -m bench``).

This rewrites only the memory section's ``initial`` field, after checking the
module is what this expects (one memory, defined here, with a maximum), and
leaves everything else byte for byte.
"""

PAGE = 65536
WASM_MAGIC = b"\0asm\x01\0\0\0"
GLOBAL_SECTION, MEMORY_SECTION, DATA_SECTION = 6, 5, 11
I32_CONST, END = 0x41, 0x0B


class WasmMemoryError(ValueError):
    """The module is not one this rewrite understands; it is left as it was."""


def _leb(data: bytes, at: int, signed: bool) -> tuple[int, int]:
    """A LEB128 number at ``at`` (signed or not) and where the next field starts."""
    result = shift = 0
    while True:
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if signed and byte & 0x40:
                result -= 1 << shift
            return result, at


def _uleb(data: bytes, at: int) -> tuple[int, int]:
    return _leb(data, at, False)


def _sleb(data: bytes, at: int) -> tuple[int, int]:
    return _leb(data, at, True)


def _encode_uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def _sections(data: bytes) -> list[tuple[int, int, int, int]]:
    """(id, start of the section, start of its body, end) for every section."""
    if not data.startswith(WASM_MAGIC):
        raise WasmMemoryError("not a WebAssembly module (version 1)")
    sections, at = [], len(WASM_MAGIC)
    while at < len(data):
        section, body = data[at], None
        size, body = _uleb(data, at + 1)
        sections.append((section, at, body, body + size))
        at = body + size
    return sections


def _static_end(data: bytes, sections: list) -> int:
    """Where static data and the initial stack pointer end: what must be there at start."""
    end = 0
    for section, _, body, _ in sections:
        if section == DATA_SECTION:
            count, at = _uleb(data, body)
            for _ in range(count):
                flags, at = _uleb(data, at)
                if flags not in (0, 1, 2):
                    raise WasmMemoryError("unknown data segment kind %d" % flags)
                offset = 0
                if flags == 2:
                    _, at = _uleb(data, at)  # memory index
                if flags in (0, 2):
                    if data[at] != I32_CONST:
                        raise WasmMemoryError("a data segment's offset is not a constant")
                    offset, at = _sleb(data, at + 1)
                    if data[at] != END:
                        raise WasmMemoryError("a data segment's offset is not a constant")
                    at += 1
                length, at = _uleb(data, at)
                end = max(end, offset + length) if flags != 1 else end
                at += length
        elif section == GLOBAL_SECTION:
            count, at = _uleb(data, body)
            for _ in range(count):
                at += 2  # value type, mutability
                if data[at] == I32_CONST:
                    value, at = _sleb(data, at + 1)
                    end = max(end, value)  # the stack pointer, __heap_base and the like
                while data[at] != END:
                    at += 1
                at += 1
    return end


def shrink_initial_memory(data: bytes, margin_pages: int = 1) -> tuple[bytes, int, int]:
    """The module with its initial memory lowered to what its static part needs.

    Returns ``(module, old_pages, new_pages)``; raises WasmMemoryError when the
    module has no memory of its own or cannot grow (no maximum).
    """
    sections = _sections(data)
    memories = [s for s in sections if s[0] == MEMORY_SECTION]
    if len(memories) != 1:
        raise WasmMemoryError("the module defines no memory of its own")
    _, start, body, end = memories[0]
    count, at = _uleb(data, body)
    flags = data[at]
    if count != 1 or flags != 1:
        raise WasmMemoryError("expected one memory with a maximum (so that it can grow)")
    old_pages, after_initial = _uleb(data, at + 1)
    maximum, after_maximum = _uleb(data, after_initial)
    if after_maximum != end:
        raise WasmMemoryError("unexpected bytes in the memory section")
    needed = -(-_static_end(data, sections) // PAGE) + margin_pages
    new_pages = min(old_pages, needed)
    new_body = _encode_uleb(1) + bytes([flags]) + _encode_uleb(new_pages) + _encode_uleb(maximum)
    section = bytes([MEMORY_SECTION]) + _encode_uleb(len(new_body)) + new_body
    return data[:start] + section + data[end:], old_pages, new_pages
