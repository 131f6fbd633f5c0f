"""Documents are kept verbatim however the database compresses them: on PostgreSQL a received
declaration's body is compressed with LZ4 where the server offers it (migration 0032), and the
document read back is the one sent, byte for byte."""
from __future__ import annotations

import hashlib

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.conftest import auth
from tests.factories import declaration_xml

API = "/api/v1/declarations"


def test_a_received_document_is_read_back_exactly_as_sent_and_compressed_with_lz4_on_postgresql(
        client: FlaskClient, clean_app: Flask) -> None:
    body = declaration_xml(lrn="LRN-LZ4-1", items=40)  # well over the 2 KB a row keeps uncompressed
    assert len(body) > 8_000
    response = client.post(API, data=body, headers=auth(accept="application/json"))
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    stored = client.get(f"{response.headers['Location']}/documents/1", headers=auth())
    assert stored.data == body
    assert stored.headers["Digest"] == f"sha-256={hashlib.sha256(body).hexdigest()}"
    with clean_app.extensions["csw"].sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        offered = session.execute(text(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
        method = session.execute(text(
            "SELECT pg_column_compression(body) FROM declaration_documents WHERE declaration_id = :id"),
            {"id": response.get_json()["declaration_id"]}).scalar()
    assert method == ("lz4" if "lz4" in offered else "pglz")
