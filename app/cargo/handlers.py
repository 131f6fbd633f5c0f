"""Road cargo follows its truck: the crossing of the trip it is bundled to moves it. An
officer's decision on a cargo case is applied through the cargo's own services."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.cargo import manifests, service
from app.cargo.service import LINE_KIND, moved
from app.domain.actors import Caller
from app.domain.events import CargoCaseDecided, CargoMoved


def on_cargo_moved(session: Session, event: CargoMoved) -> None:
    if event.kind == LINE_KIND:
        moved(session, event.identifier, event.moved_at, event.caller.actor, event.at)



def on_cargo_case_decided(session: Session, event: CargoCaseDecided) -> None:
    """Released or sent for inspection from the officers' queue: the same service as the manifest
    page (sea, air) or the officers' API (road)."""
    if event.reference.startswith(f"{manifests.QUEUE_KIND}:"):
        manifests.decide_from_case(session, event.reference, event.decision, event.note, Caller(event.actor),
                                   event.at)
    elif event.reference.startswith(f"{service.QUEUE_KIND}:"):
        service.decide_from_case(session, event.reference, event.decision, event.note, event.actor, event.at)
