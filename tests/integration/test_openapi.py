"""The OpenAPI document describes every API route the app serves."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def test_every_api_route_and_method_is_described(client: FlaskClient, clean_app: Flask) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    for rule in clean_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, f"{path} missing from OpenAPI"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {path} missing from OpenAPI"


def test_landing_page_links_the_api_description(client: FlaskClient) -> None:
    assert 'href="/api/v1/openapi.json"' in client.get("/").get_data(as_text=True)


def test_a_method_not_allowed_names_the_allowed_ones(client: FlaskClient) -> None:
    response = client.put("/api/v1/declarations", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.get_json()["code"] == "METHOD_NOT_ALLOWED"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.mimetype == "application/json"
    assert response.headers["X-Conversation-ID"]


def _operations(document: dict) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def test_every_operation_documents_every_status_the_server_can_answer(client: FlaskClient) -> None:
    """Besides each route's own refusals: 400 (a malformed request), 408 (a request head or body
    too slow for the HTTP server), 429 (the rate limit) and 503 (the database unavailable)."""
    document = client.get("/api/v1/openapi.json").get_json()
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        for status in ("400", "408", "429", "503"):
            assert status in responses, f"{method.upper()} {path} does not document {status}"
        if operation.get("security", document["security"]):
            assert "401" in responses, f"{method.upper()} {path} does not document 401"


def test_refusals_are_described_by_the_error_envelope_with_a_conversation_id(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    envelope = document["components"]["schemas"]["ErrorResponse"]
    assert envelope["required"] == ["code", "message", "conversation_id", "errors"]
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Conversation-ID"]["required"] is True, (path, method, status)
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, method, status)


def test_the_description_states_the_constraints_the_server_enforces(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    reference = paths["/api/v1/declarations/{reference}"]["get"]["parameters"][0]
    assert reference["schema"]["pattern"] == "^HK[0-9]{2}D[0-9A-Z]{11}$"
    assert "check character" in reference["description"] and "400" in reference["description"]
    listing = {p["name"]: p for p in paths["/api/v1/declarations"]["get"]["parameters"]}
    assert listing["page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1_000_000}
    assert listing["since"]["allowEmptyValue"] is True
    journeys = {p["name"]: p for p in paths["/api/v1/journeys"]["get"]["parameters"]}
    assert journeys["page"]["schema"]["maximum"] == 100_000
    assert journeys["declaration_id"]["schema"]["pattern"] == "^HK[0-9]{2}D[0-9A-Z]{11}$"
    trip = paths["/api/v1/trips"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert trip["vehicle_registration_id"]["maxLength"] == 40
    assert trip["vehicle_registration_id"]["pattern"] == r"\S"
    company = paths["/api/v1/elock/companies"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert company["properties"]["name"]["maxLength"] == 140
    acknowledgements = paths["/api/v1/notifications/acknowledgements"]["post"]["requestBody"]
    ids = acknowledgements["content"]["application/json"]["schema"]["properties"]["message_ids"]
    assert ids["minItems"] == 1 and ids["items"]["minimum"] == 1

