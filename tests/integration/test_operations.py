"""Health, metrics, landing page and migrations."""
from __future__ import annotations

import dataclasses

import pytest
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
    assert body["declaration_schemas"] == ["urn:csw:declaration:v1", "urn:csw:declaration:v2"]


def test_metrics_count_requests_and_declaration_outcomes(client: FlaskClient) -> None:
    client.post("/api/v1/declarations", data=declaration_xml(lrn="LRN-MET-1"), headers=auth())
    client.post("/api/v1/declarations", data=b"<broken", headers=auth())
    text = client.get("/metrics").get_data(as_text=True)
    assert 'csw_declarations_total{outcome="accepted"}' in text
    assert 'csw_declarations_total{outcome="rejected:XML_MALFORMED"}' in text
    assert 'csw_http_requests_total{method="POST",route="/api/v1/declarations",status="202"}' in text
    assert "csw_http_request_duration_seconds_bucket" in text


def test_metrics_labels_are_bounded_whatever_methods_and_paths_clients_send(client: FlaskClient) -> None:
    for n in range(30):
        client.open("/api/v1/declarations", method=f"BOGUS{n}X")
        client.open(f"/no/such/path/{n}", method=f"RANDOM{n}Y")
    text = client.get("/metrics").get_data(as_text=True)
    assert "BOGUS" not in text and "RANDOM" not in text and "/no/such" not in text
    assert 'csw_http_requests_total{method="other",route="unmatched",status="405"}' in text
    assert 'csw_http_requests_total{method="other",route="unmatched",status="404"}' in text
    methods = {line.split('method="')[1].split('"')[0] for line in text.splitlines()
               if line.startswith("csw_http_requests_total{")}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


def test_metrics_are_answered_on_loopback_only_by_default(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"},
                         headers={"Accept": "application/json"})
    assert outside.status_code == 404
    assert outside.get_json()["code"] == "NOT_FOUND"
    assert "csw_http_requests_total" not in outside.get_data(as_text=True)


def test_a_metrics_token_is_required_from_everywhere_once_set(client: FlaskClient, clean_app: Flask,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    settings = dataclasses.replace(clean_app.config["CSW_SETTINGS"], metrics_token="scrape-secret-0123456789")
    monkeypatch.setitem(clean_app.config, "CSW_SETTINGS", settings)
    for remote in ("127.0.0.1", "203.0.113.7"):
        refused = client.get("/metrics", environ_base={"REMOTE_ADDR": remote},
                             headers={"Authorization": "Bearer wrong", "Accept": "application/json"})
        assert refused.status_code == 401
        assert refused.get_json()["code"] == "UNAUTHORIZED"
        scraped = client.get("/metrics", environ_base={"REMOTE_ADDR": remote},
                             headers={"Authorization": "Bearer scrape-secret-0123456789"})
        assert scraped.status_code == 200
        assert "csw_http_requests_total" in scraped.get_data(as_text=True)


def test_the_metrics_token_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings

    monkeypatch.delenv("CSW_METRICS_TOKEN", raising=False)
    assert Settings.from_env().metrics_token is None
    monkeypatch.setenv("CSW_METRICS_TOKEN", "from-the-environment")
    assert Settings.from_env().metrics_token == "from-the-environment"


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
