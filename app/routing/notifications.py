"""Lifecycle notifications for declarants' systems: every step of a declaration, written in
the transaction of the step into the party's feed and, for each callback its API clients
registered, into the outbox (delivered signed, in order, with retries, blocking and probing
by the dispatcher like every routed message).

The feed is the pull queue: a client reads it from its cursor and acknowledges how far it
has processed, so each client of a party keeps its own place. Services here never commit."""
from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.orm import Session

from app import documents
from app.db import models
from app.db import lean
from app.db.bulk import READS_NOTHING_HELD
from app.db.session import rowcount
from app.db.routing_models import LifecycleNotification, NotificationCursor, OutboxMessage, Subscriber
from app.documents import XmlVocabulary
from app.domain.events import DeclarationFacts
from app.domain.notifications import FEED_RETENTION_DAYS, NotificationKind, Resolver, callback_problems
from app.domain.problems import Problem, Rejection
from app.domain.reference import new_event_id
from app.domain.routing import routing_key
from app.platform.clock import utcnow
from app.platform.uow import insert_later, memo
from app.routing.subscribers import FORMATS, record

NOTIFICATION_NS = "urn:csw:notification:v1"
MESSAGE_TYPE = "notification"
CALLBACK_ROLE = "client"
#: A callback its client removed: kept for its history, never delivered to again.
REMOVED = "removed"
MAX_FEED_PAGE = 500
#: Detail fields a notification may carry, in the schema's order.
DETAIL_FIELDS = ("request_id", "documents", "message", "result", "demand_id", "amount", "note")

NOTIFICATION_XML = XmlVocabulary(NOTIFICATION_NS, words={"id": "ID", "lrn": "LRN", "datetime": "DateTime"},
                                 item_names={"notifications": "Notification"})

_NOTIFICATIONS = models.table_of(LifecycleNotification)
_OUTBOX = models.table_of(OutboxMessage)
_DECLARATIONS = models.table_of(models.Declaration)
_DOCUMENTS = models.table_of(models.DeclarationDocument)
_SUBSCRIBERS = models.table_of(Subscriber)

# What a notification names of its declaration: the declarant, LRN, version, status, lane and
# the conversation of the submission that made the version in force.
_SUBJECT = (
    select(_DECLARATIONS.c.declarant_party_id, _DECLARATIONS.c.lrn, _DECLARATIONS.c.version,
           _DECLARATIONS.c.status, _DECLARATIONS.c.lane, _DOCUMENTS.c.conversation_id)
    .select_from(_DECLARATIONS.outerjoin(_DOCUMENTS, (_DOCUMENTS.c.declaration_id == _DECLARATIONS.c.id)
                                         & (_DOCUMENTS.c.version == _DECLARATIONS.c.version)))
    .where(_DECLARATIONS.c.id == bindparam("declaration_id"))
)
# Built once: notify runs for every step of every declaration (twice per green-lane lodging).
_CALLBACKS = (select(_SUBSCRIBERS.c.id, _SUBSCRIBERS.c.format)
              .where(_SUBSCRIBERS.c.role == CALLBACK_ROLE, _SUBSCRIBERS.c.state != REMOVED,
                     _SUBSCRIBERS.c.party_id == bindparam("party_id"))
              .order_by(_SUBSCRIBERS.c.id)
              .execution_options(**{READS_NOTHING_HELD: True}))  # lodging writes no subscriptions
_INSERT_NOTIFICATION = _NOTIFICATIONS.insert()
_INSERT_OUTBOX = _OUTBOX.insert()


@dataclass(frozen=True, slots=True)
class Subject:
    """The declaration a notification is about, as its declarant knows it."""

    declaration_id: str
    party_id: int
    lrn: str
    version: int
    conversation_id: str | None
    status: str | None = None
    lane: str | None = None


def subject_of_facts(session: Session, facts: DeclarationFacts) -> Subject | None:
    """The subject of a declaration whose stored facts are in hand: only what a version never
    changes (its LRN and the conversation that made it) is read, or reused from the batch."""
    reused = memo(session)
    known = reused.get(("subject", facts.id, facts.version)) if reused is not None else None
    if known is None:
        subject = subject_of(session, facts.id)
        return replace(subject, status=facts.status, lane=facts.lane) if subject is not None else None
    lrn, conversation_id = known
    return Subject(facts.id, facts.declarant_party_id, lrn, facts.version, conversation_id, facts.status, facts.lane)


def subject_of(session: Session, declaration_id: str) -> Subject | None:
    """The stored declaration as a subject (None: there is no such declaration)."""
    row = session.connection().execute(_SUBJECT, {"declaration_id": declaration_id}).first()
    if row is None:
        return None
    return Subject(declaration_id, row.declarant_party_id, row.lrn, row.version, row.conversation_id,
                   row.status, row.lane)


def payload_of(notification: dict[str, Any]) -> dict[str, Any]:
    """A stored notification as the schema orders its fields (absent ones left out)."""
    detail = notification.get("detail") or {}
    return {
        "event_id": notification["event_id"], "sequence": notification["id"], "kind": notification["kind"],
        "declaration_id": notification["declaration_id"], "lrn": notification["lrn"],
        "version": notification["version"], "conversation_id": notification["conversation_id"],
        "status": notification["status"], "lane": notification["lane"],
        **{name: detail.get(name) for name in DETAIL_FIELDS},
        "occurred_datetime": notification["occurred_at"],
    }


def render(payload: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """One notification in a callback's format: XML in ``urn:csw:notification:v1`` or JSON."""
    if fmt == "json":
        return documents.to_json({"message": "Notification", **payload}, separators=(",", ":")), "application/json"
    return NOTIFICATION_XML.to_xml("Notification", payload), "application/xml"


def notify(session: Session, subject: Subject, kind: NotificationKind, at: datetime, *,
           status: str | None = None, lane: str | None = None, detail: dict[str, Any] | None = None) -> int | None:
    """Write the notification into the party's feed and the outbox of each live callback of
    the party's clients (one row each, in this transaction); returns the feed's id (None when
    the party has no callback and a batch being stored inserts its feed rows together)."""
    values = {
        "event_id": new_event_id(at), "party_id": subject.party_id, "kind": kind.value,
        "declaration_id": subject.declaration_id, "lrn": subject.lrn, "version": subject.version,
        "conversation_id": subject.conversation_id, "status": status or subject.status,
        "lane": lane if lane is not None else subject.lane,
        "detail": {k: v for k, v in (detail or {}).items() if v not in (None, "")} or None, "occurred_at": at,
    }
    connection = session.connection()
    reused = memo(session)
    if reused is not None:
        reused[("subject", subject.declaration_id, subject.version)] = (subject.lrn, subject.conversation_id)
    callbacks = _callbacks(connection, reused, subject.party_id)
    if not callbacks and insert_later(session, _NOTIFICATIONS, values):
        return None
    inserted = connection.execute(_INSERT_NOTIFICATION, values).inserted_primary_key
    assert inserted is not None
    notification_id = inserted[0]
    if callbacks:
        payload = payload_of({**values, "id": notification_id})
        bodies: dict[str, tuple[bytes, str]] = {}
        rows = []
        for callback_id, callback_format in callbacks:
            if callback_format not in bodies:
                bodies[callback_format] = render(payload, callback_format)
            body, content_type = bodies[callback_format]
            rows.append({
                "subscriber_id": callback_id, "message_type": MESSAGE_TYPE,
                "subject": f"declaration:{subject.declaration_id}",
                "idempotency_key": f"{values['event_id']}-{callback_id}",
                "routing_key": routing_key(MESSAGE_TYPE, None), "content_type": content_type, "body": body,
                "status": "pending", "attempts": 0, "next_attempt_at": at, "created_at": at,
            })
        connection.execute(_INSERT_OUTBOX, rows)
    return int(notification_id)


def _callbacks(connection: Connection, reused: dict[object, Any] | None, party_id: int) -> Sequence[tuple[int, str]]:
    """The id and format of each live callback of the party's clients (read once per batch or
    group when storing one)."""
    key = ("callbacks", party_id)
    if reused is not None and key in reused:
        found: Sequence[tuple[int, str]] = reused[key]
        return found
    rows = lean.rows(connection, _CALLBACKS, {"party_id": party_id})
    if reused is not None:
        reused[key] = rows
    return rows


# --- the pull feed ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedPage:
    notifications: list[dict[str, Any]]
    acknowledged_through: int
    next_after: int


def acknowledged_through(session: Session, client_id: int) -> int:
    return session.scalar(select(NotificationCursor.acknowledged_through)
                          .where(NotificationCursor.client_id == client_id)) or 0


def feed(session: Session, client_id: int, party_id: int, after: int | None, limit: int) -> FeedPage:
    """The party's notifications after ``after`` (default: after what this client has
    acknowledged), oldest first."""
    through = acknowledged_through(session, client_id)
    start = through if after is None else after
    rows = session.connection().execute(
        select(_NOTIFICATIONS).where(_NOTIFICATIONS.c.party_id == party_id, _NOTIFICATIONS.c.id > start)
        .order_by(_NOTIFICATIONS.c.id).limit(min(limit, MAX_FEED_PAGE))).mappings().all()
    page = [payload_of(dict(row)) for row in rows]
    return FeedPage(page, through, page[-1]["sequence"] if page else start)


def acknowledge(session: Session, client_id: int, party_id: int, through: int, now: datetime | None = None) -> int:
    """Move this client's cursor forward to ``through`` (a sequence it has read); a cursor
    never moves back, and never past the party's newest notification."""
    newest = session.scalar(select(func.max(LifecycleNotification.id))
                            .where(LifecycleNotification.party_id == party_id)) or 0
    if through > newest:
        raise Rejection("INVALID_PARAMETER", f"through {through} is past your newest notification ({newest})",
                        [_problem("through", "at-most-newest", f"at most {newest}")])
    cursor = session.get(NotificationCursor, client_id, with_for_update=True)
    now = now or utcnow()
    if cursor is None:
        session.add(NotificationCursor(client_id=client_id, acknowledged_through=through, updated_at=now))
        return through
    if through > cursor.acknowledged_through:
        cursor.acknowledged_through, cursor.updated_at = through, now
    return cursor.acknowledged_through


def purge(session: Session, now: datetime | None = None) -> int:
    """Drop notifications past the feed's retention (their pushes live on in the outbox)."""
    cutoff = (now or utcnow()) - timedelta(days=FEED_RETENTION_DAYS)
    return rowcount(session.execute(delete(LifecycleNotification).where(LifecycleNotification.occurred_at < cutoff)))


# --- callbacks ----------------------------------------------------------------------------

def _problem(path: str, rule: str, message: str) -> Problem:
    return Problem(message=message, path=path, rule=rule)


def resolve_host(host: str) -> Iterable[str]:
    """The addresses a host name resolves to now."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def callback_of(session: Session, client_id: int) -> Subscriber | None:
    """The client's live callback (None: it has none)."""
    return session.scalar(select(Subscriber).where(Subscriber.client_id == client_id, Subscriber.state != REMOVED))


def register_callback(session: Session, client: models.ApiClient, url: str, fmt: str, *, rotate_secret: bool = False,
                      resolve: Resolver = resolve_host) -> tuple[Subscriber, str | None]:
    """Register or change the client's callback; returns it and its signing secret when one was
    made (first registration, or ``rotate_secret``): the secret is shown once."""
    problems = callback_problems(url, resolve)
    if fmt not in FORMATS:
        problems.append(_problem("format", "enum", "format must be xml or json"))
    if problems:
        raise Rejection("INVALID_CALLBACK", "the callback cannot be registered", list(problems))
    actor = f"client:{client.id}:{client.name}"
    subscriber = session.scalar(select(Subscriber).where(Subscriber.client_id == client.id).with_for_update())
    secret: str | None = None
    if subscriber is None:
        secret = secrets.token_hex(32)
        subscriber = Subscriber(
            name=f"client-{client.id}-callback", role=CALLBACK_ROLE, code=None, party_id=client.party_id,
            client_id=client.id, transport="webhook", url=url, exchange=None, format=fmt, secret=secret,
            state="active", consecutive_failures=0, created_at=utcnow())
        session.add(subscriber)
        session.flush()
        record(session, subscriber.id, "added", actor, {"to": {"url": url, "format": fmt, "state": "active"}})
        return subscriber, secret
    before = {"url": subscriber.url, "format": subscriber.format, "state": subscriber.state}
    if rotate_secret or subscriber.state == REMOVED:
        secret = secrets.token_hex(32)
        subscriber.secret = secret
    subscriber.url, subscriber.format = url, fmt
    if subscriber.state == REMOVED:
        subscriber.state, subscriber.consecutive_failures, subscriber.next_probe_at = "active", 0, None
    record(session, subscriber.id, "changed", actor,
           {"from": before, "to": {"url": url, "format": fmt, "state": subscriber.state},
            "secret_rotated": secret is not None})
    return subscriber, secret


def remove_callback(session: Session, client: models.ApiClient) -> bool:
    """Stop pushing to the client's callback; messages not yet delivered are dropped with it
    (the feed still holds them). False: it had none."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.client_id == client.id,
                                                         Subscriber.state != REMOVED).with_for_update())
    if subscriber is None:
        return False
    record(session, subscriber.id, "removed", f"client:{client.id}:{client.name}",
           {"from": {"state": subscriber.state}, "to": {"state": REMOVED}})
    subscriber.state = REMOVED
    session.execute(delete(OutboxMessage).where(OutboxMessage.subscriber_id == subscriber.id,
                                                OutboxMessage.status == "pending"))
    return True


def of_declaration(session: Session, party_id: int, declaration_id: str) -> list[dict[str, Any]]:
    """The notifications a party's systems were sent about one declaration, oldest first (the
    portal shows the same feed)."""
    rows = session.connection().execute(
        select(_NOTIFICATIONS).where(_NOTIFICATIONS.c.party_id == party_id,
                                     _NOTIFICATIONS.c.declaration_id == declaration_id)
        .order_by(_NOTIFICATIONS.c.id)).mappings().all()
    return [payload_of(dict(row)) for row in rows]
