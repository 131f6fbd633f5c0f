"""Issue 21: cleared sea and air manifests are routed through the outbox. A manifest whose
consignments are all cleared reaches the terminal of its customs office (webhook), the carrier
(RabbitMQ queue) and the partner customs of its foreign port; one with a selected consignment
reaches the terminal and the carrier as ``inspection`` and the partner only once an officer has
released it."""
from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import select

from app.cargo import manifests
from app.db.routing_models import OutboxMessage
from app.domain.actors import Caller
from app.domain.risk import Lane, RiskResult
from app.routing import subscribers
from app.routing.dispatcher import Dispatcher
from tests.conftest import CARRIER_KEY
from tests.integration.test_manifests_api import headers, manifest_xml
from tests.integration.test_routing_delivery import SECRET, Receiver, settings

ROUTING_XSD = etree.XMLSchema(etree.parse(str(Path(__file__).resolve().parents[2] / "schemas/routing/v1/routing.xsd")))


def _subscribe(app: Flask, role: str, transport: str, url: str, code: str | None = None,
               party_identifier: str | None = None, exchange: str | None = None) -> int:
    with app.extensions["csw"].sessions() as session, session.begin():
        return subscribers.add_subscriber(session, f"sub-{uuid.uuid4().hex[:8]}", role, transport, url, code,
                                          party_identifier=party_identifier, exchange=exchange, secret=SECRET,
                                          actor="test").id


def _routed(app: Flask, reference: str) -> list[tuple[int, etree._Element]]:
    with app.extensions["csw"].sessions() as session:
        rows = session.execute(select(OutboxMessage.subscriber_id, OutboxMessage.body)
                               .where(OutboxMessage.subject == f"manifest:{reference}")
                               .order_by(OutboxMessage.id)).all()
    documents = []
    for subscriber_id, body in rows:
        document = etree.fromstring(body)
        ROUTING_XSD.assertValid(document)
        documents.append((subscriber_id, document))
    return documents


def _decision(document: etree._Element) -> str:
    return document.findtext("{urn:csw:routing:v1}Decision") or ""


def _red() -> RiskResult:
    return RiskResult(score=90, probability=0.9, revenue_at_stake=Decimal(0), reasons=(), lane=Lane.RED,
                      lane_reason="test", random_sample=False, sample_draw=0.5, sample_seed="s",
                      model_version="test", policy_version="test")


def test_a_cleared_manifest_reaches_a_webhook_and_a_rabbitmq_queue(carriers: Flask, receiver: Receiver,
                                                                    rabbitmq_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import pika

    runtime = carriers.extensions["csw"]  # nothing selected: every consignment cleared
    monkeypatch.setattr(runtime, "manifests", replace(runtime.manifests, profile=lambda *_args: None))
    client = carriers.test_client()
    exchange, queue = f"csw.test.{uuid.uuid4().hex[:8]}", f"csw.test.{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    try:
        channel.exchange_declare(exchange=exchange, exchange_type="topic", auto_delete=False, durable=True)
        channel.queue_declare(queue=queue, exclusive=True)
        channel.queue_bind(queue=queue, exchange=exchange, routing_key="cargo_manifest_decision.HKKCG")
        terminal = _subscribe(carriers, "terminal", "webhook", receiver.start().url, code="HKKCG")
        carrier = _subscribe(carriers, "party", "amqp", rabbitmq_url, party_identifier="87654321", exchange=exchange)
        partner = _subscribe(carriers, "partner_customs", "webhook", receiver.url, code="shenzhen")
        answer = client.post("/api/v1/manifests", data=manifest_xml(LoadingLocationID="CNYTN"), headers=headers())
        assert answer.status_code == 202, answer.text
        reference = answer.get_json()["manifest_reference"]
        assert answer.get_json()["decision"] == "cleared"

        routed = _routed(carriers, reference)
        assert sorted(subscriber for subscriber, _ in routed) == sorted([terminal, carrier, partner])
        assert {_decision(document) for _, document in routed} == {"cleared"}
        lines = routed[0][1].findall(".//{urn:csw:routing:v1}Line")
        assert [line.findtext("{urn:csw:routing:v1}DocumentID") for line in lines] == ["HLCUSHA2612001",
                                                                                        "HLCUSHA2612002"]

        dispatcher = Dispatcher(carriers.extensions["csw"].database, settings(amqp_url=rabbitmq_url))
        assert dispatcher.drain().delivered == 3
        dispatcher.close()
        assert sorted(r["subject"] for r in receiver.accepted()) == [f"manifest:{reference}"] * 2
        assert all(r["signed"] == "True" for r in receiver.accepted())
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        assert method is not None and method.routing_key == "cargo_manifest_decision.HKKCG"
        assert properties.headers["X-CSW-Subject"] == f"manifest:{reference}"
        assert _decision(etree.fromstring(body)) == "cleared"
    finally:
        channel.exchange_delete(exchange)
        connection.close()


def test_a_selected_consignment_holds_the_partner_copy_until_an_officer_releases_it(
        carriers: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = carriers.extensions["csw"]
    monkeypatch.setattr(runtime, "manifests", replace(runtime.manifests, profile=lambda *_args: _red()))
    terminal = _subscribe(carriers, "terminal", "webhook", "https://terminal.example/hook", code="HKKCG")
    partner = _subscribe(carriers, "partner_customs", "webhook", "https://partner.example/hook", code="shenzhen")
    answer = carriers.test_client().post("/api/v1/manifests", data=manifest_xml(LoadingLocationID="CNYTN"),
                                         headers=headers(CARRIER_KEY))
    reference = answer.get_json()["manifest_reference"]
    assert answer.get_json()["decision"] == "inspection"
    assert [c["status"] for c in answer.get_json()["consignments"]] == ["selected", "selected"]
    assert [(s, _decision(d)) for s, d in _routed(carriers, reference)] == [(terminal, "inspection")]

    officer = Caller("officer:chan", role="officer")
    with runtime.unit_of_work() as uow:
        uow.write_lock()
        first, second = manifests.lines(uow.session, manifests.any_manifest(uow.session, reference))
        manifests.release_line(uow.session, reference, first.id, "examined, as declared", officer)
        uow.commit()
    assert len(_routed(carriers, reference)) == 1  # still one consignment selected: no new decision
    with runtime.unit_of_work() as uow:
        uow.write_lock()
        record = manifests.release_line(uow.session, reference, second.id, "examined, as declared", officer)
        uow.commit()
    assert record.decision == "cleared"
    routed = _routed(carriers, reference)
    assert [(s, _decision(d)) for s, d in routed[1:]] == [(terminal, "cleared"), (partner, "cleared")]
