"""Landing page, health check and metrics."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import NotFound

from app.domain.problems import Rejection

from app.web.context import db, services
from app.web.metrics import may_scrape, metrics_response

bp = Blueprint("site", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html", schemas=services().intake.registry.supported("declaration"))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        revision = db().scalar(text("SELECT version_num FROM alembic_version"))
        database = "ok"
    except SQLAlchemyError as exc:
        revision, database = None, f"unavailable: {type(exc).__name__}"
    healthy = database == "ok" and revision is not None
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "schema_version": revision,
        "declaration_schemas": services().intake.registry.supported("declaration"),
    }
    return jsonify(body), 200 if healthy else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text: loopback only by default, or anyone with ``CSW_METRICS_TOKEN``."""
    token = current_app.config["CSW_SETTINGS"].metrics_token
    if not may_scrape(token, request.headers.get("Authorization", ""), request.remote_addr):
        if token:
            raise Rejection("UNAUTHORIZED",
                            "send the metrics token (CSW_METRICS_TOKEN) as 'Authorization: Bearer <token>'")
        raise NotFound()  # exactly as a missing route: the page is not offered off this host
    return metrics_response()
