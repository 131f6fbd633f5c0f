"""Declaration use cases: submit, amend, cancel, change status, look up, list.

Each takes an open session and leaves the commit to its caller (the request or CLI
boundary), so the declaration, its document and its event land in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.db import models
from app.db.bulk import insert_rows
from app.db.session import Writer, connection_of
from app.domain.declaration import (
    Declaration,
    DeclarationStatus,
    DeclarationType,
    FunctionCode,
    LifecycleError,
    check_amendable,
    check_cancellable,
)
from app.domain.cases import case_reasons
from app.domain.findings import Severity
from app.domain.problems import Problem, Rejection
from app.domain.reference import is_valid_declaration_reference, new_declaration_reference
from app.intake.service import ReceivedDeclaration
from app.rules.assessment import Assessed, charges_record
from app.domain.risk import RiskResult
from app.risk import service as risk_service
from app.routing import outbox
from app.routing.rules import current as routing_rules
from app.services import trips


CUSTOMS_ROLES = frozenset({"admin", "partner"})  # API clients of customs administrations, not of traders


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is acting: an API client (bound to a party), an officer, or the system."""

    actor: str
    party_id: int | None = None
    party_identifier: str | None = None
    role: str = "trader"

    @property
    def is_customs(self) -> bool:
        """A client of this or the partner customs administration (sees what traders may not)."""
        return self.role in CUSTOMS_ROLES


@dataclass(frozen=True, slots=True)
class Receipt:
    """What an acknowledgement says about the declaration."""

    id: str
    lrn: str
    status: str
    version: int
    received_at: datetime

    @classmethod
    def of(cls, row: models.Declaration) -> "Receipt":
        return cls(row.id, row.lrn, row.status, row.version, row.received_at)


@dataclass(frozen=True, slots=True)
class Outcome:
    receipt: Receipt
    replay: bool = False


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _event_values(declaration_id: str, kind: str, status_from: str | None, status_to: str, version: int,
                  caller: Caller, now: datetime, conversation_id: str | None,
                  note: str | None = None) -> dict[str, object]:
    return {
        "declaration_id": declaration_id, "kind": kind, "status_from": status_from,
        "status_to": status_to, "version": version, "actor": caller.actor, "occurred_at": now,
        "conversation_id": conversation_id, "note": note,
    }


def _header_values(declaration: Declaration, assessed: Assessed) -> dict[str, object]:
    """The declaration row's columns that come from the document and its assessment."""
    return {
        "movement_at": declaration.movement_at.astimezone(timezone.utc) if declaration.movement_at else None,
        "rules_version": assessed.rules_version,
        "charges": charges_record(assessed.charges),
        "aeo": assessed.aeo,
        "lrn": declaration.lrn,
        "ucr": declaration.ucr,
        "type_code": declaration.type.value,
        "form_code": declaration.form_code,
        "issued_at": declaration.issued_at.astimezone(timezone.utc),
        "transport_mode": declaration.transport_mode,
        "conveyance_id": declaration.conveyance_id,
        "control_point": declaration.control_point,
        "departure_location": declaration.departure_location,
        "destination_location": declaration.destination_location,
        "goods_item_count": len(declaration.goods_items),
    }


def _insert(writer: Writer, model: type[models.Base], rows: list[dict[str, object]]) -> None:
    """Core inserts on the session's connection (executemany, or COPY for large batches on
    PostgreSQL): intake's hot path, where the ORM's per-row bookkeeping (identity map, bulk
    persistence) would cost more than the I/O. Lodging passes the connection itself, fetched
    once per transaction."""
    insert_rows(connection_of(writer), model.__table__, rows)


def _insert_content(writer: Writer, declaration_id: str, declaration: Declaration) -> None:
    """Parties, goods items, equipment and seals: one executemany per table."""
    connection = connection_of(writer)
    _insert(connection, models.DeclarationParty, [
        {"declaration_id": declaration_id, "role": p.role.value, "identifier": p.identifier, "name": p.name,
         "aeo_id": p.aeo_id, "address_line": p.address_line, "city": p.city, "country": p.country}
        for p in declaration.parties
    ])
    _insert(connection, models.GoodsItem, [
        {"declaration_id": declaration_id, "sequence": g.sequence, "description": g.description,
         "hs_code": g.hs_code, "origin_country": g.origin_country, "quantity": g.quantity,
         "quantity_unit": g.quantity_unit, "net_mass_kg": g.net_mass, "gross_mass_kg": g.gross_mass,
         "value": g.value, "currency": g.currency, "alcohol_strength": g.alcohol_strength,
         "volume_litres": g.volume_litres, "stick_count": g.stick_count, "length_mm": g.length_mm,
         "package_type": g.package_type, "package_count": g.package_count,
         "documents": [{"type_code": d.type_code, "id": d.identifier} for d in g.documents] or None}
        for g in declaration.goods_items
    ])
    for equipment in declaration.equipment:
        equipment_id = connection.execute(
            models.TransportEquipment.__table__.insert().returning(models.TransportEquipment.id),
            {"declaration_id": declaration_id, "sequence": equipment.sequence,
             "container_id": equipment.container_id, "elock_id": equipment.elock_id},
        ).scalar_one()
        _insert(connection, models.Seal, [
            {"equipment_id": equipment_id, "seal_id": seal_id} for seal_id in equipment.seal_ids
        ])


def _insert_findings(writer: Writer, declaration_id: str, version: int, assessed: Assessed) -> None:
    _insert(writer, models.DeclarationFinding, [
        {"declaration_id": declaration_id, "version": version, "code": f.code, "severity": f.severity.value,
         "path": f.path, "message_en": f.message_en, "message_zh": f.message_zh}
        for f in assessed.findings
    ])


def _delete_content(session: Session, declaration_id: str) -> None:
    equipment_ids = select(models.TransportEquipment.id).where(
        models.TransportEquipment.declaration_id == declaration_id)
    session.execute(delete(models.Seal).where(models.Seal.equipment_id.in_(equipment_ids)))
    for model in (models.TransportEquipment, models.GoodsItem, models.DeclarationParty):
        session.execute(delete(model).where(model.declaration_id == declaration_id))


def _document_values(declaration_id: str, version: int, received: ReceivedDeclaration, now: datetime,
                     conversation_id: str) -> dict[str, object]:
    return {
        "declaration_id": declaration_id, "version": version,
        "function_code": received.declaration.function_code.value, "body": received.body,
        "sha256": received.sha256, "received_at": now, "conversation_id": conversation_id,
    }


def _require_function_code(declaration: Declaration, expected: FunctionCode, message: str) -> None:
    if declaration.function_code is not expected:
        raise Rejection("WRONG_FUNCTION_CODE", message, [
            Problem(message=f"expected {expected.value} ({expected.name.lower()})", path="/Declaration/FunctionCode",
                    rule="function-code")])


def _require_declarant(received: ReceivedDeclaration, caller: Caller) -> None:
    declarant = received.declaration.declarant.identifier
    if declarant != caller.party_identifier:
        raise Rejection(
            "DECLARANT_MISMATCH",
            f"the declarant {declarant} is not the party this client lodges for ({caller.party_identifier})",
            [Problem(message=f"expected {caller.party_identifier}, found {declarant}",
                     path="/Declaration/Declarant/ID", rule="declarant-is-client-party")],
        )


def _find_by_lrn(session: Session, party_id: int, lrn: str) -> models.Declaration | None:
    return session.scalar(
        select(models.Declaration).where(
            models.Declaration.declarant_party_id == party_id, models.Declaration.lrn == lrn
        )
    )


def _replay_or_conflict(existing: models.Declaration, received: ReceivedDeclaration) -> Outcome:
    if existing.original_sha256 == received.sha256:
        return Outcome(Receipt.of(existing), replay=True)
    raise Rejection(
        "DUPLICATE_LRN",
        f"local reference {existing.lrn} was already used for declaration {existing.id} "
        "with a different document; amend that declaration or use a new LRN",
        [Problem(message=f"LRN already used by declaration {existing.id}",
                 path="/Declaration/FunctionalReferenceID", rule="lrn-unique-per-declarant")],
        details={"existing_declaration_id": existing.id},
    )


def submit(session: Session, received: ReceivedDeclaration, assessed: Assessed, caller: Caller,
           conversation_id: str, now: datetime | None = None, *, risk: RiskResult | None = None) -> Outcome:
    """Store a new declaration, or replay the original answer for an identical re-send.

    Inserts first and lets the (declarant, LRN) unique constraint find re-sends: new
    declarations, the common case, cost no look-up. On a conflict the transaction is
    rolled back (nothing of this request was stored) and the existing one is examined.

    What follows lodging is decided from the assessment in hand rather than re-read: whether
    an officer must look (a case), and otherwise whether the green lane releases it at once.
    A new declaration is on no trip yet, so no manifest changes."""
    assert caller.party_id is not None
    now = now or utcnow()
    declaration = received.declaration
    _require_function_code(declaration, FunctionCode.ORIGINAL,
                           "FunctionCode 13 (amendment) must be sent to POST /api/v1/declarations/{id}/amendments")
    _require_declarant(received, caller)
    reference = new_declaration_reference(now)
    reasons = case_reasons(risk.lane.value if risk else None,
                           [f for f in assessed.findings if f.severity is Severity.HOLD])
    release = not reasons and releases_on_green_lane(declaration, risk)
    accepted = DeclarationStatus.ACCEPTED.value
    status = DeclarationStatus.RELEASED.value if release else accepted
    connection = session.connection()
    try:
        _insert(connection, models.Declaration, [{
            "id": reference, "declarant_party_id": caller.party_id, "status": status, "version": 1,
            "schema_namespace": received.namespace, "original_sha256": received.sha256,
            "received_at": now, "updated_at": now, "conversation_id": conversation_id,
            **_header_values(declaration, assessed), **risk_service.declaration_values(risk),
        }])
    except IntegrityError:
        session.rollback()
        existing = _find_by_lrn(session, caller.party_id, declaration.lrn)
        if existing is None:
            raise
        return _replay_or_conflict(existing, received)
    _insert(connection, models.DeclarationDocument, [_document_values(reference, 1, received, now, conversation_id)])
    _insert_content(connection, reference, declaration)
    _insert_findings(connection, reference, 1, assessed)
    if risk is not None:
        risk_service.store_assessment(connection, reference, 1, risk, now)
    events = [_event_values(reference, "submitted", None, accepted, 1, caller, now, conversation_id)]
    if release:
        assert risk is not None
        note = GREEN_LANE_NOTE  # the lane reason quotes the score and thresholds: officers only
        events.append(_event_values(reference, "released", accepted, status, 1, LANE_POLICY, now, conversation_id,
                                    note))
    _insert(connection, models.DeclarationEvent, events)
    from app.transit.service import open_journey_for_declaration  # transit imports Caller from here

    open_journey_for_declaration(session, reference, declaration, caller, now)
    if reasons:
        from app.cases.service import open_cases_for_declaration  # cases imports this module

        open_cases_for_declaration(session, reference, now=now, actor=caller.actor)
    if release:
        outbox.declaration_notice(session, routing_rules(), outbox.DeclarationFacts(
            id=reference, status=status, declarant_party_id=caller.party_id, type_code=declaration.type.value,
            ucr=declaration.ucr, lane=risk.lane.value if risk else None, version=1,
            transport_mode=declaration.transport_mode, conveyance_id=declaration.conveyance_id,
            control_point=declaration.control_point,
            named_parties=tuple((p.role.value, p.identifier) for p in declaration.parties)), now, note)
    return Outcome(Receipt(id=reference, lrn=declaration.lrn, status=status, version=1, received_at=now))


LANE_POLICY = Caller(actor="system:lane-policy", role="system")
GREEN_LANE_NOTE = "released on the green lane"


def releases_on_green_lane(declaration: Declaration, risk: RiskResult | None) -> bool:
    """A green-lane declaration that needs no officer is released on assessment (the lane
    policy's ``release``). Transhipments are released by their e-lock journey's intact arrival
    instead; without a risk assessment there is no lane, so nothing is released."""
    return risk is not None and risk.release and declaration.type is not DeclarationType.TRANSHIPMENT


def get_declaration(session: Session, reference: str, party_id: int | None,
                    with_history: bool = False, for_update: bool = False) -> models.Declaration:
    """The declaration, if ``party_id`` (None = any) may see it; otherwise NOT_FOUND.

    Another party's declaration answers exactly as a missing one does, so references
    reveal nothing. ``for_update`` locks the row (PostgreSQL) so that two changes racing on
    one declaration run one after the other and the second sees the first's outcome."""
    if not is_valid_declaration_reference(reference):
        raise Rejection(
            "INVALID_REFERENCE",
            f"{reference[:40]!r} is not a declaration reference (HKyyD + 10 characters + check character)",
            [Problem(message="format or check character wrong", path="id", rule="reference-check-character")],
        )
    query = select(models.Declaration).where(models.Declaration.id == reference)
    if party_id is not None:
        query = query.where(models.Declaration.declarant_party_id == party_id)
    if with_history:
        query = query.options(selectinload(models.Declaration.events),
                              selectinload(models.Declaration.findings))
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise Rejection("NOT_FOUND", f"no declaration {reference}")
    return row


def amend(session: Session, reference: str, received: ReceivedDeclaration, assessed: Assessed, caller: Caller,
          conversation_id: str, now: datetime | None = None, *, risk: RiskResult | None = None) -> Outcome:
    """Replace the declaration's content with a full amendment document (FunctionCode 13)."""
    now = now or utcnow()
    row = get_declaration(session, reference, caller.party_id, for_update=True)
    declaration = received.declaration
    _require_function_code(declaration, FunctionCode.AMENDMENT,
                           "an amendment carries FunctionCode 13 and the full replacement document")
    _require_declarant(received, caller)
    if declaration.lrn != row.lrn:
        raise Rejection(
            "LRN_MISMATCH",
            f"the amendment's LRN {declaration.lrn} differs from the declaration's {row.lrn}",
            [Problem(message=f"expected {row.lrn}", path="/Declaration/FunctionalReferenceID",
                     rule="amendment-same-lrn")],
        )
    latest = session.scalar(
        select(models.DeclarationDocument.sha256).where(
            models.DeclarationDocument.declaration_id == row.id,
            models.DeclarationDocument.version == row.version,
        )
    )
    if latest == received.sha256:
        return Outcome(Receipt.of(row), replay=True)
    try:
        check_amendable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        raise Rejection(exc.code, exc.message) from None
    row.version += 1
    row.updated_at = now
    row.schema_namespace = received.namespace
    for column, value in {**_header_values(declaration, assessed), **risk_service.declaration_values(risk)}.items():
        setattr(row, column, value)
    session.flush()
    _delete_content(session, row.id)
    _insert_content(session, row.id, declaration)
    _insert_findings(session, row.id, row.version, assessed)
    if risk is not None:
        risk_service.store_assessment(session, row.id, row.version, risk, now)
    _insert(session, models.DeclarationDocument, [
        _document_values(row.id, row.version, received, now, conversation_id)])
    _insert(session, models.DeclarationEvent, [
        _event_values(row.id, "amended", row.status, row.status, row.version, caller, now, conversation_id)])
    from app.transit.service import amend_journeys_for_declaration

    amend_journeys_for_declaration(session, row.id, declaration, row.version, caller, now)
    trips.declaration_changed(session, row.id, caller.actor, now)  # the new lane may change its trip's manifest
    from app.cases.service import open_cases_for_declaration  # keep last: reads the lane and risk set above

    open_cases_for_declaration(session, row.id, now=now, actor=caller.actor)
    return Outcome(Receipt.of(row))


def change_status(session: Session, row: models.Declaration, status: DeclarationStatus, kind: str,
                  caller: Caller, conversation_id: str | None, note: str | None = None,
                  now: datetime | None = None) -> None:
    """Move a declaration to ``status`` and record why, in the caller's transaction."""
    now = now or utcnow()
    before = row.status
    row.status = status.value
    row.updated_at = now
    _insert(session, models.DeclarationEvent, [
        _event_values(row.id, kind, before, row.status, row.version, caller, now, conversation_id, note)])
    if row.status != before:
        trips.declaration_status_changed(session, row, caller.actor, now, note)
    if row.status == DeclarationStatus.RELEASED.value and row.type_code == DeclarationType.TRANSHIPMENT.value:
        from app.transit.service import release_held_journeys  # transit imports Caller from here

        release_held_journeys(session, row.id, caller, now, note)


def cancel(session: Session, reference: str, reason: str, caller: Caller, conversation_id: str,
           now: datetime | None = None) -> Outcome:
    row = get_declaration(session, reference, caller.party_id, for_update=True)
    try:
        check_cancellable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        raise Rejection(exc.code, exc.message) from None
    change_status(session, row, DeclarationStatus.CANCELLED, "cancelled", caller, conversation_id,
                  note=reason, now=now)
    from app.transit.service import close_journeys_for_declaration

    close_journeys_for_declaration(session, row.id, caller, now or utcnow(), reason)
    from app.cases.service import close_cases_for_declaration

    close_cases_for_declaration(session, row.id, reason=reason, actor=caller.actor, now=now or utcnow())
    return Outcome(Receipt.of(row))


@dataclass(frozen=True, slots=True)
class Page:
    items: list[models.Declaration]
    page: int
    per_page: int
    total: int


def list_declarations(session: Session, party_id: int, status: str | None, since: datetime | None,
                      page: int, per_page: int) -> Page:
    """The party's declarations, most recently changed first."""
    conditions = [models.Declaration.declarant_party_id == party_id]
    if status:
        conditions.append(models.Declaration.status == status)
    if since:
        conditions.append(models.Declaration.updated_at >= since.astimezone(timezone.utc))
    total = session.scalar(select(func.count()).select_from(models.Declaration).where(*conditions)) or 0
    items = session.scalars(
        select(models.Declaration)
        .where(*conditions)
        .order_by(models.Declaration.updated_at.desc(), models.Declaration.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), page, per_page, total)
