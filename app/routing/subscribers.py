"""Subscribers (who receives routed messages, and how), dead letters and the pull queue.
Services: nothing here commits."""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import models
from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.problems import Problem, Rejection
from app.routing.outbox import SUBSCRIBER_ROLES

TRANSPORTS = ("webhook", "amqp", "pull")
FORMATS = ("xml", "json")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def add_subscriber(session: Session, name: str, role: str, transport: str, url: str | None = None,
                   code: str | None = None, party_identifier: str | None = None, fmt: str = "xml",
                   exchange: str | None = None, secret: str | None = None) -> Subscriber:
    """Register a receiver. ``role`` ``party`` needs the party's identifier; control_point,
    terminal and partner_customs need the ``code`` they act for (control point or boundary).
    A webhook needs an http(s) URL; the signing secret is generated unless given."""
    problems = []
    if role not in SUBSCRIBER_ROLES:
        problems.append(Problem(message=f"role must be one of {', '.join(SUBSCRIBER_ROLES)}", path="role"))
    if transport not in TRANSPORTS:
        problems.append(Problem(message=f"transport must be one of {', '.join(TRANSPORTS)}", path="transport"))
    if fmt not in FORMATS:
        problems.append(Problem(message="format must be xml or json", path="format"))
    if transport == "webhook" and (not url or urlsplit(url).scheme not in ("http", "https")
                                   or not urlsplit(url).hostname):
        problems.append(Problem(message="a webhook needs an http:// or https:// URL", path="url"))
    if transport == "amqp" and url and urlsplit(url).scheme not in ("amqp", "amqps"):
        problems.append(Problem(message="an AMQP URL starts with amqp:// or amqps://", path="url"))
    if role != "party" and not code:
        problems.append(Problem(message=f"a {role} subscriber needs --code (control point or boundary)", path="code"))
    party_id = None
    if role == "party" or transport == "pull":
        party = session.scalar(select(models.Party).where(models.Party.identifier == (party_identifier or "")))
        if party is None:
            problems.append(Problem(message=f"unknown party {party_identifier!r} (a party subscriber and a pull "
                                            "queue belong to a party)", path="party"))
        else:
            party_id = party.id
    if session.scalar(select(Subscriber.id).where(Subscriber.name == name)) is not None:
        problems.append(Problem(message=f"a subscriber named {name!r} exists", path="name"))
    if problems:
        raise Rejection("INVALID_SUBSCRIBER", "the subscriber cannot be added", problems)
    subscriber = Subscriber(
        name=name, role=role, code=code, party_id=party_id, transport=transport, url=url, exchange=exchange,
        format=fmt, secret=secret or secrets.token_hex(32), state="active", consecutive_failures=0,
        created_at=_utcnow())
    session.add(subscriber)
    session.flush()
    return subscriber


def find_subscriber(session: Session, name_or_id: str) -> Subscriber:
    query = select(Subscriber).where(
        Subscriber.id == int(name_or_id) if name_or_id.isdigit() else Subscriber.name == name_or_id)
    subscriber = session.scalar(query)
    if subscriber is None:
        raise Rejection("NOT_FOUND", f"no subscriber {name_or_id}")
    return subscriber


def pause(session: Session, name_or_id: str) -> Subscriber:
    subscriber = find_subscriber(session, name_or_id)
    subscriber.state = "paused"
    return subscriber


def resume(session: Session, name_or_id: str) -> Subscriber:
    """Back to active at once (also ends an automatic block: the next run delivers)."""
    subscriber = find_subscriber(session, name_or_id)
    subscriber.state = "active"
    subscriber.consecutive_failures = 0
    subscriber.next_probe_at = None
    return subscriber


@dataclass(frozen=True, slots=True)
class SubscriberHealth:
    subscriber: Subscriber
    backlog: int
    dead: int
    delivered: int
    oldest_pending: datetime | None


def health(session: Session) -> list[SubscriberHealth]:
    """Every subscriber with its backlog, dead letters and delivered count (one grouped query)."""
    counts: dict[tuple[int, str], tuple[int, datetime | None]] = {
        (sid, status): (count, oldest) for sid, status, count, oldest in session.execute(
            select(OutboxMessage.subscriber_id, OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
            .group_by(OutboxMessage.subscriber_id, OutboxMessage.status)).all()}
    result = []
    for subscriber in session.scalars(select(Subscriber).order_by(Subscriber.name)):
        pending = counts.get((subscriber.id, "pending"), (0, None))
        result.append(SubscriberHealth(subscriber, pending[0], counts.get((subscriber.id, "dead"), (0, None))[0],
                                       counts.get((subscriber.id, "delivered"), (0, None))[0], pending[1]))
    return result


def dead_letters(session: Session, subscriber: str | None = None, limit: int = 100) -> Sequence[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == "dead").order_by(OutboxMessage.id).limit(limit)
    if subscriber:
        query = query.where(OutboxMessage.subscriber_id == find_subscriber(session, subscriber).id)
    return session.scalars(query).all()


def replay(session: Session, subscriber: str | None = None, message_ids: Sequence[int] = (),
           now: datetime | None = None) -> int:
    """Put dead letters back in the queue (all, a subscriber's, or the given ids); returns how
    many. They keep their idempotency keys, so a receiver that did process one can tell."""
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if subscriber:
        query = query.where(OutboxMessage.subscriber_id == find_subscriber(session, subscriber).id)
    if message_ids:
        query = query.where(OutboxMessage.id.in_(list(message_ids)))
    return session.execute(query.values(status="pending", attempts=0, next_attempt_at=now or _utcnow())).rowcount


def pull_queue(session: Session, party_id: int, limit: int) -> Sequence[OutboxMessage]:
    """The oldest unacknowledged messages of the party's pull subscribers."""
    return session.scalars(
        select(OutboxMessage).join(Subscriber, Subscriber.id == OutboxMessage.subscriber_id)
        .where(Subscriber.transport == "pull", Subscriber.party_id == party_id, OutboxMessage.status == "pending")
        .order_by(OutboxMessage.id).limit(limit)).all()


def acknowledge(session: Session, party_id: int, message_ids: Sequence[int], now: datetime | None = None) -> int:
    """Mark the party's pulled messages processed; ids of other parties' messages are ignored."""
    pulls = select(Subscriber.id).where(Subscriber.transport == "pull", Subscriber.party_id == party_id)
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.status == "pending",
               OutboxMessage.subscriber_id.in_(pulls))
        .values(status="delivered", delivered_at=now or _utcnow(), attempts=OutboxMessage.attempts + 1)
    ).rowcount
