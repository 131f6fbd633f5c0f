"""One test per event handler: the event reaches its handler through the unit of work, in the
change's transaction, and the handler does what the capability promises. Where an event is
easier to raise by hand than through a use case, it is emitted directly."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import describe, handler_table
from app.db import models
from app.db.case_models import Case, DocumentRequest
from app.db.risk_models import InspectionOutcome, RiskAssessment
from app.db.routing_models import OutboxMessage, Trip
from app.db.transit_models import ELock, Journey, JourneyAlert
from app.declarations import service as declarations
from app.domain import events
from app.domain.declaration import DeclarationStatus
from app.platform.clock import utcnow
from app.platform.uow import emit
from app.routing.subscribers import add_subscriber
from app.trips import service as trips
from tests.factories import declaration_xml
from tests.service.conftest import World, every_score, sample


def _row(session: Session, reference: str) -> models.Declaration:
    row = session.get(models.Declaration, reference)
    assert row is not None
    return row


def _emit(world: World, *raised: object) -> None:
    with world.uow() as uow:
        emit(uow.session, *raised)
        uow.commit()


def _subscribe_trader(world: World) -> None:
    with world.runtime.sessions() as session, session.begin():
        add_subscriber(session, "trader", "party", "pull", party_identifier=world.trader.party_identifier,
                       actor="test")


def _messages(world: World) -> list[tuple[str, str]]:
    with world.session() as session:
        return [(m.message_type, m.subject) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _trip_with(world: World, *references: str) -> str:
    rules = world.runtime.reference.routing_rules
    with world.uow() as uow:
        trip = trips.open_trip(uow.session, world.trader, "XY1234", "HKLMC", utcnow() + timedelta(hours=2),
                               rules=rules)
        trips.link(uow.session, trip.id, list(references), world.trader, rules=rules)
        uow.commit()
        return trip.id


def _decision(world: World, trip_id: str) -> str:
    with world.session() as session:
        trip = session.get(Trip, trip_id)
        assert trip is not None
        return trip.decision


def _case(world: World, reference: str) -> Case | None:
    with world.session() as session:
        return session.scalar(select(Case).where(Case.declaration_id == reference).order_by(Case.id.desc()))


def _amend(world: World, reference: str, body: bytes) -> None:
    from app.declarations import pipeline

    with world.uow() as uow:
        pipeline.lodge(uow, world.runtime.lodging, body, pipeline.amendment(reference, world.trader, "test"),
                       reference)
        uow.commit()


# --- DeclarationLodged --------------------------------------------------------------------

def test_risk_stores_the_assessment_of_a_lodged_declaration(world: World) -> None:
    reference = world.lodge(declaration_xml(lrn="H-RISK-1")).receipt.id
    with world.session() as session:
        assert session.scalars(select(RiskAssessment.version).where(
            RiskAssessment.declaration_id == reference)).all() == [1]


def test_transit_opens_the_journey_of_a_lodged_transhipment(world: World) -> None:
    reference = world.lodge(sample("valid/transhipment-elock.xml")).receipt.id
    with world.session() as session:
        journey = session.scalar(select(Journey).where(Journey.declaration_id == reference))
        assert journey is not None and journey.state == "registered"
        assert session.scalar(select(ELock.status).where(ELock.elock_id == journey.elock_id)) == "in_use"


def test_cases_open_a_case_for_a_lodged_declaration_that_needs_an_officer(world: World) -> None:
    every_score(world, "red")
    needs = world.lodge(declaration_xml(lrn="H-CASE-1")).receipt.id
    every_score(world, "green")
    clean = world.lodge(declaration_xml(lrn="H-CASE-2")).receipt.id
    opened = _case(world, needs)
    assert opened is not None and opened.state == "open" and opened.lane == "red"
    assert _case(world, clean) is None


# --- DeclarationAmended -------------------------------------------------------------------

def test_risk_stores_the_assessment_of_each_amended_version(world: World) -> None:
    reference = world.lodge(declaration_xml(lrn="H-AMEND-1")).receipt.id
    _amend(world, reference, declaration_xml(lrn="H-AMEND-1", function_code="13", value="1500.00"))
    with world.session() as session:
        assert session.scalars(select(RiskAssessment.version).where(RiskAssessment.declaration_id == reference)
                               .order_by(RiskAssessment.version)).all() == [1, 2]


def test_transit_replans_the_journey_when_an_amendment_changes_the_elock(world: World) -> None:
    body = sample("valid/transhipment-elock.xml")
    reference = world.lodge(body).receipt.id
    amended = body.replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>").replace(
        b"EL-000123", b"EL-000124")
    _amend(world, reference, amended)
    with world.session() as session:
        states = dict(session.execute(select(Journey.elock_id, Journey.state).where(
            Journey.declaration_id == reference)).all())
    assert states == {"EL-000123": "cancelled", "EL-000124": "registered"}


def test_trips_follow_an_amendment_into_the_red_lane(world: World) -> None:
    every_score(world, "green")
    reference = world.lodge(declaration_xml(lrn="H-TRIP-AM")).receipt.id
    trip_id = _trip_with(world, reference)
    assert _decision(world, trip_id) == "pending"
    every_score(world, "red")
    _amend(world, reference, declaration_xml(lrn="H-TRIP-AM", function_code="13", value="1500.00"))
    assert _decision(world, trip_id) == "inspection"


def test_cases_open_a_case_when_an_amendment_needs_an_officer(world: World) -> None:
    every_score(world, "green")
    reference = world.lodge(declaration_xml(lrn="H-CASE-AM")).receipt.id
    assert _case(world, reference) is None
    every_score(world, "yellow")
    _amend(world, reference, declaration_xml(lrn="H-CASE-AM", function_code="13", value="1500.00"))
    case = _case(world, reference)
    assert case is not None and case.lane == "yellow"


# --- DeclarationStatusChanged -------------------------------------------------------------

def test_routing_routes_the_notice_of_a_new_status(world: World) -> None:
    _subscribe_trader(world)
    reference = world.lodge(declaration_xml(lrn="H-NOTICE")).receipt.id
    with world.uow() as uow:
        declarations.change_status(uow.session, _row(uow.session, reference), DeclarationStatus.REFUSED, "refused",
                                   "officer:chan", None, note="wrong goods")
        uow.commit()
    assert _messages(world) == [("refusal_notice", f"declaration:{reference}")]


def test_trips_clear_the_truck_when_its_last_consignment_is_released(world: World) -> None:
    reference = world.lodge(declaration_xml(lrn="H-TRIP-ST")).receipt.id
    trip_id = _trip_with(world, reference)
    assert _decision(world, trip_id) == "pending"
    with world.uow() as uow:
        declarations.change_status(uow.session, _row(uow.session, reference), DeclarationStatus.RELEASED,
                                   "released", "officer:chan", None)
        uow.commit()
    assert _decision(world, trip_id) == "cleared"


def test_transit_releases_the_journeys_held_at_their_destination(world: World) -> None:
    reference = world.lodge(sample("valid/transhipment-elock.xml")).receipt.id
    with world.runtime.sessions() as session, session.begin():
        journey = session.scalar(select(Journey).where(Journey.declaration_id == reference))
        assert journey is not None
        journey.state, journey.unsealed_at = "arrived", utcnow()
    with world.uow() as uow:
        declarations.change_status(uow.session, _row(uow.session, reference), DeclarationStatus.RELEASED,
                                   "released", "officer:chan", None, note="checked")
        uow.commit()
    with world.session() as session:
        assert session.scalar(select(Journey.state).where(Journey.declaration_id == reference)) == "released"


# --- DeclarationLaneChanged ---------------------------------------------------------------

def test_trips_follow_a_lane_change(world: World) -> None:
    every_score(world, "green")
    reference = world.lodge(declaration_xml(lrn="H-LANE")).receipt.id
    trip_id = _trip_with(world, reference)
    with world.uow() as uow:
        declarations.change_lane(uow.session, _row(uow.session, reference), "red", "officer:chan", None,
                                 note="lane green -> red: tip-off")
        uow.commit()
    assert _decision(world, trip_id) == "inspection"


# --- DeclarationCancelled -----------------------------------------------------------------

def test_transit_ends_the_journeys_of_a_cancelled_declaration(world: World) -> None:
    reference = world.lodge(sample("valid/transhipment-elock.xml")).receipt.id
    with world.uow() as uow:
        declarations.cancel(uow.session, reference, "not shipped", world.trader, "test")
        uow.commit()
    with world.session() as session:
        assert session.scalar(select(Journey.state).where(Journey.declaration_id == reference)) == "cancelled"
        assert session.scalar(select(ELock.status).where(ELock.elock_id == "EL-000123")) == "available"


def test_cases_close_the_case_of_a_cancelled_declaration(world: World) -> None:
    every_score(world, "red")
    reference = world.lodge(declaration_xml(lrn="H-CANCEL")).receipt.id
    with world.uow() as uow:
        declarations.cancel(uow.session, reference, "not shipped", world.trader, "test")
        uow.commit()
    case = _case(world, reference)
    assert case is not None and case.state == "closed" and case.decision == "declaration_cancelled"


# --- officers' decisions ------------------------------------------------------------------

def _decided(world: World, kind: type[events.OfficerDecision], **extra: object) -> tuple[str, str, str | None]:
    every_score(world, "red")
    reference = world.lodge(declaration_xml(lrn=f"H-{kind.__name__}")).receipt.id
    _emit(world, kind(1, reference, "looked at it", "officer:chan", "conv", utcnow(), **extra))
    with world.session() as session:
        row = _row(session, reference)
        last = session.scalars(select(models.DeclarationEvent).where(
            models.DeclarationEvent.declaration_id == reference).order_by(models.DeclarationEvent.id.desc())).first()
        assert last is not None and last.actor == "officer:chan"
        return row.status, last.kind, row.lane


def test_declarations_apply_a_release_decision(world: World) -> None:
    assert _decided(world, events.ReleaseDecided) == ("released", "released", "red")


def test_declarations_apply_a_refusal_decision(world: World) -> None:
    assert _decided(world, events.RefusalDecided) == ("refused", "refused", "red")


def test_declarations_apply_an_inspection_order(world: World) -> None:
    assert _decided(world, events.InspectionOrdered) == ("under_review", "inspection_ordered", "red")


def test_declarations_apply_a_documents_request(world: World) -> None:
    assert _decided(world, events.DocumentsRequested, documents="invoice") == (
        "under_review", "documents_requested", "red")


def test_declarations_apply_a_reroute(world: World) -> None:
    assert _decided(world, events.RerouteDecided, lane_from="red", lane_to="yellow") == (
        "accepted", "lane_changed", "yellow")
    assert _decided(world, events.RerouteDecided, lane_from="red", lane_to="green")[:2] == ("released", "released")


def test_risk_keeps_an_inspection_outcome_as_training_data(world: World) -> None:
    reference = world.lodge(declaration_xml(lrn="H-OUTCOME")).receipt.id
    _emit(world, events.InspectionOutcomeRecorded(1, reference, "discrepancy", Decimal("120.00"), True, "short",
                                                  "officer:chan", utcnow()))
    with world.session() as session:
        outcome = session.scalar(select(InspectionOutcome).where(InspectionOutcome.declaration_id == reference))
        assert outcome is not None and outcome.result == "discrepancy" and outcome.random_sample is True
        assert outcome.revenue_recovered == Decimal("120.00")


# --- the portal and transit ---------------------------------------------------------------

def test_cases_take_back_a_case_whose_documents_were_answered(world: World) -> None:
    every_score(world, "red")
    reference = world.lodge(declaration_xml(lrn="H-DOCS")).receipt.id
    with world.runtime.sessions() as session, session.begin():
        case = session.scalar(select(Case).where(Case.declaration_id == reference))
        assert case is not None
        case.state = "awaiting_documents"
        request = DocumentRequest(case_id=case.id, declaration_id=reference, documents="invoice", message="please",
                                  requested_by="officer:chan", requested_at=utcnow())
        session.add(request)
        session.flush()
        request_id = request.id
    _emit(world, events.DocumentsAnswered(request_id, reference, "user:trader", utcnow()))
    case = _case(world, reference)
    assert case is not None and case.state == "open"
    with world.session() as session:
        assert session.get(DocumentRequest, request_id).answered_at is not None  # type: ignore[union-attr]


def test_cases_open_a_case_for_a_transit_alert(world: World) -> None:
    reference = world.lodge(sample("valid/transhipment-elock.xml")).receipt.id
    with world.runtime.sessions() as session, session.begin():
        journey = session.scalar(select(Journey).where(Journey.declaration_id == reference))
        assert journey is not None
        alert = JourneyAlert(journey_id=journey.id, declaration_id=reference, kind="tamper", occurred_at=utcnow(),
                             raised_at=utcnow(), message="seal opened", evidence={})
        session.add(alert)
        session.flush()
        alert_id, journey_id = alert.id, journey.id
    _emit(world, events.TransitAlertRaised(alert_id, journey_id, reference, "tamper", utcnow(), {}, "gateway"))
    case = _case(world, reference)
    assert case is not None and case.alert_kind == "tamper" and case.state == "open"


def test_declarations_release_a_transhipment_once_its_last_journey_is_released(world: World) -> None:
    reference = world.lodge(sample("valid/transhipment-elock.xml")).receipt.id
    _emit(world, events.JourneyReleased("HK26JAAAAAAAAAA0", reference, "arrived intact", False, world.trader,
                                        utcnow()))
    with world.session() as session:
        assert _row(session, reference).status == "accepted"
    _emit(world, events.JourneyReleased("HK26JAAAAAAAAAA0", reference, "arrived intact", True, world.trader,
                                        utcnow()))
    with world.session() as session:
        assert _row(session, reference).status == "released"


def test_routing_routes_a_changed_manifest(world: World) -> None:
    _subscribe_trader(world)
    reference = world.lodge(declaration_xml(lrn="H-MANIFEST")).receipt.id
    trip_id = _trip_with(world, reference)
    assert _messages(world) == []  # a pending manifest is routed once decided
    with world.uow() as uow:
        declarations.change_status(uow.session, _row(uow.session, reference), DeclarationStatus.RELEASED,
                                   "released", "officer:chan", None)
        uow.commit()
    assert ("manifest_decision", f"trip:{trip_id}") in _messages(world)


def test_every_handler_in_the_table_is_documented_in_order(world: World) -> None:
    """docs/architecture.md shows the table the code runs."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("<!-- handler-table:start -->")[1].split("<!-- handler-table:end -->")[0]
    documented = [(cells[1].strip("` "), [h.strip() for h in cells[3].split(",")])
                  for cells in (line.split("|") for line in section.strip().splitlines()[2:])]
    table = handler_table(world.runtime.reference.routing_rules, world.runtime.reference.network,
                          world.runtime.reference.writeoff_rules)
    assert documented == describe(table)


# --- revenue ---------------------------------------------------------------------------------

LIQUOR = sample("valid/import-liquor.xml")


def _on_time(body: bytes, lrn: str) -> bytes:
    import re

    from tests.factories import recent_movement

    body = re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(), body)
    return re.sub(rb"<FunctionalReferenceID>[^<]*</FunctionalReferenceID>",
                  f"<FunctionalReferenceID>{lrn}</FunctionalReferenceID>".encode(), body)


def _demands(world: World, reference: str) -> list[str]:
    from app.db.revenue_models import DutyDemand

    with world.session() as session:
        return [d.state for d in session.scalars(select(DutyDemand).where(DutyDemand.declaration_id == reference)
                                                  .order_by(DutyDemand.id))]


def test_revenue_raises_a_demand_for_a_dutiable_lodgement(world: World) -> None:
    reference = world.lodge(_on_time(LIQUOR, "H-DUTY-1")).receipt.id
    assert _demands(world, reference) == ["due"]
    assert _demands(world, world.lodge(declaration_xml(lrn="H-NODUTY")).receipt.id) == []


def test_revenue_reconciles_the_demands_of_an_amendment(world: World) -> None:
    from app.declarations import pipeline

    reference = world.lodge(_on_time(LIQUOR, "H-DUTY-2")).receipt.id
    weaker = _on_time(LIQUOR, "H-DUTY-2").replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>")
    weaker = weaker.replace(b"<AlcoholStrengthPercent>40</AlcoholStrengthPercent>",
                            b"<AlcoholStrengthPercent>30</AlcoholStrengthPercent>")
    with world.uow() as uow:
        pipeline.lodge(uow, world.runtime.lodging, weaker, pipeline.amendment(reference, world.trader, "t"), reference)
        uow.commit()
    assert _demands(world, reference) == ["withdrawn"]


def test_revenue_withdraws_the_demands_of_a_refused_declaration(world: World) -> None:
    reference = world.lodge(_on_time(LIQUOR, "H-DUTY-3")).receipt.id
    with world.uow() as uow:
        declarations.change_status(uow.session, _row(uow.session, reference), DeclarationStatus.REFUSED, "refused",
                                   "officer:chan", None, note="undervalued")
        uow.commit()
    assert _demands(world, reference) == ["withdrawn"]


def test_declarations_release_what_waited_once_the_duty_is_settled(world: World) -> None:
    reference = world.lodge(_on_time(LIQUOR, "H-DUTY-4")).receipt.id
    with world.uow() as uow:
        row = _row(uow.session, reference)
        assert not declarations.release(uow.session, row, "officer:chan", None, "ok")
        uow.commit()
    _emit(world, events.DutySettled("HK26MAAAAAAAAAA0", reference, world.trader.party_id or 0, Decimal("1"), "paid",
                                    "receipt X", False, "test", utcnow()))
    with world.session() as session:
        assert _row(session, reference).status == "accepted"  # something is still due
    from app.db.revenue_models import DutyDemand

    with world.runtime.sessions() as session, session.begin():  # as revenue.service.pay leaves it
        for demand in session.scalars(select(DutyDemand).where(DutyDemand.declaration_id == reference)):
            demand.state = "paid"
    _emit(world, events.DutySettled("HK26MAAAAAAAAAA0", reference, world.trader.party_id or 0, Decimal("1"), "paid",
                                    "receipt X", True, "test", utcnow()))
    with world.session() as session:
        row = _row(session, reference)
        assert row.status == "released" and not row.release_on_settlement


def test_routing_routes_duty_notices_to_the_declarant(world: World) -> None:
    _subscribe_trader(world)
    reference = world.lodge(declaration_xml(lrn="H-NOTICE")).receipt.id
    party = world.trader.party_id or 0
    _emit(world, events.DutyDemandRaised("HK26MAAAAAAAAAA0", reference, party, Decimal("5.00"), "test", utcnow()),
          events.DutySettled("HK26MAAAAAAAAAA0", reference, party, Decimal("5.00"), "paid", "receipt R", True,
                             "test", utcnow()),
          events.DutySettled(None, reference, party, Decimal("0"), "not_owed", "cancelled", True, "test", utcnow()),
          events.DutyRefunded("HK26FAAAAAAAAAA0", "HK26MAAAAAAAAAA0", reference, party, Decimal("5.00"), "cancelled",
                              "test", utcnow()))
    assert _messages(world) == [("duty_demand_notice", f"declaration:{reference}"),
                                ("duty_settled_notice", f"declaration:{reference}"),
                                ("duty_refund_notice", f"declaration:{reference}")]
