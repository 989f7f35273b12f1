# Python in a PyScript page records what its Python callbacks receive, for the page to
# compare with the frames: the length Python sees, and the value as JSON.
import asyncio
import json

import js

from pypush.browser import push, subscribe

params = js.URLSearchParams.new(js.location.search)
js.window.pyExact = js.JSON.parse('{"init": [], "subscribe": []}')


def ascii(text):
    """JSON text in ASCII (MicroPython's json.dumps writes other characters raw, and a
    raw lone surrogate would not survive its way to JavaScript): the test's own view."""
    out = []
    for char in text:
        code = ord(char)
        if code < 0x80:
            out.append(char)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
        else:
            out.append("\\u%04x" % code)
    return "".join(out)


def record(face, message):
    length = len(message) if isinstance(message, str) else None
    getattr(js.window.pyExact, face).push(json.dumps([length, ascii(json.dumps(message))]))


push.init(
    "exact-py",
    params.get("url"),
    params.get("channel"),
    onmessage=lambda message, channel, event: record("init", message),
    autoconnect=True,
)


async def follow():
    async with subscribe(params.get("url2"), params.get("channel")) as messages:
        async for message in messages:
            record("subscribe", message)


background = {asyncio.create_task(follow())}
js.window.pyStarted = True
