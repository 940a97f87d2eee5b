"""Where the service may send a request on a user's behalf (callback URLs, video URLs): the
SSRF guard.

An explicit table of the IANA special-purpose ranges decides, not `ipaddress.is_global`,
whose answers changed between Python patch releases. Translation prefixes (NAT64, 6to4,
Teredo, IPv4-compatible and -mapped) are refused whole: they can carry an inside address.
The host is resolved once and the request is sent to the address that was checked
(`webhooks.post_signed` pins it), so a second DNS answer cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048

_V4 = (
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_V6 = (
    ("::/96", "IPv4-compatible, unspecified or loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments (Teredo, benchmarking, ORCHID)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6)"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
SPECIAL_PURPOSE: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in _V4 + _V6
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class UnsafeURL(ValueError):
    """The URL is malformed or points where the service must not send requests."""


UnsafeCallbackURL = UnsafeURL  # the name webhooks have always raised


@dataclass(frozen=True)
class Target:
    """A parsed URL: its scheme, host (IDNA, lower case) and port; `field` names it in errors."""

    url: str
    scheme: str
    host: str
    port: int
    field: str = "callback_url"


@dataclass(frozen=True)
class AllowList:
    """Hosts (by name) and networks (CIDRs) that may resolve to special-purpose addresses,
    e.g. an object store inside the cluster. Parsed from "minio.storage.svc, 10.1.2.3/32" (prefer host names: a CIDR lets in every service in it)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        hosts, networks = set(), []
        for item in (x.strip().lower() for x in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                if not _HOST_NAME.fullmatch(item):
                    raise ValueError(f"{item!r} is neither a host name nor a CIDR") from None
                hosts.add(item)
        return cls(frozenset(hosts), tuple(networks))

    def permits(self, host: str, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return host in self.hosts or any(ip.version == n.version and ip in n for n in self.networks)


def refusal(address: str) -> str | None:
    """Why `address` must not be contacted, or None when it is a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    for net, why in SPECIAL_PURPOSE:
        if ip.version == net.version and ip in net:
            return why
    if ip.version == 6 and ip not in GLOBAL_UNICAST_V6:
        return "outside IPv6 global unicast (2000::/3)"
    return None


def parse_url(url: str, field: str = "callback_url") -> Target:
    """Check the URL's shape: http(s), a host, no credentials, a port in 1-65535, no control
    characters or spaces, at most MAX_URL_LENGTH characters. Errors name `field`."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"{field} is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UnsafeURL(f"{field} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:
        raise UnsafeURL(f"{field} cannot be parsed: {exc}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise UnsafeURL(f"{field} must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL(f"{field} must not carry credentials")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeURL(f"{field} port must be a number from 1 to 65535") from None
    if port == 0:
        raise UnsafeURL(f"{field} port must be a number from 1 to 65535")
    try:
        host = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL(f"{field} host {hostname!r} is not a valid host name") from None
    return Target(url, parts.scheme, host, port or (443 if parts.scheme == "https" else 80), field)


def check_addresses(
    host: str, addresses: list[str], field: str = "callback_url", allowed: AllowList = AllowList()
) -> None:
    for address in addresses:
        why = refusal(address)
        if why and not allowed.permits(host, address):
            raise UnsafeURL(f"{field} host {host!r} resolves to a non-public address ({address}: {why})")


def resolve(target: Target) -> list[str]:
    """The host's addresses (one DNS resolution); an IP literal is its own answer."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"{target.field} host {target.host!r} does not resolve: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeURL(f"{target.field} host {target.host!r} has no address")
    return addresses


def checked_address(target: Target, *, allow_private: bool, allowed: AllowList = AllowList()) -> str:
    """Resolve once, refuse if any answer is special-purpose (unless `allowed` names the host
    or the address's network), and return the address to use."""
    addresses = resolve(target)
    if not allow_private:
        check_addresses(target.host, addresses, target.field, allowed)
    return addresses[0]


async def checked_address_async(target: Target, *, allow_private: bool) -> str:
    return await asyncio.to_thread(checked_address, target, allow_private=allow_private)
