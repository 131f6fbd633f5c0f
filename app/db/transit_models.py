"""Tables of the transit capability (typed SQLAlchemy models on the shared ``Base``): the
Single E-lock Scheme's registrations, journeys, their timelines, telemetry and alerts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.models import Base, UtcDateTime


class TransitCompany(Base):
    """A company registered for the scheme (its BR number must match ROCARS)."""

    __tablename__ = "transit_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    br_number: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(140))
    mode: Mapped[str] = mapped_column(String(10))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransitVehicle(Base):
    __tablename__ = "transit_vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_mark: Mapped[str] = mapped_column(String(8), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("transit_companies.id"), index=True)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)

    company: Mapped[TransitCompany] = relationship(lazy="joined")


class ELock(Base):
    """An accredited e-lock/GPS seal; ``journey_id`` is its latest journey."""

    __tablename__ = "elocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    elock_id: Mapped[str] = mapped_column(String(35), unique=True)
    supplier: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    journey_id: Mapped[str | None] = mapped_column(String(16))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransitRegistryEvent(Base):
    """A registration or administrative change of a company, vehicle or e-lock: who, when,
    from what to what. A lock taken or freed by a journey is on that journey's timeline."""

    __tablename__ = "transit_registry_events"
    __table_args__ = (Index("ix_transit_registry_events_subject", "subject_kind", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[str] = mapped_column(String(35))
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    note: Mapped[str | None] = mapped_column(Text)


class Journey(Base):
    """One sealed movement of a transhipment declaration's e-lock along an approved route."""

    __tablename__ = "journeys"
    __table_args__ = (Index("ix_journeys_state_updated", "state", "updated_at"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    elock_id: Mapped[str] = mapped_column(String(35), index=True)
    vehicle_mark: Mapped[str | None] = mapped_column(String(8))
    container_id: Mapped[str | None] = mapped_column(String(11))
    route_code: Mapped[str] = mapped_column(String(30))
    origin: Mapped[str] = mapped_column(String(5))
    control_point: Mapped[str] = mapped_column(String(5))
    destination: Mapped[str] = mapped_column(String(5))
    state: Mapped[str] = mapped_column(String(12))
    sealed_by: Mapped[str | None] = mapped_column(String(10))
    sealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    unsealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_event_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alert_count: Mapped[int] = mapped_column(default=0)
    progress: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    timeline: Mapped[list[JourneyEvent]] = relationship(
        viewonly=True, order_by="(JourneyEvent.occurred_at, JourneyEvent.id)")
    alerts: Mapped[list[JourneyAlert]] = relationship(viewonly=True, order_by="JourneyAlert.id")


class JourneyEvent(Base):
    """A timeline entry of a journey: every transition, with its time and source."""

    __tablename__ = "journey_events"
    __table_args__ = (Index("ix_journey_events_journey", "journey_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[str] = mapped_column(ForeignKey("journeys.id"))
    kind: Mapped[str] = mapped_column(String(40))
    state_from: Mapped[str | None] = mapped_column(String(12))
    state_to: Mapped[str] = mapped_column(String(12))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(120))
    telemetry_event_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class TelemetryEvent(Base):
    """An e-lock/GPS gateway event as received (kept even when no journey could take it)."""

    __tablename__ = "elock_events"
    __table_args__ = (Index("ix_elock_events_journey_time", "journey_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    elock_id: Mapped[str] = mapped_column(String(35))
    journey_id: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(12))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    longitude: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float] = mapped_column(Float)
    inside_corridor: Mapped[bool | None] = mapped_column(Boolean)
    point: Mapped[str | None] = mapped_column(String(5))
    disposition: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JourneyAlert(Base):
    """Something wrong on a journey, with its evidence; each one is meant to open an officer case."""

    __tablename__ = "journey_alerts"
    __table_args__ = (UniqueConstraint("journey_id", "kind", name="uq_journey_alerts_journey_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[str] = mapped_column(ForeignKey("journeys.id"))
    declaration_id: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON)
