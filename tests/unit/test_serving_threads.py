"""The thread pool in front of the WSGI application (app.serving.threads): what the client
receives is what the application answered, small answers gathered and large ones streamed."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.serving.threads import GATHER_BYTES, GatheringWSGIMiddleware

SCOPE = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
         "path": "/echo", "raw_path": b"/echo", "query_string": b"", "root_path": "",
         "headers": [(b"content-type", b"application/xml"), (b"content-length", b"11")],
         "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """On a thread of its own: a browser test's driver may keep an event loop running on this one."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, coroutine).result()


def serve(app: Any, body: bytes = b"<a>doc</a>\n") -> list[dict[str, Any]]:
    """The messages the server would write for one request whose body arrived whole."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run(GatheringWSGIMiddleware(app, workers=2)(dict(SCOPE), receive, send))  # type: ignore[arg-type]
    return sent


def test_a_small_answer_reaches_the_client_whole_with_the_body_the_application_read() -> None:
    def echo(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        start_response("202 Accepted", [("Content-Type", "application/xml"), ("X-Length", str(len(body)))])
        return [b"<ack>", body, b"</ack>"]

    sent = serve(echo)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 202
    assert (b"x-length", b"11") in sent[0]["headers"]
    assert sent[1:] == [{"type": "http.response.body", "body": b"<ack><a>doc</a>\n</ack>", "more_body": False}]


def test_a_large_answer_is_streamed_whole_and_in_order() -> None:
    chunk = b"x" * 65536
    count = GATHER_BYTES // len(chunk) * 3

    def export(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/csv")])
        for n in range(count):
            yield str(n).encode() + chunk

    sent = serve(export)
    assert sent[0]["status"] == 200
    bodies = [m["body"] for m in sent[1:] if m.get("body")]
    assert bodies == [str(n).encode() + chunk for n in range(count)]
    assert sent[-1] == {"type": "http.response.body", "body": b""}


def test_a_client_gone_before_the_application_ran_is_not_answered_and_nothing_runs() -> None:
    ran: list[bool] = []

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        ran.append(True)
        start_response("202 Accepted", [])
        return [b"stored"]

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run(GatheringWSGIMiddleware(application, workers=1)(dict(SCOPE), receive, send))  # type: ignore[arg-type]
    assert ran == [] and sent == []
