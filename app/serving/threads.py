"""The WSGI application on a thread pool (a2wsgi), with one hand-off each way per request.

Why: a2wsgi's responder reads the body and passes every response message (the start, each
body chunk, the closing empty chunk) between the WSGI thread and the event loop one at a
time, each with ``run_coroutine_threadsafe(...).result()``: a self-pipe wake-up of the loop
and a blocked thread per message, four or five hand-offs for a small answer. Sampled under
load, that machinery took about a tenth of a worker's Python time. Here ``WholeBodies`` has
already read the body, so the thread is given it; the answer is gathered in the thread and
handed to the loop once, when the application returns. An answer larger than
``GATHER_BYTES`` (a download, an export) is streamed as before once past that size, so
memory stays bounded and its first bytes are not held back for long.
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

    async def __call__(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        first = dict(await receive())
        if first.get("type") == "http.disconnect":
            return  # the client went away before the application ran: no one to answer
        environ = build_environ(scope, _GivenBody(self.loop, receive, first))
        sender = None
        try:
            sender = self.loop.create_task(self.sender(send))
            context = contextvars.copy_context()
            gathered = await self.loop.run_in_executor(
                self.executor, functools.partial(context.run, self._run, environ, self.start_response))
            for message in gathered:
                await self.send_queue.put(message)
            await self.send_queue.put(None)
            await sender
            if self.exc_info is not None:
                raise self.exc_info[0].with_traceback(self.exc_info[1], self.exc_info[2])
        finally:
            if sender and not sender.done():
                sender.cancel()

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
            for earlier in gathered:
                super().send(earlier)

    def _run(self, environ: Environ, start_response: StartResponse) -> list[SendEvent]:
        """a2wsgi's ``wsgi`` in the thread; returns what is still gathered, for the loop to send."""
        self.wsgi(environ, start_response)
        gathered, self.gathered = self.gathered or [], None
        return gathered


class GatheringWSGIMiddleware(WSGIMiddleware):
    """a2wsgi's middleware with ``_GatheringResponder``: for an application behind
    ``WholeBodies``, whose requests arrive whole."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            responder = _GatheringResponder(self.app, self.executor, self.send_queue_size)
            await responder(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
