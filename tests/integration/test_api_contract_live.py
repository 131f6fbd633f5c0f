"""schemathesis against the live service: every operation of ``/api/v1/openapi.json``, with
generated valid and invalid inputs, as a trader's system and as an administrator, asking for
XML and for JSON. Every answer must keep the documented contract: no server error, a documented
status code, a documented content type, the documented headers (X-Conversation-ID) and, for
JSON, the documented schema (the error envelope included); invalid input must be refused;
a method the path does not have must be 405 with ``Allow``; a request without the key must be
refused.

``positive_data_acceptance`` is not run: JSON Schema cannot state every rule the service
enforces on a schema-valid request (the ISO 7064 check character of a reference, the XSD and the
business rules of an XML document, a crossing time within the next 14 days), so schemathesis's
"valid" requests are refused with the documented 400 and 422."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import DEMO_KEY, prepared_env, start, stop

pytestmark = pytest.mark.slow

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
ADMIN_KEY = "csw_demo_admin_00000000000000000"
CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "missing_required_header", "unsupported_method",
    "ignored_auth",
])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = prepared_env(tmp_path_factory.mktemp("contract"), CSW_API_RATE_LIMIT="100000 per second")
    process, base = start(env)
    try:
        yield base
    finally:
        stop(process)


@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
@pytest.mark.parametrize("key", [DEMO_KEY, ADMIN_KEY], ids=["trader", "admin"])
def test_every_operation_keeps_the_documented_contract(live: str, key: str, accept: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{live}/api/v1/openapi.json", "--checks", CHECKS,
         "--header", f"Authorization: Bearer {key}", "--header", f"Accept: {accept}",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "25", "--generation-deterministic",
         "--request-timeout", "5", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
