"""Who may ask the server what: Host names, Origins, content types and the API token.

A developer's server listens on loopback, and any page open in the same browser
can send requests to loopback. Three checks keep such pages out:

- **Host** (every request): the name the request was sent to must be one this
  server answers to: an IP address, ``localhost``, or a name it was told
  (``--allow-host``; ``--host`` when it is a name). A page of ``evil.example``
  whose DNS name was rebound to 127.0.0.1 names ``evil.example`` here and is
  refused with 421, so it can neither read the API nor open push sockets.
- **Origin** (the API and the demo's form): a request a page sends carries its
  ``Origin``; only the server's own pages may send commands (a request without
  ``Origin`` does not come from a page of another origin: curl, Python, tests).
  Push sockets have their own allow-list (``--allow-origin``), checked at the
  handshake.
- **Content type** (every POST of the API and the demo's form): only
  ``application/json``. A page of another origin can send ``text/plain`` or a
  form without asking the server first (no CORS preflight), but never JSON;
  the server answers no preflight, so the browser never sends those.

The API answers the clients that send its token, and loopback clients without it only
when the server trusts loopback (``--trust-loopback``: the demo's default, never behind
a proxy, where every client is loopback). A loopback request that names a client
(``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``) came through a proxy on this machine:
unless that proxy is a trusted one, which says who the client is, it is not taken for
loopback, whoever the client is.
"""

import hmac
import ipaddress
import json

import yarl
from aiohttp import web

from pypush_server.config import ServerConfig
from pypush_server.limits import ClientLimits
from pypush_server.logs import log, shown

config_key = web.AppKey("config", ServerConfig)
limits_key = web.AppKey("limits", ClientLimits)
FORWARDED_BY_PROXY = "pypush.forwarded_by_proxy"
"""Set on a request that came through a trusted proxy (:mod:`pypush_server.proxies`)."""

LOCAL_NAMES = frozenset({"localhost"})
COMMAND_PATHS = ("/api/", "/demo/chat")
"""Paths that change something: JSON from the server's own pages (or no page) only."""
CLIENT_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")
"""Headers a proxy writes to name the client it forwards: their presence says a proxy."""


def json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


def host_name(host: str) -> str | None:
    """The name (or address) in a Host header, lowercased; None when it is not host[:port]."""
    try:
        url = yarl.URL("http://" + host)
    except ValueError:
        return None
    if not url.host or url.user is not None or url.raw_path not in ("", "/") or url.query_string:
        return None
    return url.host.lower().rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(config: ServerConfig, host: str | None) -> bool:
    """An IP address or ``localhost`` (no DNS name an attacker owns), or an allowed name.

    A request without a Host header (HTTP/1.0) does not come from a browser.
    """
    if host is None or "*" in config.allowed_hosts:
        return True
    name = host_name(host)
    if name is None:
        return False
    return is_ip_address(name) or name in LOCAL_NAMES or name in config.allowed_hosts


def sent_to(request: web.Request) -> str | None:
    """The name the client sent this request to: its Host header, or, through a trusted
    proxy, the proxy's word for it (:mod:`pypush_server.proxies`: the Host header it passed
    on, or, with ``--proxy-host-header``, X-Forwarded-Host or Forwarded's host)."""
    if request.get(FORWARDED_BY_PROXY):
        return request.host
    return request.headers.get("Host")


def request_origin(request: web.Request) -> str:
    """The origin this request was sent to, ``scheme://host[:port]``, as the client sent it.

    Behind a TLS proxy the server itself sees plain HTTP from the proxy: the scheme and
    host the client used are the proxy's word, when it is trusted
    (:mod:`pypush_server.proxies` sets them on the request).
    """
    return "%s://%s" % (request.scheme, request.host)


def same_origin(request: web.Request, origin: str) -> bool:
    """Does ``origin`` name the scheme, host and port this request was sent to?

    A host without a port is on its scheme's default port (``https://h`` is ``h:443``).
    """
    try:
        page = yarl.URL(origin)
        target = yarl.URL(request_origin(request))
    except ValueError:
        return False
    if page.scheme not in ("http", "https") or not page.host or page.raw_path not in ("", "/"):
        return False
    return (page.scheme, page.host.lower().rstrip("."), page.port) == (
        target.scheme,
        (target.host or "").lower().rstrip("."),
        target.port,
    )


def socket_origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """Push sockets: same origin, plus an allow-list (``"*"``: any): a CSWSH guard.

    A handshake without an Origin header does not come from a browser page, so
    no page's credentials are at stake; it is allowed.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return same_origin(request, origin) or origin in allowed or "*" in allowed


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def untrusted_proxy_header(request: web.Request) -> str | None:
    """The header that says this request came through a proxy the server does not trust
    (one that names a client, :data:`CLIENT_HEADERS`); None for a request that came
    straight from its client, or through a trusted proxy, whose word set its client."""
    if request.get(FORWARDED_BY_PROXY):
        return None
    return next((name for name in CLIENT_HEADERS if name in request.headers), None)


def header_bytes(value: str) -> bytes:
    """A header value as the bytes that were sent. aiohttp decodes header bytes as UTF-8
    with ``surrogateescape`` (as Python decodes argv and the environment, where the token
    comes from), so bytes that are not UTF-8 come back as they were; any other lone
    surrogate is written as its own code point, so no text fails to encode."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def has_token(request: web.Request, token: str) -> bool:
    """Does the request send ``Authorization: Bearer token``? Compared as bytes, in
    constant time, whatever bytes the header holds."""
    given = header_bytes(request.headers.get("Authorization", ""))
    return hmac.compare_digest(given, header_bytes("Bearer " + token))


def _api_refusal(request: web.Request, config: ServerConfig) -> web.HTTPException | None:
    """The token, or a loopback client when loopback is trusted; None when either holds."""
    if config.api_token is not None and has_token(request, config.api_token):
        return None
    loopback = config.trust_loopback and _is_loopback(request.remote)
    proxied = untrusted_proxy_header(request) if loopback else None
    if loopback and proxied is None:
        return None
    if proxied is not None:
        return json_error(
            web.HTTPUnauthorized if config.api_token is not None else web.HTTPForbidden,
            "this request came through a proxy (it carries %s), so its client is not taken "
            "for loopback: send the API token (--api-token), or name the proxy with "
            "--trusted-proxy so that its word on the client is believed" % proxied,
        )
    if config.api_token is not None:
        return json_error(web.HTTPUnauthorized, "this API needs its token")
    if config.trust_loopback:
        return json_error(web.HTTPForbidden, "this API answers loopback only")
    return json_error(
        web.HTTPForbidden,
        "this API is closed: the server has no API token (--api-token) and does not trust "
        "loopback clients (--trust-loopback)",
    )


def _refusal(request: web.Request, config: ServerConfig) -> web.HTTPException | None:
    """Why this request may not go on, as the answer to give; None when it may."""
    host = sent_to(request)
    if not host_allowed(config, host):
        return json_error(
            web.HTTPMisdirectedRequest,
            "this server does not answer to the name %s; start it with --allow-host NAME "
            "to allow one" % shown(host),
        )
    path = request.path
    if not path.startswith(COMMAND_PATHS):
        return None
    if path.startswith("/api/"):
        refusal = _api_refusal(request, config)
        if refusal is not None:
            return refusal
    origin = request.headers.get("Origin")
    if origin is not None and not same_origin(request, origin):
        return json_error(
            web.HTTPForbidden,
            "pages of origin %s may not send commands to this server" % shown(origin),
        )
    if request.method == "POST" and (
        "Content-Type" not in request.headers or request.content_type != "application/json"
    ):
        return json_error(
            web.HTTPUnsupportedMediaType, "send the body as Content-Type: application/json"
        )
    return None


@web.middleware
async def request_guard(request: web.Request, handler):
    refusal = _refusal(request, request.app[config_key])
    if refusal is not None:
        log.info(
            "refused %s %s from %s (Host %s, Origin %s): %d",
            request.method,
            shown(request.path),
            request.remote,
            shown(sent_to(request) or ""),
            shown(request.headers.get("Origin", "")),
            refusal.status,
        )
        raise refusal
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as too_large:
        limits = request.app.get(limits_key)
        if limits is not None:
            limits.request_too_large()
        log.info(
            "refused %s %s from %s: 413 %s",
            request.method,
            shown(request.path),
            request.remote,
            shown(too_large.text or ""),
        )
        raise
