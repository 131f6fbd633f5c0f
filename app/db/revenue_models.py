"""Tables of the revenue capability: duty demands, payments with their receipts, refunds,
securities (deferment accounts and guarantees) and the event of every change (typed
SQLAlchemy models on the shared ``Base``)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.models import Base, Money, UtcDateTime


class Security(Base):
    """A deferment account (a limit and a running balance of duty secured and not yet paid)
    or a bank guarantee (a limit and an expiry) of one party."""

    __tablename__ = "securities"
    __table_args__ = (UniqueConstraint("party_id", "kind", "reference", name="uq_securities_party_kind_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # deferment | guarantee
    reference: Mapped[str] = mapped_column(String(35))  # account or guarantee number
    limit_amount: Mapped[Decimal] = mapped_column(Money)
    balance: Mapped[Decimal] = mapped_column(Money)
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # active | suspended | closed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DutyDemand(Base):
    """Duty owed on a declaration: raised when it is lodged or amended, settled by a payment
    or a security, withdrawn when no longer owed. ``commodities``: its split by dutiable
    commodity (amounts as strings)."""

    __tablename__ = "duty_demands"
    __table_args__ = (Index("ix_duty_demands_state_raised", "state", "raised_at"),
                      Index("ix_duty_demands_party_state", "declarant_party_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    declarant_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    refunded: Mapped[Decimal] = mapped_column(Money)
    commodities: Mapped[dict[str, str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))  # due | secured | paid | withdrawn
    security_id: Mapped[int | None] = mapped_column(ForeignKey("securities.id"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    secured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    security: Mapped[Security | None] = relationship(viewonly=True)


class Payment(Base):
    """A payment of one demand, with its receipt number. One demand has at most one payment
    (the unique constraint holds against two racing payments)."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_received", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(16), unique=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("duty_demands.id"), unique=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    payment_reference: Mapped[str] = mapped_column(String(35))
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_reference: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))


class Refund(Base):
    """Duty paid and no longer owed (a cancelled, refused or amended declaration), paid back."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("duty_demands.id"), index=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    commodities: Mapped[dict[str, str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))


class RevenueEvent(Base):
    """Every change of a demand or a security: what, how much, who, when."""

    __tablename__ = "revenue_events"
    __table_args__ = (Index("ix_revenue_events_declaration", "declaration_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    declaration_id: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"))
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("duty_demands.id"), index=True)
    security_id: Mapped[int | None] = mapped_column(ForeignKey("securities.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)
