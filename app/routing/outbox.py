"""The transactional outbox: routed messages are rows written in the transaction of the
change that causes them, so a committed change always has its messages and a rolled-back
one never does. The dispatcher (``app.routing.dispatcher``) delivers them afterwards.

Writes are Core inserts (one executemany); a change no route matches costs nothing more
than the rule check, and a matching one with no subscriber costs one indexed query.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.routing import (
    PARTY_ROLES,
    MessageFacts,
    MessageType,
    RecipientRole,
    recipients_for,
    routing_key,
)
from app.routing.messages import render
from app.routing.rules import RoutingRules

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
    """Who a message goes to once roles are resolved: parties by id, offices by code."""

    party_ids: frozenset[int]
    control_point: str | None
    boundary: str | None
    roles: frozenset[RecipientRole]


def subscribers_for(session: Session, addressees: Addressees) -> Sequence[Subscriber]:
    """Every subscriber playing one of the addressed roles, in id order (one query)."""
    conditions = []
    if addressees.party_ids:
        conditions.append(and_(Subscriber.role == "party", Subscriber.party_id.in_(addressees.party_ids)))
    for role in (RecipientRole.CONTROL_POINT, RecipientRole.TERMINAL):
        if role in addressees.roles and addressees.control_point:
            conditions.append(and_(Subscriber.role == role.value, Subscriber.code == addressees.control_point))
    if RecipientRole.PARTNER_CUSTOMS in addressees.roles and addressees.boundary:
        conditions.append(and_(Subscriber.role == RecipientRole.PARTNER_CUSTOMS.value,
                               Subscriber.code == addressees.boundary))
    if not conditions:
        return []
    return session.scalars(select(Subscriber).where(or_(*conditions)).order_by(Subscriber.id)).all()


def enqueue(session: Session, subscribers: Iterable[Subscriber], message_type: MessageType, subject: str,
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
        session.connection().execute(OutboxMessage.__table__.insert(), rows)
    return len(rows)


def _party_ids(session: Session, declaration_ids: Sequence[str], roles: frozenset[RecipientRole],
               declarant_party_ids: Iterable[int]) -> set[int]:
    """The parties that play ``roles`` in the declarations (the declarant by its client's party;
    importer, exporter and carrier by the identifier the document names)."""
    ids: set[int] = set(declarant_party_ids) if RecipientRole.DECLARANT in roles else set()
    named = [role.value for role in roles if role in PARTY_ROLES and role is not RecipientRole.DECLARANT]
    if named and declaration_ids:
        ids.update(session.scalars(
            select(models.Party.id).join(models.DeclarationParty,
                                         models.DeclarationParty.identifier == models.Party.identifier)
            .where(models.DeclarationParty.declaration_id.in_(declaration_ids),
                   models.DeclarationParty.role.in_(named))
        ).all())
    return ids


def declaration_notice(session: Session, rules: RoutingRules, row: models.Declaration, now: datetime,
                       note: str | None = None) -> int:
    """Route the notice of a declaration's new status (release, refusal, cancellation), if any."""
    message_type = NOTICE_BY_STATUS.get(row.status)
    if message_type is None:
        return 0
    facts = MessageFacts(message_type=message_type, control_point=row.control_point,
                         transport_mode=row.transport_mode, declaration_type=row.type_code,
                         cross_boundary=rules.crosses_boundary(row.control_point))
    roles = frozenset(recipients_for(rules.routes, facts))
    if not roles:
        return 0
    point = rules.control_points.get(row.control_point or "")
    addressees = Addressees(party_ids=frozenset(_party_ids(session, [row.id], roles, [row.declarant_party_id])),
                            control_point=row.control_point, boundary=point.boundary if point else None, roles=roles)
    subscribers = subscribers_for(session, addressees)
    if not subscribers:
        return 0
    payload = {
        "declaration_id": row.id, "ucr": row.ucr, "type_code": row.type_code, "status": row.status,
        "lane": row.lane, "version": row.version, "transport_mode_code": row.transport_mode,
        "conveyance_id": row.conveyance_id, "control_point_id": row.control_point, "note": note,
    }
    return enqueue(session, subscribers, message_type, f"declaration:{row.id}", payload, row.control_point, now)


def manifest_message(session: Session, rules: RoutingRules, trip: Any, consignments: Sequence[Any],
                     now: datetime) -> int:
    """Route a trip's manifest with its (new) decision. ``consignments`` rows carry
    declaration_id, ucr, status, declarant_party_id."""
    facts = MessageFacts(message_type=MessageType.MANIFEST_DECISION, control_point=trip.control_point,
                         transport_mode="3", decision=trip.decision,
                         cross_boundary=trip.boundary in rules.manifest.cross_boundaries)
    roles = frozenset(recipients_for(rules.routes, facts))
    if not roles:
        return 0
    party_ids = _party_ids(session, [c.declaration_id for c in consignments], roles,
                           [c.declarant_party_id for c in consignments])
    if RecipientRole.CARRIER in roles:
        party_ids.add(trip.carrier_party_id)
    boundary = trip.boundary if trip.boundary in rules.manifest.cross_boundaries else None
    subscribers = subscribers_for(session, Addressees(frozenset(party_ids), trip.control_point, boundary, roles))
    if not subscribers:
        return 0
    return enqueue(session, subscribers, MessageType.MANIFEST_DECISION, f"trip:{trip.id}",
                   manifest_payload(trip, consignments), trip.control_point, now)


def manifest_payload(trip: Any, consignments: Sequence[Any]) -> dict[str, Any]:
    selected = set(trip.selected or ())
    return {
        "trip_id": trip.id, "state_version": trip.state_version, "vehicle_registration_id": trip.vehicle_mark,
        "control_point_id": trip.control_point, "expected_crossing_datetime": trip.expected_crossing_at,
        "decision": trip.decision,
        "consignments": [{"declaration_id": c.declaration_id, "ucr": c.ucr, "status": c.status,
                          "selected": c.declaration_id in selected} for c in consignments],
    }
