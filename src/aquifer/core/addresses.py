"""The caller's address, also behind the county's reverse proxy.

Behind nginx (or any proxy) ``REMOTE_ADDR`` is the proxy's address for every visitor, so a
limit keyed on it (complaints per address, login failures per address) would count the whole
public as one. The proxies in front are listed in ``AQUIFER_TRUSTED_PROXIES`` (addresses or
networks, comma-separated). When a request comes from one of them, the caller is the
right-most address of ``X-Forwarded-For`` that is not itself a listed proxy — each proxy
appends the address it was connected from, so what a client writes into the header itself
stands to the left of it and is never taken (the rule of nginx's ``real_ip_recursive``).
A request from anywhere else, or with no usable header, is known by ``REMOTE_ADDR`` alone.

Why not django-ipware: its strict mode answers the proxy's own address as soon as a client
adds an ``X-Forwarded-For`` of its own (lumping such clients together), and its trusted-proxy
list expects the proxies inside the header, which one nginx in front does not write.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from django.conf import settings

__all__ = ["client_ip", "parse_networks", "trusted_proxies"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.5, 10.1.0.0/16"`` as networks; ValueError naming the entry that is none."""
    out = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(item) from None
    return tuple(out)


@functools.cache
def _cached(text: str) -> tuple[Network, ...]:
    try:
        return parse_networks(text)
    except ValueError:
        return ()  # refused at start by the system check aquifer.E002


def trusted_proxies() -> tuple[Network, ...]:
    return _cached(str(settings.AQUIFER.get("TRUSTED_PROXIES", "")))


def _address(text: str) -> Address | None:
    """An address as a header writes it: ``1.2.3.4``, ``1.2.3.4:5678``, ``[2001:db8::1]:443``
    or ``2001:db8::1``; None when it is none of these (``unknown``, garbage)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(addr: Address, nets: tuple[Network, ...]) -> bool:
    return any(addr in n for n in nets if n.version == addr.version)


def client_ip(request: Any) -> str:
    """The caller's address (at most 45 characters): see the module's docstring. Also the
    address django-axes counts login failures by (``AXES_CLIENT_IP_CALLABLE``)."""
    meta = getattr(request, "META", {})
    remote = str(meta.get("REMOTE_ADDR", "") or "")[:45]
    nets = trusted_proxies()
    peer = _address(remote)
    if not nets or peer is None or not _trusted(peer, nets):
        return remote
    hops = [h for h in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    caller = remote
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:  # a garbled entry: nothing left of it can be trusted
            break
        caller = str(addr)
        if not _trusted(addr, nets):
            break
    return caller[:45]
