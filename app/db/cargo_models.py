"""Tables of the cargo capability: advance cargo information (road), every document received
for it, and every change, with who and when."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, UtcDateTime


class CargoRecord(Base):
    """One consignment's electronic cargo information, as it stands (the latest version)."""

    __tablename__ = "cargo_records"
    __table_args__ = (
        UniqueConstraint("submitter_party_id", "lrn", name="uq_cargo_records_submitter_lrn"),
        Index("ix_cargo_records_submitter_updated", "submitter_party_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    submitter_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    lrn: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(2))
    control_point: Mapped[str] = mapped_column(String(5))
    expected_crossing_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    consignor: Mapped[dict[str, object]] = mapped_column(JSON)
    consignee: Mapped[dict[str, object]] = mapped_column(JSON)
    package_count: Mapped[int] = mapped_column(Integer)
    package_type: Mapped[str] = mapped_column(String(2))
    marks: Mapped[str | None] = mapped_column(String(70))
    goods_description: Mapped[str] = mapped_column(Text)
    gross_mass_kg: Mapped[Decimal | None] = mapped_column(Numeric(15, 3))
    hs_code: Mapped[str | None] = mapped_column(String(8))
    origin_country: Mapped[str | None] = mapped_column(String(2))
    lane: Mapped[str | None] = mapped_column(String(10))
    risk_score: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    #: An officer's decision before the crossing: ``released`` or ``held`` (None: the lane decides).
    control_decision: Mapped[str | None] = mapped_column(String(10))
    #: When the truck carrying it crossed (recorded by customs at the control point).
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CargoDocument(Base):
    """Every document received for a cargo record, verbatim, with its SHA-256."""

    __tablename__ = "cargo_documents"
    __table_args__ = (UniqueConstraint("cargo_id", "version", name="uq_cargo_documents_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cargo_id: Mapped[str] = mapped_column(ForeignKey("cargo_records.id"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str | None] = mapped_column(String(36))


class CargoEvent(Base):
    """Every change of a cargo record: lodged, amended, cancelled; who, when, why."""

    __tablename__ = "cargo_events"
    __table_args__ = (Index("ix_cargo_events_cargo", "cargo_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cargo_id: Mapped[str] = mapped_column(ForeignKey("cargo_records.id"))
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    status_to: Mapped[str] = mapped_column(String(12))
    lane: Mapped[str | None] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(Text)
