"""The gunicorn worker of ``csw serve``: uvicorn's asyncio worker, serving the Flask (WSGI)
application through ``WholeBodies`` and a thread pool (a2wsgi, one hand-off each way per
request: ``app.serving.threads``).

A connection costs the event loop a few kilobytes while its client dribbles; a thread is
taken only once a whole request is in hand, so a hundred slow clients leave the threads to
everyone else. uvicorn's h11 protocol is used with the guards it lacks:

- a request head (request line and headers) must arrive whole within
  ``CSW_HEADER_TIMEOUT_SECONDS`` of the connection opening or of the previous answer; else
  the connection closes (with a 408 when part of a head was sent);
- a client that ends its side of the connection in the middle of a body is answered 400
  ``BODY_INCOMPLETE``; one that ends it after a whole request still gets its answer;
- an unreadable request (bad framing, a Content-Length h11 refuses, a head over 16 KB) is
  400 in the error envelope rather than plain text.

uvicorn's own X-Forwarded-* handling is off: the application decides whom to trust
(``CSW_TRUSTED_PROXIES``).
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker

from app.config import Settings
from app.documents import error_payload, to_json
from app.domain.problems import Rejection
from app.platform.heap import settle_after_start
from app.serving.bodies import Application, Limits, WholeBodies
from app.serving.cores import pin_worker
from app.serving.threads import GatheringWSGIMiddleware

#: The route that takes documents larger than CSW_MAX_BODY_BYTES (app.web.api.submit_batch).
BATCH_PATH = "/api/v1/declaration-batches"

if TYPE_CHECKING:
    from a2wsgi.wsgi_typing import WSGIApp


log = logging.getLogger("csw.serving")


def _refusal(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 answer in the error envelope (JSON) with its conversation id, for
    a request the application never saw; the connection closes after it."""
    conversation_id = str(uuid.uuid4())
    log.info("refused: %s %s", code, message, extra={"fields": {"conversation_id": conversation_id,
                                                                 "status": status}})
    body = to_json(error_payload(Rejection(code, message), conversation_id))
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"x-conversation-id: {conversation_id}\r\nconnection: close\r\n\r\n").encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout and answers for cut-short bodies."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._head_timer: asyncio.TimerHandle | None = None
        self._client_ended = False
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # the head is in: the body is WholeBodies' to time

    def on_response_complete(self) -> None:
        if self._client_ended:
            self.transport.close()
            return
        if not self.transport.is_closing():
            self._arm_head_timer()  # the next request's head, on a kept-alive connection
        super().on_response_complete()

    def eof_received(self) -> bool | None:  # type: ignore[override]  # True keeps the transport open
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return None  # between requests: close
        if cycle.more_body:
            self._cancel_head_timer()
            if not cycle.response_started:
                self.transport.write(_refusal(400, "Bad Request", "BODY_INCOMPLETE",
                                              "the request body ended before its Content-Length or last chunk"))
            cycle.disconnected = True
            cycle.message_event.set()
            return None
        self._client_ended = True
        return True  # the whole request is in: keep the connection open to write the answer

    def send_400_response(self, msg: str) -> None:
        self._cancel_head_timer()
        self.transport.write(_refusal(400, "Bad Request", "BAD_REQUEST", msg))
        self.transport.close()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return
        partial, _ = self.conn.trailing_data
        if partial:
            self.transport.write(_refusal(408, "Request Timeout", "HEADER_TIMEOUT",
                                          f"the request head did not arrive within {self.header_timeout:g} seconds"))
        self.transport.close()


class TurnTakingLoop(asyncio.SelectorEventLoop):
    """asyncio's event loop, taking connections in turns with the other workers.

    Why: the workers share gunicorn's listening socket, and asyncio accepts as many waiting
    connections as the listen backlog allows each time that socket is readable. Clients that
    open their connections together (a logistics system's pool of keep-alive connections, a
    load test) were all taken by the first worker to wake, whose core then served everything
    while the other idled (seen: 16 of 16 connections on one of two workers, the machine half
    idle, half the throughput). Here a worker takes one connection at a time and then leaves
    the socket to the others for ``TURN_SECONDS``, long enough for another worker to wake and
    take the next. The pause is fixed, not grown with the connections a worker holds: a crowd
    of slow clients must not slow the accepting of everyone else's connections (each worker
    still takes 500 a second). The listen backlog itself is unchanged."""

    TURN_SECONDS = 0.002

    def _accept_connection(self, protocol_factory: Any, sock: Any, sslcontext: Any = None, server: Any = None,
                           backlog: int = 100, *args: Any) -> None:
        super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args)  # type: ignore[misc]
        if server is None or not server.is_serving():
            return
        self._remove_reader(sock.fileno())  # type: ignore[attr-defined]
        self.call_later(self.TURN_SECONDS, self._resume_accepting,
                        protocol_factory, sock, sslcontext, server, backlog, *args)

    def _resume_accepting(self, protocol_factory: Any, sock: Any, sslcontext: Any, server: Any, backlog: int,
                          *args: Any) -> None:
        if server.is_serving() and sock.fileno() != -1:
            self._add_reader(sock.fileno(), self._accept_connection,  # type: ignore[attr-defined]
                             protocol_factory, sock, sslcontext, server, backlog, *args)


class Worker(UvicornWorker):
    """gunicorn worker: ``WholeBodies`` in front of the WSGI application's thread pool
    (``--threads`` threads), on the guarded h11 protocol, taking connections in turns with the
    other workers (``TurnTakingLoop``), on a core of its own (``app.serving.cores``)."""

    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "app.serving.worker:TurnTakingLoop", "http": GuardedH11Protocol, "interface": "asgi3",
        "lifespan": "off", "ws": "none", "proxy_headers": False, "server_header": False,
    }
    wsgi: Any  # gunicorn's: the application it loaded, then the ASGI stack around it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = max(int(self.cfg.graceful_timeout) - 1, 1)

    def init_process(self) -> None:
        if Settings.from_env().pin_workers:  # before any thread starts: each inherits the core
            core = pin_worker(self.age, self.ppid)
            if core is not None:
                log.info("worker pinned to core %s", core, extra={"fields": {"core": core, "age": self.age}})
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        settings = Settings.from_env()
        GuardedH11Protocol.header_timeout = settings.header_timeout_seconds
        threads = GatheringWSGIMiddleware(cast("WSGIApp", self.wsgi), workers=max(int(self.cfg.threads), 1))
        self.wsgi = WholeBodies(cast(Application, threads),
                                Limits(settings.max_body_bytes, settings.body_timeout_seconds,
                                       {BATCH_PATH: settings.max_batch_body_bytes}))
        settle_after_start()
