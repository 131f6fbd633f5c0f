"""Declaration use cases through the unit of work, against a real database, without Flask:
what lodging, amending, cancelling and officers' decisions store, and what the other
capabilities do about it in the same transaction."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.cases import service as cases
from app.db import models
from app.db.case_models import Case, User
from app.db.routing_models import OutboxMessage, Trip
from app.db.transit_models import ELock, Journey
from app.declarations import pipeline
from app.declarations import service as declarations
from app.domain.cases import Decision
from app.domain.events import DeclarationLodged
from app.domain.problems import Rejection
from app.platform.clock import utcnow
from app.platform.uow import UnhandledEvents, emit
from app.routing.subscribers import add_subscriber
from app.users.service import create_user
from app.trips import service as trips
from tests.factories import declaration_xml
from tests.service.conftest import World, every_score, sample


def _officer(world: World) -> User:
    with world.runtime.sessions() as session, session.begin():
        user = create_user(session, "chan", "officer", "a long enough password", password_hash="x")
    return user


def _events(world: World, reference: str) -> list[tuple[str, str | None, str]]:
    with world.session() as session:
        return [(e.kind, e.status_from, e.status_to) for e in session.scalars(
            select(models.DeclarationEvent).where(models.DeclarationEvent.declaration_id == reference)
            .order_by(models.DeclarationEvent.id))]


def test_a_red_lane_declaration_is_stored_with_its_case_and_risk_assessment(world: World) -> None:
    every_score(world, "red")
    outcome = world.lodge(declaration_xml(lrn="RED-1"))
    assert outcome.receipt.status == "accepted" and not outcome.replay
    with world.session() as session:
        row = session.get(models.Declaration, outcome.receipt.id)
        assert row is not None and row.lane == "red"
        case = session.scalar(select(Case).where(Case.declaration_id == row.id))
        assert case is not None and case.state == "open" and case.lane == "red"
    assert _events(world, outcome.receipt.id) == [("submitted", None, "accepted")]


def test_a_clean_green_declaration_is_released_through_the_one_status_change(world: World) -> None:
    every_score(world, "green", release_green=True)
    with world.runtime.sessions() as session, session.begin():
        add_subscriber(session, "trader", "party", "pull", party_identifier=world.trader.party_identifier,
                       actor="test")
    outcome = world.lodge(declaration_xml(lrn="GREEN-1"))
    assert outcome.receipt.status == "released"
    assert _events(world, outcome.receipt.id) == [("submitted", None, "accepted"), ("released", "accepted", "released")]
    with world.session() as session:
        notices = session.scalars(select(OutboxMessage.message_type)).all()
        assert notices == ["release_notice"]
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_an_identical_resend_is_a_replay_and_a_different_one_a_conflict(world: World) -> None:
    first = world.lodge(declaration_xml(lrn="SAME-1"))
    again = world.lodge(declaration_xml(lrn="SAME-1"))
    assert again.replay and again.receipt.id == first.receipt.id
    with pytest.raises(Rejection) as refused:
        world.lodge(declaration_xml(lrn="SAME-1", value="999.00"))
    assert refused.value.code == "DUPLICATE_LRN"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Declaration)) == 1


def test_a_handler_that_refuses_rolls_the_whole_lodgement_back(world: World) -> None:
    """The transhipment names an e-lock already sealing another journey: the transit handler
    refuses at commit, and neither the declaration nor anything else of it is stored."""
    world.lodge(sample("valid/transhipment-elock.xml"))
    body = sample("valid/transhipment-elock.xml").replace(b"<FunctionalReferenceID>", b"<FunctionalReferenceID>B-")
    with pytest.raises(Rejection) as refused:
        world.lodge(body)
    assert refused.value.code == "TRANSIT_REJECTED"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Declaration)) == 1
        assert session.scalar(select(func.count()).select_from(Journey)) == 1
        assert session.scalar(select(func.count()).select_from(models.DeclarationEvent)) == 1


def test_cancelling_closes_the_case_and_frees_the_elock(world: World) -> None:
    every_score(world, "red")
    outcome = world.lodge(sample("valid/transhipment-elock.xml"))
    with world.uow() as uow:
        declarations.cancel(uow.session, outcome.receipt.id, "goods not shipped", world.trader, "test")
        uow.commit()
    with world.session() as session:
        case = session.scalar(select(Case).where(Case.declaration_id == outcome.receipt.id))
        assert case is not None and case.state == "closed" and case.decision == "declaration_cancelled"
        journey = session.scalar(select(Journey).where(Journey.declaration_id == outcome.receipt.id))
        assert journey is not None and journey.state == "cancelled"
        lock = session.scalar(select(ELock).where(ELock.elock_id == journey.elock_id))
        assert lock is not None and lock.status == "available"
    assert _events(world, outcome.receipt.id)[-1] == ("cancelled", "accepted", "cancelled")


def test_an_officers_reroute_to_green_releases_the_declaration_and_clears_the_truck(world: World) -> None:
    """A lane change and the release it brings both reach the trip's manifest."""
    every_score(world, "yellow")
    outcome = world.lodge(declaration_xml(lrn="REROUTE-1"))
    officer = _officer(world)
    rules = world.runtime.reference.routing_rules
    with world.uow() as uow:
        trip = trips.open_trip(uow.session, world.trader, "XY1234", "HKLMC", utcnow() + timedelta(hours=2),
                               rules=rules)
        trips.link(uow.session, trip.id, [outcome.receipt.id], world.trader, rules=rules)
        uow.commit()
    with world.session() as session:
        assert session.get(Trip, trip.id).decision == "inspection"  # type: ignore[union-attr]
    with world.uow() as uow:
        case_id = uow.session.scalar(select(Case.id).where(Case.declaration_id == outcome.receipt.id))
        assert case_id is not None
        cases.claim(uow.session, case_id, officer)
        cases.decide(uow.session, case_id, officer, cases.DecisionRequest(Decision.REROUTE, "paperwork fine",
                                                                          lane="green"), None)
        uow.commit()
    with world.session() as session:
        row = session.get(models.Declaration, outcome.receipt.id)
        assert row is not None and row.lane == "green" and row.status == "released"
        assert session.get(Trip, trip.id).decision == "cleared"  # type: ignore[union-attr]
        case = session.get(Case, case_id)
        assert case is not None and case.state == "closed" and case.decision == "rerouted_green"
    kinds = [kind for kind, _, _ in _events(world, outcome.receipt.id)]
    assert kinds == ["submitted", "lane_changed", "released"]


def test_events_on_a_session_without_handlers_are_refused_not_lost(world: World,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.orm import Session as PlainSession

    from app.platform import uow as unit_of_work

    monkeypatch.setattr(unit_of_work, "_installed", [False])  # a process whose start-up installed no table

    with PlainSession(world.runtime.engine) as session:
        session.begin()
        emit(session, DeclarationLodged("HK26DAAAAAAAAAA0", None, None, False, world.trader, utcnow()))  # type: ignore[arg-type]
        with pytest.raises(UnhandledEvents):
            session.commit()
        session.rollback()


def test_a_rollback_drops_the_queued_events(world: World) -> None:
    every_score(world, "red")
    with world.uow() as uow:
        received = world.runtime.lodging.receive(declaration_xml(lrn="DROPPED-1"))
        now = utcnow()
        assessed = world.runtime.lodging.assess(uow.session, received.declaration, now)
        risk = world.runtime.lodging.score(uow.session, received, assessed, None)
        pipeline.submission(world.trader, "test")(uow.session, received, assessed, now, risk)
        uow.rollback()
        uow.session.commit()  # nothing left to handle, nothing stored
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(models.Declaration)) == 0
