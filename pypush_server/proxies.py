"""Who a request comes from, and how it reached the server, as trusted proxies tell it.

Behind a reverse proxy (nginx terminating TLS, say) every request comes from the proxy's
address over plain HTTP; the proxy says who the client is and how the client reached it
in headers: ``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``X-Forwarded-Host``, or RFC
7239's ``Forwarded``. Anyone can send those headers, so they are believed only from the
addresses the server was told are its proxies (``serve.py --trusted-proxy``), and only the
kind those proxies write (``--proxy-headers``): a proxy that writes one kind passes the
other through from the client untouched. From anyone else they are ignored.

The host is the exception: ``X-Forwarded-Host`` (or Forwarded's ``host=``) is believed
only when the server is told its proxies write it (``--proxy-host-header``). Most proxies
pass the client's Host on instead (nginx: ``proxy_set_header Host $http_host``) and pass a
client's own ``X-Forwarded-Host`` through untouched, which would otherwise name any host
the client likes: past the DNS-rebinding guard, and into the URLs the server hands out.
Werkzeug's ProxyFix and uvicorn do not believe it by default either.

The request the handlers see then carries the client's address (``request.remote``) and
the scheme and host the client used (``request.scheme``, ``request.host``): the Host and
Origin checks, the loopback check, the logs, the per-address limits and the URLs the API
returns (``wss://`` behind TLS) all read those.

Parsing is maintained code: aiohttp-remotes' ``XForwardedFiltered`` for X-Forwarded-*,
aiohttp's own ``request.forwarded`` for Forwarded. In a chain of proxies the client is
the right-most address that is not a trusted proxy (each proxy appends the address it
was reached from; what a client wrote itself stands further left).
"""

import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp_remotes import XForwardedFiltered
from multidict import MultiMapping

from pypush_server.guard import FORWARDED_BY_PROXY

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

X_FORWARDED = "x-forwarded"
FORWARDED = "forwarded"
HEADER_KINDS = (X_FORWARDED, FORWARDED)
SCHEMES = ("http", "https")


def parse_network(text: str) -> Network:
    """An address (``127.0.0.1``, ``::1``) or a network (``10.0.0.0/8``); ValueError if neither."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError("%r is neither an IP address nor a network" % text) from None


def node_address(node: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of an RFC 7239 node (``192.0.2.1``, ``192.0.2.1:80``, ``[2001:db8::1]:80``);
    None for ``unknown`` and obfuscated names (``_hidden``)."""
    if node.startswith("["):
        node = node[1:].partition("]")[0]
    elif node.count(":") == 1:
        node = node.partition(":")[0]
    try:
        return ipaddress.ip_address(node)
    except ValueError:
        return None


class XForwardedTrusted(XForwardedFiltered):
    """aiohttp-remotes' X-Forwarded-* parsing, reading X-Forwarded-Host only when believed
    (without it, the request keeps the Host header the proxy passed on)."""

    def __init__(self, networks: tuple[Network, ...], believe_host: bool) -> None:
        super().__init__(networks)
        self.believe_host = believe_host

    def get_forwarded_host(self, headers: MultiMapping[str]) -> list[str]:
        return super().get_forwarded_host(headers) if self.believe_host else []


class TrustedProxies:
    """The middleware that believes forwarding headers from the given proxies only; the
    host they name only with ``believe_host`` (``--proxy-host-header``)."""

    def __init__(
        self, proxies: Iterable[str], headers: str = X_FORWARDED, believe_host: bool = False
    ) -> None:
        if headers not in HEADER_KINDS:
            raise ValueError("proxy headers are %s, not %r" % (" or ".join(HEADER_KINDS), headers))
        self.networks: tuple[Network, ...] = tuple(parse_network(p) for p in proxies)
        self.headers = headers
        self.believe_host = believe_host
        self._x_forwarded = XForwardedTrusted(self.networks, believe_host)

    def trusts(self, address: object) -> bool:
        """Is ``address`` (text or an address) one of the trusted proxies?"""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.trusts(request.remote):
            return await handler(request)  # a client's own forwarding headers mean nothing
        request[FORWARDED_BY_PROXY] = True  # kept by the clones below
        if self.headers == X_FORWARDED:
            return await self._x_forwarded.middleware(request, handler)
        return await handler(self._from_forwarded(request))

    def _from_forwarded(self, request: web.Request) -> web.Request:
        """The request as the client sent it, from the ``Forwarded`` elements the proxies
        appended: the right-most element whose ``for`` is not a trusted proxy is the client's."""
        elements = request.forwarded
        if not elements:
            return request
        client = elements[0]  # when every hop is a trusted proxy: the first one's client
        for element in reversed(elements):
            if not self.trusts(node_address(element.get("for", ""))):
                client = element
                break
        overrides: dict[str, str] = {}
        node = client.get("for")
        if node:
            address = node_address(node)
            overrides["remote"] = node if address is None else str(address)
        proto = client.get("proto", "").lower()
        if proto in SCHEMES:
            overrides["scheme"] = proto
        if self.believe_host and client.get("host"):
            overrides["host"] = client["host"]
        return request.clone(**overrides)
