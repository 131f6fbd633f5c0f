"""Tables of sea and air manifests: the manifest as it stands, its consignment lines, every
document received for it and every change, with who and when."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, UtcDateTime


class ManifestRecord(Base):
    """One conveyance's manifest (vessel voyage or flight), as it stands (the latest version)."""

    __tablename__ = "manifests"
    __table_args__ = (
        UniqueConstraint("submitter_party_id", "lrn", name="uq_manifests_submitter_lrn"),
        Index("ix_manifests_submitter_updated", "submitter_party_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    submitter_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    lrn: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(2))
    mode: Mapped[str] = mapped_column(String(1))
    control_point: Mapped[str] = mapped_column(String(5))
    imo_number: Mapped[str | None] = mapped_column(String(7))
    vessel_name: Mapped[str | None] = mapped_column(String(70))
    voyage: Mapped[str | None] = mapped_column(String(17))
    flight_number: Mapped[str | None] = mapped_column(String(8))
    flight_date: Mapped[date | None] = mapped_column(Date)
    conveyance: Mapped[str] = mapped_column(String(120))
    loading_location: Mapped[str] = mapped_column(String(5))
    unloading_location: Mapped[str] = mapped_column(String(5))
    boundary: Mapped[str | None] = mapped_column(String(20))
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision: Mapped[str] = mapped_column(String(12))
    findings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ManifestLine(Base):
    """One consignment of one transport document (bill of lading or air waybill), with its lane
    before arrival and its clearance."""

    __tablename__ = "manifest_lines"
    __table_args__ = (
        UniqueConstraint("manifest_id", "document_number", "sequence", name="uq_manifest_lines_consignment"),
        Index("ix_manifest_lines_document", "document_kind", "document_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[str] = mapped_column(ForeignKey("manifests.id"), index=True)
    document_kind: Mapped[str] = mapped_column(String(3))
    document_number: Mapped[str] = mapped_column(String(35))
    transhipment: Mapped[bool] = mapped_column(Boolean)
    sequence: Mapped[int] = mapped_column(Integer)
    consignor: Mapped[dict[str, object]] = mapped_column(JSON)
    consignee: Mapped[dict[str, object]] = mapped_column(JSON)
    package_count: Mapped[int] = mapped_column(Integer)
    package_type: Mapped[str] = mapped_column(String(2))
    marks: Mapped[str | None] = mapped_column(String(70))
    goods_description: Mapped[str] = mapped_column(Text)
    gross_mass_kg: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    hs_code: Mapped[str | None] = mapped_column(String(8))
    origin_country: Mapped[str | None] = mapped_column(String(2))
    equipment: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    lane: Mapped[str | None] = mapped_column(String(10))
    risk_score: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))


class ManifestDocument(Base):
    """Every document received for a manifest, verbatim, with its SHA-256."""

    __tablename__ = "manifest_documents"
    __table_args__ = (UniqueConstraint("manifest_id", "version", name="uq_manifest_documents_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[str] = mapped_column(ForeignKey("manifests.id"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str | None] = mapped_column(String(36))


class ManifestEvent(Base):
    """Every change of a manifest: lodged, amended, cancelled, arrived or departed, a line
    released by an officer; who, when, why, and the decision it left."""

    __tablename__ = "manifest_events"
    __table_args__ = (Index("ix_manifest_events_manifest", "manifest_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[str] = mapped_column(ForeignKey("manifests.id"))
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    status_to: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(Text)
