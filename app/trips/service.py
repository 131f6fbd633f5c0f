"""Conveyance trip use cases (ROCARS): open a trip, bundle (link) and unlink cargo
references, read the manifest and the kiosk decision, record the crossing, and re-evaluate
manifests when a consignment changes.

A consignment is a cargo reference (``HKyyC...``, with its check character): the driver or
carrier who holds it (the shipper hands it over, as in ROCARS) bundles it to the vehicle's
trip. Trips linked before cargo references carry declarations (``HKyyD...``); those links stay
readable and decided as before, and a declaration reference is still accepted while clients
move over (deprecated). Like the declaration services, nothing here commits.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.cargo_models import CargoRecord
from app.db.routing_models import Trip, TripConsignment, TripEvent
from app.db.session import rowcount
from app.domain.actors import Caller
from app.domain.problems import Problem, Rejection
from app.domain.cargo import CargoStatus, is_valid_cargo_reference
from app.domain.reference import is_valid_declaration_reference
from app.domain.trips import (
    ConsignmentState,
    cargo_state,
    ManifestDecision,
    is_valid_trip_reference,
    late_linking_reason,
    linking_deadline,
    manifest_decision,
    new_trip_reference,
)
from app.domain.events import CargoMoved, ManifestChanged, ManifestConsignment
from app.platform.clock import utcnow
from app.platform.uow import emit
from app.reference.routing import RoutingRules

ROAD = "3"
UNLINKABLE_STATUSES = frozenset({"refused", "cancelled"})
CARGO, DECLARATION = "cargo", "declaration"
#: The API role of this administration's own systems (a partner customs reads trips, no more).
CUSTOMS_ADMIN = "admin"
#: The kind of a cargo line road cargo is written off under (``CargoMoved``).
CARGO_REFERENCE = "CRN"


def _event(session: Session, trip: Trip, kind: str, actor: str, now: datetime,
           reference: str | None = None) -> None:
    cargo = reference is not None and is_valid_cargo_reference(reference)
    session.connection().execute(models.table_of(TripEvent).insert(), [{
        "trip_id": trip.id, "kind": kind, "decision": trip.decision,
        "declaration_id": None if cargo else reference, "cargo_id": reference if cargo else None,
        "actor": actor, "occurred_at": now}])


def normalise_vehicle_mark(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "").upper()


def open_trip(session: Session, caller: Caller, vehicle_mark: str, control_point: str,
              expected_crossing_at: datetime, now: datetime | None = None,
              *, rules: RoutingRules) -> Trip:
    """A carrier's (or driver's) trip through a land control point at an expected time."""
    assert caller.party_id is not None
    now = now or utcnow()
    problems = []
    mark = normalise_vehicle_mark(vehicle_mark)
    if not rules.manifest.vehicle_mark_pattern.fullmatch(mark):
        problems.append(Problem(message=f"{vehicle_mark[:20]!r} is not a Hong Kong vehicle registration mark",
                                path="vehicle_registration_id", rule="vehicle-mark-format"))
    point = rules.control_points.get(control_point or "")
    if point is None or point.kind != "land_control_point":
        land = sorted(code for code, p in rules.control_points.items() if p.kind == "land_control_point")
        problems.append(Problem(message=f"{str(control_point)[:10]!r} is not a land control point "
                                        f"({', '.join(land)})", path="control_point_id", rule="land-control-point"))
    if expected_crossing_at.tzinfo is None:
        problems.append(Problem(message="needs a time zone (Z or +08:00)", path="expected_crossing_datetime",
                                rule="iso8601"))
    elif not now < expected_crossing_at <= now + timedelta(days=rules.manifest.open_ahead_days):
        problems.append(Problem(
            message=f"must be in the future and at most {rules.manifest.open_ahead_days} days ahead",
            path="expected_crossing_datetime", rule="crossing-window"))
    if problems:
        raise Rejection("INVALID_TRIP", "the trip cannot be opened", problems)
    assert point is not None
    trip = Trip(id=new_trip_reference(now), carrier_party_id=caller.party_id, vehicle_mark=mark,
                control_point=point.code, boundary=point.boundary,
                expected_crossing_at=expected_crossing_at,
                decision=ManifestDecision.PENDING.value, selected=None, state_version=1,
                created_at=now, updated_at=now)
    session.add(trip)
    session.flush()
    _event(session, trip, "opened", caller.actor, now)
    return trip


def get_trip(session: Session, trip_id: str, caller: Caller, for_update: bool = False) -> Trip:
    """The trip if the caller may see it: its carrier, or a customs system (admin/partner role);
    anyone else's answers like a missing one. Seeing is not changing: see ``carriers_trip``."""
    if not is_valid_trip_reference(trip_id):
        raise Rejection("INVALID_REFERENCE",
                        f"{trip_id[:40]!r} is not a trip reference (HKyyT + 10 characters + check character)",
                        [Problem(message="format or check character wrong", path="id",
                                 rule="reference-check-character")])
    query = select(Trip).where(Trip.id == trip_id)
    if not caller.is_customs:
        query = query.where(Trip.carrier_party_id == caller.party_id)
    if for_update:
        query = query.with_for_update()
    trip = session.scalar(query)
    if trip is None:
        raise Rejection("NOT_FOUND", f"no trip {trip_id}")
    return trip


def carriers_trip(session: Session, trip_id: str, caller: Caller) -> Trip:
    """The trip, locked, if the caller is its carrier: only the carrier links and unlinks
    consignments. A customs system reads every trip but changes none (FORBIDDEN)."""
    trip = get_trip(session, trip_id, caller, for_update=True)
    if trip.carrier_party_id != caller.party_id:
        raise Rejection("FORBIDDEN", f"only the carrier of trip {trip.id} may change its consignments")
    return trip


def trips_of_cargo(session: Session, cargo_ids: Sequence[str]) -> dict[str, Trip]:
    """cargo reference -> the trip it is bundled to, for the lodger's own cargo pages (one read)."""
    if not cargo_ids:
        return {}
    rows = session.execute(select(TripConsignment.cargo_id, Trip).join(Trip, Trip.id == TripConsignment.trip_id)
                           .where(TripConsignment.cargo_id.in_(cargo_ids))).all()
    return {cargo_id: trip for cargo_id, trip in rows if cargo_id is not None}


@dataclass(frozen=True, slots=True)
class ConsignmentRow:
    """One bundled consignment: ``reference`` is the cargo reference (``kind`` ``cargo``) or,
    for an older link, the declaration reference (``kind`` ``declaration``); ``ucr`` is the
    declaration's UCR or the cargo's LRN; ``party_id`` the declarant or the cargo's lodger."""

    reference: str
    kind: str
    ucr: str | None
    status: str
    lane: str | None
    party_id: int
    linked_at: datetime
    control_decision: str | None = None

    @property
    def declaration_id(self) -> str:
        """The reference under the name older clients and the manifest message read."""
        return self.reference


def consignments(session: Session, trip_id: str) -> list[ConsignmentRow]:
    """The trip's consignments in the order they were bundled."""
    declared = session.execute(
        select(TripConsignment.id, TripConsignment.declaration_id, models.Declaration.ucr, models.Declaration.status,
               models.Declaration.lane, models.Declaration.declarant_party_id, TripConsignment.linked_at)
        .join(models.Declaration, models.Declaration.id == TripConsignment.declaration_id)
        .where(TripConsignment.trip_id == trip_id)
    ).all()
    cargo = session.execute(
        select(TripConsignment.id, TripConsignment.cargo_id, CargoRecord.lrn, CargoRecord.status, CargoRecord.lane,
               CargoRecord.submitter_party_id, TripConsignment.linked_at, CargoRecord.control_decision)
        .join(CargoRecord, CargoRecord.id == TripConsignment.cargo_id)
        .where(TripConsignment.trip_id == trip_id)
    ).all()
    rows = [(row[0], ConsignmentRow(str(row[1]), DECLARATION, *row[2:])) for row in declared]
    rows += [(row[0], ConsignmentRow(str(row[1]), CARGO, *row[2:])) for row in cargo]
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def consignment_state(row: ConsignmentRow, rules: RoutingRules) -> ConsignmentState:
    """What the kiosk reads of a consignment: a declaration by its status and lane; cargo by
    its lane and officers' decisions (``app.domain.trips.cargo_state``)."""
    if row.kind == CARGO:
        return cargo_state(row.reference, row.lane, row.control_decision, rules.manifest.selection)
    return ConsignmentState(row.reference, row.status, row.lane)


def refresh_manifest(session: Session, trip: Trip, actor: str, now: datetime,
                     rules: RoutingRules, changed: bool = False) -> bool:
    """Re-evaluate the trip's decision; a change is recorded and the manifest re-routed.
    ``changed`` (consignments linked or unlinked) bumps the state version even when the
    decision stays, and re-routes a cleared or inspection manifest (its receivers hold a
    copy that no longer lists the right consignments); a pending one is routed once it is
    decided. Returns whether the decision changed."""
    items = consignments(session, trip.id)
    states = [consignment_state(c, rules) for c in items]
    verdict = manifest_decision(states, rules.manifest.selection)
    selected = list(verdict.selected) or None
    decision_changed = verdict.decision.value != trip.decision or selected != (trip.selected or None)
    if not decision_changed and not changed:
        return False
    trip.state_version += 1
    trip.updated_at = now
    if decision_changed:
        trip.decision = verdict.decision.value
        trip.selected = selected
        session.flush()
        _event(session, trip, "decision", actor, now)
    if decision_changed or trip.decision != ManifestDecision.PENDING.value:
        emit(session, ManifestChanged(
            trip.id, trip.state_version, trip.vehicle_mark, trip.control_point, trip.boundary,
            trip.expected_crossing_at, trip.decision, tuple(trip.selected) if trip.selected else None,
            trip.carrier_party_id,
            tuple(ManifestConsignment(c.reference, c.ucr, state.status, c.lane, c.party_id, c.kind)
                  for c, state in zip(items, states)), now))
    return decision_changed


def _linkable(session: Session, references: Sequence[str], caller: Caller,
              positions: dict[str, int]) -> list[models.Declaration]:
    """The declarations (older clients), locked in reference order, if each is the caller's or
    names the caller as carrier; any other answers NOT_FOUND like a missing one."""
    if not references:
        return []
    carried = select(models.DeclarationParty.declaration_id).where(
        models.DeclarationParty.role == "carrier", models.DeclarationParty.identifier == caller.party_identifier)
    rows = session.scalars(
        select(models.Declaration)
        .where(models.Declaration.id.in_(sorted(set(references))),
               (models.Declaration.declarant_party_id == caller.party_id) | models.Declaration.id.in_(carried))
        .order_by(models.Declaration.id).with_for_update()
    ).all()
    found = {row.id: row for row in rows}
    missing = [ref for ref in references if ref not in found]
    if missing:
        raise Rejection("NOT_FOUND", f"no declaration {missing[0]} that you lodged or carry",
                        [Problem(message="not found", path=f"consignments[{positions[m]}]",
                                 rule="consignment-visible") for m in missing])
    return [found[ref] for ref in dict.fromkeys(references)]


def _bundleable(session: Session, references: Sequence[str], positions: dict[str, int]) -> list[CargoRecord]:
    """The cargo records, locked in reference order (the cargo service locks a record before
    changing it, so a bundle and an amendment queue on the same row). Whoever holds a cargo
    reference may bundle it: the shipper hands it to the driver, as in ROCARS; a reference
    is unguessable (10 random characters and a check character). A missing one is NOT_FOUND."""
    if not references:
        return []
    rows = session.scalars(select(CargoRecord).where(CargoRecord.id.in_(sorted(set(references))))
                           .order_by(CargoRecord.id).with_for_update()).all()
    found = {row.id: row for row in rows}
    missing = [ref for ref in references if ref not in found]
    if missing:
        raise Rejection("NOT_FOUND", f"no cargo {missing[0]}",
                        [Problem(message="not found", path=f"consignments[{positions[m]}]",
                                 rule="consignment-visible") for m in missing])
    return [found[ref] for ref in dict.fromkeys(references)]


def _classify(references: Sequence[str]) -> tuple[list[str], list[str]]:
    """Cargo references and (deprecated) declaration references; anything else is refused."""
    problems = [Problem(message="format or check character wrong", path=f"consignments[{i}]",
                        rule="reference-check-character")
                for i, ref in enumerate(references)
                if not is_valid_cargo_reference(ref) and not is_valid_declaration_reference(ref)]
    if problems:
        raise Rejection("INVALID_REFERENCE", "a consignment reference is not a cargo reference (HKyyC...)", problems)
    return ([ref for ref in references if is_valid_cargo_reference(ref)],
            [ref for ref in references if not is_valid_cargo_reference(ref)])


def _require_in_time(trip: Trip, now: datetime, rules: RoutingRules) -> None:
    reason = late_linking_reason(now, trip.expected_crossing_at, rules.manifest.link_cutoff_minutes)
    if reason:
        raise Rejection("LINKING_TOO_LATE", reason,
                        [Problem(message=reason, path="expected_crossing_datetime", rule="link-cutoff")])


def _require_not_crossed(trip: Trip) -> None:
    if trip.crossed_at is not None:
        raise Rejection("TRIP_CROSSED", f"trip {trip.id} crossed at {trip.crossed_at.isoformat()}: its "
                        "consignments can no longer change")


def link(session: Session, trip_id: str, references: Sequence[str], caller: Caller,
         now: datetime | None = None, *, rules: RoutingRules) -> Trip:
    """Bundle consignments to the trip (re-bundling one already on it is a no-op)."""
    now = now or utcnow()
    if not references:
        raise Rejection("INVALID_PARAMETER", "name at least one consignment",
                        [Problem(message="empty", path="consignments", rule="min-items")])
    cargo_refs, declaration_refs = _classify(references)
    index_of: dict[str, int] = {}
    for index, ref in enumerate(references):
        index_of.setdefault(ref, index)
    declarations = _linkable(session, declaration_refs, caller, index_of)
    cargo = _bundleable(session, cargo_refs, index_of)
    trip = carriers_trip(session, trip_id, caller)
    _require_not_crossed(trip)
    _require_in_time(trip, now, rules)
    problems = []
    for row in declarations:
        path = f"consignments[{index_of[row.id]}]"
        if row.status in UNLINKABLE_STATUSES:
            problems.append(Problem(message=f"{row.id} is {row.status}", path=path, rule="consignment-linkable"))
        elif row.transport_mode != ROAD:
            problems.append(Problem(message=f"{row.id} is not road cargo (transport mode {row.transport_mode})",
                                    path=path, rule="road-cargo"))
    for record in cargo:
        path = f"consignments[{index_of[record.id]}]"
        if record.status != CargoStatus.LODGED.value:
            problems.append(Problem(message=f"{record.id} is {record.status}", path=path,
                                    rule="consignment-linkable"))
        elif record.control_point != trip.control_point:
            problems.append(Problem(message=f"{record.id} was lodged to cross at {record.control_point}, "
                                            f"not {trip.control_point}", path=path, rule="same-control-point"))
    if problems:
        raise Rejection("CONSIGNMENT_NOT_LINKABLE", "a consignment cannot be bundled to this trip", problems)
    existing = dict(session.execute(
        select(TripConsignment.declaration_id, TripConsignment.trip_id)
        .where(TripConsignment.declaration_id.in_([row.id for row in declarations]))).all())
    existing.update(session.execute(
        select(TripConsignment.cargo_id, TripConsignment.trip_id)
        .where(TripConsignment.cargo_id.in_([record.id for record in cargo]))).all())
    elsewhere = [ref for ref, on in existing.items() if on != trip.id]
    if elsewhere:
        raise Rejection("ALREADY_LINKED", f"{elsewhere[0]} is bundled to another trip; unlink it there first",
                        [Problem(message=f"{ref} is on another trip", path="consignments", rule="one-trip")
                         for ref in elsewhere])
    new = [ref for ref in dict.fromkeys(references) if ref not in existing]
    if not new:
        return trip
    session.connection().execute(models.table_of(TripConsignment).insert(), [
        {"trip_id": trip.id, "declaration_id": None if is_valid_cargo_reference(ref) else ref,
         "cargo_id": ref if is_valid_cargo_reference(ref) else None, "linked_at": now, "linked_by": caller.actor}
        for ref in new])
    for ref in new:
        _event(session, trip, "linked", caller.actor, now, ref)
    refresh_manifest(session, trip, caller.actor, now, rules, changed=True)
    return trip


def unlink(session: Session, trip_id: str, reference: str, caller: Caller, now: datetime | None = None,
           *, rules: RoutingRules) -> Trip:
    now = now or utcnow()
    trip = carriers_trip(session, trip_id, caller)
    _require_not_crossed(trip)
    _require_in_time(trip, now, rules)
    column = TripConsignment.cargo_id if is_valid_cargo_reference(reference) else TripConsignment.declaration_id
    removed = rowcount(session.execute(delete(TripConsignment).where(
        TripConsignment.trip_id == trip.id, column == reference)))
    if not removed:
        raise Rejection("NOT_FOUND", f"{reference[:20]} is not linked to trip {trip.id}")
    _event(session, trip, "unlinked", caller.actor, now, reference)
    refresh_manifest(session, trip, caller.actor, now, rules, changed=True)
    return trip


def link_deadline(trip: Trip, rules: RoutingRules) -> datetime:
    return linking_deadline(trip.expected_crossing_at, rules.manifest.link_cutoff_minutes)


def history(session: Session, trip_id: str) -> list[TripEvent]:
    return list(session.scalars(select(TripEvent).where(TripEvent.trip_id == trip_id).order_by(TripEvent.id)))


def declaration_changed(session: Session, declaration_id: str, actor: str, now: datetime,
                        rules: RoutingRules) -> int:
    """Re-evaluate the trip carrying ``declaration_id`` (status or lane changed); returns how
    many manifests changed decision. Call it in the transaction of the change.

    Most declarations are on no trip (every one just lodged): one indexed Core look-up says so
    before any flush or ORM query, which lodging would otherwise pay on every green release."""
    trip_id = session.connection().execute(_TRIP_OF, {"declaration_id": declaration_id}).scalar()
    if trip_id is None:
        return 0
    session.flush()
    trip = session.scalar(select(Trip).where(Trip.id == trip_id).with_for_update())
    if trip is None:
        return 0
    return int(refresh_manifest(session, trip, actor, now, rules))


_TRIP_OF = select(TripConsignment.trip_id).where(TripConsignment.declaration_id == bindparam("declaration_id"))
_TRIP_OF_CARGO = select(TripConsignment.trip_id).where(TripConsignment.cargo_id == bindparam("cargo_id"))


def cargo_changed(session: Session, cargo_reference: str, actor: str, now: datetime, rules: RoutingRules) -> int:
    """Re-evaluate the trip a cargo reference is bundled to (an officer's decision on it)."""
    trip_id = session.connection().execute(_TRIP_OF_CARGO, {"cargo_id": cargo_reference}).scalar()
    if trip_id is None:
        return 0
    session.flush()
    trip = session.scalar(select(Trip).where(Trip.id == trip_id).with_for_update())
    if trip is None:
        return 0
    return int(refresh_manifest(session, trip, actor, now, rules))


def record_crossing(session: Session, trip_id: str, caller: Caller, crossed_at: datetime | None = None,
                    now: datetime | None = None) -> Trip:
    """Customs at the control point record that the truck passed the kiosk and crossed: only a
    cleared trip crosses (a selected one goes to inspection first, and crosses once its cargo
    is released). Each bundled cargo reference has moved then (``CargoMoved``): the 14 days
    to declare it run from here. Recording it again is a no-op."""
    now = now or utcnow()
    if caller.role != CUSTOMS_ADMIN:
        raise Rejection("FORBIDDEN", "the crossing is recorded by Hong Kong customs at the control point")
    trip = get_trip(session, trip_id, caller, for_update=True)
    if trip.crossed_at is not None:
        return trip
    moment = crossed_at or now
    if moment > now or moment < trip.created_at:
        raise Rejection("INVALID_PARAMETER", "the crossing is between the trip's opening and now",
                        [Problem(message=f"got {moment.isoformat()}", path="crossed_datetime", rule="crossing-time")])
    if trip.decision != ManifestDecision.CLEARED.value:
        raise Rejection("TRIP_NOT_CLEARED", f"trip {trip.id} is {trip.decision}: only a cleared trip crosses",
                        details={"decision": trip.decision})
    trip.crossed_at, trip.updated_at = moment, now
    trip.state_version += 1
    session.flush()
    _event(session, trip, "crossed", caller.actor, now)
    for item in consignments(session, trip.id):
        if item.kind == CARGO:
            emit(session, CargoMoved(CARGO_REFERENCE, item.reference, moment, caller, now))
    return trip


@dataclass(frozen=True, slots=True)
class KioskView:
    """What the kiosk reads of a trip: its decision as last evaluated (stored on the trip
    whenever a consignment changes), never re-derived per request."""

    id: str
    state_version: int
    vehicle_mark: str
    control_point: str
    decision: str
    selected: list[str] | None
    crossed_at: datetime | None


_KIOSK = select(Trip.id, Trip.state_version, Trip.vehicle_mark, Trip.control_point, Trip.decision, Trip.selected,
                Trip.crossed_at, Trip.carrier_party_id).where(Trip.id == bindparam("trip_id"))


def _reading_connection(session: Session) -> Connection:
    """The session's connection for a one-statement read. On PostgreSQL, outside a transaction,
    in autocommit: the statement alone is one round trip, where BEGIN, SELECT and ROLLBACK are
    three (the kiosk's latency is mostly round trips). SQLite keeps its own BEGIN (in-process,
    no round trip)."""
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session.connection()


def kiosk_view(session: Session, trip_id: str, caller: Caller) -> KioskView:
    """The kiosk's question: one primary-key read of the columns it answers with, on the
    session's connection (Core: no ORM object, identity map or expiry), visible to the trip's
    carrier and to customs as ``get_trip``; anyone else's answers like a missing one."""
    if not is_valid_trip_reference(trip_id):
        raise Rejection("INVALID_REFERENCE",
                        f"{trip_id[:40]!r} is not a trip reference (HKyyT + 10 characters + check character)",
                        [Problem(message="format or check character wrong", path="id",
                                 rule="reference-check-character")])
    row = _reading_connection(session).execute(_KIOSK, {"trip_id": trip_id}).first()
    if row is None or (not caller.is_customs and row.carrier_party_id != caller.party_id):
        raise Rejection("NOT_FOUND", f"no trip {trip_id}")
    return KioskView(row.id, row.state_version, row.vehicle_mark, row.control_point, row.decision, row.selected,
                     row.crossed_at)


def kiosk_payload(trip: Trip | KioskView) -> dict[str, Any]:
    instruction = {
        ManifestDecision.CLEARED.value: "proceed",
        ManifestDecision.INSPECTION.value: "go to inspection",
        ManifestDecision.PENDING.value: "wait: not all consignments are cleared",
    }[trip.decision]
    return {
        "trip_id": trip.id, "state_version": trip.state_version, "vehicle_registration_id": trip.vehicle_mark,
        "control_point_id": trip.control_point, "decision": trip.decision, "instruction": instruction,
        "selected_consignments": [ref for ref in trip.selected or [] if not is_valid_cargo_reference(ref)] or None,
        "selected_cargo": [ref for ref in trip.selected or [] if is_valid_cargo_reference(ref)] or None,
        "crossed_datetime": trip.crossed_at,
    }
