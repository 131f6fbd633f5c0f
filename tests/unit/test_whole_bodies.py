"""``WholeBodies`` in one process (no socket): a body is handed on whole, and a stalled or too
slow one is refused under ``REFUSAL`` within its time."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.serving import REFUSAL
from app.serving.bodies import Limits, Message, Scope, WholeBodies


def _scope(length: int | None) -> Scope:
    headers = [(b"host", b"csw.example"), (b"content-type", b"application/xml")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    return {"type": "http", "path": "/api/v1/declarations", "headers": headers}


QUICK = Limits(1000, 0.2)


def _serve(scope: Scope, messages: list[Message], pause: float = 0.0,
           limits: Limits = QUICK) -> tuple[Scope | None, bytes | None]:
    """What the application behind ``WholeBodies`` was given: its scope and the body it received."""
    seen: dict[str, Any] = {}

    async def application(inner: Scope, receive: Any, send: Any) -> None:
        seen["scope"] = inner
        seen["body"] = (await receive())["body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        if not messages:
            await asyncio.sleep(3600)  # a client that stopped sending
        if pause:
            await asyncio.sleep(pause)
        return messages.pop(0)

    async def send(_message: Message) -> None:
        return None

    # A loop of its own in a thread of its own: a test run earlier in this process (a browser
    # test's) may have left an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(lambda: asyncio.run(WholeBodies(application, limits)(scope, receive, send))).result()
    return seen.get("scope"), seen.get("body")


def test_a_body_in_pieces_is_handed_on_whole_with_its_true_length() -> None:
    pieces = [{"type": "http.request", "body": b"<a>", "more_body": True},
              {"type": "http.request", "body": b"</a>", "more_body": False}]
    inner, body = _serve(_scope(None), pieces)
    assert inner is not None and body == b"<a></a>"
    assert (b"content-length", b"7") in inner["headers"] and REFUSAL not in inner
    assert all(name != b"transfer-encoding" for name, _ in inner["headers"])


def test_a_stalled_body_is_refused_within_its_time() -> None:
    started = time.monotonic()
    inner, body = _serve(_scope(10), [{"type": "http.request", "body": b"<a>", "more_body": True}])
    assert inner is not None and inner[REFUSAL][0] == "BODY_TIMEOUT" and body == b""
    assert 0.15 < time.monotonic() - started < 2


def test_a_body_slower_than_its_budget_is_refused() -> None:
    """Each piece within the wait, but the whole past the first ``body_timeout`` seconds at
    less than ``MIN_RATE`` bytes a second."""
    pieces = [{"type": "http.request", "body": b"x", "more_body": True} for _ in range(20)]
    inner, _ = _serve(_scope(100), pieces, pause=0.03, limits=Limits(1000, 0.1))
    assert inner is not None and inner[REFUSAL][0] == "BODY_TIMEOUT"
