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
