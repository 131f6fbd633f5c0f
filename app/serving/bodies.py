"""Whole bodies: an ASGI layer that reads a request's entire body before the application
runs, so a WSGI thread is only ever given a complete request.

- Within the limit: the application gets the body in one piece with a ``Content-Length``
  of its true size (a chunked body is de-chunked here), whatever framing the client used.
- Over the limit: the body is read and thrown away up to ``DRAIN_FACTOR`` times the limit
  before the 413 goes out, so a client that reads the answer only once it has sent
  everything (Python's urllib, many Java clients) reads the 413 instead of a broken pipe;
  past that, or with ``Expect: 100-continue``, the 413 goes out at once and the connection
  closes.
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
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
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
class Refusal:
    code: str
    message: str
    close: bool  # the connection cannot carry another request (a body is left unread)


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    body_timeout: float


class WholeBodies:
    """ASGI middleware: read the whole body, then call ``app`` with it (or with a refusal)."""

    def __init__(self, app: Application, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        outcome = await self._read(scope, receive)
        if outcome is None:
            return  # the client went away: there is no one to answer
        body = outcome if isinstance(outcome, bytes) else b""
        inner = dict(scope)
        inner["headers"] = [(name, value) for name, value in scope["headers"] if name not in _FRAMING]
        inner["headers"].append((b"content-length", str(len(body)).encode()))
        if isinstance(outcome, Refusal):
            inner[REFUSAL] = (outcome.code, outcome.message)
        delivered = False

        async def whole() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        # a refusal that leaves a body unread, or a request framed both ways (RFC 9112 6.3)
        closing = (isinstance(outcome, Refusal) and outcome.close) or all(
            _header(scope, name) is not None for name in _FRAMING)

        async def answer(message: Message) -> None:
            if closing and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(inner, whole, answer)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | Refusal | None:
        limit = self.limits.max_body_bytes
        declared = _declared_length(scope)
        too_large = Refusal("BODY_TOO_LARGE", f"the request body exceeds the limit of {limit} bytes", close=False)
        if declared is not None and declared > limit and _expects_continue(scope):
            return Refusal(too_large.code, too_large.message, close=True)  # the client waits: do not read
        pieces: list[bytes] = []
        received = 0
        started = time.monotonic()
        while True:
            budget = started + self.limits.body_timeout + received / MIN_RATE - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), min(self.limits.body_timeout, max(budget, 0)))
            except TimeoutError:
                return Refusal("BODY_TIMEOUT", f"the request body did not arrive in time: {received} bytes "
                               f"received, then nothing for {self.limits.body_timeout:g} seconds or less than "
                               f"{MIN_RATE} bytes a second", close=True)
            if message["type"] == "http.disconnect":
                return None
            piece = message.get("body", b"")
            received += len(piece)
            if received <= limit:
                pieces.append(piece)
            elif pieces:
                pieces.clear()  # over the limit: what follows is only drained
            if not message.get("more_body", False):
                return too_large if received > limit else b"".join(pieces)
            if received > limit and received >= DRAIN_FACTOR * limit:
                return Refusal(too_large.code, too_large.message, close=True)


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
