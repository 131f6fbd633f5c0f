"""Health, metrics, landing page and migrations."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.db import migrate
from tests.conftest import auth
from tests.factories import declaration_xml


def test_healthz_reports_database_and_schema_version(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    assert body["schema_version"] == head
    assert body["declaration_schemas"] == ["urn:csw:declaration:v1"]


def test_metrics_count_requests_and_declaration_outcomes(client: FlaskClient) -> None:
    client.post("/api/v1/declarations", data=declaration_xml(lrn="LRN-MET-1"), headers=auth())
    client.post("/api/v1/declarations", data=b"<broken", headers=auth())
    text = client.get("/metrics").get_data(as_text=True)
    assert 'csw_declarations_total{outcome="accepted"}' in text
    assert 'csw_declarations_total{outcome="rejected:XML_MALFORMED"}' in text
    assert 'csw_http_requests_total{method="POST",route="/api/v1/declarations",status="202"}' in text
    assert "csw_http_request_duration_seconds_bucket" in text


def test_landing_page_says_what_the_service_is(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Customs Single Window" in page
    assert "/api/v1/declarations" in page
    assert "urn:csw:declaration:v1" in page


def test_models_and_migrations_agree(app: Flask, database_url: str) -> None:
    migrate.check(database_url)


def test_request_logs_are_json_lines_with_the_conversation_id(client: FlaskClient) -> None:
    import io
    import json
    import logging

    from app.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("csw.web")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = client.post("/api/v1/declarations", data=declaration_xml(lrn="LRN-LOG-1"), headers=auth())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["conversation_id"] == response.headers["X-Conversation-ID"]
    assert entry["status"] == 202
    assert entry["path"] == "/api/v1/declarations"
    assert entry["actor"].startswith("client:")


def test_database_outage_is_a_retryable_503_not_a_500(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import create_app
    from app.config import Settings

    broken = create_app(Settings.from_env(
        database_url="postgresql+psycopg://127.0.0.1:1/none", instance_dir=tmp_path, log_level="CRITICAL"))
    response = broken.test_client().post(
        "/api/v1/declarations", data=declaration_xml(),
        headers={"Authorization": "Bearer whatever", "Content-Type": "application/xml", "Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["code"] == "DATABASE_UNAVAILABLE"
    assert response.headers["Retry-After"] == "5"
    assert broken.test_client().get("/healthz").status_code == 503
