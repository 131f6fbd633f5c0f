"""AEO status and its effects on a declaration, end to end: registry -> assessment -> status."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from app.aeo import service as aeo_service
from app.jobs import JOBS, run_job
from app.platform.clock import utcnow
from app.domain.time import HONG_KONG
from tests.conftest import auth
from tests.factories import declaration_xml

API = "/api/v1/declarations"
TODAY = utcnow().astimezone(HONG_KONG).date()


def register(app: Flask, *rows: dict[str, str], today: date = TODAY) -> None:
    rule_set = app.extensions["csw"].rule_set
    with app.extensions["csw"].sessions() as session, session.begin():
        report = aeo_service.import_operators(session, rows, "test", today, rule_set.mra)
        assert not report.rejected, report.rejected


def operator(operator_id: str, tier: int = 2, status: str = "active", valid_until: date | None = None,
             name: str = "Demo Trading Company Limited") -> dict[str, str]:
    until = valid_until or TODAY + timedelta(days=700)
    return {"operator_id": operator_id, "name": name, "tier": str(tier), "status": status,
            "valid_from": (until - timedelta(days=3 * 365)).isoformat(), "valid_until": until.isoformat()}


def with_importer(aeo_id: str | None, importer: str = "12345678") -> bytes:
    claim = f"<AEOCertificateID>{aeo_id}</AEOCertificateID>" if aeo_id else ""
    party = f"<Importer><Name>Importer</Name><ID>{importer}</ID>{claim}</Importer>"
    return declaration_xml(lrn=f"LRN-AEO-{aeo_id or importer}").replace(
        b"<GoodsShipment>", party.encode() + b"<GoodsShipment>", 1)


def lodge(client: FlaskClient, body: bytes) -> dict:
    ack = client.post(API, data=body, headers=auth(accept="application/json"))
    assert ack.status_code == 202, ack.get_json()
    return client.get(f"{API}/{ack.get_json()['declaration_id']}", headers=auth(accept="application/json")).get_json()


def test_a_recognised_aeo_importer_earns_its_tier_benefits(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                           response_schema) -> None:
    register(clean_app, operator("12345678", tier=2))
    status = lodge(client, with_importer(None))
    aeo = status["aeo"]
    assert aeo["tier"] == 2 and aeo["risk_reduction_percent"] == 80 and aeo["queue_priority"] == 2
    assert aeo["green_lane_eligible"] is True
    assert {"role": "importer", "operator_id": "12345678", "tier": 2, "status": "active",
            "recognised": True} in aeo["parties"]
    info = [f for f in status["findings"] if f["code"] == "R702"]
    assert info and info[0]["severity"] == "info" and "Tier 2 AEO" in info[0]["message"]
    reference = status["declaration_id"]
    response_schema.assertValid(etree.fromstring(client.get(f"{API}/{reference}", headers=auth()).data))


def test_tier_one_earns_less(client: FlaskClient, clean_app: Flask) -> None:
    register(clean_app, operator("12345678", tier=1))
    aeo = lodge(client, with_importer(None))["aeo"]
    assert (aeo["tier"], aeo["risk_reduction_percent"], aeo["queue_priority"]) == (1, 60, 1)


def test_no_aeo_no_benefit(client: FlaskClient) -> None:
    aeo = lodge(client, with_importer(None))["aeo"]
    assert "tier" not in aeo and aeo["risk_reduction_percent"] == 0 and aeo["green_lane_eligible"] is False
    assert aeo["reasons"] == ["no party that counts is a recognised AEO: no AEO benefit"]


def test_a_claim_the_registry_does_not_confirm_is_held_without_benefit(client: FlaskClient, clean_app: Flask) -> None:
    register(clean_app, operator("87654321", status="suspended", name="Harbour Logistics Limited"))
    for claim, words in (("87654321", "suspended"), ("11223344", "not in the AEO registry")):
        status = lodge(client, with_importer(claim))
        held = [f for f in status["findings"] if f["code"] == "R701"]
        assert held and held[0]["severity"] == "hold", status["findings"]
        assert words in held[0]["message"] and held[0]["path"] == "/Declaration/Importer/AEOCertificateID"
        assert status["aeo"]["risk_reduction_percent"] == 0
        assert status["aeo"]["green_lane_eligible"] is False


def test_a_hold_finding_withdraws_green_lane_eligibility_but_not_the_tier(client: FlaskClient,
                                                                          clean_app: Flask) -> None:
    register(clean_app, operator("12345678"))
    duplicated = declaration_xml(lrn="LRN-AEO-DUP", items=2).replace(b"model 2", b"model 1")
    party = b"<Importer><Name>Importer</Name><ID>12345678</ID></Importer><GoodsShipment>"
    status = lodge(client, duplicated.replace(b"<GoodsShipment>", party, 1))
    assert "R204" in {f["code"] for f in status["findings"]}
    assert status["aeo"]["tier"] == 2 and status["aeo"]["green_lane_eligible"] is False
    assert any("held by R204" in reason for reason in status["aeo"]["reasons"])


def test_the_daily_job_expires_registrations_and_then_claims_are_held(client: FlaskClient, clean_app: Flask) -> None:
    register(clean_app, operator("12345678", valid_until=TODAY - timedelta(days=1)),
             operator("87654321", valid_until=TODAY + timedelta(days=90), name="Harbour Logistics Limited"),
             today=TODAY - timedelta(days=2))
    run = run_job(clean_app.extensions["csw"].database, "aeo-expiry", JOBS["aeo-expiry"], TODAY)
    assert run is not None and run.outcome == "ok"
    assert run.detail["expired"] == ["12345678"] and run.detail["renewals_due"] == ["87654321"]
    again = run_job(clean_app.extensions["csw"].database, "aeo-expiry", JOBS["aeo-expiry"], TODAY)
    assert again is not None and again.detail["expired"] == []
    status = lodge(client, with_importer("12345678"))
    assert "R701" in {f["code"] for f in status["findings"]}
    assert "expired" in next(f["message"] for f in status["findings"] if f["code"] == "R701")


def test_a_suspension_through_the_api_takes_effect_on_the_next_declaration(client: FlaskClient,
                                                                           clean_app: Flask) -> None:
    from app.users.clients import create_client, ensure_party

    register(clean_app, operator("12345678"))
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        create_client(session, "admin", ensure_party(session, "HKCED0001", "Customs and Excise Department"),
                      key="csw_test_admin_effects_000000000", role="admin")
    assert lodge(client, with_importer("12345678"))["aeo"]["tier"] == 2
    changed = client.post("/api/v1/aeo/operators/12345678/status", json={"action": "suspend", "reason": "audit"},
                          headers={"Authorization": "Bearer csw_test_admin_effects_000000000",
                                   "Accept": "application/json"})
    assert changed.status_code == 200
    body = declaration_xml(lrn="LRN-AEO-AFTER").replace(
        b"<GoodsShipment>", b"<Importer><Name>I</Name><ID>12345678</ID><AEOCertificateID>12345678</AEOCertificateID>"
                            b"</Importer><GoodsShipment>", 1)
    status = lodge(client, body)
    assert "R701" in {f["code"] for f in status["findings"]}
    assert "risk_reduction_percent" in status["aeo"] and status["aeo"]["risk_reduction_percent"] == 0
