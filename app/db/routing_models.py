"""Tables of the routing capability: conveyance trips and their consignments, subscribers,
and the transactional outbox the dispatcher delivers from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, UtcDateTime

# BIGINT on PostgreSQL (an outbox sees billions of rows over the years); SQLite only
# auto-numbers an INTEGER PRIMARY KEY.
OutboxId = BigInteger().with_variant(Integer(), "sqlite")


class Trip(Base):
    """One truck's crossing of a land control point (ROCARS conveyance) and its manifest decision."""

    __tablename__ = "trips"
    __table_args__ = (Index("ix_trips_carrier_created", "carrier_party_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    carrier_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    vehicle_mark: Mapped[str] = mapped_column(String(10))
    control_point: Mapped[str] = mapped_column(String(5))
    boundary: Mapped[str] = mapped_column(String(20))
    expected_crossing_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decision: Mapped[str] = mapped_column(String(12))
    selected: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    state_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: When customs recorded the truck crossing (kiosk passed): its cargo has moved.
    crossed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TripConsignment(Base):
    """A consignment bundled to a trip, one trip at a time: a cargo reference, or (trips linked
    before cargo references, kept readable) a declaration. Exactly one of the two is set."""

    __tablename__ = "trip_consignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[str] = mapped_column(ForeignKey("trips.id"), index=True)
    declaration_id: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"), unique=True)
    cargo_id: Mapped[str | None] = mapped_column(ForeignKey("cargo_records.id"), unique=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    linked_by: Mapped[str] = mapped_column(String(120))


class TripEvent(Base):
    """Every change of a trip (opened, consignment linked or unlinked, decision changed)."""

    __tablename__ = "trip_events"
    __table_args__ = (Index("ix_trip_events_trip", "trip_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[str] = mapped_column(ForeignKey("trips.id"))
    kind: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(12))
    declaration_id: Mapped[str | None] = mapped_column(String(16))
    cargo_id: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Subscriber(Base):
    """A receiver of routed messages: by webhook, AMQP or the pull queue.

    ``state``: ``active``; ``blocked`` (the dispatcher saw it down and probes it with one
    message at ``next_probe_at``); ``paused`` (by an administrator, until resumed). The lease
    says which dispatcher is delivering to it now, so no two deliver at once."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str | None] = mapped_column(String(20))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    #: Set for an API client's own callback (role ``client``), registered through the API.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"), unique=True)
    transport: Mapped[str] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(String(2000))
    exchange: Mapped[str | None] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(4))
    secret: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    next_probe_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SubscriberEvent(Base):
    """A change of a subscriber: added, paused, resumed, dead letters replayed (by an
    administrator), blocked, probe failed, unblocked (by the dispatcher); who, when, why."""

    __tablename__ = "subscriber_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    note: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A message for one subscriber, written in the transaction of the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_subscriber_status", "subscriber_id", "status", "id"),
        Index("ix_outbox_messages_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(OutboxId, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    message_type: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    routing_key: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LifecycleNotification(Base):
    """One step of a declaration's life as its declarant's systems are told it: kept
    ``FEED_RETENTION_DAYS`` in the party's pull feed (the id is the feed's cursor) and pushed
    through the outbox to each callback the party's clients registered."""

    __tablename__ = "lifecycle_notifications"
    __table_args__ = (Index("ix_lifecycle_notifications_party", "party_id", "id"),)

    id: Mapped[int] = mapped_column(OutboxId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    kind: Mapped[str] = mapped_column(String(30))
    declaration_id: Mapped[str] = mapped_column(String(16), index=True)
    lrn: Mapped[str] = mapped_column(String(35))
    version: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str | None] = mapped_column(String(20))
    lane: Mapped[str | None] = mapped_column(String(10))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class NotificationCursor(Base):
    """How far an API client has acknowledged its party's feed (a client's own pull queue)."""

    __tablename__ = "notification_cursors"

    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), primary_key=True)
    acknowledged_through: Mapped[int] = mapped_column(OutboxId)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
