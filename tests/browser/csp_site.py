"""The push server with its test pages under a strict Content-Security-Policy (S7).

    python -m tests.browser.csp_site [--port 0] [--pages DIR]

Runs ``serve.py``'s application (bundle, push endpoint, API) and serves the HTML
files of ``tests/browser/pages`` (or ``--pages DIR``) under ``/csp/`` with the policy a
Faces page in CSP mode sends, a fresh nonce per response filled into ``{{nonce}}``, and
``{{interpreter}}`` and ``{{kind}}`` from the query (``?interpreter=`` pyodide or
micropython, ``?kind=`` py or mpy for PyScript pages).
``?csp=unsafe-eval`` adds ``'unsafe-eval'`` to ``script-src``: what PyScript
itself needs. Prints ``csp site on http://127.0.0.1:PORT`` once it listens.
"""

import argparse
import asyncio
import functools
import html
import secrets
from pathlib import Path

from aiohttp import web

from pypush_server.testing.server import testing_config
from tests.browser.sites import PAGES, serve_site

POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{extra}; "
    "connect-src 'self' ws://{host}; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'self'"
)
CHOICES = {"interpreter": ("micropython", "pyodide"), "kind": ("py", "mpy")}


def policy(nonce: str, host: str, unsafe_eval: bool) -> str:
    """The strict policy of docs/spec.md S7 (plus 'unsafe-eval' when asked)."""
    return POLICY.format(nonce=nonce, host=host, extra=" 'unsafe-eval'" if unsafe_eval else "")


async def csp_page(pages: Path, request: web.Request) -> web.Response:
    name = request.match_info["name"]
    path = (pages / name).resolve()
    if path.parent != pages.resolve() or path.suffix != ".html" or not path.is_file():
        raise web.HTTPNotFound()
    nonce = secrets.token_urlsafe(18)
    text = path.read_text(encoding="utf-8").replace("{{nonce}}", nonce)
    for name, allowed in CHOICES.items():
        value = request.query.get(name, allowed[0])
        if value not in allowed:
            raise web.HTTPBadRequest(text="%s must be one of %s" % (name, ", ".join(allowed)))
        text = text.replace("{{%s}}" % name, html.escape(value))
    unsafe_eval = request.query.get("csp") == "unsafe-eval"
    return web.Response(
        text=text,
        content_type="text/html",
        headers={"Content-Security-Policy": policy(nonce, request.host, unsafe_eval)},
    )


def add_routes(app: web.Application, pages: Path = PAGES) -> None:
    app.router.add_get("/csp/{name}", functools.partial(csp_page, pages))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.csp_site")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pages", type=Path, default=PAGES, help="the folder of pages")
    args = parser.parse_args()
    # A test server's, but pages of its own origin only: the policy's connect-src.
    config = testing_config(allowed_origins=())
    routes = functools.partial(add_routes, pages=args.pages)
    asyncio.run(serve_site(args.port, config, routes, "csp site"))


if __name__ == "__main__":
    main()
