"""Write-off against the shared contract, as manifests (sea and air) will drive it: a bill of
lading announced with ``CargoLineLodged``, its arrival with ``CargoMoved``; declarations that
name it cover it, an amendment replaces what they cover; an exempt line (transhipment on a
through document) is closed by its e-lock journey, never followed up."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.db import models
from app.db.writeoff_models import CargoLine, CargoLineCover, CargoLineEvent, CargoLineReference
from app.declarations import pipeline, service
from app.domain.events import CargoLineLodged, CargoMoved, JourneyReleased
from app.domain.time import hong_kong_date
from app.platform.clock import utcnow
from app.platform.uow import emit
from app.writeoff.service import follow_up
from tests.factories import declaration_xml
from tests.service.conftest import World

BL = "MAEU123456789"


def _announce(world: World, identifier: str, exempt: bool = False, packages: int = 10) -> None:
    now = utcnow()
    with world.uow() as uow:
        emit(uow.session, CargoLineLodged("BL", identifier, packages, Decimal("1000"), world.carrier.party_id or 0,
                                          exempt, world.carrier, now))
        emit(uow.session, CargoMoved("BL", identifier, now - timedelta(days=2), world.carrier, now))
        uow.commit()


def _bl(identifier: str, packages: int | None) -> str:
    quantity = f"<QuantityQuantity>{packages}</QuantityQuantity>" if packages else ""
    return f"<PreviousDocument><TypeCode>BL</TypeCode><ID>{identifier}</ID>{quantity}</PreviousDocument>"


def _line(world: World, identifier: str) -> CargoLine:
    with world.session() as session:
        line = session.scalar(select(CargoLine).where(CargoLine.identifier == identifier))
        assert line is not None
        return line


def test_a_bill_of_lading_is_written_off_by_the_declarations_naming_it(world: World) -> None:
    _announce(world, BL)
    outcome = world.lodge(declaration_xml(lrn="BL-DEC-1", consignment_extra=_bl(BL, 6), movement_at=None))
    with world.session() as session:
        codes = set(session.scalars(select(models.DeclarationFinding.code)
                                    .where(models.DeclarationFinding.declaration_id == outcome.receipt.id)))
    assert "R307" in codes and "R306" not in codes and "R304" not in codes
    assert _line(world, BL).status == "partial"
    with world.uow() as uow:
        pipeline.lodge(uow, world.runtime.lodging,
                       declaration_xml(lrn="BL-DEC-1", function_code="13", consignment_extra=_bl(BL, 10),
                                       movement_at=None),
                       pipeline.amendment(outcome.receipt.id, world.trader, "test"))
        uow.commit()
    line = _line(world, BL)
    assert line.status == "written_off" and line.packages_declared == 10


def test_an_exempt_line_is_closed_by_its_journey_and_never_followed_up(world: World) -> None:
    _announce(world, "THRU0000001", exempt=True)
    outcome = world.lodge(declaration_xml(lrn="BL-TS-1", consignment_extra=_bl("THRU0000001", None),
                                          movement_at=None))
    with world.uow() as uow:
        assert follow_up(uow.session, hong_kong_date(utcnow()) + timedelta(days=30),
                         world.runtime.reference.writeoff_rules, "test", utcnow()) == []
        emit(uow.session, JourneyReleased("TJ1", outcome.receipt.id, "released at destination", True,
                                          world.carrier, utcnow()))
        uow.commit()
    assert _line(world, "THRU0000001").status == "closed"


def test_a_declaration_lodged_before_its_manifest_covers_the_line_once_it_is_lodged(world: World) -> None:
    early = world.lodge(declaration_xml(lrn="BL-EARLY-1", consignment_extra=_bl("LATE0000001", 4)))
    withdrawn = world.lodge(declaration_xml(lrn="BL-EARLY-2", consignment_extra=_bl("LATE0000001", 6)))
    with world.uow() as uow:
        service.cancel(uow.session, withdrawn.receipt.id, "not shipped", world.trader, "test", utcnow())
        uow.commit()
    with world.session() as session:
        assert session.scalar(select(CargoLine).where(CargoLine.identifier == "LATE0000001")) is None
    _announce(world, "LATE0000001")
    line = _line(world, "LATE0000001")
    assert (line.status, line.packages_declared) == ("partial", 4)
    with world.session() as session:
        covering = set(session.scalars(select(CargoLineCover.declaration_id).where(CargoLineCover.line_id == line.id)))
        history = [(e.kind, e.declaration_id) for e in session.scalars(
            select(CargoLineEvent).where(CargoLineEvent.line_id == line.id).order_by(CargoLineEvent.id))]
        waiting = session.scalars(select(CargoLineReference)).all()
    assert covering == {early.receipt.id}
    assert history[:2] == [("lodged", None), ("covered", early.receipt.id)]
    assert waiting == []
