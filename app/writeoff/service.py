"""Write-off use cases: keep each cargo line as its lodger states it, record what each live
declaration covers of it (its previous documents), reconcile, and follow up the lines still
open when the period to declare has run out. Services never commit.

Handlers feed it from the events of road cargo and manifests (``CargoLineLodged``,
``CargoLineCancelled``, ``CargoMoved``), declarations (lodged, amended, cancelled, refused)
and transit (a journey released closes an exempt line)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.writeoff_models import CargoLine, CargoLineCover, CargoLineEvent, CargoLineReference
from app.domain.declaration import PreviousDocument
from app.domain.events import CargoLineOverdue
from app.domain.findings import Finding
from app.domain.time import HONG_KONG
from app.domain.writeoff import FOLLOWED_UP, LINE_KINDS, Cover, LineStatus, reconcile
from app.platform.uow import emit
from app.writeoff.rules import WriteOffRules

IDENTIFIER_LENGTH = 40  # no line is named by a longer identifier
FINAL = frozenset({LineStatus.CANCELLED.value, LineStatus.CLOSED.value})


def _event(session: Session, line: CargoLine, kind: str, actor: str, now: datetime,
           declaration_id: str | None = None, note: str | None = None) -> None:
    session.add(CargoLineEvent(line_id=line.id, kind=kind, status=line.status, declaration_id=declaration_id,
                               actor=actor, occurred_at=now, note=note))


def _line(session: Session, kind: str, identifier: str, *, for_update: bool = True) -> CargoLine | None:
    query = select(CargoLine).where(CargoLine.kind == kind, CargoLine.identifier == identifier)
    return session.scalar(query.with_for_update() if for_update else query)


def _label(line: CargoLine) -> str:
    return f"{line.kind} {line.identifier}"


def _finding(finding: Finding) -> dict[str, object]:
    return {"code": finding.code, "severity": finding.severity.value, "message": finding.message_en,
            "message_zh": finding.message_zh}


def _values(line: CargoLine, rules: WriteOffRules) -> dict[str, object]:
    return {"line": _label(line), "packages": line.package_count, "declared": line.packages_declared,
            "mass": f"{line.gross_mass:f}", "mass_declared": f"{line.mass_declared:f}",
            "moved": line.moved_at.astimezone(HONG_KONG).date().isoformat() if line.moved_at else "-",
            "days": rules.period_days}


def reconcile_line(session: Session, line: CargoLine, rules: WriteOffRules, actor: str, now: datetime,
                   declaration_id: str | None = None, kind: str = "reconciled") -> None:
    """Status and findings from the live covers; a change is recorded."""
    if line.status in FINAL:
        return
    covers = session.execute(select(CargoLineCover.package_count, CargoLineCover.gross_mass)
                             .where(CargoLineCover.line_id == line.id)).all()
    result = reconcile(line.package_count, line.gross_mass, (Cover(p, m) for p, m in covers),
                       rules.mass_tolerance_percent)
    before = (line.status, line.packages_declared, line.mass_declared)
    line.status, line.packages_declared, line.mass_declared = (result.status.value, result.packages_declared,
                                                               result.mass_declared)
    kept = [f for f in line.findings if f.get("status") == "overdue"]
    rule = rules.for_status(line.status)
    if rule is not None:
        kept.append({**_finding(rule.finding(_values(line, rules))), "status": line.status})
    line.findings = kept
    if (line.status, line.packages_declared, line.mass_declared) != before:
        line.updated_at = now
        _event(session, line, kind, actor, now, declaration_id)


def line_lodged(session: Session, kind: str, identifier: str, package_count: int, gross_mass: Decimal,
                responsible_party_id: int, exempt: bool, actor: str, now: datetime, rules: WriteOffRules) -> None:
    """A new line, or new figures for one (an amendment): reconciled again."""
    line = _line(session, kind, identifier)
    if line is None:
        line = CargoLine(kind=kind, identifier=identifier, package_count=package_count, gross_mass=gross_mass,
                         responsible_party_id=responsible_party_id, exempt=exempt, status=LineStatus.OPEN.value,
                         packages_declared=0, mass_declared=Decimal(0), findings=[], lodged_at=now, updated_at=now)
        session.add(line)
        session.flush()
        _event(session, line, "lodged", actor, now)
        _covered_by_earlier_declarations(session, line, rules, actor, now)
        return
    line.package_count, line.gross_mass, line.exempt = package_count, gross_mass, exempt
    line.responsible_party_id, line.updated_at = responsible_party_id, now
    _event(session, line, "amended", actor, now)
    reconcile_line(session, line, rules, actor, now)


def _covered_by_earlier_declarations(session: Session, line: CargoLine, rules: WriteOffRules, actor: str,
                                     now: datetime) -> None:
    """Declarations lodged before the line (a manifest late, cargo lodged after) already name
    it: each now covers it, and the line is reconciled once per declaration (one event each)."""
    waiting = session.scalars(select(CargoLineReference)
                              .where(CargoLineReference.kind == line.kind,
                                     CargoLineReference.identifier == line.identifier)
                              .order_by(CargoLineReference.id)).all()
    for reference in waiting:
        session.add(CargoLineCover(line_id=line.id, declaration_id=reference.declaration_id,
                                   package_count=reference.package_count, gross_mass=reference.gross_mass,
                                   covered_at=now))
        session.delete(reference)
        session.flush()
        reconcile_line(session, line, rules, actor, now, reference.declaration_id, "covered")


def line_cancelled(session: Session, kind: str, identifier: str, actor: str, now: datetime) -> None:
    line = _line(session, kind, identifier)
    if line is None or line.status in FINAL:
        return
    line.status, line.updated_at = LineStatus.CANCELLED.value, now
    _event(session, line, "cancelled", actor, now)


def line_moved(session: Session, kind: str, identifier: str, moved_at: datetime, actor: str, now: datetime) -> None:
    """The movement date: the period to declare runs from here (the first movement counts)."""
    line = _line(session, kind, identifier)
    if line is None or line.moved_at is not None:
        return
    line.moved_at, line.updated_at = moved_at, now
    _event(session, line, "moved", actor, now)


def _documents(previous: Iterable[PreviousDocument]) -> dict[tuple[str, str], PreviousDocument]:
    """The lines a declaration names (the first mention of each counts)."""
    named: dict[tuple[str, str], PreviousDocument] = {}
    for document in previous:
        if document.type_code in LINE_KINDS:
            named.setdefault((document.type_code, document.identifier), document)
    return named


def declaration_covers(session: Session, declaration_id: str, previous: Sequence[PreviousDocument],
                       actor: str, now: datetime, rules: WriteOffRules, *, first_version: bool = False) -> None:
    """What the declaration (lodged or amended) covers replaces what it covered before; every
    line touched is reconciled. A line not (yet) known is not covered: the declaration's own
    rules flag the unknown reference, and the reference waits for the line (covering it once
    it is lodged). ``first_version``: a declaration just lodged covers nothing yet, so there is
    nothing before to read or remove (three statements fewer on the lodging path)."""
    named = _documents(previous)
    before: set[int] = set()
    if not first_version:
        before = set(session.scalars(select(CargoLineCover.line_id)
                                     .where(CargoLineCover.declaration_id == declaration_id)))
        session.execute(delete(CargoLineCover).where(CargoLineCover.declaration_id == declaration_id))
        session.execute(delete(CargoLineReference).where(CargoLineReference.declaration_id == declaration_id))
    lines: dict[int, CargoLine] = {}
    for (kind, identifier), document in sorted(named.items()):
        line = _line(session, kind, identifier)
        if line is None:
            if len(identifier) > IDENTIFIER_LENGTH:
                continue
            session.add(CargoLineReference(kind=kind, identifier=identifier, declaration_id=declaration_id,
                                           package_count=document.package_count,
                                           gross_mass=document.gross_mass, named_at=now))
            continue
        lines[line.id] = line
        session.add(CargoLineCover(line_id=line.id, declaration_id=declaration_id,
                                   package_count=document.package_count, gross_mass=document.gross_mass,
                                   covered_at=now))
    if lines or before:
        session.flush()  # reconciling reads the covers just added
    for line_id in sorted(before - set(lines)):
        line = session.get(CargoLine, line_id, with_for_update=True)
        if line is not None:
            reconcile_line(session, line, rules, actor, now, declaration_id, "uncovered")
    for line in lines.values():
        reconcile_line(session, line, rules, actor, now, declaration_id, "covered")


def declaration_withdrawn(session: Session, declaration_id: str, actor: str, now: datetime,
                          rules: WriteOffRules) -> None:
    """A cancelled or refused declaration covers nothing any more."""
    declaration_covers(session, declaration_id, (), actor, now, rules)


def journey_released(session: Session, declaration_id: str, actor: str, now: datetime) -> int:
    """An exempt line (transhipment on a through document) named by the declaration whose
    e-lock journeys all ended released is closed: it needs no trade declaration."""
    lines = session.scalars(
        select(CargoLine).join(CargoLineCover, CargoLineCover.line_id == CargoLine.id)
        .where(CargoLineCover.declaration_id == declaration_id, CargoLine.exempt.is_(True))
        .order_by(CargoLine.id).with_for_update()).all()
    closed = 0
    for line in lines:
        if line.status in FINAL:
            continue
        line.status, line.updated_at = LineStatus.CLOSED.value, now
        _event(session, line, "closed", actor, now, declaration_id, "e-lock journey released")
        closed += 1
    return closed


def follow_up_cutoff(today: date, period_days: int) -> datetime:
    """Lines that moved before this instant have had their full period by ``today``: the
    period is counted in Hong Kong days after the day of movement."""
    return datetime.combine(today - timedelta(days=period_days), time(0), HONG_KONG)


def follow_up(session: Session, today: date, rules: WriteOffRules, actor: str, now: datetime,
              limit: int = 1000) -> list[str]:
    """Lines still open or partial after their period: each is followed up once (a finding,
    a ``CargoLineOverdue`` that opens a case and notifies the party responsible)."""
    cutoff = follow_up_cutoff(today, rules.period_days)
    lines = session.scalars(
        select(CargoLine).where(CargoLine.status.in_(sorted(FOLLOWED_UP)), CargoLine.moved_at < cutoff,
                                CargoLine.exempt.is_(False), CargoLine.followed_up_at.is_(None))
        .order_by(CargoLine.moved_at, CargoLine.id).limit(limit).with_for_update()).all()
    followed = []
    rule = rules.for_status("overdue")
    for line in lines:
        assert line.moved_at is not None
        line.followed_up_at, line.updated_at = now, now
        if rule is not None:
            line.findings = [*line.findings, {**_finding(rule.finding(_values(line, rules))), "status": "overdue"}]
        _event(session, line, "followed_up", actor, now)
        declarations = tuple(session.scalars(select(CargoLineCover.declaration_id)
                                             .where(CargoLineCover.line_id == line.id)
                                             .order_by(CargoLineCover.declaration_id)))
        emit(session, CargoLineOverdue(line.kind, line.identifier, line.responsible_party_id, line.moved_at,
                                       line.package_count, line.packages_declared, declarations, actor, now))
        followed.append(_label(line))
    return followed
