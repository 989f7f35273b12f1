"""The demo's Python: faces.push with Python callbacks, and subscribe() for the chat.

Runs in PyScript on Pyodide (type="py") and on MicroPython (type="mpy") alike.
"""

import asyncio
import json

import js
from pyscript.ffi import create_proxy

from pypush.browser import push, subscribe


def element(id_):
    return js.document.getElementById(id_)


def show_state(name, text, kind):
    badge = element(name + "-state")
    badge.textContent = text
    badge.dataset.kind = kind


def on_clock(message, channel, event):
    element("clock").textContent = message["time"]  # a Python dict


push.init(
    "clock",
    js.document.body.dataset.clockUrl,
    "clock",
    lambda channel: show_state("clock", "open", "open"),
    on_clock,
    lambda code, channel, event: show_state("clock", "retrying (%d)" % code, "retrying"),
    lambda code, channel, event: show_state("clock", "closed (%d)" % code, "closed"),
    None,
    True,
)


async def follow_chat():
    url = js.document.body.dataset.chatUrl
    # "open" once the socket is (it said so before subscribing, and a push right then missed it).
    opened = lambda channel: show_state("chat", "open", "open")  # noqa: E731
    async with subscribe(url, "chat", onopen=opened) as messages:
        async for message in messages:
            item = js.document.createElement("li")
            stamp = js.document.createElement("time")
            stamp.textContent = message["at"]
            item.appendChild(stamp)
            item.appendChild(js.document.createTextNode(" " + message["text"]))
            element("chat-log").prepend(item)
    show_state("chat", "closed (%d)" % messages.close_code, "closed")


def send(event):
    event.preventDefault()
    text = element("chat-text").value.strip()
    if text:
        init = js.JSON.parse(
            json.dumps(
                {
                    "method": "POST",
                    "headers": {"Content-Type": "application/json"},
                    "body": json.dumps({"text": text}),
                }
            )
        )
        js.fetch("/demo/chat", init)
        element("chat-text").value = ""


element("chat-form").addEventListener("submit", create_proxy(send))
element("runtime").textContent = element("runtime").textContent.replace("starting…", "ready")
tasks = set()  # the chat task lives as long as the page
tasks.add(asyncio.create_task(follow_chat()))
