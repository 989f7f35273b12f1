"""The pushed messages: small ones, realistic 10 KB objects, and the latency probes.

The 10 KB message is a nested order document (customer, address, line items
with attributes and tags, history), not one long string: parsing it and
handing it across an FFI costs what real application data costs. Messages are
built deterministically per sequence number so every target gets the same
bytes.
"""

import json
import random

from pypush_server.messages import encode_message

SMALL_BYTES = 100
LARGE_BYTES = 10 * 1024

_WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike "
    "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu"
).split()
_CITIES = ("Lisboa", "Utrecht", "Gent", "Aarhus", "Bergen", "Tampere", "Brno", "Graz")
_STATES = ("created", "paid", "picked", "packed", "shipped", "delivered")


def small_message(n: int) -> dict:
    """About 100 bytes on the wire once wrapped as ``{"data": ...}``."""
    return {"n": n, "p": "x" * 80}


def _item(rng: random.Random, index: int) -> dict:
    words = rng.sample(_WORDS, 3)
    return {
        "line": index,
        "sku": "SKU-%06d" % rng.randrange(1_000_000),
        "name": " ".join(word.capitalize() for word in words),
        "quantity": rng.randint(1, 12),
        "unitPrice": round(rng.uniform(0.5, 400), 2),
        "currency": "EUR",
        "discount": rng.choice((None, 0.05, 0.1, 0.2)),
        "inStock": rng.random() < 0.9,
        "tags": rng.sample(_WORDS, 4),
        "attributes": {
            "color": rng.choice(("red", "green", "blue", "black", "white")),
            "size": rng.choice(("S", "M", "L", "XL")),
            "weightKg": round(rng.uniform(0.05, 20), 3),
        },
    }


def large_message(n: int) -> dict:
    """A nested order document of about 10 KB on the wire."""
    rng = random.Random(n)
    message = {
        "n": n,
        "type": "order.updated",
        "id": "ord-%08d" % n,
        "customer": {
            "id": rng.randrange(10**6),
            "name": " ".join(word.capitalize() for word in rng.sample(_WORDS, 2)),
            "email": "%s.%s@example.org" % tuple(rng.sample(_WORDS, 2)),
            "vip": rng.random() < 0.1,
            "address": {
                "street": "%s street %d" % (rng.choice(_WORDS).capitalize(), rng.randint(1, 300)),
                "city": rng.choice(_CITIES),
                "postcode": "%05d" % rng.randrange(100_000),
                "country": rng.choice(("PT", "NL", "BE", "DK", "NO", "FI", "CZ", "AT")),
            },
        },
        "items": [],
        "history": [
            {"state": state, "at": 1_700_000_000 + n * 60 + i * 3600, "by": rng.choice(_WORDS)}
            for i, state in enumerate(_STATES)
        ],
        "totals": {},
    }
    size = len(encode_message(message)) + 60  # the totals filled in below
    while True:
        item = _item(rng, len(message["items"]))
        size += len(json.dumps(item, separators=(",", ":"))) + 1
        if size > LARGE_BYTES:
            break
        message["items"].append(item)
    net = sum(item["quantity"] * item["unitPrice"] for item in message["items"])
    message["totals"] = {"net": round(net, 2), "vat": round(net * 0.21, 2), "lines": 0}
    message["totals"]["lines"] = len(message["items"])
    return message


def probe(seq: int) -> dict:
    """A latency probe: the page's handler echoes ``e`` back to the bench."""
    return {"e": seq, "n": seq}


def frame_bytes(messages: list) -> float:
    """Mean size of the frames as the server sends them (UTF-8 bytes)."""
    return sum(len(encode_message(m).encode()) for m in messages) / len(messages)
