"""The audit chain: one link per sealed event row, each hashing the one before it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, UtcDateTime


class AuditLink(Base):
    """Sequence numbers are assigned by the (single, locked) sealer without gaps, so a missing
    number means a deleted link."""

    __tablename__ = "audit_chain"
    __table_args__ = (UniqueConstraint("table_name", "row_id"),)

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(Integer)
    row_digest: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UtcDateTime)
