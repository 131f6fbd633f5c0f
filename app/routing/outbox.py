"""The transactional outbox: routed messages are rows written in the transaction of the
change that causes them, so a committed change always has its messages and a rolled-back
one never does. The dispatcher (``app.routing.dispatcher``) delivers them afterwards.

Writes are Core inserts (one executemany); a change no route matches costs nothing more
than the rule check, and a matching one with no subscriber costs one small Core query.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from app.db import lean, models
from app.db.bulk import READS_NOTHING_HELD
from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.routing import (
    PARTY_ROLES,
    MessageFacts,
    MessageType,
    RecipientRole,
    recipients_for,
    routing_key,
)
from app.domain.events import CargoLineOverdue, CargoManifestDecided, DeclarationFacts, ManifestChanged
from app.platform.uow import memo
from app.routing.messages import render
from app.reference.routing import RoutingRules

NOTICE_BY_STATUS = {
    "released": MessageType.RELEASE_NOTICE,
    "refused": MessageType.REFUSAL_NOTICE,
    "cancelled": MessageType.CANCELLATION_NOTICE,
}

# Subscriber roles: ``party`` (an organisation: receives what is addressed to its party in any
# party role) and the offices that act at a place.
SUBSCRIBER_ROLES = ("party", RecipientRole.CONTROL_POINT.value, RecipientRole.TERMINAL.value,
                    RecipientRole.PARTNER_CUSTOMS.value)


@dataclass(frozen=True, slots=True)
class Addressees:
    """Who a message goes to once roles are resolved: parties by id (declarants, carriers) or by
    the identifier a document names (importer, exporter, carrier), offices by code."""

    party_ids: frozenset[int]
    control_point: str | None
    boundary: str | None
    roles: frozenset[RecipientRole]
    party_identifiers: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Recipient:
    """What enqueueing needs of a subscriber (both fixed when it is added)."""

    id: int
    format: str


_SUBSCRIBERS = Subscriber.__table__
_PARTIES = models.Party.__table__
# One statement for every addressing: parameters switch its branches on and off (an empty IN
# list is false, a NULL code matches nothing), so it is compiled once per process.
_ADDRESSED = (
    select(_SUBSCRIBERS.c.id, _SUBSCRIBERS.c.format)
    .select_from(_SUBSCRIBERS.outerjoin(_PARTIES, _PARTIES.c.id == _SUBSCRIBERS.c.party_id))
    .where(_SUBSCRIBERS.c.state != "retired", or_(
        and_(_SUBSCRIBERS.c.role == "party",
             or_(_SUBSCRIBERS.c.party_id.in_(bindparam("party_ids", expanding=True)),
                 _PARTIES.c.identifier.in_(bindparam("party_identifiers", expanding=True)))),
        and_(_SUBSCRIBERS.c.role.in_(bindparam("office_roles", expanding=True)),
             _SUBSCRIBERS.c.code == bindparam("control_point")),
        and_(_SUBSCRIBERS.c.role == RecipientRole.PARTNER_CUSTOMS.value,
             _SUBSCRIBERS.c.code == bindparam("boundary")),
    ))
    .order_by(_SUBSCRIBERS.c.id)
    .execution_options(**{READS_NOTHING_HELD: True})  # lodging writes no subscribers or parties
)


def subscribers_for(session: Session, addressees: Addressees) -> list[Recipient]:
    """Every subscriber playing one of the addressed roles, in id order (one query)."""
    office_roles = [role.value for role in (RecipientRole.CONTROL_POINT, RecipientRole.TERMINAL)
                    if role in addressees.roles] if addressees.control_point else []
    boundary = addressees.boundary if RecipientRole.PARTNER_CUSTOMS in addressees.roles else None
    if not (addressees.party_ids or addressees.party_identifiers or office_roles or boundary):
        return []
    parameters = {
        "party_ids": sorted(addressees.party_ids), "party_identifiers": sorted(addressees.party_identifiers),
        "office_roles": office_roles, "control_point": addressees.control_point, "boundary": boundary,
    }
    reused = memo(session)
    key = ("subscribers", *(tuple(v) if isinstance(v, list) else v for v in parameters.values()))
    if reused is not None and key in reused:
        return list(reused[key])
    recipients = [Recipient(id=subscriber_id, format=fmt)
                  for subscriber_id, fmt in lean.rows(session.connection(), _ADDRESSED, parameters)]
    if reused is not None:
        reused[key] = recipients
    return recipients


def enqueue(session: Session, subscribers: Iterable[Recipient | Subscriber], message_type: MessageType, subject: str,
            payload: dict[str, Any], control_point: str | None, now: datetime) -> int:
    """Write one outbox row per subscriber (body rendered once per format); returns the count."""
    notice_id = uuid.uuid4().hex
    payload = {"notice_id": notice_id, "issue_datetime": now, **payload}
    bodies: dict[str, tuple[bytes, str]] = {}
    rows = []
    key = routing_key(message_type.value, control_point)
    for subscriber in subscribers:
        if subscriber.format not in bodies:
            bodies[subscriber.format] = render(message_type.value, payload, subscriber.format)
        body, content_type = bodies[subscriber.format]
        rows.append({
            "subscriber_id": subscriber.id, "message_type": message_type.value, "subject": subject,
            "idempotency_key": f"{notice_id}-{subscriber.id}", "routing_key": key,
            "content_type": content_type, "body": body, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now,
        })
    if rows:
        session.connection().execute(models.table_of(OutboxMessage).insert(), rows)
    return len(rows)


def _named_roles(roles: frozenset[RecipientRole]) -> list[str]:
    """The party roles a document names (the declarant is known by its client's party instead)."""
    return sorted(role.value for role in roles if role in PARTY_ROLES and role is not RecipientRole.DECLARANT)


def _named_identifiers(session: Session, declaration_ids: Sequence[str], roles: frozenset[RecipientRole]) -> set[str]:
    """The identifiers of the parties that play ``roles`` in the stored declarations."""
    named = _named_roles(roles)
    if not named or not declaration_ids:
        return set()
    return set(session.scalars(
        select(models.DeclarationParty.identifier)
        .where(models.DeclarationParty.declaration_id.in_(declaration_ids),
               models.DeclarationParty.role.in_(named))
    ).all())


def declaration_notice(session: Session, rules: RoutingRules, facts: DeclarationFacts, now: datetime,
                       note: str | None = None) -> int:
    """Route the notice of a declaration's new status (release, refusal, cancellation), if any."""
    message_type = NOTICE_BY_STATUS.get(facts.status)
    if message_type is None:
        return 0
    roles = frozenset(recipients_for(rules.routes, MessageFacts(
        message_type=message_type, control_point=facts.control_point, transport_mode=facts.transport_mode,
        declaration_type=facts.type_code, cross_boundary=rules.crosses_boundary(facts.control_point))))
    if not roles:
        return 0
    if facts.named_parties is None:
        identifiers = _named_identifiers(session, [facts.id], roles)
    else:
        named = set(_named_roles(roles))
        identifiers = {identifier for role, identifier in facts.named_parties if role in named}
    point = rules.control_points.get(facts.control_point or "")
    subscribers = subscribers_for(session, Addressees(
        party_ids=frozenset([facts.declarant_party_id] if RecipientRole.DECLARANT in roles else []),
        control_point=facts.control_point, boundary=point.boundary if point else None, roles=roles,
        party_identifiers=frozenset(identifiers)))
    if not subscribers:
        return 0
    payload = {
        "declaration_id": facts.id, "ucr": facts.ucr, "type_code": facts.type_code, "status": facts.status,
        "lane": facts.lane, "version": facts.version, "transport_mode_code": facts.transport_mode,
        "conveyance_id": facts.conveyance_id, "control_point_id": facts.control_point, "note": note,
    }
    return enqueue(session, subscribers, message_type, f"declaration:{facts.id}", payload, facts.control_point, now)


_DECLARATIONS = models.Declaration.__table__
_ROUTED_FACTS = select(_DECLARATIONS.c.control_point, _DECLARATIONS.c.transport_mode, _DECLARATIONS.c.type_code
                       ).where(_DECLARATIONS.c.id == bindparam("declaration_id"))


def duty_notice(session: Session, rules: RoutingRules, message_type: MessageType, declaration_id: str,
                declarant_party_id: int, payload: dict[str, Any], now: datetime) -> int:
    """Route a duty notice (demand raised, duty settled, duty refunded) about a declaration to
    whoever its routes name (the declarant by default)."""
    row = session.connection().execute(_ROUTED_FACTS, {"declaration_id": declaration_id}).first()
    control_point = row.control_point if row is not None else None
    roles = frozenset(recipients_for(rules.routes, MessageFacts(
        message_type=message_type, control_point=control_point,
        transport_mode=row.transport_mode if row is not None else None,
        declaration_type=row.type_code if row is not None else None,
        cross_boundary=rules.crosses_boundary(control_point))))
    if not roles:
        return 0
    point = rules.control_points.get(control_point or "")
    subscribers = subscribers_for(session, Addressees(
        party_ids=frozenset([declarant_party_id] if RecipientRole.DECLARANT in roles else []),
        control_point=control_point, boundary=point.boundary if point else None, roles=roles,
        party_identifiers=frozenset(_named_identifiers(session, [declaration_id], roles))))
    if not subscribers:
        return 0
    return enqueue(session, subscribers, message_type, f"declaration:{declaration_id}",
                   {"declaration_id": declaration_id, **payload}, control_point, now)


def cargo_line_notice(session: Session, rules: RoutingRules, line: CargoLineOverdue) -> int:
    """Tell the party that lodged a cargo line that it is still not (fully) declared after the
    period to declare (the routes name who: ``declarant`` is that party)."""
    roles = frozenset(recipients_for(rules.routes, MessageFacts(message_type=MessageType.CARGO_LINE_OPEN_NOTICE)))
    if RecipientRole.DECLARANT not in roles:
        return 0
    subscribers = subscribers_for(session, Addressees(frozenset([line.responsible_party_id]), None, None, roles))
    if not subscribers:
        return 0
    subject = f"cargo-line:{line.kind}:{line.identifier}"
    return enqueue(session, subscribers, MessageType.CARGO_LINE_OPEN_NOTICE, subject,
                   {"line_type_code": line.kind, "line_id": line.identifier, "movement_datetime": line.moved_at,
                    "package_quantity": line.package_count, "declared_package_quantity": line.packages_declared,
                    "note": "declare the goods (or the rest of them) now: the period to declare after their "
                            "movement has run out"}, None, line.at)


def manifest_message(session: Session, rules: RoutingRules, manifest: ManifestChanged) -> int:
    """Route a trip's manifest with its (new) decision to the declarants, the carrier and the
    offices its routes name."""
    facts = MessageFacts(message_type=MessageType.MANIFEST_DECISION, control_point=manifest.control_point,
                         transport_mode="3", decision=manifest.decision,
                         cross_boundary=manifest.boundary in rules.manifest.cross_boundaries)
    roles = frozenset(recipients_for(rules.routes, facts))
    if not roles:
        return 0
    consignments = manifest.consignments
    party_ids = {c.declarant_party_id for c in consignments} if RecipientRole.DECLARANT in roles else set()
    if RecipientRole.CARRIER in roles:
        party_ids.add(manifest.carrier_party_id)
    boundary = manifest.boundary if manifest.boundary in rules.manifest.cross_boundaries else None
    subscribers = subscribers_for(session, Addressees(
        frozenset(party_ids), manifest.control_point, boundary, roles,
        frozenset(_named_identifiers(session, [c.declaration_id for c in consignments if c.kind != "cargo"],
                                     roles))))
    if not subscribers:
        return 0
    return enqueue(session, subscribers, MessageType.MANIFEST_DECISION, f"trip:{manifest.trip_id}",
                   manifest_payload(manifest), manifest.control_point, manifest.at)


def manifest_payload(manifest: ManifestChanged) -> dict[str, Any]:
    selected = set(manifest.selected or ())
    return {
        "trip_id": manifest.trip_id, "state_version": manifest.state_version,
        "vehicle_registration_id": manifest.vehicle_mark, "control_point_id": manifest.control_point,
        "expected_crossing_datetime": manifest.expected_crossing_at, "decision": manifest.decision,
        "consignments": [{"declaration_id": c.declaration_id if c.kind != "cargo" else None,
                          "cargo_reference": c.declaration_id if c.kind == "cargo" else None, "ucr": c.ucr,
                          "status": c.status, "selected": c.declaration_id in selected}
                         for c in manifest.consignments],
    }


def cargo_manifest_message(session: Session, rules: RoutingRules, manifest: CargoManifestDecided) -> int:
    """Route a sea or air manifest's decision to the terminal (subscribers of its customs office),
    the carrier and, for cargo to or from a partner's port, the partner customs, as its routes
    say."""
    facts = MessageFacts(message_type=MessageType.CARGO_MANIFEST_DECISION, control_point=manifest.control_point,
                         transport_mode=manifest.mode, declaration_type=manifest.direction,
                         decision=manifest.decision, cross_boundary=manifest.boundary is not None)
    roles = frozenset(recipients_for(rules.routes, facts))
    if not roles:
        return 0
    party_ids = {manifest.carrier_party_id} if RecipientRole.CARRIER in roles else set()
    subscribers = subscribers_for(session, Addressees(frozenset(party_ids), manifest.control_point,
                                                      manifest.boundary, roles))
    if not subscribers:
        return 0
    return enqueue(session, subscribers, MessageType.CARGO_MANIFEST_DECISION, f"manifest:{manifest.manifest_id}",
                   cargo_manifest_payload(manifest), manifest.control_point, manifest.at)


def cargo_manifest_payload(manifest: CargoManifestDecided) -> dict[str, Any]:
    return {
        "manifest_id": manifest.manifest_id, "version": manifest.version, "mode_code": manifest.mode,
        "type_code": manifest.direction, "control_point_id": manifest.control_point,
        "conveyance": manifest.conveyance, "loading_location_id": manifest.loading_location,
        "unloading_location_id": manifest.unloading_location, "scheduled_datetime": manifest.scheduled_at,
        "decision": manifest.decision,
        "lines": [{"document_type_code": line.document_kind, "document_id": line.document_number,
                   "sequence_numeric": line.sequence, "package_quantity": line.package_count,
                   "gross_mass_kg": f"{line.gross_mass:f}", "status": line.status,
                   "containers": list(line.containers)} for line in manifest.lines],
    }
