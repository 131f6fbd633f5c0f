"""Tables of the case capability: officers' accounts, the case queue, its events and the
document requests sent to traders (typed SQLAlchemy models on the shared ``Base``)."""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.db.models import Base, Money, UtcDateTime


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(Base):
    """An officer, supervisor or administrator of the web application (not an API client)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(140))
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10), server_default="en")
    control_point: Mapped[str | None] = mapped_column(String(5))
    # A trader user (role ``trader``) acts for this party in the traders' portal; None for officers.
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Part of the signed-in session's user id (``get_id``): replaced on sign-out, password reset
    # and (de)activation, which ends every session opened with the old one, on the server.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    # Flask-Login protocol (kept here so the model needs no Flask import).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """``<id>:<session token>`` (Flask-Login's alternative token)."""
        return f"{self.id}:{self.session_token}"


class UserEvent(Base):
    """Account administration (created, role changed, deactivated, reactivated, password
    reset): who did it to whom and when. Never a password or its hash."""

    __tablename__ = "user_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    note: Mapped[str | None] = mapped_column(Text)


class Case(Base):
    """A declaration, transit alert, cargo selected before it moved or cargo line left open that
    needs an officer. Priority inputs are copied onto the row so the queue is one indexed query;
    ``priority`` is the sort key."""

    __tablename__ = "cases"
    __table_args__ = (
        # The queue: active cases, highest priority first, oldest first among equals. Read
        # backwards, each index yields priority order; the few cases of equal priority on a
        # page are then put oldest first (PostgreSQL's incremental sort; SQLite likewise).
        Index("ix_cases_queue", "active", "priority", "opened_at", "id"),
        Index("ix_cases_lane_queue", "active", "lane", "priority", "opened_at", "id"),
        Index("ix_cases_control_point_queue", "active", "control_point", "priority", "opened_at", "id"),
        Index("ix_cases_type_queue", "active", "type_code", "priority", "opened_at", "id"),
        Index("ix_cases_alert_queue", "active", "alert_kind", "priority", "opened_at", "id"),
        Index("ix_cases_assignee_queue", "assigned_to_id", "active", "priority", "opened_at", "id"),
        Index("ix_cases_declaration_active", "declaration_id", "active"),
        Index("ix_cases_state_opened", "state", "opened_at"),
        Index("ix_cases_closed_at", "closed_at"),
        Index("ix_cases_cargo_ref_active", "cargo_ref", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"))
    journey_id: Mapped[str | None] = mapped_column(String(40))
    #: Cargo selected before arrival: ``CRN:<cargo reference>`` or ``MNL:<manifest>/<document>/<n>``.
    cargo_ref: Mapped[str | None] = mapped_column(String(80))
    alert_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(12))
    lane: Mapped[str | None] = mapped_column(String(10))
    control_point: Mapped[str | None] = mapped_column(String(5))
    type_code: Mapped[str | None] = mapped_column(String(2))
    alert_kind: Mapped[str | None] = mapped_column(String(40))
    selection: Mapped[str] = mapped_column(String(10), server_default="targeted")
    risk_score: Mapped[int] = mapped_column(Integer, server_default="0")
    revenue_at_stake: Mapped[Decimal] = mapped_column(Money, server_default="0")
    aeo_priority: Mapped[int] = mapped_column(Integer, server_default="0")
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    priority: Mapped[int] = mapped_column(Integer)
    escalation_level: Mapped[int] = mapped_column(Integer, server_default="0")
    reasons: Mapped[list[dict[str, str | None]]] = mapped_column(JSON)  # a hold's message_zh may be None
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision: Mapped[str | None] = mapped_column(String(30))
    inspection_result: Mapped[str | None] = mapped_column(String(15))
    revenue_recovered: Mapped[Decimal | None] = mapped_column(Money)

    assignee: Mapped[User | None] = relationship(lazy="joined", viewonly=True)
    events: Mapped[list[CaseEvent]] = relationship(viewonly=True, order_by="CaseEvent.id")

    @validates("state")
    def _track_active(self, _key: str, state: str) -> str:
        """``active`` (in the queue) follows the state, so the queue's index needs no IN list."""
        self.active = state != "closed"
        return state


class CaseEvent(Base):
    """Everything that happened to a case (opened, claimed, decided, noted): who, when, what."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    note: Mapped[str | None] = mapped_column(Text)


class DocumentRequest(Base):
    """Documents an officer asked the trader for; the trader sees open requests on the
    declaration until they are answered by an amendment."""

    __tablename__ = "document_requests"
    __table_args__ = (Index("ix_document_requests_declaration", "declaration_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    documents: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SavedSearch(Base):
    """An officer's named filter of the queue or of the declaration search: the page's query
    string, so opening it is one link."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "page", "name", name="uq_saved_searches_user_page_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    page: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
