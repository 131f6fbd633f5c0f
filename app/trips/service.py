"""Conveyance trip use cases (ROCARS): open a trip, link and unlink consignments, read the
manifest and the kiosk decision, and re-evaluate manifests when a declaration changes.

The consignment reference is the declaration reference (``HKyyD...``, with its check
character): the declarant's system or the carrier named in the declaration links it to a
trip. Like the declaration services, nothing here commits.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.routing_models import Trip, TripConsignment, TripEvent
from app.db.session import rowcount
from app.domain.actors import Caller
from app.domain.problems import Problem, Rejection
from app.domain.reference import is_valid_declaration_reference
from app.domain.trips import (
    ConsignmentState,
    ManifestDecision,
    is_valid_trip_reference,
    late_linking_reason,
    linking_deadline,
    manifest_decision,
    new_trip_reference,
)
from app.domain.events import ManifestChanged, ManifestConsignment
from app.platform.clock import utcnow
from app.platform.uow import emit
from app.reference.routing import RoutingRules

ROAD = "3"
UNLINKABLE_STATUSES = frozenset({"refused", "cancelled"})


def _event(session: Session, trip: Trip, kind: str, actor: str, now: datetime,
           declaration_id: str | None = None) -> None:
    session.connection().execute(models.table_of(TripEvent).insert(), [{
        "trip_id": trip.id, "kind": kind, "decision": trip.decision, "declaration_id": declaration_id,
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


@dataclass(frozen=True, slots=True)
class ConsignmentRow:
    declaration_id: str
    ucr: str | None
    status: str
    lane: str | None
    declarant_party_id: int
    linked_at: datetime


def consignments(session: Session, trip_id: str) -> list[ConsignmentRow]:
    rows = session.execute(
        select(TripConsignment.declaration_id, models.Declaration.ucr, models.Declaration.status,
               models.Declaration.lane, models.Declaration.declarant_party_id, TripConsignment.linked_at)
        .join(models.Declaration, models.Declaration.id == TripConsignment.declaration_id)
        .where(TripConsignment.trip_id == trip_id).order_by(TripConsignment.id)
    ).all()
    return [ConsignmentRow(*row) for row in rows]


def refresh_manifest(session: Session, trip: Trip, actor: str, now: datetime,
                     rules: RoutingRules, changed: bool = False) -> bool:
    """Re-evaluate the trip's decision; a change is recorded and the manifest re-routed.
    ``changed`` (consignments linked or unlinked) bumps the state version even when the
    decision stays, and re-routes a cleared or inspection manifest (its receivers hold a
    copy that no longer lists the right consignments); a pending one is routed once it is
    decided. Returns whether the decision changed."""
    items = consignments(session, trip.id)
    verdict = manifest_decision((ConsignmentState(c.declaration_id, c.status, c.lane) for c in items),
                                rules.manifest.selection)
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
            tuple(ManifestConsignment(c.declaration_id, c.ucr, c.status, c.lane, c.declarant_party_id)
                  for c in items), now))
    return decision_changed


def _linkable(session: Session, references: Sequence[str], caller: Caller) -> list[models.Declaration]:
    """The declarations, locked in reference order, if each is the caller's or names the caller
    as carrier; any other answers NOT_FOUND like a missing one."""
    problems = [Problem(message="format or check character wrong", path=f"consignments[{i}]",
                        rule="reference-check-character")
                for i, ref in enumerate(references) if not is_valid_declaration_reference(ref)]
    if problems:
        raise Rejection("INVALID_REFERENCE", "a consignment reference is not a declaration reference", problems)
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
                        [Problem(message="not found", path=f"consignments[{references.index(m)}]",
                                 rule="consignment-visible") for m in missing])
    return [found[ref] for ref in dict.fromkeys(references)]


def _require_in_time(trip: Trip, now: datetime, rules: RoutingRules) -> None:
    reason = late_linking_reason(now, trip.expected_crossing_at, rules.manifest.link_cutoff_minutes)
    if reason:
        raise Rejection("LINKING_TOO_LATE", reason,
                        [Problem(message=reason, path="expected_crossing_datetime", rule="link-cutoff")])


def link(session: Session, trip_id: str, references: Sequence[str], caller: Caller,
         now: datetime | None = None, *, rules: RoutingRules) -> Trip:
    """Link consignments to the trip (re-linking one already on it is a no-op)."""
    now = now or utcnow()
    if not references:
        raise Rejection("INVALID_PARAMETER", "name at least one consignment",
                        [Problem(message="empty", path="consignments", rule="min-items")])
    declarations = _linkable(session, references, caller)
    trip = carriers_trip(session, trip_id, caller)
    _require_in_time(trip, now, rules)
    problems = []
    for index, row in enumerate(declarations):
        if row.status in UNLINKABLE_STATUSES:
            problems.append(Problem(message=f"{row.id} is {row.status}", path=f"consignments[{index}]",
                                    rule="consignment-linkable"))
        elif row.transport_mode != ROAD:
            problems.append(Problem(message=f"{row.id} is not road cargo (transport mode {row.transport_mode})",
                                    path=f"consignments[{index}]", rule="road-cargo"))
    if problems:
        raise Rejection("CONSIGNMENT_NOT_LINKABLE", "a consignment cannot be linked to a trip", problems)
    existing = dict(session.execute(
        select(TripConsignment.declaration_id, TripConsignment.trip_id)
        .where(TripConsignment.declaration_id.in_([row.id for row in declarations]))).all())
    elsewhere = [ref for ref, on in existing.items() if on != trip.id]
    if elsewhere:
        raise Rejection("ALREADY_LINKED", f"{elsewhere[0]} is linked to another trip; unlink it there first",
                        [Problem(message=f"{ref} is on another trip", path="consignments", rule="one-trip")
                         for ref in elsewhere])
    new = [row for row in declarations if row.id not in existing]
    if not new:
        return trip
    session.connection().execute(models.table_of(TripConsignment).insert(), [
        {"trip_id": trip.id, "declaration_id": row.id, "linked_at": now, "linked_by": caller.actor} for row in new])
    for row in new:
        _event(session, trip, "linked", caller.actor, now, row.id)
    refresh_manifest(session, trip, caller.actor, now, rules, changed=True)
    return trip


def unlink(session: Session, trip_id: str, reference: str, caller: Caller, now: datetime | None = None,
           *, rules: RoutingRules) -> Trip:
    now = now or utcnow()
    trip = carriers_trip(session, trip_id, caller)
    _require_in_time(trip, now, rules)
    removed = rowcount(session.execute(delete(TripConsignment).where(
        TripConsignment.trip_id == trip.id, TripConsignment.declaration_id == reference)))
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


def kiosk_payload(trip: Trip) -> dict[str, Any]:
    instruction = {
        ManifestDecision.CLEARED.value: "proceed",
        ManifestDecision.INSPECTION.value: "go to inspection",
        ManifestDecision.PENDING.value: "wait: not all consignments are cleared",
    }[trip.decision]
    return {
        "trip_id": trip.id, "state_version": trip.state_version, "vehicle_registration_id": trip.vehicle_mark,
        "control_point_id": trip.control_point, "decision": trip.decision, "instruction": instruction,
        "selected_consignments": list(trip.selected or []) or None,
    }
