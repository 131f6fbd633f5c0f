"""Lifecycle notifications: what a declarant's system is told of each step of its
declarations, and the rules for the callback URL it gives to receive them.

A notification says what happened (its kind), to which declaration (reference, LRN and
version) and in answer to which submission (conversation id). It never carries what is for
officers only: a re-route names the new lane, not the risk criteria behind it."""
from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from app.domain.problems import Problem


class NotificationKind(str, enum.Enum):
    """Every step of a declaration's life a declarant hears of."""

    ACCEPTED = "accepted"
    AMENDED = "amended"
    DOCUMENTS_REQUESTED = "documents_requested"
    DOCUMENTS_ANSWERED = "documents_answered"
    INSPECTION_ORDERED = "inspection_ordered"
    INSPECTION_OUTCOME = "inspection_outcome"
    REROUTED = "rerouted"
    DUTY_DEMANDED = "duty_demanded"
    DUTY_SETTLED = "duty_settled"
    DUTY_REFUNDED = "duty_refunded"
    RELEASED = "released"
    REFUSED = "refused"
    CANCELLED = "cancelled"


#: The status a declaration moves to -> the notification that says so. ``accepted`` is said by
#: the lodgement; ``under_review`` by the decision that causes it (documents requested,
#: inspection ordered), which says more.
KIND_BY_STATUS = {
    "released": NotificationKind.RELEASED,
    "refused": NotificationKind.REFUSED,
    "cancelled": NotificationKind.CANCELLED,
}

#: Days a notification stays in the pull feed (domain brief: messages kept 14 days).
FEED_RETENTION_DAYS = 14
CALLBACK_URL_MAX = 2000
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

Resolver = Callable[[str], Iterable[str]]


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a callback may not point at ``address`` (None: it may). The machine's own loopback
    is allowed (a receiver beside CSW); every other private, link-local or reserved range is
    not: CSW must not be made to post into networks its users cannot reach."""
    if address.is_loopback:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _refused_address(address.ipv4_mapped)
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or address.is_reserved or address.is_multicast or address.is_unspecified:
        return "a private or reserved address"
    return None


def callback_problems(url: str, resolve: Resolver) -> list[Problem]:
    """What is wrong with a callback URL a client registers (empty: nothing).

    HTTP(S) only, at most 2,000 characters, no credentials in it; HTTPS unless the host is the
    machine's own loopback; every address the host resolves to must be public (or loopback).
    ``resolve`` gives the addresses of a host name (injected: the domain does no I/O)."""
    path = "url"
    if len(url) > CALLBACK_URL_MAX:
        return [Problem(message=f"the callback URL is longer than {CALLBACK_URL_MAX} characters", path=path,
                        rule="max-length")]
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return [Problem(message="the callback URL cannot be read as a URL", path=path, rule="url")]
    if parts.scheme not in ("http", "https") or not host:
        return [Problem(message="the callback URL must be an http:// or https:// URL with a host", path=path,
                        rule="http-url")]
    if parts.username is not None or parts.password is not None:
        return [Problem(message="the callback URL must not carry a user name or password", path=path,
                        rule="no-credentials")]
    if any(ord(char) < 33 for char in url):
        return [Problem(message="the callback URL must not contain spaces or control characters", path=path,
                        rule="url")]
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if host.lower() in LOOPBACK_NAMES:
            addresses = [ipaddress.ip_address("127.0.0.1")]
        else:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host)]
            except (OSError, ValueError):
                addresses = []
            if not addresses:
                return [Problem(message=f"the host {host!r} of the callback URL cannot be resolved", path=path,
                                rule="resolvable-host")]
    for address in addresses:
        why = _refused_address(address)
        if why:
            return [Problem(message=f"the callback URL points at {why} ({address})", path=path,
                            rule="public-address")]
    if parts.scheme != "https" and not all(address.is_loopback for address in addresses):
        return [Problem(message="the callback URL must use https:// (http:// only on this machine's loopback)",
                        path=path, rule="https-required")]
    return []
