"""What the environment may say about the network, read explicitly: the proxy for a service and
the CA bundle. Nothing else is taken from the environment (no ``.netrc``, no ``requests`` defaults),
and the environment itself is read by the faces only: they pass :func:`network_env` down.

A proxy comes from ``HTTPS_PROXY``/``https_proxy`` for an https service (``HTTP_PROXY``/
``http_proxy`` for plain http), unless ``NO_PROXY``/``no_proxy`` names the host; a loopback service
never goes through a proxy, whatever the environment says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

#: The variables the network reads (either case): a face passes these, and only these, down.
NETWORK_VARIABLES = (
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "requests_ca_bundle",
    "curl_ca_bundle",
)


def network_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The network variables of ``environ`` (a face calls it on ``os.environ``): nothing else,
    so no credential travels with them."""
    wanted = {name for lower in NETWORK_VARIABLES for name in (lower, lower.upper())}
    return {name: value for name, value in environ.items() if name in wanted}


def _env(environ: Mapping[str, str], name: str) -> str:
    return (environ.get(name.upper()) or environ.get(name.lower()) or "").strip()


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` names ``host``: ``*``, a domain (and its subdomains), a host:port, an
    address or a network (CIDR)."""
    host = host.strip("[]").lower()
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":")
        if entry.count(":") == 1 and entry_port.isdigit():
            if int(entry_port) != port:
                continue
            entry = name
        entry = entry.strip("[]").lstrip(".")
        if host == entry or host.endswith("." + entry) or _in_network(host, entry):
            return True
    return False


def _in_network(host: str, entry: str) -> bool:
    if "/" not in entry:
        return False
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def proxies_for(base_url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The ``requests`` proxies mapping for one service: empty, or the one proxy to use."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if not host or is_loopback(host):
        return {}
    scheme = parts.scheme.lower()
    proxy = _env(environ, f"{scheme}_proxy")
    port = parts.port or (443 if scheme == "https" else 80)
    if not proxy or bypassed(host, port, _env(environ, "no_proxy")):
        return {}
    return {scheme: proxy}


def ca_bundle(environ: Mapping[str, str]) -> str | bool:
    """``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when set (a runner behind a TLS-inspecting
    proxy), else ``True``: the bundled certificates."""
    return _env(environ, "requests_ca_bundle") or _env(environ, "curl_ca_bundle") or True
