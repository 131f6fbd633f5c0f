"""Whole bodies: an ASGI layer that reads a request's entire body before the application
runs, so a WSGI thread is only ever given a complete request.

- Within the limit: the application gets the body in one piece with a ``Content-Length``
  of its true size (a chunked body is de-chunked here), whatever framing the client used.
- Over the limit (a ``Content-Length`` over it, or a chunked body once past it): the 413
  goes out at once, then the rest of the body is read and thrown away, up to
  ``DRAIN_FACTOR`` times the limit in all, before the connection closes. A client that reads
  only once it has sent everything (Python's urllib, many Java clients) so finds the 413
  waiting instead of a broken pipe. With ``Expect: 100-continue`` nothing is read.
- Too slow: each wait for the next piece is bounded by ``body_timeout``, and the whole
  body must average at least ``MIN_RATE`` bytes a second after the first ``body_timeout``
  seconds; otherwise 408 and the connection closes.
- The client went away: nothing to answer, the application never runs.

A refused body is never given to the application: it answers the refusal from ``REFUSAL``
in the scope (``app.web.body``) before any route runs, so nothing is stored.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from app.serving import REFUSAL

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Application = Callable[[Scope, Receive, Send], Awaitable[None]]

MIN_RATE = 8 * 1024
DRAIN_FACTOR = 4
_FRAMING = (b"content-length", b"transfer-encoding")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    body_timeout: float
    #: Paths whose documents may be larger (the declaration batch), and their limit.
    larger: Mapping[str, int] = field(default_factory=dict)

    def for_path(self, path: str) -> int:
        return self.larger.get(path, self.max_body_bytes)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    drain: bool = False  # answer first, then read and discard what the client still sends


class _Reading:
    """One body's reading clock: how long the next piece may take."""

    def __init__(self, receive: Receive, limits: Limits) -> None:
        self.receive, self.limits = receive, limits
        self.started = time.monotonic()
        self.received = 0
        self.ended = False

    async def next(self) -> Message | None:
        """The next message, or None when the body is too slow. Awaited in this task under
        ``asyncio.timeout``: ``wait_for`` ran each receive in a task of its own (most bodies
        are already in hand, and that task cost more than reading them)."""
        timeout = self.limits.body_timeout
        budget = self.started + timeout + self.received / MIN_RATE - time.monotonic()
        wait = min(timeout, budget)
        if wait <= 0:
            return None  # past the budget: too slow, whatever is waiting
        try:
            async with asyncio.timeout(wait):
                message = await self.receive()
        except TimeoutError:
            return None
        self.received += len(message.get("body", b""))
        self.ended = message["type"] == "http.disconnect" or not message.get("more_body", False)
        return message

    def too_slow(self) -> Refusal:
        return Refusal("BODY_TIMEOUT", f"the request body did not arrive in time: {self.received} bytes received, "
                       f"then nothing for {self.limits.body_timeout:g} seconds or less than {MIN_RATE} bytes "
                       "a second")


class WholeBodies:
    """ASGI middleware: read the whole body, then call ``app`` with it (or with a refusal)."""

    def __init__(self, app: Application, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reading = _Reading(receive, self.limits)
        outcome = await self._read(scope, reading)
        if outcome is None:
            return  # the client went away: there is no one to answer
        body = outcome if isinstance(outcome, bytes) else b""
        inner = dict(scope)
        inner["headers"] = [(name, value) for name, value in scope["headers"] if name not in _FRAMING]
        inner["headers"].append((b"content-length", str(len(body)).encode()))
        if isinstance(outcome, Refusal):
            inner[REFUSAL] = (outcome.code, outcome.message)
        # A refusal leaves the connection unusable; so does a request framed both ways (RFC 9112 6.3).
        closing = isinstance(outcome, Refusal) or all(_header(scope, name) is not None for name in _FRAMING)
        draining = isinstance(outcome, Refusal) and outcome.drain
        delivered = False

        async def whole() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and closing:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            if draining and message["type"] == "http.response.body" and not message.get("more_body", False):
                # The whole answer is written (its Content-Length tells the client so), but it
                # stays open while the rest of the body is read and thrown away.
                await send({**message, "more_body": True})
                await self._drain(reading)
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(inner, whole, answer)

    async def _read(self, scope: Scope, reading: _Reading) -> bytes | Refusal | None:
        limit = self.limits.for_path(scope.get("path", ""))
        message = f"the request body exceeds the limit of {limit} bytes"
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            return Refusal("BODY_TOO_LARGE", message, drain=not _expects_continue(scope))
        pieces: list[bytes] = []
        while True:
            received = await reading.next()
            if received is None:
                return reading.too_slow()
            if received["type"] == "http.disconnect":
                return None
            pieces.append(received.get("body", b""))
            if reading.received > limit:
                return Refusal("BODY_TOO_LARGE", message, drain=not reading.ended)
            if reading.ended:
                return b"".join(pieces)

    async def _drain(self, reading: _Reading) -> None:
        """Read and discard the rest of a refused body, within the reading clock and up to
        ``DRAIN_FACTOR`` times the limit in all."""
        while not reading.ended and reading.received < DRAIN_FACTOR * self.limits.max_body_bytes:
            if await reading.next() is None:
                return


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _declared_length(scope: Scope) -> int | None:
    if _header(scope, b"transfer-encoding") is not None:
        return None
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None  # h11 allows 20 digits at most


def _expects_continue(scope: Scope) -> bool:
    return (_header(scope, b"expect") or b"").lower() == b"100-continue"
