"""The ceiling for declaration intake: parse + schema-check, nothing else.

Why: the full ``POST /api/v1/declarations`` does much more (authentication, mapping,
storage, the acknowledgement). To judge its throughput we need the cost of the work no
implementation can skip: the project's hardened parser (``parse_untrusted``) and the
libxml2 schema check, behind the same WSGI server and Flask. No database, no auth, no
metrics, no logging.

Serve it with ``gunicorn bench.bare_app:app`` from the project root.
"""
from __future__ import annotations

from flask import Flask, Response, request

from app.config import PROJECT_ROOT
from app.domain.problems import Rejection
from app.intake.service import Intake

intake = Intake(PROJECT_ROOT / "schemas")
app = Flask(__name__)


@app.post("/api/v1/declarations")
def submit_declaration() -> Response:
    """202 for a well-formed, schema-valid declaration; 400 naming the rejection otherwise."""
    try:
        intake.check(request.get_data(cache=False), "declaration")
    except Rejection as rejection:
        return Response(f"{rejection.code}: {rejection.message}\n", status=400, mimetype="text/plain")
    return Response(b"accepted\n", status=202, mimetype="text/plain")


@app.get("/healthz")
def healthz() -> Response:
    """Readiness probe for the benchmark driver (same path as the real service)."""
    return Response(b"ok\n", status=200, mimetype="text/plain")
