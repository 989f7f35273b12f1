# Python in a PyScript page, using pypush's Python face: Python callables, Python values.
import asyncio
import json

import js

from pypush.browser import push, subscribe

params = js.URLSearchParams.new(js.location.search)


def record(*items):
    js.window.pyLog.push(json.dumps(items))


def onopen(channel):
    record("open", channel)


def onmessage(message, channel, event):
    record("message", type(message).__name__, message, channel, event.type)


def onerror(code, channel, event):
    record("error", code, channel)


def onclose(code, channel, event):
    record("close", code, channel, event.reason)


push.init(
    "py-client",
    params.get("url"),
    params.get("channel"),
    onopen,
    onmessage,
    onerror,
    onclose,
    {"refresh": [lambda: record("behavior", "refresh")]},
    True,
)
try:
    push.open("never-initialised")
except Exception as exc:  # a Python exception with Mojarra's message
    record("raised", type(exc).__name__, str(exc))
js.window.pyStarted = True


# The Pythonic face: an async iterator that ends on the final close.
async def follow():
    async with subscribe(params.get("url2"), params.get("channel")) as messages:
        async for message in messages:
            record("subscribed", type(message).__name__, message)
    record("subscription-ended", messages.close_code)


background = set()  # the task lives as long as the page
background.add(asyncio.create_task(follow()))
