"""SQLAlchemy 2.x typed models. Alembic migrations in ``migrations/`` must match these
(``tests/integration/test_migrations.py`` runs ``alembic check``)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Table,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2)
Measure = Numeric(24, 6)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time: stored as UTC, always handed back timezone-aware in UTC, on every backend.

    A naive datetime is refused when bound (it is a bug: which zone was meant?); an aware one is
    converted to UTC first (SQLite would otherwise keep its wall-clock time and drop the offset).
    SQLite hands back the naive UTC value it stored; PostgreSQL an aware one in the session's zone.
    The column DDL is that of ``DateTime(timezone=True)``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime needs a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a timezone (UTC)")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The model's ``Table`` (SQLAlchemy types ``__table__`` as any FromClause; a declarative
    model's is always a Table)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Party(Base):
    """A trader known to the service: a HK company (BR number) or a foreign AEO."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(35), unique=True)
    name: Mapped[str] = mapped_column(String(140))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiClient(Base):
    """A system allowed to use the API: a trader's system (lodges for one party), a partner
    customs system (looks up AEO status) or an administrator's tool."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10), server_default="trader")
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    party: Mapped[Party] = relationship(lazy="joined")


class Declaration(Base):
    __tablename__ = "declarations"
    __table_args__ = (
        UniqueConstraint("declarant_party_id", "lrn", name="uq_declarations_declarant_lrn"),
        Index("ix_declarations_declarant_updated", "declarant_party_id", "updated_at"),
        Index("ix_declarations_declarant_status_updated", "declarant_party_id", "status", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    declarant_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    lrn: Mapped[str] = mapped_column(String(35))
    ucr: Mapped[str | None] = mapped_column(String(35))
    type_code: Mapped[str] = mapped_column(String(2))
    form_code: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20))
    lane: Mapped[str | None] = mapped_column(String(10))
    risk_score: Mapped[int | None] = mapped_column(Integer)
    revenue_at_stake: Mapped[Decimal | None] = mapped_column(Money)
    version: Mapped[int] = mapped_column(Integer)
    schema_namespace: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    transport_mode: Mapped[str] = mapped_column(String(1))
    conveyance_id: Mapped[str | None] = mapped_column(String(35))
    control_point: Mapped[str | None] = mapped_column(String(5))
    departure_location: Mapped[str | None] = mapped_column(String(5))
    destination_location: Mapped[str | None] = mapped_column(String(5))
    movement_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    goods_item_count: Mapped[int] = mapped_column(Integer)
    rules_version: Mapped[str | None] = mapped_column(String(64))
    charges: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    aeo: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    particulars: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    original_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str] = mapped_column(String(36))
    # A release was decided (green lane, officer) but waits for the duty to be paid or secured.
    release_on_settlement: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)

    # Read-only views: content is written in bulk by app.declarations.service.
    declarant: Mapped[Party] = relationship(viewonly=True)
    parties: Mapped[list[DeclarationParty]] = relationship(viewonly=True, order_by="DeclarationParty.id")
    goods_items: Mapped[list[GoodsItem]] = relationship(viewonly=True, order_by="GoodsItem.sequence")
    equipment: Mapped[list[TransportEquipment]] = relationship(viewonly=True, order_by="TransportEquipment.sequence")
    events: Mapped[list[DeclarationEvent]] = relationship(viewonly=True, order_by="DeclarationEvent.id")
    findings: Mapped[list[DeclarationFinding]] = relationship(viewonly=True, order_by="DeclarationFinding.id")


class DeclarationDocument(Base):
    """Every document received for a declaration, verbatim, with its SHA-256 (legal record)."""

    __tablename__ = "declaration_documents"
    __table_args__ = (UniqueConstraint("declaration_id", "version", name="uq_declaration_documents_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    version: Mapped[int] = mapped_column(Integer)
    function_code: Mapped[str] = mapped_column(String(2))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str] = mapped_column(String(36))


class DeclarationParty(Base):
    """A party as named in the declaration (declarant, importer, exporter, carrier)."""

    __tablename__ = "declaration_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    identifier: Mapped[str] = mapped_column(String(35), index=True)
    name: Mapped[str] = mapped_column(String(140))
    aeo_id: Mapped[str | None] = mapped_column(String(35))
    address_line: Mapped[str | None] = mapped_column(String(140))
    city: Mapped[str | None] = mapped_column(String(140))
    country: Mapped[str | None] = mapped_column(String(2))


class GoodsItem(Base):
    __tablename__ = "goods_items"
    __table_args__ = (UniqueConstraint("declaration_id", "sequence", name="uq_goods_items_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(512))
    hs_code: Mapped[str] = mapped_column(String(8), index=True)
    origin_country: Mapped[str] = mapped_column(String(2))
    quantity: Mapped[Decimal] = mapped_column(Measure)
    quantity_unit: Mapped[str] = mapped_column(String(3))
    net_mass_kg: Mapped[Decimal] = mapped_column(Measure)
    gross_mass_kg: Mapped[Decimal] = mapped_column(Measure)
    value: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    alcohol_strength: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    volume_litres: Mapped[Decimal | None] = mapped_column(Measure)
    stick_count: Mapped[int | None] = mapped_column(Integer)
    length_mm: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    package_type: Mapped[str | None] = mapped_column(String(2))
    package_count: Mapped[int | None] = mapped_column(Integer)
    documents: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    particulars: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))


class TransportEquipment(Base):
    """A container with its seals and, for transhipment, its e-lock."""

    __tablename__ = "transport_equipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    container_id: Mapped[str] = mapped_column(String(17), index=True)
    elock_id: Mapped[str | None] = mapped_column(String(35), index=True)

    seals: Mapped[list[Seal]] = relationship(viewonly=True, order_by="Seal.id")


class Seal(Base):
    __tablename__ = "seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("transport_equipment.id"), index=True)
    seal_id: Mapped[str] = mapped_column(String(35))


class DeclarationEvent(Base):
    """One state change of a declaration: what, who, when; written with the change itself."""

    __tablename__ = "declaration_events"
    __table_args__ = (Index("ix_declaration_events_declaration", "declaration_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    kind: Mapped[str] = mapped_column(String(30))
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(Text)


class DeclarationFinding(Base):
    """A business-rule finding on one version of a declaration (kept for every version)."""

    __tablename__ = "declaration_findings"
    __table_args__ = (Index("ix_declaration_findings_declaration", "declaration_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    version: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(String(300))
    message_en: Mapped[str] = mapped_column(Text)
    message_zh: Mapped[str] = mapped_column(Text)


class AeoOperator(Base):
    """An Authorized Economic Operator: a HK AEO (BR number) or a partner's AEO under an MRA."""

    __tablename__ = "aeo_operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(35), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(140))
    tier: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    history: Mapped[list[AeoStatusEvent]] = relationship(viewonly=True, order_by="AeoStatusEvent.id")


class AeoStatusEvent(Base):
    """Every change of an operator's registration: what, why, who, when."""

    __tablename__ = "aeo_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_pk: Mapped[int] = mapped_column(ForeignKey("aeo_operators.id"), index=True)
    status_from: Mapped[str | None] = mapped_column(String(10))
    status_to: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobRun(Base):
    """One run of a scheduled job, with what it did (kept as an audit trail)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(10))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True))
    #: The period the run stood for (a Hong Kong date, or the n-th interval since the epoch).
    period: Mapped[str | None] = mapped_column(String(40))


class JobPeriod(Base):
    """A job's period, claimed by the run that does it: however many schedulers fire, one
    run per period succeeds (the claim is in the run's transaction, so a failed run leaves
    the period to a retry)."""

    __tablename__ = "job_periods"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RulesVersionEvent(Base):
    """A change of the rules in force (content hash of ``rules/``), recorded when a server starts
    on rules different from the last ones recorded: which rules judged a declaration, and since when."""

    __tablename__ = "rules_version_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    previous_version: Mapped[str | None] = mapped_column(String(64))
    rule_count: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
