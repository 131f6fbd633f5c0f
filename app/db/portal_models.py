"""Tables of the traders' portal: declaration drafts and traders' answers to officers'
document requests (typed SQLAlchemy models on the shared ``Base``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, UtcDateTime


class DeclarationDraft(Base):
    """A form saved before submission: the form's fields as entered (valid or not), so the
    trader can resume it later. ``declaration_id`` is set for a draft amendment."""

    __tablename__ = "declaration_drafts"
    __table_args__ = (Index("ix_declaration_drafts_party", "party_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    declaration_id: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"))
    type_code: Mapped[str] = mapped_column(String(2))
    lrn: Mapped[str | None] = mapped_column(String(35))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DocumentRequestAnswer(Base):
    """A trader's answer to an officer's document request: a message and at most one
    attachment (size-limited and type-checked before it is stored here)."""

    __tablename__ = "document_request_answers"
    __table_args__ = (Index("ix_document_request_answers_declaration", "declaration_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("document_requests.id"))
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    message: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(120))
    content_type: Mapped[str | None] = mapped_column(String(60))
    size: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    answered_by: Mapped[str] = mapped_column(String(120))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)
