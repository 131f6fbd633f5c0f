"""Tables of the write-off capability: every cargo line customs reconcile against trade
declarations, what each declaration covers of it, and every change with who and when."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, UtcDateTime


class CargoLine(Base):
    """One line to write off: a cargo reference (``CRN``), bill of lading (``BL``) or air
    waybill (``AWB``), as its lodger last stated it, and where its write-off stands."""

    __tablename__ = "cargo_lines"
    __table_args__ = (
        UniqueConstraint("kind", "identifier", name="uq_cargo_lines_kind_identifier"),
        Index("ix_cargo_lines_follow_up", "status", "moved_at"),
        Index("ix_cargo_lines_party", "responsible_party_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(3))
    identifier: Mapped[str] = mapped_column(String(40))
    package_count: Mapped[int] = mapped_column(Integer)
    gross_mass: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    responsible_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    exempt: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))
    packages_declared: Mapped[int] = mapped_column(Integer)
    mass_declared: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    findings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    moved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lodged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CargoLineCover(Base):
    """What one live declaration covers of a line (``None``: all of it)."""

    __tablename__ = "cargo_line_covers"
    __table_args__ = (UniqueConstraint("line_id", "declaration_id", name="uq_cargo_line_covers_declaration"),
                      Index("ix_cargo_line_covers_declaration", "declaration_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("cargo_lines.id"))
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    package_count: Mapped[int | None] = mapped_column(Integer)
    gross_mass: Mapped[Decimal | None] = mapped_column(Numeric(15, 3))
    covered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CargoLineEvent(Base):
    """Every change of a line: lodged, amended, cancelled, moved, covered, uncovered, closed,
    followed up; who and when."""

    __tablename__ = "cargo_line_events"
    __table_args__ = (Index("ix_cargo_line_events_line", "line_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("cargo_lines.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    declaration_id: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class CargoLineReference(Base):
    """A live declaration naming a line customs do not hold yet (the manifest arrives late, the
    cargo is lodged after the declaration): its cover is recorded once the line is lodged."""

    __tablename__ = "cargo_line_references"
    __table_args__ = (UniqueConstraint("kind", "identifier", "declaration_id", name="uq_cargo_line_references"),
                      Index("ix_cargo_line_references_declaration", "declaration_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(3))
    identifier: Mapped[str] = mapped_column(String(40))
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    package_count: Mapped[int | None] = mapped_column(Integer)
    gross_mass: Mapped[Decimal | None] = mapped_column(Numeric(15, 3))
    named_at: Mapped[datetime] = mapped_column(UtcDateTime)
