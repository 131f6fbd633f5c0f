"""Read-only look-ups of cargo lines: for the declaration pipeline (which lines a declaration
names exist, and when they moved) and for the API (a line's write-off)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.db.models import Declaration
from app.db.writeoff_models import CargoLine, CargoLineCover, CargoLineEvent
from app.domain.actors import Caller
from app.domain.declaration import PreviousDocument
from app.domain.problems import Rejection
from app.domain.writeoff import LINE_KINDS


def known_lines(session: Session, previous: Sequence[PreviousDocument]) -> dict[tuple[str, str], datetime | None]:
    """(kind, identifier) -> when it moved (None: not yet), for the lines among ``previous``
    customs hold, whoever lodged them: one indexed read, none without previous documents."""
    keys = sorted({(d.type_code, d.identifier) for d in previous if d.type_code in LINE_KINDS})
    if not keys:
        return {}
    rows = session.execute(select(CargoLine.kind, CargoLine.identifier, CargoLine.moved_at)
                           .where(tuple_(CargoLine.kind, CargoLine.identifier).in_(keys))).all()
    return {(kind, identifier): moved for kind, identifier, moved in rows}


def line_for(session: Session, kind: str, identifier: str, caller: Caller) -> CargoLine:
    """The line if the caller may see it: the party responsible for it, or customs; anyone
    else's answers like a missing one."""
    query = select(CargoLine).where(CargoLine.kind == kind.upper(), CargoLine.identifier == identifier)
    if not caller.is_customs:
        query = query.where(CargoLine.responsible_party_id == caller.party_id)
    line = session.scalar(query)
    if line is None:
        raise Rejection("NOT_FOUND", f"no cargo line {kind[:4]} {identifier[:40]}")
    return line


def covers(session: Session, line: CargoLine) -> list[CargoLineCover]:
    return list(session.scalars(select(CargoLineCover).where(CargoLineCover.line_id == line.id)
                                .order_by(CargoLineCover.id)))


def history(session: Session, line: CargoLine) -> list[CargoLineEvent]:
    return list(session.scalars(select(CargoLineEvent).where(CargoLineEvent.line_id == line.id)
                                .order_by(CargoLineEvent.id)))


def lines_named(session: Session, kind: str, identifiers: Sequence[str]) -> dict[str, CargoLine]:
    """identifier -> line of that kind, for a page of cargo (one read)."""
    if not identifiers:
        return {}
    rows = session.scalars(select(CargoLine).where(CargoLine.kind == kind, CargoLine.identifier.in_(identifiers)))
    return {line.identifier: line for line in rows}


def own_covers(session: Session, line: CargoLine, party_id: int | None) -> list[CargoLineCover]:
    """What the party's own declarations cover of the line; another party's declarations
    naming it are not shown (the declarant is often not the lodger)."""
    return list(session.scalars(
        select(CargoLineCover).join(Declaration, Declaration.id == CargoLineCover.declaration_id)
        .where(CargoLineCover.line_id == line.id, Declaration.declarant_party_id == party_id)
        .order_by(CargoLineCover.id)))


def any_line(session: Session, kind: str, identifier: str) -> CargoLine | None:
    """Any party's line, for officers."""
    return session.scalar(select(CargoLine).where(CargoLine.kind == kind.upper(), CargoLine.identifier == identifier))
