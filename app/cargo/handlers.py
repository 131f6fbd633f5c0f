"""Road cargo follows its truck: the crossing of the trip it is bundled to moves it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.cargo.service import LINE_KIND, moved
from app.domain.events import CargoMoved


def on_cargo_moved(session: Session, event: CargoMoved) -> None:
    if event.kind == LINE_KIND:
        moved(session, event.identifier, event.moved_at, event.caller.actor, event.at)
