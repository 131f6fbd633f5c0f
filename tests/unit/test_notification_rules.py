"""Which callback URLs a client may register: its own systems on the internet, or a receiver
on this machine's loopback; never a private or link-local network behind CSW."""
from __future__ import annotations

from collections.abc import Iterable

import pytest

from app.domain.notifications import callback_problems


def resolves_to(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(_host: str) -> Iterable[str]:
        return addresses
    return resolve


def nowhere(_host: str) -> Iterable[str]:
    raise OSError("no such host")


@pytest.mark.parametrize("url", [
    "https://tms.example.com/csw/hook",
    "http://127.0.0.1:9000/hook",
    "http://localhost/hook",
    "http://[::1]:8080/hook",
])
def test_public_https_and_local_receivers_are_accepted(url: str) -> None:
    assert callback_problems(url, resolves_to("93.184.215.14")) == []


@pytest.mark.parametrize(("url", "addresses", "rule"), [
    ("ftp://tms.example.com/hook", ("93.184.215.14",), "http-url"),
    ("https:///hook", (), "http-url"),
    ("http://tms.example.com/hook", ("93.184.215.14",), "https-required"),
    ("https://10.1.2.3/hook", (), "public-address"),
    ("https://192.168.0.10/hook", (), "public-address"),
    ("https://169.254.169.254/latest/meta-data", (), "public-address"),
    ("https://[fe80::1]/hook", (), "public-address"),
    ("https://[::ffff:10.0.0.1]/hook", (), "public-address"),
    ("https://internal.example.com/hook", ("93.184.215.14", "10.0.0.8"), "public-address"),
    ("https://user:secret@tms.example.com/hook", ("93.184.215.14",), "no-credentials"),
    ("https://tms.example.com:99999/hook", ("93.184.215.14",), "url"),
    ("https://tms.example.com/" + "a" * 2000, ("93.184.215.14",), "max-length"),
])
def test_refused_callbacks_name_the_rule(url: str, addresses: tuple[str, ...], rule: str) -> None:
    problems = callback_problems(url, resolves_to(*addresses))
    assert [(p.path, p.rule) for p in problems] == [("url", rule)]


def test_a_host_that_does_not_resolve_is_refused() -> None:
    problems = callback_problems("https://no-such-host.invalid/hook", nowhere)
    assert [p.rule for p in problems] == ["resolvable-host"]
