"""The push server beside pages in the shape a Faces server renders them, with the
implementation's own ``faces.js``, for the drop-in tests (S4, S11, I1).

    python -m tests.browser.faces_site [--port 0]

Runs ``serve.py``'s application (bundle, push endpoint, API) and, for each
implementation, an application under its context path (``/mojarra``, ``/myfaces``):

- ``CTX/jakarta.faces.resource/faces.js.xhtml?ln=jakarta.faces``: the implementation's
  ``faces.js`` as its FacesServlet serves it (Mojarra 4.1's with its EL placeholders
  filled, ``tests/browser/faces/mojarra-4.1/README.md``; MyFaces' from the npm package
  ``jsf.js_next_gen``);
- ``CTX/page.xhtml?order=pypush-first|faces-first&interpreter=…&url=…&channel=…``: a page
  as Mojarra writes ``<h:head>``, a form and ``<f:websocket>`` (``faces.push.init`` with
  inline function literals, global function names, ``null`` callbacks and a behaviors
  object), pypush's loader before or after ``faces.js``;
- ``POST CTX/page.xhtml``: a partial request's answer, a ``<partial-response>`` that
  updates ``form:out`` with the source's id and a count, as a Faces server answers
  ``faces.ajax.request``.

Prints ``faces site on http://127.0.0.1:PORT`` once it listens.
"""

import argparse
import asyncio
import html
import itertools
from pathlib import Path

from aiohttp import web

from pypush_server.testing.server import testing_config
from tests.browser.sites import serve_site

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MOJARRA = HERE / "faces" / "mojarra-4.1" / "faces-uncompressed.js"
MYFACES = ROOT / "web" / "node_modules" / "jsf.js_next_gen" / "dist" / "window" / "faces.js"
PAGE = HERE / "faces" / "page.html"
ORDERS = ("pypush-first", "faces-first")
INTERPRETERS = ("micropython", "pyodide")
RESOURCE = "/jakarta.faces.resource/faces.js.xhtml?ln=jakarta.faces"


def mojarra_faces_js(context: str) -> str:
    """Mojarra 4.1's faces.js as its server fills the four EL placeholders."""
    version = 'applicationScope["com.sun.faces.mojarraVersion"]'
    return (
        MOJARRA.read_text(encoding="utf-8")
        .replace("#{%s.specversion}" % version, "41000")
        .replace("#{%s.implversion}" % version, "1")
        .replace("#{facesContext.externalContext.requestContextPath}", context)
        .replace("#{facesContext.namingContainerSeparatorChar}", ":")
    )


class Implementation:
    """One Faces application: its faces.js, its pages, its partial requests."""

    def __init__(self, name: str, context: str, faces_js: str) -> None:
        self.name = name
        self.context = context
        self.faces_js = faces_js
        self.requests = itertools.count(1)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.context + "/jakarta.faces.resource/faces.js.xhtml", self.script)
        app.router.add_get(self.context + "/page.xhtml", self.page)
        app.router.add_post(self.context + "/page.xhtml", self.partial)

    async def script(self, request: web.Request) -> web.Response:
        if request.query.get("ln") != "jakarta.faces":
            raise web.HTTPNotFound()
        return web.Response(text=self.faces_js, content_type="text/javascript")

    async def page(self, request: web.Request) -> web.Response:
        order = request.query.get("order", ORDERS[0])
        interpreter = request.query.get("interpreter", INTERPRETERS[0])
        if order not in ORDERS or interpreter not in INTERPRETERS:
            raise web.HTTPBadRequest(text="order: %s; interpreter: %s" % (ORDERS, INTERPRETERS))
        loader = '<script src="/pypush/faces-push.js" data-interpreter="%s"></script>' % (
            interpreter
        )
        faces = '<script src="%s%s"></script>' % (self.context, html.escape(RESOURCE))
        scripts = (loader, faces) if order == "pypush-first" else (faces, loader)
        text = PAGE.read_text(encoding="utf-8")
        for name, value in {
            "implementation": self.name,
            "order": order,
            "context": self.context,
            "scripts": "\n".join(scripts),
            "url": _js_string(request.query.get("url", "")),
            "channel": _js_string(request.query.get("channel", "")),
        }.items():
            text = text.replace("{{%s}}" % name, value)
        return web.Response(text=text, content_type="text/html")

    async def partial(self, request: web.Request) -> web.Response:
        """The answer to faces.ajax.request: ``form:out`` says who asked, and how often."""
        form = await request.post()
        if request.headers.get("Faces-Request") != "partial/ajax":
            raise web.HTTPBadRequest(text="not a partial request")
        if (
            form.get("jakarta.faces.partial.ajax") != "true"
            or "jakarta.faces.ViewState" not in form
        ):
            raise web.HTTPBadRequest(text="not a Faces partial request: %s" % sorted(form))
        source = html.escape(str(form.get("jakarta.faces.source", "")))
        text = "partial response %d to %s" % (next(self.requests), source)
        body = (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<partial-response id="j_id1"><changes>'
            '<update id="form:out"><![CDATA[<span id="form:out">%s</span>]]></update>'
            '<update id="j_id1:jakarta.faces.ViewState:0"><![CDATA[-2165837195543581395:2]]>'
            "</update></changes></partial-response>" % text
        )
        return web.Response(text=body, content_type="text/xml", charset="utf-8")


def _js_string(value: str) -> str:
    """A value for a single-quoted JavaScript string inside an HTML <script>."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("<", "\\x3c")
    return escaped.replace("\n", "\\n")


def implementations() -> list[Implementation]:
    return [
        Implementation("Mojarra", "/mojarra", mojarra_faces_js("/mojarra")),
        Implementation("MyFaces", "/myfaces", MYFACES.read_text(encoding="utf-8")),
    ]


def add_routes(app: web.Application) -> None:
    for implementation in implementations():
        implementation.add_routes(app)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.faces_site")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve_site(parser.parse_args().port, testing_config(), add_routes, "faces site"))


if __name__ == "__main__":
    main()
