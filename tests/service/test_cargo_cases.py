"""Cargo selected before it moves is an entry in the officers' queue, kept by app/cases from
the cargo capabilities' events alone: one case per consignment, updated on amendment, closed
when released or withdrawn by whichever path; a line left open after the period to declare is
an entry in the same queue."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.cases.service import QueueFilter, queue_page
from app.db.case_models import Case, CaseEvent
from app.domain.events import CargoLineLodged, CargoMoved, CargoSelected, CargoSelectionClosed, SelectedCargo
from app.platform.clock import utcnow
from app.platform.uow import emit
from app.writeoff import rules as writeoff_rules
from app.writeoff.service import follow_up
from tests.service.conftest import World

SCOPE = "MNL:HK26M0000000001/"
BOTH = (f"{SCOPE}MAEU123456789/1", f"{SCOPE}MAEU123456789/2")


def _cargo(sequence: int, lane: str = "red") -> SelectedCargo:
    reference = f"{SCOPE}MAEU123456789/{sequence}"
    return SelectedCargo(reference=reference, lane=lane, risk_score=70, control_point="HKKCG",
                         conveyance="HARBOUR PIONEER 012E", document="BL MAEU123456789",
                         consignment=f"{sequence}: 10 CT, kettles", carrier="Harbour Logistics Limited",
                         reasons=((reference, f"BL MAEU123456789/{sequence}: {lane} lane",
                                   f"BL MAEU123456789/{sequence}：{lane}通道"),),
                         deadline_at=utcnow() + timedelta(days=1))


def _emit(world: World, *events: object) -> None:
    with world.uow() as uow:
        emit(uow.session, *events)
        uow.commit()


def _cases(world: World) -> list[Case]:
    with world.session() as session:
        return list(session.scalars(select(Case).where(Case.source == "cargo").order_by(Case.id)))


def test_one_case_per_selected_consignment_updated_and_closed_by_events(world: World) -> None:
    actor = world.carrier.actor
    _emit(world, CargoSelected(BOTH, (_cargo(1), _cargo(2)), "deselected", actor, utcnow()))
    first, second = _cases(world)
    assert first.active and first.lane == "red" and first.reasons[0]["message_zh"]
    with world.session() as session:
        assert {c.id for c in queue_page(session, QueueFilter()).cases} >= {first.id, second.id}
    # an amendment: the first now yellow, the second no longer selected
    _emit(world, CargoSelected(BOTH, (_cargo(1, "yellow"),), "deselected", actor, utcnow()))
    first, second = _cases(world)
    assert first.active and first.lane == "yellow" and not second.active and second.decision == "deselected"
    # the same again changes nothing (no event)
    _emit(world, CargoSelected(BOTH, (_cargo(1, "yellow"),), "deselected", actor, utcnow()))
    _emit(world, CargoSelectionClosed((first.cargo_ref or "",), "released", "officer:officer", "examined", utcnow()))
    first, _ = _cases(world)
    assert not first.active and first.decision == "released"
    with world.session() as session:
        events = session.execute(select(CaseEvent.kind, CaseEvent.actor, CaseEvent.note)
                                 .where(CaseEvent.case_id == first.id).order_by(CaseEvent.id)).all()
    assert [tuple(e) for e in events] == [("opened", actor, None), ("updated", actor, None),
                                          ("closed", "officer:officer", "examined")]


def test_a_withdrawn_manifest_closes_every_case_of_it_and_only_its(world: World) -> None:
    actor = world.carrier.actor
    other = SelectedCargo(**{**{f: getattr(_cargo(1), f) for f in SelectedCargo.__slots__},  # type: ignore[attr-defined]
                             "reference": "MNL:HK26M0000000002/MAEU123456789/1"})
    _emit(world, CargoSelected(BOTH, (_cargo(1), _cargo(2)), "deselected", actor, utcnow()),
          CargoSelected((other.reference,), (other,), "deselected", actor, utcnow()))
    _emit(world, CargoSelectionClosed(BOTH, "cargo_cancelled", actor, "voyage cancelled", utcnow()))
    assert [(c.active, c.decision) for c in _cases(world)] == [
        (False, "cargo_cancelled"), (False, "cargo_cancelled"), (True, None)]


def test_a_line_still_open_after_the_period_is_an_entry_in_the_same_queue(world: World) -> None:
    now = utcnow()
    _emit(world, CargoLineLodged("BL", "MAEU999999999", 10, Decimal("1000"), world.carrier.party_id or 0, False,
                                 world.carrier, now),
          CargoMoved("BL", "MAEU999999999", now - timedelta(days=20), world.carrier, now))
    rules = writeoff_rules.load(world.runtime.settings.rules_dir)
    with world.uow() as uow:
        assert follow_up(uow.session, (now + timedelta(hours=8)).date(), rules, "job:cargo-write-off", now) == [
            "BL MAEU999999999"]
        uow.commit()
    with world.session() as session:
        queued = queue_page(session, QueueFilter()).cases
        assert [(c.source, c.reasons[0]["code"]) for c in queued] == [("write-off", "BL:MAEU999999999")]
