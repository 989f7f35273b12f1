"""A Java Faces application serving a resource jar, for tests (``serve.py --faces-jar JAR``).

Pages of a Faces application include pypush from the jar (``pypush bundle --jar``) as
``<h:outputScript library="pypush" name="faces-push.js"/>``, which Faces renders as
a resource URL of its servlet's mapping. This serves the jar's ``META-INF/resources/``
under :data:`CONTEXT` the way Mojarra (``ResourceHandlerImpl.handleResourceRequest``)
and a servlet container do, so that browser tests load pypush exactly as it loads there:

- ``/faces-app/jakarta.faces.resource/NAME.xhtml?ln=LIB`` (FacesServlet mapped to
  ``*.xhtml``: the resource id is the servlet path less its last extension);
- ``/faces-app/faces/jakarta.faces.resource/NAME?ln=LIB`` (mapped to ``/faces/*``: the
  resource id is the path info);
- either with ``&v=VERSION`` (and ``loc``/``con``), which the lookup ignores, as Mojarra
  does for a jar's resources (it versions only the application's own ``/resources``);
- ``/faces-app/PATH``: what the container's default servlet serves of
  ``META-INF/resources/PATH`` in the jars of ``WEB-INF/lib`` (Servlet 3.0).

The resource is ``META-INF/resources/LIB/NAME`` (``META-INF/resources/NAME`` without
``ln``); names Faces excludes (``.class``, ``.xhtml``, ...), unsafe library names and
names that climb out (``..``) are 404, as there. Content types are those of a container
that knows neither ``.wasm`` nor ``.mjs``, plus the ``<mime-mapping>`` elements of the
jar's ``META-INF/web-fragment.xml``, which a Servlet 3.0 container merges into the
application's: so the browser tests load pypush only if the jar's fragment does its job.
"""

import calendar
import email.utils
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from aiohttp import web

CONTEXT = "/faces-app"
"""The application's context path."""
RESOURCE_IDENTIFIER = "/jakarta.faces.resource"
PREFIX_MAPPING = "/faces"
SUFFIX_MAPPING = ".xhtml"
RESOURCES = "META-INF/resources/"
EXCLUDED = (".class", ".jsp", ".jspx", ".properties", ".xhtml", ".groovy")
"""Mojarra's default jakarta.faces.RESOURCE_EXCLUDES."""
WEB_FRAGMENT = "META-INF/web-fragment.xml"
CONTAINER_MIME_TYPES = {
    ".js": "text/javascript",
    ".json": "application/json",
    ".zip": "application/zip",
    ".css": "text/css",
    ".html": "text/html",
    ".py": "text/x-python",
}
ONE_WEEK = 7 * 24 * 3600
"""Mojarra's default resource max age (com.sun.faces.defaultResourceMaxAge)."""


class FacesResources:
    """The handler of :data:`CONTEXT`: one jar's resources, read from the jar itself."""

    def __init__(self, jar: Path) -> None:
        with zipfile.ZipFile(jar) as archive:
            self.entries = {
                # The jar's entry times are UTC (pypush_build.jar).
                info.filename: (archive.read(info), calendar.timegm(info.date_time))
                for info in archive.infolist()
                if not info.is_dir()
            }
        self.mime_types = {**CONTAINER_MIME_TYPES, **_fragment_mime_types(self.entries)}

    async def handle(self, request: web.Request) -> web.Response:
        servlet_path = "/" + request.match_info["path"]
        if servlet_path.startswith(PREFIX_MAPPING + "/"):
            resource_id = servlet_path[len(PREFIX_MAPPING) :]
        elif servlet_path.endswith(SUFFIX_MAPPING):
            resource_id = servlet_path[: servlet_path.rindex(".")]
        else:  # not the FacesServlet's: the container's static files
            return self.answer(request, RESOURCES + servlet_path[1:])
        if not resource_id.startswith(RESOURCE_IDENTIFIER + "/") or resource_id.endswith(EXCLUDED):
            raise web.HTTPNotFound()
        name = resource_id[len(RESOURCE_IDENTIFIER) + 1 :]
        library = request.query.get("ln")
        if library is not None and not _library_name_is_safe(library):
            raise web.HTTPNotFound()
        return self.answer(request, RESOURCES + (library + "/" if library else "") + name)

    def answer(self, request: web.Request, entry: str) -> web.Response:
        if ".." in entry.split("/") or entry not in self.entries:
            raise web.HTTPNotFound()
        body, modified = self.entries[entry]
        since = request.headers.get("If-Modified-Since")
        if since and _parse_date(since) >= int(modified):
            return web.Response(status=304)
        suffix = entry[entry.rfind(".") :] if "." in entry.rsplit("/", 1)[-1] else ""
        response = web.Response(
            body=body, content_type=self.mime_types.get(suffix, "application/octet-stream")
        )
        response.headers["Last-Modified"] = email.utils.formatdate(modified, usegmt=True)
        response.headers["Expires"] = email.utils.formatdate(time.time() + ONE_WEEK, usegmt=True)
        return response


def _fragment_mime_types(entries: dict) -> dict[str, str]:
    """``{".ext": type}`` of the jar's web fragment's ``<mime-mapping>`` elements."""
    if WEB_FRAGMENT not in entries:
        return {}
    root = ElementTree.fromstring(entries[WEB_FRAGMENT][0])
    found = {}
    for mapping in root.iter():
        if mapping.tag.rpartition("}")[2] != "mime-mapping":
            continue
        fields = {child.tag.rpartition("}")[2]: (child.text or "").strip() for child in mapping}
        found["." + fields["extension"]] = fields["mime-type"]
    return found


def _library_name_is_safe(name: str) -> bool:
    """Mojarra's libraryNameIsSafe: no path separators, nothing that starts a climb."""
    lowered = name.lower()
    return not (
        name.startswith(".")
        or any(mark in lowered for mark in ("/", "\\", "%2f", "%5c", "\\u002f", "\\u005c"))
        or lowered.startswith(("%2e", "\\u002e"))
    )


def _parse_date(text: str) -> float:
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return -1


def add_faces_routes(app: web.Application, jar: Path) -> None:
    """Serve ``jar`` as a Faces application at :data:`CONTEXT` serves its resources."""
    app.router.add_get(CONTEXT + "/{path:.+}", FacesResources(jar).handle)
