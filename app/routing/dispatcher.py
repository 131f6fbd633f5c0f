"""The outbox dispatcher: claims a subscriber, delivers its due messages in order, records
the outcome. Runs as an APScheduler job (``app/jobs.py``) and as ``csw dispatch``.

Safety when several dispatchers run (PostgreSQL): a dispatcher claims one subscriber at a
time with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a lease (owner + expiry) written in a
short transaction, so no two deliver to the same subscriber at once and messages reach each
subscriber in outbox order. A chunk's delivery stops once half the lease has passed (the
outcomes are recorded and the lease released), so a slow receiver never outlives the lease
that keeps other dispatchers away (the lease must therefore exceed twice the longest
single delivery: webhook connect + read timeout). Network I/O happens outside any
transaction (on SQLite a transaction holds the write lock); reads take no write lock and writes
queue at the write gate with the web's (``Database``). Outcomes are recorded every ``chunk_size`` messages; a
dispatcher that dies mid-batch leaves its lease to expire and the unrecorded messages are
delivered again (at least once: receivers de-duplicate by Idempotency-Key).

Ordering: per subscriber, messages go in id order; a message waiting for a retry holds back
the later messages about the same subject (declaration or trip), not the others. A receiver
that is down (5xx, 408/429, timeout, refused connection) is ``blocked``: nothing is sent to
it until ``next_probe_at``, then one message (the probe); if that succeeds the rest follow.
Blocking, each failed probe and unblocking are written to ``subscriber_events`` (actor
``system:dispatcher``) in the transaction that records the outcome. An administrator's pause
taken meanwhile stands: a receiver found down while paused stays paused.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.routing import DeliveryResult, backoff_seconds
from app.platform.clock import utcnow
from app.platform.uow import Database
from app.routing import metrics
from app.routing.subscribers import record as record_event
from app.routing.settings import DispatchSettings
from app.routing.transports import AmqpTransport, Attempt, Outgoing, Target, Transport, WebhookTransport

log = logging.getLogger("csw.routing")

ACTOR = "system:dispatcher"

PUSH_TRANSPORTS = ("webhook", "amqp")


@dataclass
class DispatchReport:
    delivered: int = 0
    refused: int = 0
    dead: int = 0
    unavailable: int = 0
    subscribers: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {"delivered": self.delivered, "refused": self.refused, "dead": self.dead,
                "unavailable": self.unavailable, "subscribers": len(self.subscribers)}


@dataclass(frozen=True)
class Claim:
    target: Target
    transport: str
    probing: bool


class Dispatcher:
    def __init__(self, database: Database, settings: DispatchSettings | None = None,
                 transports: dict[str, Transport] | None = None) -> None:
        self.database = database
        self.settings = settings or DispatchSettings.from_env()
        self.owner = str(uuid.uuid4())
        self.transports: dict[str, Transport] = transports or {
            "webhook": WebhookTransport(self.settings.timeout_seconds),
            "amqp": AmqpTransport(self.settings.amqp_url, self.settings.amqp_exchange),
        }

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()

    def claim(self, now: datetime, skip: set[int]) -> Claim | None:
        """Lease one subscriber with due messages (none other dispatcher holds). Whether there is
        one is read first, without the write gate: most ticks find nothing due and write nothing."""
        due = select(OutboxMessage.id).where(
            OutboxMessage.subscriber_id == Subscriber.id, OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now).exists()
        query = (select(Subscriber)
                 .where(Subscriber.transport.in_(PUSH_TRANSPORTS), Subscriber.state.not_in(("paused", "retired")),
                        (Subscriber.lease_until.is_(None)) | (Subscriber.lease_until < now),
                        (Subscriber.state == "active") | (Subscriber.next_probe_at <= now), due)
                 .order_by(Subscriber.last_delivered_at.asc().nulls_first(), Subscriber.id).limit(1))
        if skip:
            query = query.where(Subscriber.id.not_in(skip))
        with self.database.reading() as session:
            if session.scalar(query.with_only_columns(Subscriber.id)) is None:
                return None
        with self.database.writing() as session:
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            subscriber = session.scalar(query)
            if subscriber is None:
                return None
            subscriber.lease_owner = self.owner
            subscriber.lease_until = now + timedelta(seconds=self.settings.lease_seconds)
            return Claim(Target(subscriber.id, subscriber.name, subscriber.url, subscriber.exchange, subscriber.secret),
                         subscriber.transport, probing=subscriber.state == "blocked")

    def _due_messages(self, subscriber_id: int, now: datetime, probing: bool) -> list[Outgoing]:
        """The subscriber's due messages in id order, leaving out those behind a message of the
        same subject that waits for a retry; only the first when probing."""
        with self.database.reading() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.message_type,
                       OutboxMessage.subject, OutboxMessage.routing_key, OutboxMessage.content_type,
                       OutboxMessage.body, OutboxMessage.attempts, OutboxMessage.created_at,
                       OutboxMessage.next_attempt_at)
                .where(OutboxMessage.subscriber_id == subscriber_id, OutboxMessage.status == "pending")
                .order_by(OutboxMessage.id).limit(self.settings.batch_size)).all()
        held: set[str] = set()
        due: list[Outgoing] = []
        for row in rows:
            if row.subject in held:
                continue
            if row.next_attempt_at > now:
                held.add(row.subject)
                continue
            due.append(Outgoing(*row[:9]))
            if probing:
                break
        return due

    def _record(self, claim: Claim, messages: dict[int, Outgoing], attempts: Sequence[Attempt],
                now: datetime, report: DispatchReport, renew: bool) -> None:
        """Write the outcomes; renew (or release) the lease."""
        retry, probe = self.settings.retry, self.settings.probe
        delivered = [a.message_id for a in attempts if a.result is DeliveryResult.DELIVERED]
        with self.database.writing() as session:
            if delivered:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(delivered)).values(
                    status="delivered", delivered_at=now, attempts=OutboxMessage.attempts + 1, last_error=None))
                for message_id in delivered:
                    created: datetime = messages[message_id].created_at
                    metrics.LATENCY.observe(max(0.0, (now - created).total_seconds()))
            subscriber = session.get(Subscriber, claim.target.id, with_for_update=True)
            assert subscriber is not None
            state_before, failures_before = subscriber.state, subscriber.consecutive_failures
            for attempt in attempts:
                message = messages[attempt.message_id]
                if attempt.result is DeliveryResult.REFUSED:
                    tries = message.attempts + 1
                    dead = tries >= retry.max_attempts
                    session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
                        attempts=tries, last_error=attempt.detail, status="dead" if dead else "pending",
                        next_attempt_at=now + timedelta(seconds=0 if dead else backoff_seconds(tries, retry))))
                    report.refused += 1
                    if dead:
                        report.dead += 1
                        metrics.DEAD_LETTERS.inc()
                        log.warning("dead letter %s for %s: %s", message.idempotency_key, claim.target.name,
                                    attempt.detail)
                elif attempt.result is DeliveryResult.UNAVAILABLE:
                    session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
                        last_error=attempt.detail))
                    subscriber.consecutive_failures += 1
                    if subscriber.state != "paused":
                        subscriber.state = "blocked"
                    subscriber.next_probe_at = now + timedelta(
                        seconds=backoff_seconds(subscriber.consecutive_failures, probe))
                    subscriber.last_error = attempt.detail
                    report.unavailable += 1
                    log.warning("subscriber %s unavailable (%s); probing again at %s", claim.target.name,
                                attempt.detail, subscriber.next_probe_at.isoformat())
                metrics.DELIVERIES.labels(claim.transport, attempt.result.value).inc()
            if delivered:
                report.delivered += len(delivered)
                subscriber.last_delivered_at = now
            if subscriber.state == "blocked" and attempts and not any(
                    a.result is DeliveryResult.UNAVAILABLE for a in attempts):
                log.info("subscriber %s answered the probe; resuming", claim.target.name)
                subscriber.state = "active"
                subscriber.consecutive_failures = 0
                subscriber.next_probe_at = None
                subscriber.last_error = None
            self._record_state_change(session, subscriber, state_before, failures_before, now)
            if subscriber.lease_owner == self.owner:
                if renew:
                    subscriber.lease_until = utcnow() + timedelta(seconds=self.settings.lease_seconds)
                else:
                    subscriber.lease_owner = None
                    subscriber.lease_until = None

    @staticmethod
    def _record_state_change(session: Session, subscriber: Subscriber, state_before: str, failures_before: int,
                             now: datetime) -> None:
        """The subscriber's history: blocked, probe failed (still blocked, probed later) or
        unblocked, with the receiver's error as the reason."""
        probe_at = subscriber.next_probe_at.isoformat() if subscriber.next_probe_at else None
        if subscriber.state == "blocked" and state_before != "blocked":
            record_event(session, subscriber.id, "blocked", ACTOR,
                         {"from": {"state": state_before}, "to": {"state": "blocked", "next_probe_at": probe_at},
                          "consecutive_failures": subscriber.consecutive_failures}, subscriber.last_error, now)
        elif subscriber.state == "blocked" and subscriber.consecutive_failures > failures_before:
            record_event(session, subscriber.id, "probe_failed", ACTOR,
                         {"consecutive_failures": subscriber.consecutive_failures, "next_probe_at": probe_at},
                         subscriber.last_error, now)
        elif state_before == "blocked" and subscriber.state == "active":
            record_event(session, subscriber.id, "unblocked", ACTOR,
                         {"from": {"state": "blocked", "consecutive_failures": failures_before},
                          "to": {"state": "active"}}, "the receiver answered the probe", now)

    def _serve(self, claim: Claim, report: DispatchReport) -> None:
        transport = self.transports[claim.transport]
        now = utcnow()
        due = self._due_messages(claim.target.id, now, claim.probing)
        chunks = [due[i:i + self.settings.chunk_size] for i in range(0, len(due), self.settings.chunk_size)] or [[]]
        for number, chunk in enumerate(chunks):
            deadline = time.monotonic() + self.settings.lease_seconds / 2
            attempts = transport.deliver(claim.target, chunk, deadline) if chunk else []
            last = number == len(chunks) - 1
            stopped = (any(a.result is DeliveryResult.UNAVAILABLE for a in attempts)
                       or time.monotonic() >= deadline)
            self._record(claim, {m.id: m for m in chunk}, attempts, utcnow(), report, renew=not (last or stopped))
            if stopped:
                break

    def run_once(self, max_claims: int = 1000) -> DispatchReport:
        """Serve every subscriber with due messages once (or until ``max_claims``)."""
        report = DispatchReport()
        served: set[int] = set()
        for _ in range(max_claims):
            claim = self.claim(utcnow(), served)
            if claim is None:
                break
            served.add(claim.target.id)
            report.subscribers.add(claim.target.id)
            try:
                self._serve(claim, report)
            except Exception:
                log.exception("dispatch to %s failed; its lease will expire", claim.target.name)
        return report

    def drain(self, max_rounds: int = 10_000) -> DispatchReport:
        """Run until nothing is due (tests, benchmarks, ``csw dispatch --drain``)."""
        total = DispatchReport()
        for _ in range(max_rounds):
            report = self.run_once()
            total.delivered += report.delivered
            total.refused += report.refused
            total.dead += report.dead
            total.unavailable += report.unavailable
            total.subscribers |= report.subscribers
            if not report.subscribers:
                break
        return total


def backlog(session: Session) -> dict[int, int]:
    """Pending messages per subscriber id."""
    rows = session.execute(select(OutboxMessage.subscriber_id, func.count())
                           .where(OutboxMessage.status == "pending").group_by(OutboxMessage.subscriber_id)).all()
    return {subscriber_id: count for subscriber_id, count in rows}


def update_backlog_gauge(session: Session) -> None:
    counts = backlog(session)
    for subscriber_id, name in session.execute(select(Subscriber.id, Subscriber.name)).all():
        metrics.BACKLOG.labels(name).set(counts.get(subscriber_id, 0))
