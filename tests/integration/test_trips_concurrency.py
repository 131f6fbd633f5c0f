"""Consignments of one trip released at the same moment (real threads, both backends): the
manifest ends cleared and is routed as cleared exactly once."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import models
from app.db.routing_models import OutboxMessage, Trip
from app.domain.declaration import DeclarationStatus
from app.domain.risk import LaneThresholds
from app.routing import subscribers
from app.domain.actors import Caller
from app.declarations.service import change_status
from tests.conftest import TRADER_BRN, TRADER_KEY
from tests.factories import declaration_xml

HEADERS = {"Authorization": f"Bearer {TRADER_KEY}", "Content-Type": "application/json", "Accept": "application/json"}


def test_simultaneous_releases_clear_the_manifest_once(client: FlaskClient, clean_app: Flask,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Every declaration green and none drawn for the random sample: the trip waits ("pending")
    # until the releases race, whatever today's draw would be.
    engine = clean_app.extensions["csw"].risk
    monkeypatch.setattr(engine, "policy", replace(engine.policy, thresholds=LaneThresholds(yellow=100, red=100),
                                                  sample_rate=0.0))
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        subscribers.add_subscriber(session, "trader", "party", "pull", party_identifier=TRADER_BRN,
                                   actor="test")
    references = []
    for n in range(4):
        response = client.post("/api/v1/declarations", data=declaration_xml(lrn=f"LRN-RACE-{n}"),
                               headers={**HEADERS, "Content-Type": "application/xml"})
        references.append(response.get_json()["declaration_id"])
    crossing = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    trip_id = client.post("/api/v1/trips", headers=HEADERS, data=json.dumps({
        "vehicle_registration_id": "XY1234", "control_point_id": "HKLMC", "expected_crossing_datetime": crossing,
        "consignments": references})).get_json()["trip_id"]

    barrier = threading.Barrier(len(references))
    errors: list[BaseException] = []

    def release(reference: str) -> None:
        try:
            sessions = clean_app.extensions["csw"].sessions
            with sessions() as session:
                barrier.wait()
                with session.begin():
                    row = session.scalar(select(models.Declaration).where(models.Declaration.id == reference)
                                         .with_for_update())
                    change_status(session, row, DeclarationStatus.RELEASED, "released",
                                  Caller(actor=f"officer:{reference}"), None)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=release, args=(reference,)) for reference in references]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with clean_app.extensions["csw"].sessions() as session:
        assert session.get(Trip, trip_id).decision == "cleared"
        manifests = list(session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.message_type == "manifest_decision")))
    assert len(manifests) == 1 and b"<Decision>cleared</Decision>" in manifests[0]
