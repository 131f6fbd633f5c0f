"""Reading a request body: the whole body, or 413 ``BODY_TOO_LARGE``, never a part of it.

``csw serve`` reads every body whole before the application runs (``app.serving``) and
refuses what is too large or too slow; ``refuse_what_the_server_refused`` answers those
refusals here, before any route, in the error envelope. Under another WSGI server a chunked
body (no Content-Length; the server ends the stream and sets ``wsgi.input_terminated``) is
only cut at ``MAX_CONTENT_LENGTH`` by Werkzeug: ``request.get_data()`` would hand back the
first 5 MB as if they were all, and the service would store (and digest) a document the
client never sent. So every route reads its body here too: at most limit + 1 bytes, and a
body longer than the limit is refused whatever its framing.
"""
from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from app.domain.problems import Rejection
from app.serving import REFUSAL

_PIECE = 64 * 1024


def too_large(limit: int) -> Rejection:
    return Rejection("BODY_TOO_LARGE", f"the request body exceeds the limit of {limit} bytes")


def refuse_what_the_server_refused() -> None:
    """``before_request``: a body the HTTP server refused (too large, too slow) is answered
    with its refusal, before the route runs; the body never reached the application."""
    refusal = (request.environ.get("asgi.scope") or {}).get(REFUSAL)
    if refusal is not None:
        code, message = refusal
        raise Rejection(code, message)


def request_body(limit: int | None = None) -> bytes:
    """The request's body, read once; 413 ``BODY_TOO_LARGE`` past ``limit`` (by default
    ``CSW_MAX_BODY_BYTES``; a route with larger documents, the declaration batch, gives its own)."""
    limit = limit if limit is not None else int(current_app.config["MAX_CONTENT_LENGTH"])
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    try:
        # Bounded by Content-Length when there is one; else (a server-terminated chunked
        # stream) by limit + 1, so one byte past the limit is seen rather than cut off.
        stream = get_input_stream(request.environ, max_content_length=limit + 1)
        pieces: list[bytes] = []
        size = 0
        while size <= limit:
            piece = stream.read(min(_PIECE, limit + 1 - size))
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    if size > limit:
        raise too_large(limit)
    return b"".join(pieces)
