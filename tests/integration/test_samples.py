"""Every sample in samples/ is posted and gets the outcome samples/expected.json states."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import OTHER_KEY, SAMPLES, TRADER_KEY, auth, expected_outcomes, sample

OUTCOMES = expected_outcomes()
API = "/api/v1/declarations"


def test_every_sample_file_has_an_expected_outcome() -> None:
    """Every declaration sample; cargo information (samples/cargo) is posted by test_cargo_api,
    manifests (samples/manifest) by test_manifests_api and checked by test_cli."""
    files = {str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*.xml") if p.parent.name not in ("cargo", "manifest")}
    assert files == set(OUTCOMES)
    assert sum(1 for name in files if name.startswith("valid/")) >= 8
    assert sum(1 for name in files if name.startswith("invalid/")) >= 12


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_sample_outcome(client: FlaskClient, name: str) -> None:
    expected = OUTCOMES[name]
    url = API
    if expected.get("endpoint") == "amendment":
        original = client.post(API, data=sample(str(expected["of"])), headers=auth(accept="application/json"))
        assert original.status_code == 202
        url = f"{API}/{original.get_json()['declaration_id']}/amendments"
    key = OTHER_KEY if expected.get("client") == "other" else TRADER_KEY
    response = client.post(url, data=sample(name), headers=auth(key, accept="application/json"))
    body = response.get_json()
    assert response.status_code == expected["status"], body
    if response.status_code == 202:
        assert body["status"] == "accepted"
        return
    assert body["code"] == expected["code"]
    if "path" in expected:
        assert any(expected["path"] in (error.get("path") or "") for error in body["errors"]), body["errors"]
    if "rule" in expected:
        # the sample breaks exactly one rule that refuses; lodged more than 14 days after its
        # movement date it is also late (R302, a warning with its penalty)
        refusing = [error["rule"] for error in body["errors"] if error.get("severity") == "reject"]
        assert refusing == [expected["rule"]], body["errors"]
        assert {error["rule"] for error in body["errors"]} <= {expected["rule"], "R302"}, body["errors"]
