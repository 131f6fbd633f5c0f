"""The WSGI application on a thread pool (a2wsgi), with one hand-off each way per request.

Why: a2wsgi's responder reads the body and passes every response message (the start, each
body chunk, the closing empty chunk) between the WSGI thread and the event loop one at a
time, each with ``run_coroutine_threadsafe(...).result()``: a self-pipe wake-up of the loop
and a blocked thread per message, four or five hand-offs for a small answer. Each of them
waits for the loop to get the interpreter lock from the worker's busy threads, so a request
held its thread and its client waited longer than its work took (bench/RESULTS.md, ninth
session: +6 to +35 % declarations a second served, in alternated runs). Here ``WholeBodies``
has already read the body, so the thread is given it; the answer is gathered in the thread
and written by the loop once the application returns, its body in one piece. An answer
larger than ``GATHER_BYTES`` (a download, an export) is streamed as before once past that
size, so memory stays bounded and its first bytes are not held back for long.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import TYPE_CHECKING, Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import Body, WSGIResponder, build_environ

if TYPE_CHECKING:
    from a2wsgi.asgi_typing import HTTPScope, Receive, Scope, Send, SendEvent
    from a2wsgi.wsgi_typing import Environ, StartResponse

#: Body bytes an answer may gather in the thread before it is streamed message by message.
GATHER_BYTES = 256 * 1024


class _GivenBody(Body):
    """The request body as the loop received it: read in the thread without a hand-off
    (more is asked of the loop only if the first message said more would follow)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receive: Receive, first: dict[str, Any]) -> None:
        super().__init__(loop, receive)
        self.buffer.extend(first.get("body", b""))
        self._has_more = bool(first.get("more_body", False))


class _GatheringResponder(WSGIResponder):
    def __init__(self, app: Any, executor: Any, send_queue_size: int) -> None:
        super().__init__(app, executor, send_queue_size)
        self.gathered: list[SendEvent] | None = []
        self.gathered_bytes = 0
        self.sender_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        first = dict(await receive())
        if first.get("type") == "http.disconnect":
            return  # the client went away before the application ran: no one to answer
        environ = build_environ(scope, _GivenBody(self.loop, receive, first))
        self.client_send = send
        try:
            context = contextvars.copy_context()
            gathered = await self.loop.run_in_executor(
                self.executor, functools.partial(context.run, self._run, environ, self.start_response))
            if self.sender_task is None:
                for message in gathered:
                    await send(message)
            else:  # streamed: the sender writes what the thread queued, then stops
                await self.send_queue.put(None)
                await self.sender_task
            if self.exc_info is not None:
                raise self.exc_info[0].with_traceback(self.exc_info[1], self.exc_info[2])
        finally:
            if self.sender_task is not None and not self.sender_task.done():
                self.sender_task.cancel()

    def _start_sender(self) -> None:
        """In the loop: the task that writes a streamed answer's messages as the thread queues them."""
        self.sender_task = self.loop.create_task(self.sender(self.client_send))

    def send(self, message: SendEvent | None) -> None:
        """From the thread: gathered until the answer passes ``GATHER_BYTES``, then streamed."""
        gathered = self.gathered
        if gathered is None or message is None:
            super().send(message)
            return
        gathered.append(message)
        body: Any = message.get("body", b"")
        self.gathered_bytes += len(body)
        if self.gathered_bytes > GATHER_BYTES:
            self.gathered = None
            self.loop.call_soon_threadsafe(self._start_sender)  # runs before the puts below: in order
            for earlier in gathered:
                super().send(earlier)

    def _run(self, environ: Environ, start_response: StartResponse) -> list[SendEvent]:
        """a2wsgi's ``wsgi`` in the thread; returns what is still gathered, for the loop to
        write: the start, then the body in one message."""
        self.wsgi(environ, start_response)
        gathered, self.gathered = self.gathered or [], None
        if len(gathered) < 2:
            return gathered
        body = b"".join(message.get("body", b"") for message in gathered[1:])  # type: ignore[misc]
        return [gathered[0], {"type": "http.response.body", "body": body, "more_body": False}]


class GatheringWSGIMiddleware(WSGIMiddleware):
    """a2wsgi's middleware with ``_GatheringResponder``: for an application behind
    ``WholeBodies``, whose requests arrive whole."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            responder = _GatheringResponder(self.app, self.executor, self.send_queue_size)
            await responder(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
