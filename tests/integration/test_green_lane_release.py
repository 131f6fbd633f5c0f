"""Green lane means release (the default lane policy, ``[green] release = true``): a clean
declaration that needs no officer is released in the lodging transaction, its release notice
routed and its truck told to proceed; everything else waits for an officer or a journey."""
from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.db.case_models import Case
from app.db.risk_models import RiskAssessment
from app.db.routing_models import OutboxMessage
from app.domain.risk import LaneThresholds
from tests.conftest import OTHER_KEY, TRADER_BRN, TRADER_KEY, auth, sample
from tests.factories import declaration_xml
from tests.integration.test_trips_api import add_subscriber, json_headers, open_trip


@pytest.fixture()
def releasing(clean_app: Flask, database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient]]:
    """The service as deployed: the lane policy's own ``[green] release`` setting (but no random
    sample, which would send a green declaration to an officer now and then)."""
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="100000 per second")
    app = create_app(settings)
    engine = app.extensions["csw"].risk
    if engine is not None:
        app.extensions["csw"].risk = replace(engine, policy=replace(engine.policy, sample_rate=0.0))
    yield app, app.test_client()
    app.extensions["csw"].engine.dispose()


def _lodge(client: FlaskClient, body: bytes) -> dict[str, object]:
    answer = client.post("/api/v1/declarations", data=body, headers=auth(TRADER_KEY, "application/json"))
    assert answer.status_code == 202, answer.text
    return answer.get_json()


def test_a_clean_green_declaration_is_released_with_its_notice(releasing: tuple[Flask, FlaskClient]) -> None:
    app, client = releasing
    add_subscriber(app, "trader", "party", party=TRADER_BRN)
    ack = _lodge(client, declaration_xml(lrn="GREEN-1"))
    assert ack["status"] == "released" and ack["risk"]["lane"] == "green"  # type: ignore[index]
    reference = str(ack["declaration_id"])
    status = client.get(f"/api/v1/declarations/{reference}", headers=auth(TRADER_KEY, "application/json")).get_json()
    history = [(event["kind"], event["actor"].split(":")[0], event["actor"].split(":")[-1])
               for event in status["history"]]
    assert history == [("submitted", "client", "trader-tms"), ("released", "system", "lane-policy")], history
    assert status["history"][1]["note"] == "released on the green lane"
    with app.extensions["csw"].sessions() as session:
        notices = session.scalars(select(OutboxMessage)
                                  .where(OutboxMessage.subject == f"declaration:{reference}")).all()
        assert [notice.message_type for notice in notices] == ["release_notice"]
        # the criteria stay inside
        assert b"released on the green lane" in notices[0].body and b"score" not in notices[0].body
        assert session.scalar(select(Case.id).where(Case.declaration_id == reference)) is None
    refused = client.post(f"/api/v1/declarations/{reference}/cancellation", data=json.dumps({"reason": "late"}),
                          headers={**auth(TRADER_KEY, "application/json"), "Content-Type": "application/json"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "CANCELLATION_NOT_ALLOWED"


def test_the_truck_carrying_green_cargo_is_told_to_proceed(releasing: tuple[Flask, FlaskClient]) -> None:
    _app, client = releasing
    first = str(_lodge(client, declaration_xml(lrn="GREEN-TRIP-1"))["declaration_id"])
    second = str(_lodge(client, declaration_xml(lrn="GREEN-TRIP-2"))["declaration_id"])
    trip = open_trip(client, consignments=[first, second]).get_json()
    kiosk = client.get(f"/api/v1/trips/{trip['trip_id']}/decision", headers=json_headers()).get_json()
    assert kiosk["decision"] == "cleared" and kiosk["instruction"] == "proceed"


def test_a_hold_finding_waits_for_an_officer_even_in_the_green_lane(releasing: tuple[Flask, FlaskClient]) -> None:
    """An AEO claim the registry does not confirm (R701, hold) opens a case: nothing is released."""
    app, client = releasing
    engine = app.extensions["csw"].risk  # a policy that sends every score to the green lane
    engine.policy = replace(engine.policy, thresholds=LaneThresholds(yellow=100, red=100))
    answer = client.post("/api/v1/declarations", data=sample("demo/harbour-laptops-unconfirmed-aeo-claim.xml"),
                         headers=auth(OTHER_KEY, "application/json"))
    assert answer.status_code == 202, answer.text
    ack = answer.get_json()
    assert "R701" in {finding["code"] for finding in ack["findings"]}
    assert ack["status"] == "accepted" and ack["risk"]["lane"] == "green"
    with app.extensions["csw"].sessions() as session:
        case = session.scalar(select(Case).where(Case.declaration_id == ack["declaration_id"]))
        assert case is not None and case.state == "open"


def test_a_transhipment_waits_for_its_journey(releasing: tuple[Flask, FlaskClient]) -> None:
    _app, client = releasing
    ack = _lodge(client, sample("valid/transhipment-elock.xml"))
    assert ack["status"] == "accepted"


def test_the_demo_walkthrough_amends_and_cancels_a_held_declaration(
        releasing: tuple[Flask, FlaskClient]) -> None:
    """docs/demo.md in order on the default service: the samples are released at once, so the
    walkthrough amends and cancels ``samples/walkthrough/held-liquor.xml``, which rule R501
    holds for an officer."""
    _app, client = releasing
    assert _lodge(client, sample("valid/import-5-items.xml"))["status"] in ("released", "accepted")
    held = _lodge(client, sample("walkthrough/held-liquor.xml"))
    assert held["status"] == "accepted"
    assert "R501" in [f["code"] for f in held["findings"]]  # type: ignore[union-attr]
    reference = held["declaration_id"]
    amended = client.post(f"/api/v1/declarations/{reference}/amendments",
                          data=sample("walkthrough/held-liquor-amendment.xml"),
                          headers=auth(TRADER_KEY, "application/json"))
    assert amended.status_code == 202, amended.text
    assert amended.get_json()["version"] == 2
    cancelled = client.post(f"/api/v1/declarations/{reference}/cancellation", json={"reason": "order withdrawn"},
                            headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.get_json()["status"] == "cancelled"


def test_a_batch_releases_its_green_declarations_and_sends_its_samples_to_officers(
        releasing: tuple[Flask, FlaskClient]) -> None:
    """Lodged in bulk, each declaration keeps its risk assessment; the green ones are released
    with their events, the random samples get a case that says they were sampled."""
    app, client = releasing
    headers = {**auth(TRADER_KEY, "application/json"), "Content-Type": "application/xml"}

    def batch(*lrns: str) -> list[dict[str, object]]:
        body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<DeclarationBatch xmlns="urn:csw:declaration-batch:v1">'
                + b"".join(declaration_xml(lrn=lrn).split(b"?>", 1)[1] for lrn in lrns) + b"</DeclarationBatch>")
        answer = client.post("/api/v1/declaration-batches", data=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return list(answer.get_json()["results"])

    green = batch("BULK-GREEN-1", "BULK-GREEN-2")
    assert [r["status"] for r in green] == ["released", "released"]
    engine = app.extensions["csw"].risk
    engine.policy = replace(engine.policy, sample_rate=1.0)
    sampled = batch("BULK-SAMPLE-1", "BULK-SAMPLE-2")
    assert [r["status"] for r in sampled] == ["accepted", "accepted"]
    with app.extensions["csw"].sessions() as session:
        for result in green + sampled:
            reference = result["declaration_id"]
            assessed = session.scalars(select(RiskAssessment.random_sample)
                                       .where(RiskAssessment.declaration_id == reference)).all()
            assert assessed == [result in sampled]
            case = session.scalar(select(Case).where(Case.declaration_id == reference))
            assert (case.selection if case is not None else None) == ("random" if result in sampled else None)
