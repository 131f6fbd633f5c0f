"""The API contract, checked on every answer the integration tests see: a test client that,
for each request to a documented ``/api/v1`` operation, fails the test when the status is not
documented, when a JSON answer is not a documented content type, or when it breaks the
documented JSON schema (success payloads and the error envelope alike).

So every flow the suite drives (lodging, amending, cancelling, trips, telemetry, AEO changes,
refusals of every kind) is also a conformance check of ``/api/v1/openapi.json``, beside
schemathesis's generated requests against the live service (test_api_contract_live.py)."""
from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema_rs
from flask.testing import FlaskClient

from app.web.openapi import openapi_document


def json_schema(schema: Any, components: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: references inlined, ``nullable`` as a null branch."""
    if isinstance(schema, list):
        return [json_schema(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return json_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    converted = {key: json_schema(value, components) for key, value in schema.items()
                 if key not in ("nullable", "example", "description")}
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    document = openapi_document()
    found = []
    for path, item in document["paths"].items():
        pattern = re.compile("^" + "[^/]+".join(re.escape(part) for part in re.split(r"\{[^/]+?\}", path)) + "$")
        for method, operation in item.items():
            found.append((pattern, method.upper(), operation))
    return found


@cache
def validator(schema_json: str) -> Any:
    schema = json_schema(json.loads(schema_json), openapi_document()["components"]["schemas"])
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def check(method: str, path: str, status: int, mimetype: str, body: bytes) -> None:
    """Fails (AssertionError) when the answer breaks the documented contract."""
    if not path.startswith("/api/v1/"):
        return
    matching = [(pattern, operation) for pattern, verb, operation in operations()
                if verb == method and pattern.match(path)]
    if not matching:
        return  # an undocumented path or method: 404/405, checked by test_openapi.py
    operation = matching[0][1]
    where = f"{method} {path} -> {status}"
    response = operation["responses"].get(str(status))
    assert response is not None, f"{where}: status not documented"
    if mimetype != "application/json" or not body:
        return
    content = response.get("content", {})
    assert "application/json" in content, f"{where}: JSON answer, but only {sorted(content)} documented"
    schema = content["application/json"].get("schema")
    if schema is None:
        return
    errors = [f"{error.instance_path}: {error.message}"
              for error in validator(json.dumps(schema, sort_keys=True)).iter_errors(json.loads(body))]
    assert not errors, f"{where}: the answer breaks its documented schema: {errors[:5]}"


class ContractClient(FlaskClient):
    """Flask's test client, checking every ``/api/v1`` answer against the OpenAPI description."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        check(request.method, request.path, response.status_code, response.mimetype or "", response.get_data())
        return response
