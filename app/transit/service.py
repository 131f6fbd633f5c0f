"""Single e-lock journeys: registration, opening a journey for a transhipment declaration,
telemetry intake, the overdue/silence check, release under mutual recognition, views.

Services take an open session and never commit; the request, CLI or job commits. Telemetry
intake is the hot path: one query per table per batch, Core executemany inserts, and the
journey rules run as a pure fold (``app.domain.transit``) over readings placed with
prepared, vectorised geometry.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.db import models
from app.db.session import rowcount
from app.db.transit_models import ELock, Journey, JourneyAlert, JourneyEvent, TelemetryEvent, TransitCompany, \
    TransitRegistryEvent, TransitVehicle
from app.domain.declaration import Declaration, DeclarationType
from app.domain.problems import Problem, Rejection
from app.domain.transit import (
    CLOSED_STATES,
    AlertDraft,
    AlertKind,
    JourneyState,
    Progress,
    Reading,
    ReadingKind,
    Step,
    Transition,
    advance,
    decide,
    external_alert,
    overdue_alerts,
    progress_from_json,
    progress_to_json,
)
from app.domain import paths
from app.domain.actors import Caller
from app.transit.network import Network, project
from app.transit.telemetry import GatewayEvent
from app.domain.events import JourneyReleased, TransitAlertRaised
from app.platform.uow import emit

MODES = ("air-land", "sea-land")
ELOCK_STATUSES = ("available", "in_use", "faulty", "retired")
BR_NUMBER = re.compile(r"\d{8}")
# HK registration marks: usually 2 letters + 1-9999, no leading zero, no I, O or Q (domain brief §7).
VEHICLE_MARK = re.compile(r"[A-HJ-NPR-Z]{2}[1-9][0-9]{0,3}")
ELOCK_ID = re.compile(r"[0-9A-Z][0-9A-Z\-]{0,34}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; none belongs in a name
OPEN_STATES = tuple(s.value for s in JourneyState if s not in CLOSED_STATES)
TRANSIT_REJECTED = "TRANSIT_REJECTED"
log = logging.getLogger("csw.transit")


def _invalid(path: str, rule: str, message: str) -> Rejection:
    return Rejection("INVALID_PARAMETER", message, [Problem(message=message, path=path, rule=rule)])


# --- registration -------------------------------------------------------------------------
# Every registration and administrative change writes a ``transit_registry_events`` row in
# the caller's transaction; a call that changes nothing writes none.

SUBJECT_KINDS = ("company", "vehicle", "elock")
NOTE_LENGTH = 500


def _record(session: Session, subject_kind: str, subject_id: str, kind: str, actor: str, now: datetime,
            before: dict[str, object] | None, after: dict[str, object], note: str | None) -> None:
    """One registry event; ``detail`` holds only the fields that changed, from and to."""
    changed = [key for key in after if before is None or before.get(key) != after[key]]
    detail: dict[str, object] = {"to": {key: after[key] for key in changed}}
    if before is not None:
        detail["from"] = {key: before.get(key) for key in changed}
    session.add(TransitRegistryEvent(subject_kind=subject_kind, subject_id=subject_id, kind=kind, actor=actor,
                                     occurred_at=now, detail=detail, note=_note(note)))


def _note(note: str | None) -> str | None:
    """The reason given, trimmed; too long, or with control characters (a NUL breaks
    PostgreSQL), it is refused."""
    if note is None or not note.strip():
        return None
    if len(note) > NOTE_LENGTH or CONTROL_CHARACTERS.search(note.replace("\n", " ").replace("\t", " ")):
        raise _invalid("note", "note", f"the note must be at most {NOTE_LENGTH} characters, without control "
                                       "characters")
    return note.strip()


def register_company(session: Session, br_number: str, name: str, mode: str, now: datetime, *, actor: str,
                     note: str | None = None) -> TransitCompany:
    """A participating company (its BR number, as in ROCARS) and its mode; re-registering updates."""
    if not BR_NUMBER.fullmatch(br_number or ""):
        raise _invalid("br_number", "br-number", f"BR number {br_number[:20]!r} is not 8 digits")
    if mode not in MODES:
        raise _invalid("mode", "mode", f"mode must be one of {', '.join(MODES)}")
    if not name or not name.strip() or len(name) > 140 or CONTROL_CHARACTERS.search(name):
        raise _invalid("name", "name", "name must be 1 to 140 characters, without control characters")
    note = _note(note)
    after: dict[str, object] = {"name": name.strip(), "mode": mode}
    company = session.scalar(select(TransitCompany).where(TransitCompany.br_number == br_number).with_for_update())
    if company is None:
        company = TransitCompany(br_number=br_number, name=name.strip(), mode=mode, registered_at=now)
        session.add(company)
        _record(session, "company", br_number, "registered", actor, now, None, after, note)
    elif {"name": company.name, "mode": company.mode} != after:
        before: dict[str, object] = {"name": company.name, "mode": company.mode}
        company.name, company.mode = name.strip(), mode
        _record(session, "company", br_number, "updated", actor, now, before, after, note)
    session.flush()
    return company


def register_vehicle(session: Session, registration_mark: str, company_br: str, now: datetime, *, actor: str,
                     note: str | None = None) -> TransitVehicle:
    """A vehicle of a registered company; re-registering it for another company moves it."""
    mark = (registration_mark or "").strip().upper().replace(" ", "")
    if not VEHICLE_MARK.fullmatch(mark):
        raise _invalid("registration_mark", "vehicle-mark",
                       f"{registration_mark[:20]!r} is not a HK registration mark (2 letters without I, O, Q, "
                       "then 1-9999 without a leading zero)")
    if not BR_NUMBER.fullmatch(company_br or ""):
        raise _invalid("company", "br-number", f"company {company_br[:20]!r} is not an 8-digit BR number")
    note = _note(note)
    company = session.scalar(select(TransitCompany).where(TransitCompany.br_number == company_br))
    if company is None:
        raise Rejection("NOT_FOUND", f"no registered company {company_br[:20]}",
                        [Problem(message="register the company first", path="company", rule="company-registered")])
    vehicle = session.scalar(select(TransitVehicle).where(TransitVehicle.registration_mark == mark)
                           .with_for_update(of=TransitVehicle))
    if vehicle is None:
        vehicle = TransitVehicle(registration_mark=mark, company_id=company.id, registered_at=now)
        session.add(vehicle)
        _record(session, "vehicle", mark, "registered", actor, now, None, {"company": company.br_number}, note)
    elif vehicle.company_id != company.id:
        before: dict[str, object] = {"company": vehicle.company.br_number}
        vehicle.company_id = company.id
        _record(session, "vehicle", mark, "updated", actor, now, before, {"company": company.br_number}, note)
    session.flush()
    session.refresh(vehicle, ["company"])
    return vehicle


def register_elock(session: Session, elock_id: str, supplier: str, now: datetime,
                   network: Network, *, actor: str, note: str | None = None) -> ELock:
    """An accredited e-lock, ``available``; re-registering changes its supplier only."""
    if not ELOCK_ID.fullmatch(elock_id or ""):
        raise _invalid("elock_id", "elock-id", f"{elock_id[:40]!r} is not an e-lock id (0-9, A-Z and -)")
    if supplier not in network.suppliers:
        raise _invalid("supplier", "accredited-supplier",
                       f"{supplier[:60]!r} is not an accredited supplier ({', '.join(network.suppliers)})")
    note = _note(note)
    lock = session.scalar(select(ELock).where(ELock.elock_id == elock_id).with_for_update())
    if lock is None:
        lock = ELock(elock_id=elock_id, supplier=supplier, status="available", registered_at=now, updated_at=now)
        session.add(lock)
        _record(session, "elock", elock_id, "registered", actor, now, None,
                {"supplier": supplier, "status": "available"}, note)
    elif lock.supplier != supplier:
        before: dict[str, object] = {"supplier": lock.supplier}
        lock.supplier, lock.updated_at = supplier, now
        _record(session, "elock", elock_id, "updated", actor, now, before, {"supplier": supplier}, note)
    session.flush()
    return lock


def set_elock_status(session: Session, elock_id: str, status: str, now: datetime, *, actor: str,
                     note: str | None = None) -> ELock:
    """Mark a lock faulty, retired or available again; ``in_use`` is set by journeys only
    (and recorded on their timelines)."""
    if status not in ("available", "faulty", "retired"):
        raise _invalid("status", "elock-status", "status must be available, faulty or retired")
    note = _note(note)
    found = ELOCK_ID.fullmatch(elock_id or "")
    lock = session.scalar(select(ELock).where(ELock.elock_id == elock_id).with_for_update()) if found else None
    if lock is None:
        raise Rejection("NOT_FOUND", f"no e-lock {elock_id[:40]}")
    if lock.status == "in_use":
        raise Rejection("ELOCK_IN_USE", f"e-lock {elock_id} seals journey {lock.journey_id}; it changes status "
                                        "when that journey ends", [Problem(message="in use", path="status",
                                                                           rule="elock-one-journey")])
    if lock.status != status:
        _record(session, "elock", elock_id, "status_changed", actor, now, {"status": lock.status},
                {"status": status}, note)
        lock.status, lock.updated_at = status, now
    session.flush()
    return lock


def registry_history(session: Session, subject_kind: str, subject_id: str) -> list[TransitRegistryEvent]:
    """Everything done to one company (BR number), vehicle (mark) or e-lock, oldest first."""
    if subject_kind not in SUBJECT_KINDS:
        raise _invalid("subject_kind", "subject-kind", f"subject must be one of {', '.join(SUBJECT_KINDS)}")
    if subject_kind == "vehicle":
        subject_id = (subject_id or "").strip().upper().replace(" ", "")
    return list(session.scalars(select(TransitRegistryEvent).where(
        TransitRegistryEvent.subject_kind == subject_kind, TransitRegistryEvent.subject_id == subject_id)
        .order_by(TransitRegistryEvent.id)))


# --- opening and closing journeys ---------------------------------------------------------

def _new_journey_id(now: datetime) -> str:
    return f"TJ{now:%y}{secrets.token_hex(5).upper()}"


def _timeline(journey_id: str, transition: Transition, source: str, actor: str) -> dict[str, object]:
    return {"journey_id": journey_id, "kind": transition.kind, "state_from": transition.state_from.value,
            "state_to": transition.state_to.value, "occurred_at": transition.at, "source": source, "actor": actor,
            "telemetry_event_id": transition.event_id, "note": transition.note}


def _insert(session: Session, model: type[models.Base], rows: list[dict[str, object]]) -> None:
    if rows:
        session.connection().execute(models.table_of(model).insert(), rows)


def open_journey_for_declaration(session: Session, declaration_id: str, declaration: Declaration, caller: Caller,
                                 now: datetime, network: Network) -> Journey | None:
    """Open a ``registered`` journey per e-lock of a transhipment (TS) declaration; None for
    other types. Refuses (TRANSIT_REJECTED, 422, nothing stored) a declaration naming no
    approved route, an unregistered vehicle, or an e-lock that is unknown or not available:
    the trader must fix the declaration."""
    if declaration.type is not DeclarationType.TRANSHIPMENT:
        return None
    problems: list[Problem] = []
    route = network.route_between(declaration.departure_location, declaration.control_point,
                                  declaration.destination_location)
    if route is None:
        approved = ", ".join(f"{r.origin} via {r.control_point} to {r.destination}" for r in network.routes.values())
        problems.append(Problem(
            message=f"no approved e-lock route from {declaration.departure_location} via "
                    f"{declaration.control_point or '(no control point)'} to {declaration.destination_location}; "
                    f"approved: {approved}",
            path=f"{paths.CONSIGNMENT}/ControlPointID", rule="approved-route"))
    mark = declaration.conveyance_id
    vehicle = None if mark is None else session.scalar(
        select(TransitVehicle.id).where(TransitVehicle.registration_mark == mark))
    if vehicle is None:
        problems.append(Problem(message=f"vehicle {mark or '(none)'} is not registered for the e-lock scheme",
                                path=f"{paths.CONSIGNMENT}/ConveyanceID", rule="vehicle-registered"))
    sealed = [(index, e) for index, e in enumerate(declaration.equipment) if e.elock_id]
    ids = [e.elock_id for _, e in sealed]
    locks = {lock.elock_id: lock for lock in session.scalars(select(ELock).where(ELock.elock_id.in_(ids)))}
    seen: set[str] = set()
    for index, equipment in sealed:
        path = paths.equipment(declaration, index, "ELockID")
        lock = locks.get(equipment.elock_id or "")
        if equipment.elock_id in seen:
            problems.append(Problem(message=f"e-lock {equipment.elock_id} is named twice", path=path,
                                    rule="elock-one-journey"))
        elif lock is None:
            problems.append(Problem(message=f"e-lock {equipment.elock_id} is not registered", path=path,
                                    rule="elock-registered"))
        elif lock.status != "available":
            busy = f" (sealing journey {lock.journey_id})" if lock.status == "in_use" else ""
            problems.append(Problem(message=f"e-lock {equipment.elock_id} is {lock.status}{busy}", path=path,
                                    rule="elock-available"))
        seen.add(equipment.elock_id or "")
    if problems:
        raise Rejection(TRANSIT_REJECTED, "the transhipment cannot move under e-lock as declared", problems)
    assert route is not None
    first: Journey | None = None
    for index, equipment in sealed:
        journey_id = _new_journey_id(now)
        claimed = rowcount(session.execute(
            update(ELock).where(ELock.elock_id == equipment.elock_id, ELock.status == "available")
            .values(status="in_use", journey_id=journey_id, updated_at=now)
            .execution_options(synchronize_session=False)
        ))
        if claimed != 1:
            raise Rejection(TRANSIT_REJECTED, "the transhipment cannot move under e-lock as declared", [Problem(
                message=f"e-lock {equipment.elock_id} was taken by another journey meanwhile",
                path=paths.equipment(declaration, index, "ELockID"), rule="elock-available")])
        journey = Journey(
            id=journey_id, declaration_id=declaration_id, elock_id=equipment.elock_id, vehicle_mark=mark,
            container_id=equipment.container_id, route_code=route.code, origin=route.origin,
            control_point=route.control_point, destination=route.destination,
            state=JourneyState.REGISTERED.value, alert_count=0, progress=progress_to_json(Progress()),
            opened_at=now, updated_at=now)
        session.add(journey)
        session.flush()
        _insert(session, JourneyEvent, [_timeline(journey_id, Transition(
            "registered", JourneyState.REGISTERED, JourneyState.REGISTERED, now, None,
            f"declaration {declaration_id}: route {route.code}, e-lock {equipment.elock_id}, vehicle {mark}"),
            "declaration", caller.actor)])
        first = first or journey
    return first


def _movement(declaration: Declaration, network: Network) -> set[tuple[str | None, ...]]:
    """What a version of a transhipment asks to move under e-lock: (e-lock, vehicle, route,
    container) per sealed unit; empty for other declaration types."""
    if declaration.type is not DeclarationType.TRANSHIPMENT:
        return set()
    route = network.route_between(declaration.departure_location, declaration.control_point,
                                  declaration.destination_location)
    return {(e.elock_id, declaration.conveyance_id, route.code if route else None, e.container_id)
            for e in declaration.equipment if e.elock_id}


def amend_journeys_for_declaration(session: Session, declaration_id: str, declaration: Declaration,
                                   version: int, caller: Caller, now: datetime,
                                   network: Network) -> None:
    """An amendment re-describes the movement. While no lock is sealed, journeys whose e-lock,
    vehicle, route or container changed are cancelled (their locks freed) and opened afresh
    from the new version, with the same checks as at lodgement; once a lock is sealed the
    sealed movement cannot change (409), since the telemetry already follows it."""
    journeys = list(session.scalars(select(Journey).where(
        Journey.declaration_id == declaration_id, Journey.state != JourneyState.CANCELLED.value).with_for_update()))
    current = {(j.elock_id, j.vehicle_mark, j.route_code, j.container_id) for j in journeys}
    if current == _movement(declaration, network):
        return
    sealed = next((j for j in journeys if j.sealed_at is not None), None)
    if sealed is not None:
        raise Rejection("AMENDMENT_NOT_ALLOWED", f"e-lock {sealed.elock_id} is sealed on journey {sealed.id}: the "
                        "e-lock, vehicle, route and container of a sealed movement cannot change", [Problem(
                            message=f"journey {sealed.id} is {sealed.state}", path=paths.CONSIGNMENT,
                            rule="journey-sealed")])
    for journey in journeys:
        before = journey.state
        journey.state, journey.updated_at = JourneyState.CANCELLED.value, now
        journey.progress = progress_to_json(replace(progress_from_json(journey.progress),
                                                    state=JourneyState.CANCELLED))
        _insert(session, JourneyEvent, [{
            "journey_id": journey.id, "kind": "cancelled", "state_from": before, "state_to": journey.state,
            "occurred_at": now, "source": "declaration", "actor": caller.actor, "telemetry_event_id": None,
            "note": f"declaration amended (version {version}): e-lock, vehicle, route or container changed"}])
        _free_lock(session, journey, now)
    session.flush()
    open_journey_for_declaration(session, declaration_id, declaration, caller, now, network)


def _free_lock(session: Session, journey: Journey, now: datetime) -> None:
    session.execute(
        update(ELock).where(ELock.elock_id == journey.elock_id, ELock.journey_id == journey.id,
                            ELock.status == "in_use")
        .values(status="available", updated_at=now).execution_options(synchronize_session=False))


def _end_journeys(session: Session, journeys: list[Journey], state: JourneyState, source: str, actor: str,
                  note: str, now: datetime) -> list[Journey]:
    """Close journeys in ``state`` for a reason outside telemetry: timeline entry, lock freed."""
    for journey in journeys:
        before = journey.state
        journey.state = state.value
        journey.updated_at = now
        journey.progress = progress_to_json(replace(progress_from_json(journey.progress), state=state))
        _insert(session, JourneyEvent, [{
            "journey_id": journey.id, "kind": state.value, "state_from": before, "state_to": journey.state,
            "occurred_at": now, "source": source, "actor": actor, "telemetry_event_id": None, "note": note}])
        _free_lock(session, journey, now)
    session.flush()
    return journeys


def close_journeys_for_declaration(session: Session, declaration_id: str, caller: Caller, now: datetime,
                                   reason: str) -> list[Journey]:
    """The declaration was cancelled: its open journeys end (``cancelled``) and free their locks."""
    journeys = list(session.scalars(select(Journey).where(
        Journey.declaration_id == declaration_id, Journey.state.in_(OPEN_STATES)).with_for_update()))
    return _end_journeys(session, journeys, JourneyState.CANCELLED, "declaration", caller.actor,
                         f"declaration cancelled: {reason}", now)


def release_held_journeys(session: Session, declaration_id: str, actor: str, now: datetime,
                          note: str | None) -> list[Journey]:
    """An officer released the declaration: its journeys held at their destination (unsealed
    there, then held for alerts or the red lane) end ``released`` too. Journeys still on the
    road keep being monitored; journeys already released are left alone."""
    journeys = list(session.scalars(select(Journey).where(
        Journey.declaration_id == declaration_id,
        Journey.state.in_((JourneyState.ARRIVED.value, JourneyState.EXCEPTION.value)),
        Journey.unsealed_at.is_not(None)).with_for_update()))
    return _end_journeys(session, journeys, JourneyState.RELEASED, "officer", actor,
                         f"declaration released by an officer{': ' + note if note else ''}", now)


# --- telemetry intake ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventResult:
    """What became of one event of a batch."""

    event_id: str
    status: str  # accepted | duplicate | rejected
    journey_id: str | None = None
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class IngestReport:
    results: list[EventResult]
    alerts: list[JourneyAlert]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


_REASONS = {
    "unknown_elock": "no e-lock with this id is registered",
    "no_journey": "the e-lock seals no journey",
    "journey_closed": "the e-lock's journey is closed",
}


def _reading(row: Any) -> Reading:
    x, y = project(row.longitude, row.latitude)
    return Reading(event_id=row.event_id, kind=ReadingKind(row.kind), at=row.occurred_at,
                   longitude=row.longitude, latitude=row.latitude, inside_corridor=bool(row.inside_corridor),
                   point=row.point, x=float(x), y=float(y))


class _JourneyWork:
    """Collects what a batch changes: timeline rows, alerts, journey updates, releases."""

    def __init__(self, session: Session, caller: Caller, now: datetime, network: Network, source: str) -> None:
        self.session, self.caller, self.now, self.network, self.source = session, caller, now, network, source
        self.timeline: list[dict[str, object]] = []
        self.alerts: list[JourneyAlert] = []
        self.released: list[tuple[Journey, str]] = []

    def apply(self, journey: Journey, progress: Progress, steps: list[Step], existing_kinds: set[str],
              lane: str | None, recorded: set[tuple[str, str | None]] | None = None) -> None:
        """``recorded``: on a replay, the timeline entries already written (kind, event id);
        the timeline is append-only, so only what the replay newly finds is added."""
        route = self.network.routes[journey.route_code]
        limits = self.network.limits(route)
        transitions = [t for s in steps for t in s.transitions]
        if recorded is not None:
            once = {kind for kind, _ in recorded if kind in _ONCE or kind.startswith("alert:")}
            transitions = [t for t in transitions if (t.kind, t.event_id) not in recorded and t.kind not in once]
        drafts = [a for s in steps for a in s.alerts]
        raised_before = frozenset(AlertKind(k) for k in existing_kinds) - progress.alerted
        if raised_before:  # a replay does not re-find what the job found; those alerts still stand
            state = progress.state if progress.state in CLOSED_STATES else JourneyState.EXCEPTION
            progress = replace(progress, state=state, alerted=progress.alerted | raised_before)
        just_unsealed = journey.unsealed_at is None and progress.unsealed_at is not None
        at = max(self.now, progress.unsealed_at) if progress.unsealed_at else self.now  # never before the unseal
        decision = decide(progress, limits, lane, at) if just_unsealed else Step(progress)
        if decision.transitions:
            progress = decision.progress
            transitions.extend(decision.transitions)
        self.timeline.extend(_timeline(journey.id, t, "decision" if t.kind in ("released", "held") else self.source,
                                       self.caller.actor) for t in transitions)
        for draft in drafts:
            if draft.kind.value in existing_kinds:
                continue
            existing_kinds.add(draft.kind.value)
            self.alerts.append(_alert_row(journey, draft, self.now))
        journey.alert_count = len(existing_kinds)
        before = journey.state
        journey.state = progress.state.value
        journey.progress = progress_to_json(progress)
        journey.sealed_by = progress.sealed_by
        journey.sealed_at = progress.sealed_at
        journey.arrived_at = progress.arrived_at
        journey.unsealed_at = progress.unsealed_at
        journey.last_event_at = progress.last_at
        journey.updated_at = self.now
        if progress.unsealed_at is not None or progress.state in CLOSED_STATES:
            _free_lock(self.session, journey, self.now)
        if progress.state is JourneyState.RELEASED and before != JourneyState.RELEASED.value:
            self.released.append((journey, decision.transitions[-1].note or "released"))

    def finish(self) -> list[JourneyAlert]:
        """Write the batch's changes. Each new alert is announced (the case queue opens or joins
        a case for it in the same transaction, so an alert is never stored without someone to
        look at it), and so is each journey released at its destination."""
        _insert(self.session, JourneyEvent, self.timeline)
        if self.alerts:
            self.session.add_all(self.alerts)
        self.session.flush()
        for alert in self.alerts:
            emit(self.session, TransitAlertRaised(alert.id, alert.journey_id, alert.declaration_id, alert.kind,
                                                  alert.occurred_at, alert.evidence, self.caller.actor))
        for journey, note in self.released:
            _journey_released(self.session, journey, note, self.caller, self.now)
        return self.alerts


def _alert_row(journey: Journey, draft: AlertDraft, now: datetime) -> JourneyAlert:
    return JourneyAlert(
        journey_id=journey.id, declaration_id=journey.declaration_id, kind=draft.kind.value, occurred_at=draft.at,
        raised_at=now, message=draft.message,
        evidence={"event_ids": list(draft.event_ids),
                  "coordinates": [[round(lon, 6), round(lat, 6)] for lon, lat in draft.coordinates],
                  "route": journey.route_code, "elock_id": journey.elock_id})


def _journey_released(session: Session, journey: Journey, note: str, caller: Caller, now: datetime) -> None:
    """Announce the release, saying whether it was the declaration's last journey still open."""
    pending = session.scalar(select(func.count()).select_from(Journey).where(
        Journey.declaration_id == journey.declaration_id, Journey.state != JourneyState.RELEASED.value))
    emit(session, JourneyReleased(journey.id, journey.declaration_id, note, not pending, caller, now))


def _lock_declarations(session: Session, declaration_ids: Iterable[str | None], skip_locked: bool = False) -> set[str]:
    """Lock the journeys' declarations first, in id order: decisions, amendments and
    cancellations start with the declaration too, so telemetry and the overdue job never
    deadlock with them. Returns the ids locked (with ``skip_locked``, those free now)."""
    wanted = sorted({d for d in declaration_ids if d})
    if not wanted:
        return set()
    return set(session.scalars(select(models.Declaration.id).where(models.Declaration.id.in_(wanted))
                               .order_by(models.Declaration.id).with_for_update(skip_locked=skip_locked)))


def ingest(session: Session, events: list[GatewayEvent], caller: Caller, now: datetime,
           network: Network) -> IngestReport:
    """Store a batch of gateway events and run the journey rules on it.

    Idempotent by event id (a re-sent event is reported ``duplicate`` and changes nothing);
    events are placed in their journey by their own timestamps (a late one replays the
    journey); an event for an unknown e-lock, a lock sealing no journey, or a closed journey
    is stored and reported ``rejected`` with the reason. Returns every event's outcome and
    the alerts newly raised (each meant to open an officer case)."""
    lock_ids = sorted({e.elock_id for e in events})
    lock_journeys = dict(session.execute(
        select(ELock.elock_id, ELock.journey_id).where(ELock.elock_id.in_(lock_ids))).all())
    journey_ids = sorted({j for j in lock_journeys.values() if j})
    journeys: dict[str, Journey] = {}
    if journey_ids:
        _lock_declarations(session, session.scalars(
            select(Journey.declaration_id).where(Journey.id.in_(journey_ids))).all())
        query = select(Journey).where(Journey.id.in_(journey_ids)).with_for_update()
        journeys = {j.id: j for j in session.scalars(query)}
    already = set(session.scalars(select(TelemetryEvent.event_id).where(
        TelemetryEvent.event_id.in_([e.event_id for e in events]))))

    count = len(events)
    xs, ys = project(np.fromiter((e.longitude for e in events), float, count),
                     np.fromiter((e.latitude for e in events), float, count))
    points = network.points_at(xs, ys)
    inside = np.zeros(count, dtype=bool)
    by_route: dict[str, list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        journey = journeys.get(lock_journeys.get(event.elock_id) or "")
        if journey is not None:
            by_route[journey.route_code].append(index)
    for code, indexes in by_route.items():
        if code in network.routes:
            inside[indexes] = network.routes[code].contains(xs[indexes], ys[indexes])

    results: list[EventResult] = []
    rows: list[dict[str, object]] = []
    fresh: dict[str, list[Reading]] = defaultdict(list)
    for index, event in enumerate(events):
        if event.event_id in already:
            results.append(EventResult(event.event_id, "duplicate", message="already received; ignored"))
            continue
        already.add(event.event_id)
        journey_id = lock_journeys.get(event.elock_id)
        journey = journeys.get(journey_id or "")
        if event.elock_id not in lock_journeys:
            disposition = "unknown_elock"
        elif journey is None:
            disposition = "no_journey"
        elif journey.state in (JourneyState.RELEASED.value, JourneyState.CANCELLED.value):
            disposition = "journey_closed"
        else:
            disposition = "accepted"
        accepted = disposition == "accepted"
        rows.append({
            "event_id": event.event_id, "elock_id": event.elock_id, "journey_id": journey_id if journey else None,
            "kind": event.kind.value, "occurred_at": event.at, "longitude": event.longitude,
            "latitude": event.latitude, "inside_corridor": bool(inside[index]) if accepted else None,
            "point": points[index], "disposition": disposition, "received_at": now})
        if accepted:
            assert journey_id is not None
            fresh[journey_id].append(Reading(event.event_id, event.kind, event.at, event.longitude, event.latitude,
                                             bool(inside[index]), points[index], float(xs[index]), float(ys[index])))
            results.append(EventResult(event.event_id, "accepted", journey_id))
        else:
            results.append(EventResult(event.event_id, "rejected", journey_id if journey else None, disposition,
                                       _REASONS[disposition] + (f" ({journey_id})" if journey else "")))
    _insert(session, TelemetryEvent, rows)
    if not fresh:
        return IngestReport(results, [])

    touched = [journeys[j] for j in fresh]
    lanes = dict(session.execute(select(models.Declaration.id, models.Declaration.lane).where(
        models.Declaration.id.in_({j.declaration_id for j in touched}))).all())
    kinds: dict[str, set[str]] = defaultdict(set)
    if any(j.alert_count for j in touched):
        for journey_id, kind in session.execute(select(JourneyAlert.journey_id, JourneyAlert.kind).where(
                JourneyAlert.journey_id.in_([j.id for j in touched if j.alert_count]))):
            kinds[journey_id].add(kind)
    work = _JourneyWork(session, caller, now, network, "gateway")
    for journey in touched:
        if journey.route_code not in network.routes:
            log.error("journey %s: route %s is no longer in rules/transit; its events are stored unjudged",
                      journey.id, journey.route_code)
            continue
        readings = sorted(fresh[journey.id], key=lambda r: (r.at, r.event_id))
        progress = progress_from_json(journey.progress)
        recorded = None
        if progress.last_at is not None and readings[0].at < progress.last_at:
            progress, readings, recorded = _replay_start(session, journey)
        limits = network.limits(network.routes[journey.route_code])
        steps = []
        for reading in readings:
            step = advance(progress, reading, limits)
            progress = step.progress
            steps.append(step)
        work.apply(journey, progress, steps, kinds[journey.id], lanes.get(journey.declaration_id), recorded)
    return IngestReport(results, work.finish())


_ONCE = frozenset({"sealed", "departed", "arrived", "unsealed"})  # happen once per journey


def _replay_start(session: Session, journey: Journey) -> tuple[Progress, list[Reading], set[tuple[str, str | None]]]:
    """A late event: rebuild the journey from all its readings in time order. Alerts already
    raised stay (and keep it in exception); the timeline entries already written stay (it is
    append-only, an audit record) and the replay adds only what it newly finds."""
    session.flush()
    stored = session.execute(select(TelemetryEvent).where(
        TelemetryEvent.journey_id == journey.id, TelemetryEvent.disposition == "accepted")
        .order_by(TelemetryEvent.occurred_at, TelemetryEvent.event_id)).scalars().all()
    recorded = {(kind, event_id) for kind, event_id in session.execute(
        select(JourneyEvent.kind, JourneyEvent.telemetry_event_id).where(JourneyEvent.journey_id == journey.id))}
    return Progress(), [_reading(row) for row in stored], recorded


# --- the every-minute check ---------------------------------------------------------------

def check_overdue(session: Session, now: datetime, network: Network,
                  caller: Caller | None = None) -> list[JourneyAlert]:
    """Journeys sealed and not unsealed: overdue against the route's maximum time, or silent
    for longer than the threshold. Returns the alerts newly raised.

    Runs every minute, so it reads only journeys that could be late or silent by now (not
    every live one) and skips rows a telemetry batch holds (SKIP LOCKED on PostgreSQL): the
    gateway is never kept waiting, and a skipped journey is checked a minute later."""
    caller = caller or Caller(actor="job:elock-overdue", role="system")
    shortest = min((r.max_journey for r in network.routes.values()), default=timedelta(0))
    candidates = session.execute(select(Journey.id, Journey.declaration_id).where(
        Journey.state.in_(OPEN_STATES), Journey.sealed_at.is_not(None), Journey.unsealed_at.is_(None),
        or_(Journey.last_event_at < now - network.silence,
            and_(Journey.arrived_at.is_(None), Journey.sealed_at < now - shortest)))).all()
    free = _lock_declarations(session, (declaration for _, declaration in candidates), skip_locked=True)
    live = session.scalars(select(Journey).where(
        Journey.id.in_([journey for journey, declaration in candidates if declaration in free]))
        .with_for_update(skip_locked=True)).all() if free else []
    work = _JourneyWork(session, caller, now, network, "job")
    for journey in live:
        route = network.routes.get(journey.route_code)
        if route is None:
            continue
        progress = progress_from_json(journey.progress)
        drafts = overdue_alerts(progress, network.limits(route), now)
        if not drafts:
            continue
        kinds = {k.value for k in progress.alerted}
        steps = []
        for draft in drafts:
            step = external_alert(progress, draft)
            progress = step.progress
            steps.append(step)
        work.apply(journey, progress, steps, kinds, None)
    return work.finish()


# --- views --------------------------------------------------------------------------------

def get_journey(session: Session, journey_id: str) -> Journey:
    journey = session.get(Journey, journey_id) if re.fullmatch(r"TJ\d{2}[0-9A-F]{10}", journey_id or "") else None
    if journey is None:
        raise Rejection("NOT_FOUND", f"no journey {journey_id[:40]}")
    return journey


def alerts_for_journey(session: Session, journey_id: str) -> list[JourneyAlert]:
    return list(session.scalars(select(JourneyAlert).where(JourneyAlert.journey_id == journey_id)
                                .order_by(JourneyAlert.id)))


def track(session: Session, journey: Journey) -> list[TelemetryEvent]:
    """The journey's accepted readings in time order."""
    return list(session.scalars(select(TelemetryEvent).where(
        TelemetryEvent.journey_id == journey.id, TelemetryEvent.disposition == "accepted")
        .order_by(TelemetryEvent.occurred_at, TelemetryEvent.event_id)))


@dataclass(frozen=True, slots=True)
class JourneyPage:
    items: list[Journey]
    page: int
    per_page: int
    total: int


def list_journeys(session: Session, state: str | None, alert: str | None, declaration_id: str | None,
                  page: int, per_page: int, party_id: int | None = None) -> JourneyPage:
    """Journeys, most recently changed first; ``party_id`` limits them to that declarant's."""
    conditions: list[ColumnElement[bool]] = []
    if party_id is not None:
        conditions.append(Journey.declaration_id.in_(select(models.Declaration.id).where(
            models.Declaration.declarant_party_id == party_id)))
    if state:
        conditions.append(Journey.state == state)
    if alert == "any":
        conditions.append(Journey.alert_count > 0)
    elif alert == "none":
        conditions.append(Journey.alert_count == 0)
    elif alert:
        conditions.append(Journey.id.in_(select(JourneyAlert.journey_id).where(JourneyAlert.kind == alert)))
    if declaration_id:
        conditions.append(Journey.declaration_id == declaration_id)
    total = session.scalar(select(func.count()).select_from(Journey).where(*conditions)) or 0
    items = session.scalars(select(Journey).where(*conditions).order_by(Journey.updated_at.desc(), Journey.id.desc())
                            .limit(per_page).offset((page - 1) * per_page)).all()
    return JourneyPage(list(items), page, per_page, total)


def list_alerts(session: Session, kind: str | None, page: int, per_page: int) -> tuple[list[JourneyAlert], int]:
    conditions = [JourneyAlert.kind == kind] if kind else []
    total = session.scalar(select(func.count()).select_from(JourneyAlert).where(*conditions)) or 0
    items = session.scalars(select(JourneyAlert).where(*conditions).order_by(JourneyAlert.id.desc())
                            .limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), total


# --- demo fleet ---------------------------------------------------------------------------

DEMO_COMPANIES = (("40617295", "Cross Boundary Express Logistics Limited", "air-land"),
                  ("12345678", "Demo Trading Company Limited", "sea-land"))
DEMO_VEHICLES = (("XY1234", "40617295"), ("KT88", "40617295"), ("LM2468", "12345678"))
DEMO_ELOCKS = tuple(f"EL-{n:06d}" for n in (1, 2, 3, 123, 124, 125))


def seed_demo_fleet(session: Session, now: datetime, network: Network,
                    actor: str = "system:demo-seed") -> None:
    """Demo registrations the samples rely on (the TS sample's vehicle XY1234 and e-lock
    EL-000123); idempotent (a second run changes, and records, nothing)."""
    for br_number, name, mode in DEMO_COMPANIES:
        register_company(session, br_number, name, mode, now, actor=actor)
    for mark, company in DEMO_VEHICLES:
        register_vehicle(session, mark, company, now, actor=actor)
    for elock_id in DEMO_ELOCKS:
        if session.scalar(select(ELock.id).where(ELock.elock_id == elock_id)) is None:
            register_elock(session, elock_id, network.suppliers[0], now, network, actor=actor)
