"""The bundle as a resource jar, for Java Faces applications (``pypush bundle --jar FILE``).

A Faces application with the jar in ``WEB-INF/lib`` includes the loader with
``<h:outputScript library="pypush" name="faces-push.js"/>``: Faces serves a jar's
``META-INF/resources/LIBRARY/NAME`` as the resource NAME of that library, and the
loader then finds its other files through the same resource URLs (web/faces-push.js,
``asset()``). Servlet containers also serve ``META-INF/resources/`` of the jars in
``WEB-INF/lib`` as static files from the context root (``/CTX/pypush/...``), which
is how PyScript pages load it (see the README).

No library version folder (``pypush/1_0/``): Mojarra versions only the application's
own ``/resources``, not a jar's. Nor the bundle's precompressed copies (``NAME.br``,
``NAME.gz``): Faces serves a resource as it is, never a copy chosen by Accept-Encoding,
so in a jar they would only weigh. A jar is a zip with a manifest; no Java tool is needed.

The jar's ``META-INF/web-fragment.xml`` (Servlet 3.0 and later read it from every jar in
``WEB-INF/lib``) maps ``.wasm`` to ``application/wasm`` and ``.mjs`` to JavaScript: browsers
refuse module scripts of any other type, and compile WebAssembly by streaming only when it
has its own type. A container merges the fragment's mappings into the application's, so a
container that does not know these types learns them from the jar and no application has
to edit its ``web.xml``.
"""

import os
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

from pypush_build.bundle import write_bundle

WEB_FRAGMENT = "META-INF/web-fragment.xml"
MIME_MAPPINGS = {"wasm": "application/wasm", "mjs": "text/javascript"}
"""What the web fragment maps: the bundle's extensions that containers may not know."""
LIBRARY = "pypush"
RESOURCES = "META-INF/resources/%s/" % LIBRARY
"""Where the bundle's files are in the jar."""


def write_jar(path: Path, url_prefix: str | None = None) -> Path:
    """Write the bundle (:func:`write_bundle`) as a resource jar at ``path``; returns it.

    ``url_prefix`` is for the PyScript configurations, as for a folder: PyScript pages
    load the bundle from the container's static path, ``/CTX/pypush/``.
    """
    path = Path(path)
    # The entries' time, which Faces sends as Last-Modified (SOURCE_DATE_EPOCH: a
    # reproducible build).
    stamp = time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())))[:6]
    manifest = "Manifest-Version: 1.0\r\nCreated-By: pypush %s\r\n\r\n" % metadata.version("pypush")
    with tempfile.TemporaryDirectory(prefix="pypush-jar-") as folder:
        bundle = write_bundle(Path(folder), url_prefix)
        partial = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
            # The manifest first, where java.util.jar.JarInputStream looks for it.
            jar.writestr(_entry("META-INF/MANIFEST.MF", stamp), manifest)
            jar.writestr(_entry(WEB_FRAGMENT, stamp), web_fragment())
            for file in sorted(bundle.rglob("*")):
                if file.is_file() and not is_compressed_copy(file):
                    name = RESOURCES + file.relative_to(bundle).as_posix()
                    jar.writestr(_entry(name, stamp), file.read_bytes())
        os.replace(partial, path)
    return path


def web_fragment() -> str:
    """``META-INF/web-fragment.xml``: the MIME types of :data:`MIME_MAPPINGS`, nothing else
    (no servlet, no filter, no listener: the jar adds resources only)."""
    mappings = "".join(
        "  <mime-mapping>\n    <extension>%s</extension>\n    <mime-type>%s</mime-type>\n"
        "  </mime-mapping>\n" % item
        for item in MIME_MAPPINGS.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<web-fragment xmlns="https://jakarta.ee/xml/ns/jakartaee"\n'
        '              xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
        '              xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee '
        'https://jakarta.ee/xml/ns/jakartaee/web-fragment_5_0.xsd"\n'
        '              version="5.0" metadata-complete="true">\n'
        "  <name>pypush</name>\n%s</web-fragment>\n" % mappings
    )


def is_compressed_copy(file: Path) -> bool:
    """``NAME.br`` or ``NAME.gz`` beside ``NAME`` (pypush_build.compress)."""
    return file.suffix in (".br", ".gz") and file.with_suffix("").is_file()


def _entry(name: str, stamp: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
