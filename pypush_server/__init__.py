"""The pypush demo and test server, and the static bundle builder.

Not part of what runs in the browser: this is CPython code built on aiohttp.
"""
