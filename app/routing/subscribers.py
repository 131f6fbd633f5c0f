"""Subscribers (who receives routed messages, and how), dead letters and the pull queue.
Services: nothing here commits. Every change of a subscriber (added, paused, resumed, dead
letters replayed) writes a ``subscriber_events`` row with its actor in the caller's
transaction; the dispatcher records its own automatic blocks and unblocks."""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import models
from app.db.routing_models import OutboxMessage, Subscriber, SubscriberEvent
from app.db.session import rowcount
from app.domain.problems import Problem, Rejection
from app.platform.clock import utcnow
from app.routing.outbox import SUBSCRIBER_ROLES

TRANSPORTS = ("webhook", "amqp", "pull")
FORMATS = ("xml", "json")
NOTE_LENGTH = 500
#: A replay event names the messages it queued again, up to this many (the count is always there).
REPLAY_IDS_LISTED = 1000
#: A subscriber an administrator retired: kept with its history, never addressed or delivered to.
RETIRED = "retired"


def record(session: Session, subscriber_id: int, kind: str, actor: str, detail: dict[str, object] | None = None,
           note: str | None = None, now: datetime | None = None) -> None:
    """One subscriber event, in the caller's transaction."""
    note = " ".join(note.split())[:NOTE_LENGTH] if note else None
    session.add(SubscriberEvent(subscriber_id=subscriber_id, kind=kind, actor=actor, occurred_at=now or utcnow(),
                                detail=detail, note=note or None))


def _without_credentials(url: str | None) -> str | None:
    """The URL for the history: a user:password@ in it (AMQP) must not land on the audit log."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _problems(session: Session, role: str, transport: str, url: str | None, code: str | None,
              party_identifier: str | None, fmt: str) -> tuple[list[Problem], int | None]:
    """What is wrong with a subscriber's settings (by field), and the party it belongs to."""
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
    return problems, party_id


def add_subscriber(session: Session, name: str, role: str, transport: str, url: str | None = None,
                   code: str | None = None, party_identifier: str | None = None, fmt: str = "xml",
                   exchange: str | None = None, secret: str | None = None, *, actor: str,
                   note: str | None = None) -> Subscriber:
    """Register a receiver. ``role`` ``party`` needs the party's identifier; control_point,
    terminal and partner_customs need the ``code`` they act for (control point or boundary).
    A webhook needs an http(s) URL; the signing secret is generated unless given (and is
    never put on the history)."""
    problems, party_id = _problems(session, role, transport, url, code, party_identifier, fmt)
    if session.scalar(select(Subscriber.id).where(Subscriber.name == name)) is not None:
        problems.append(Problem(message=f"a subscriber named {name!r} exists", path="name"))
    if problems:
        raise Rejection("INVALID_SUBSCRIBER", "the subscriber cannot be added", problems)
    subscriber = Subscriber(
        name=name, role=role, code=code, party_id=party_id, transport=transport, url=url, exchange=exchange,
        format=fmt, secret=secret or secrets.token_hex(32), state="active", consecutive_failures=0,
        created_at=utcnow())
    session.add(subscriber)
    session.flush()
    record(session, subscriber.id, "added", actor, {"to": {
        "state": "active", "role": role, "code": code, "party": party_identifier if party_id else None,
        "transport": transport, "url": _without_credentials(url), "format": fmt, "exchange": exchange}},
        note, subscriber.created_at)
    return subscriber


def change_subscriber(session: Session, name_or_id: str, role: str, transport: str, url: str | None = None,
                      code: str | None = None, party_identifier: str | None = None, fmt: str = "xml", *,
                      actor: str, note: str | None = None) -> Subscriber:
    """Change where and how a subscriber receives (the same checks as adding one); its name,
    secret and messages stay. The ``changed`` event names what was and what is (a URL without
    its credentials). A retired subscriber cannot be changed."""
    subscriber = find_subscriber(session, name_or_id, lock=True)
    if subscriber.state == RETIRED or subscriber.client_id is not None:
        raise Rejection("SUBSCRIBER_RETIRED" if subscriber.state == RETIRED else "CLIENT_CALLBACK",
                        "a retired subscriber or a client's callback cannot be changed here",
                        [Problem(message="retired" if subscriber.state == RETIRED else "a client's own callback",
                                 path="name")])
    problems, party_id = _problems(session, role, transport, url, code, party_identifier, fmt)
    if problems:
        raise Rejection("INVALID_SUBSCRIBER", "the subscriber cannot be changed", problems)
    before = _settings(session, subscriber)
    subscriber.role, subscriber.transport, subscriber.url = role, transport, url
    subscriber.code = code if role != "party" else None
    subscriber.party_id, subscriber.format = party_id, fmt
    after = _settings(session, subscriber)
    changed = {key for key in after if after[key] != before[key]}
    if changed:
        record(session, subscriber.id, "changed", actor, {"from": {k: before[k] for k in sorted(changed)},
                                                         "to": {k: after[k] for k in sorted(changed)}}, note)
    return subscriber


def _settings(session: Session, subscriber: Subscriber) -> dict[str, object]:
    party = session.get(models.Party, subscriber.party_id) if subscriber.party_id is not None else None
    return {"role": subscriber.role, "code": subscriber.code, "party": party.identifier if party else None,
            "transport": subscriber.transport, "url": _without_credentials(subscriber.url),
            "format": subscriber.format}


def retire(session: Session, name_or_id: str, *, actor: str, note: str | None = None) -> Subscriber:
    """Stop routing to a subscriber for good: nothing new is addressed to it and nothing more is
    delivered (messages waiting for it are left undelivered and counted on the event). The row
    and its history stay, for the audit and the messages that name it. Retiring twice records
    nothing."""
    subscriber = find_subscriber(session, name_or_id, lock=True)
    if subscriber.state == RETIRED:
        return subscriber
    if not (note or "").strip():
        raise Rejection("REASON_REQUIRED", "say why the subscriber is retired",
                        [Problem(message="a reason is required", path="note")])
    waiting = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.subscriber_id == subscriber.id, OutboxMessage.status == "pending")) or 0
    record(session, subscriber.id, "retired", actor,
           {"from": {"state": subscriber.state}, "to": {"state": RETIRED}, "undelivered": waiting}, note)
    subscriber.state, subscriber.next_probe_at, subscriber.consecutive_failures = RETIRED, None, 0
    return subscriber


def find_subscriber(session: Session, name_or_id: str, lock: bool = False) -> Subscriber:
    """By name or id; ``lock`` holds the row (a change must not race the dispatcher's)."""
    query = select(Subscriber).where(
        Subscriber.id == int(name_or_id) if name_or_id.isdigit() else Subscriber.name == name_or_id)
    subscriber = session.scalar(query.with_for_update() if lock else query)
    if subscriber is None:
        raise Rejection("NOT_FOUND", f"no subscriber {name_or_id}")
    return subscriber


def pause(session: Session, name_or_id: str, *, actor: str, note: str | None = None) -> Subscriber:
    """Stop delivering until resumed; pausing a paused subscriber changes (and records) nothing."""
    subscriber = find_subscriber(session, name_or_id, lock=True)
    _not_retired(subscriber)
    if subscriber.state != "paused":
        record(session, subscriber.id, "paused", actor,
               {"from": {"state": subscriber.state}, "to": {"state": "paused"}}, note)
        subscriber.state = "paused"
    return subscriber


def resume(session: Session, name_or_id: str, *, actor: str, note: str | None = None) -> Subscriber:
    """Back to active at once (also ends an automatic block: the next run delivers)."""
    subscriber = find_subscriber(session, name_or_id, lock=True)
    _not_retired(subscriber)
    if subscriber.state != "active" or subscriber.consecutive_failures or subscriber.next_probe_at is not None:
        record(session, subscriber.id, "resumed", actor,
               {"from": {"state": subscriber.state, "consecutive_failures": subscriber.consecutive_failures},
                "to": {"state": "active", "consecutive_failures": 0}}, note)
    subscriber.state = "active"
    subscriber.consecutive_failures = 0
    subscriber.next_probe_at = None
    return subscriber


def _not_retired(subscriber: Subscriber) -> None:
    if subscriber.state == RETIRED:
        raise Rejection("SUBSCRIBER_RETIRED", f"subscriber {subscriber.name} is retired",
                        [Problem(message="retired", path="name")])


def history(session: Session, name_or_id: str) -> list[SubscriberEvent]:
    """Everything that happened to a subscriber, oldest first."""
    subscriber = find_subscriber(session, name_or_id)
    return list(session.scalars(select(SubscriberEvent).where(SubscriberEvent.subscriber_id == subscriber.id)
                                .order_by(SubscriberEvent.id)))


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
           now: datetime | None = None, *, actor: str, note: str | None = None) -> int:
    """Put dead letters back in the queue (all, a subscriber's, or the given ids); returns how
    many. They keep their idempotency keys, so a receiver that did process one can tell.
    Each subscriber concerned gets one ``replayed`` event naming its messages."""
    now = now or utcnow()
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if subscriber:
        query = query.where(OutboxMessage.subscriber_id == find_subscriber(session, subscriber).id)
    if message_ids:
        query = query.where(OutboxMessage.id.in_(list(message_ids)))
    rows = session.execute(query.values(status="pending", attempts=0, next_attempt_at=now)
                           .returning(OutboxMessage.subscriber_id, OutboxMessage.id)).all()
    by_subscriber: dict[int, list[int]] = {}
    for subscriber_id, message_id in rows:
        by_subscriber.setdefault(subscriber_id, []).append(message_id)
    for subscriber_id, ids in sorted(by_subscriber.items()):
        detail: dict[str, object] = {"messages": len(ids)}
        if len(ids) <= REPLAY_IDS_LISTED:
            detail["message_ids"] = sorted(ids)
        record(session, subscriber_id, "replayed", actor, detail, note, now)
    return len(rows)


def pull_queue(session: Session, party_id: int, limit: int) -> Sequence[OutboxMessage]:
    """The oldest unacknowledged messages of the party's pull subscribers."""
    return session.scalars(
        select(OutboxMessage).join(Subscriber, Subscriber.id == OutboxMessage.subscriber_id)
        .where(Subscriber.transport == "pull", Subscriber.party_id == party_id, Subscriber.state != RETIRED,
               OutboxMessage.status == "pending")
        .order_by(OutboxMessage.id).limit(limit)).all()


def acknowledge(session: Session, party_id: int, message_ids: Sequence[int], now: datetime | None = None) -> int:
    """Mark the party's pulled messages processed; ids of other parties' messages are ignored."""
    pulls = select(Subscriber.id).where(Subscriber.transport == "pull", Subscriber.party_id == party_id)
    return rowcount(session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.status == "pending",
               OutboxMessage.subscriber_id.in_(pulls))
        .values(status="delivered", delivered_at=now or utcnow(), attempts=OutboxMessage.attempts + 1)
    ))
