"""Request bodies are read whole or refused: a body over ``CSW_MAX_BODY_BYTES`` is 413
``BODY_TOO_LARGE`` whatever its framing (Content-Length or ``Transfer-Encoding: chunked``),
and the document stored "exactly as received" is the one the client sent, never a part of it."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import models
from tests.conftest import TRADER_KEY, auth
from tests.factories import declaration_xml
from tests.integration.test_transit_journeys import ADMIN_KEY, GATEWAY_KEY

API = "/api/v1/declarations"
LIMIT = 5 * 1024 * 1024


class Chunked:
    """A request body without Content-Length, read in pieces as a chunked upload arrives; the
    WSGI server (gunicorn) ends the stream itself and says so with ``wsgi.input_terminated``."""

    def __init__(self, body: bytes, piece: int = 64 * 1024) -> None:
        self._pieces: Iterator[bytes] = (body[i:i + piece] for i in range(0, len(body), piece))
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            piece = next(self._pieces, b"")
            if not piece:
                break
            self._buffer += piece
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def readline(self, size: int = -1) -> bytes:  # the WSGI input interface
        return self.read(size)


def chunked(client: FlaskClient, path: str, body: bytes, headers: dict[str, str], key: str = TRADER_KEY) -> Any:
    headers = {**headers, "Authorization": f"Bearer {key}", "Transfer-Encoding": "chunked"}
    response = client.post(path, headers=headers, environ_overrides={
        "wsgi.input": Chunked(body), "wsgi.input_terminated": True})
    assert "CONTENT_LENGTH" not in response.request.environ
    return response


def padded(size: int, lrn: str = "LRN-PADDED") -> bytes:
    """A valid declaration followed by whitespace (allowed after the root element) to ``size`` bytes."""
    document = declaration_xml(lrn=lrn)
    return document + b" " * (size - len(document))


def declarations(app: Flask) -> int:
    with app.extensions["csw"].sessions() as session:
        return session.scalar(select(func.count()).select_from(models.Declaration)) or 0


def test_a_chunked_document_over_the_limit_is_refused_not_truncated(client: FlaskClient, clean_app: Flask) -> None:
    response = chunked(client, API, padded(LIMIT + 1024 * 1024), auth(accept="application/json"))
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert response.get_json()["code"] == "BODY_TOO_LARGE"
    assert str(LIMIT) in response.get_json()["message"]
    assert response.headers["X-Conversation-ID"]
    assert declarations(clean_app) == 0


def test_eight_megabytes_of_chunked_garbage_is_413_not_400(client: FlaskClient) -> None:
    response = chunked(client, API, b"\x00garbage" * (1024 * 1024), auth(accept="application/json"))
    assert response.status_code == 413
    assert response.get_json()["code"] == "BODY_TOO_LARGE"


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_is_accepted(
        client: FlaskClient, clean_app: Flask) -> None:
    over = chunked(client, API, padded(LIMIT + 1, "LRN-OVER"), auth(accept="application/json"))
    assert over.status_code == 413
    body = padded(LIMIT, "LRN-AT-LIMIT")
    at_limit = chunked(client, API, body, auth(accept="application/json"))
    assert at_limit.status_code == 202, at_limit.get_data(as_text=True)[:300]
    assert declarations(clean_app) == 1


def test_a_chunked_document_is_stored_exactly_as_sent(client: FlaskClient) -> None:
    body = padded(2 * 1024 * 1024, "LRN-CHUNKED")
    response = chunked(client, API, body, auth(accept="application/json"))
    assert response.status_code == 202
    stored = client.get(f"{response.headers['Location']}/documents/1", headers=auth())
    assert stored.data == body
    assert stored.headers["Digest"] == f"sha-256={hashlib.sha256(body).hexdigest()}"


def test_a_content_length_one_byte_over_the_limit_is_refused(client: FlaskClient) -> None:
    response = client.post(API, data=padded(LIMIT + 1), headers=auth(accept="application/json"))
    assert response.status_code == 413
    assert response.get_json()["code"] == "BODY_TOO_LARGE"


@pytest.mark.parametrize(("path", "content_type", "key"), [
    (f"{API}/HK26DTIL5VL2ZAWH/cancellation", "application/json", TRADER_KEY),
    (f"{API}/HK26DTIL5VL2ZAWH/amendments", "application/xml", TRADER_KEY),
    ("/api/v1/elock/events", "application/json", GATEWAY_KEY),
    ("/api/v1/trips", "application/json", TRADER_KEY),
    ("/api/v1/aeo/operators/12345678/status", "application/json", ADMIN_KEY),
])
def test_every_body_reading_route_refuses_an_over_limit_chunked_body(
        transit: FlaskClient, path: str, content_type: str, key: str) -> None:
    body = b'{"reason": "' + b"x" * (LIMIT + 10) + b'"}'
    response = chunked(transit, path, body, {"Content-Type": content_type, "Accept": "application/json"}, key)
    assert response.status_code == 413, (path, response.status_code, response.get_data(as_text=True)[:300])
    assert response.get_json()["code"] == "BODY_TOO_LARGE"


def test_a_chunked_portal_upload_over_the_limit_is_refused(clean_app: Flask) -> None:
    """The portal's multipart upload is parsed by werkzeug from the same limited stream."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import stream_encode_multipart

    from app.users.service import create_user
    from tests.integration.test_portal_web import PASSWORD, signed_in, token

    with clean_app.extensions["csw"].sessions() as session, session.begin():
        party = session.scalar(select(models.Party).where(models.Party.identifier == "12345678"))
        assert party is not None
        create_user(session, "uploader", "trader", PASSWORD, party_id=party.id)
    browser = signed_in(clean_app, "uploader")
    fields = MultiDict([("csrf_token", token(browser, "/trader/upload")),
                        ("document", FileStorage(io.BytesIO(padded(LIMIT + 1024 * 1024)), "big.xml"))])
    stream, _, boundary = stream_encode_multipart(fields)
    response = browser.post("/trader/upload", headers={
        "Content-Type": f'multipart/form-data; boundary="{boundary}"', "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input": Chunked(stream.read()), "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert "BODY_TOO_LARGE" in response.get_data(as_text=True)
    assert declarations(clean_app) == 0
