"""The durable ceiling for declaration intake: parse + schema check + one committed insert.

Why: issue 26 retires "half of the bare ceiling" (a server that stores nothing) for "half of
what any *durable* intake must pay on this stack": the same server and framework, the
hardened parse and libxml2 schema check, and one insert of the document committed with
fsync (SQLite in WAL with ``synchronous=FULL``; PostgreSQL with its default durability). No
auth, rules, risk or events. The database is ``CSW_DATABASE_URL``; its table
``durable_ceiling`` is made on start-up.

Serve it with ``gunicorn bench.durable_app:app`` from the project root.
"""
from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, create_engine, event
from sqlalchemy.exc import DBAPIError

from app.config import PROJECT_ROOT
from app.db.session import normalise_url, write_gate
from app.domain.problems import Rejection
from app.intake.service import Intake

intake = Intake(PROJECT_ROOT / "schemas")
url = normalise_url(os.environ["CSW_DATABASE_URL"])
engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
# SQLite's writers queue on the same write gate as the service's (an flock, woken as soon as it
# is free); without it the two workers' BEGIN IMMEDIATE met in SQLite's busy handler, whose naps
# (up to 100 ms) made this "ceiling" erratic: 285-636/s with p99 0.8-1.3 s, once below the full
# service (bench/RESULTS.md, seventh session). Nothing for PostgreSQL.
gate = write_gate(url)
metadata = MetaData()
documents = Table("durable_ceiling", metadata, Column("id", Integer, primary_key=True),
                  Column("sha256", String(64), nullable=False), Column("body", LargeBinary, nullable=False),
                  Column("received_at", DateTime(timezone=True), nullable=False))

if engine.dialect.name == "sqlite":
    @event.listens_for(engine, "connect")
    def _durable_sqlite(connection: Any, _record: Any) -> None:
        connection.isolation_level = None  # transactions below are begun by hand
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

try:
    metadata.create_all(engine)
except DBAPIError:  # another worker made it at the same moment (SQLite: locked; PostgreSQL: a
    metadata.create_all(engine)  # unique violation in pg_type, which once stopped the ceiling's server)
app = Flask(__name__)


@app.post("/api/v1/declarations")
def submit_declaration() -> Response:
    """202 once a well-formed, schema-valid declaration is committed; 400 otherwise."""
    body = request.get_data(cache=False)
    try:
        intake.check(body, "declaration")
    except Rejection as rejection:
        return Response(f"{rejection.code}: {rejection.message}\n", status=400, mimetype="text/plain")
    with gate(), engine.begin() as connection:
        connection.execute(documents.insert(), {"sha256": hashlib.sha256(body).hexdigest(), "body": body,
                                                "received_at": datetime.now(timezone.utc)})
    return Response(b"accepted\n", status=202, mimetype="text/plain")


@app.get("/healthz")
def healthz() -> Response:
    """Readiness probe for the benchmark driver (same path as the real service)."""
    return Response(b"ok\n", status=200, mimetype="text/plain")
