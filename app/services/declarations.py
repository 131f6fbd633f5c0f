"""Declaration use cases: submit, amend, cancel, change status, look up, list.

Each takes an open session and leaves the commit to its caller (the request or CLI
boundary), so the declaration, its document and its event land in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.db import models
from app.domain.declaration import (
    Declaration,
    DeclarationStatus,
    FunctionCode,
    LifecycleError,
    check_amendable,
    check_cancellable,
)
from app.domain.problems import Problem, Rejection
from app.domain.reference import is_valid_declaration_reference, new_declaration_reference
from app.intake.service import ReceivedDeclaration


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is acting: an API client (bound to a party), an officer, or the system."""

    actor: str
    party_id: int | None = None
    party_identifier: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    declaration: models.Declaration
    replay: bool = False


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _record_event(
    session: Session,
    declaration: models.Declaration,
    kind: str,
    status_from: str | None,
    caller: Caller,
    now: datetime,
    conversation_id: str | None,
    note: str | None = None,
) -> None:
    session.add(models.DeclarationEvent(
        declaration_id=declaration.id,
        kind=kind,
        status_from=status_from,
        status_to=declaration.status,
        version=declaration.version,
        actor=caller.actor,
        occurred_at=now,
        conversation_id=conversation_id,
        note=note,
    ))


def _fill_details(row: models.Declaration, declaration: Declaration) -> None:
    """Copy the declared content onto the row, replacing what an earlier version said."""
    row.lrn = declaration.lrn
    row.ucr = declaration.ucr
    row.type_code = declaration.type.value
    row.form_code = declaration.form_code
    row.issued_at = declaration.issued_at.astimezone(timezone.utc)
    row.transport_mode = declaration.transport_mode
    row.conveyance_id = declaration.conveyance_id
    row.control_point = declaration.control_point
    row.departure_location = declaration.departure_location
    row.destination_location = declaration.destination_location
    row.goods_item_count = len(declaration.goods_items)
    row.parties = [
        models.DeclarationParty(
            role=p.role.value, identifier=p.identifier, name=p.name,
            address_line=p.address_line, city=p.city, country=p.country,
        )
        for p in declaration.parties
    ]
    row.goods_items = [
        models.GoodsItem(
            sequence=g.sequence, description=g.description, hs_code=g.hs_code,
            origin_country=g.origin_country, quantity=g.quantity, quantity_unit=g.quantity_unit,
            net_mass_kg=g.net_mass, gross_mass_kg=g.gross_mass, value=g.value, currency=g.currency,
            alcohol_strength=g.alcohol_strength, volume_litres=g.volume_litres,
            stick_count=g.stick_count,
            documents=[{"type_code": d.type_code, "id": d.identifier} for d in g.documents] or None,
        )
        for g in declaration.goods_items
    ]
    row.equipment = [
        models.TransportEquipment(
            sequence=e.sequence, container_id=e.container_id, elock_id=e.elock_id,
            seals=[models.Seal(seal_id=s) for s in e.seal_ids],
        )
        for e in declaration.equipment
    ]


def _document(row: models.Declaration, received: ReceivedDeclaration, now: datetime,
              conversation_id: str) -> models.DeclarationDocument:
    return models.DeclarationDocument(
        declaration_id=row.id, version=row.version,
        function_code=received.declaration.function_code.value, body=received.body,
        sha256=received.sha256, received_at=now, conversation_id=conversation_id,
    )


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
        return Outcome(existing, replay=True)
    raise Rejection(
        "DUPLICATE_LRN",
        f"local reference {existing.lrn} was already used for declaration {existing.id} "
        "with a different document; amend that declaration or use a new LRN",
        [Problem(message=f"LRN already used by declaration {existing.id}",
                 path="/Declaration/FunctionalReferenceID", rule="lrn-unique-per-declarant")],
        details={"existing_declaration_id": existing.id},
    )


def submit(session: Session, received: ReceivedDeclaration, caller: Caller, conversation_id: str,
           now: datetime | None = None) -> Outcome:
    """Store a new declaration, or replay the original answer for an identical re-send."""
    assert caller.party_id is not None
    now = now or utcnow()
    declaration = received.declaration
    if declaration.function_code is not FunctionCode.ORIGINAL:
        raise Rejection(
            "WRONG_FUNCTION_CODE",
            "FunctionCode 13 (amendment) must be sent to POST /api/v1/declarations/{id}/amendments",
            [Problem(message="expected 9 (original)", path="/Declaration/FunctionCode", rule="function-code")],
        )
    _require_declarant(received, caller)
    existing = _find_by_lrn(session, caller.party_id, declaration.lrn)
    if existing is not None:
        return _replay_or_conflict(existing, received)
    row = models.Declaration(
        id=new_declaration_reference(now),
        declarant_party_id=caller.party_id,
        status=DeclarationStatus.ACCEPTED.value,
        version=1,
        schema_namespace=received.namespace,
        original_sha256=received.sha256,
        received_at=now,
        updated_at=now,
        conversation_id=conversation_id,
    )
    _fill_details(row, declaration)
    try:
        with session.begin_nested():
            session.add(row)
            session.add(_document(row, received, now, conversation_id))
            _record_event(session, row, "submitted", None, caller, now, conversation_id)
    except IntegrityError:
        existing = _find_by_lrn(session, caller.party_id, declaration.lrn)
        if existing is None:
            raise
        return _replay_or_conflict(existing, received)
    return Outcome(row)


def get_declaration(session: Session, reference: str, party_id: int | None,
                    with_history: bool = False) -> models.Declaration:
    """The declaration, if ``party_id`` (None = any) may see it; otherwise NOT_FOUND.

    Another party's declaration answers exactly as a missing one does, so references
    reveal nothing."""
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
        query = query.options(selectinload(models.Declaration.events))
    row = session.scalar(query)
    if row is None:
        raise Rejection("NOT_FOUND", f"no declaration {reference}")
    return row


def amend(session: Session, reference: str, received: ReceivedDeclaration, caller: Caller,
          conversation_id: str, now: datetime | None = None) -> Outcome:
    """Replace the declaration's content with a full amendment document (FunctionCode 13)."""
    now = now or utcnow()
    row = get_declaration(session, reference, caller.party_id)
    declaration = received.declaration
    if declaration.function_code is not FunctionCode.AMENDMENT:
        raise Rejection(
            "WRONG_FUNCTION_CODE",
            "an amendment carries FunctionCode 13 and the full replacement document",
            [Problem(message="expected 13 (amendment)", path="/Declaration/FunctionCode", rule="function-code")],
        )
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
        return Outcome(row, replay=True)
    try:
        check_amendable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        raise Rejection(exc.code, exc.message) from None
    row.version += 1
    row.updated_at = now
    row.schema_namespace = received.namespace
    row.goods_items.clear()
    row.parties.clear()
    row.equipment.clear()
    session.flush()
    _fill_details(row, declaration)
    session.add(_document(row, received, now, conversation_id))
    _record_event(session, row, "amended", row.status, caller, now, conversation_id)
    return Outcome(row)


def change_status(session: Session, row: models.Declaration, status: DeclarationStatus, kind: str,
                  caller: Caller, conversation_id: str | None, note: str | None = None,
                  now: datetime | None = None) -> None:
    """Move a declaration to ``status`` and record why, in the caller's transaction."""
    now = now or utcnow()
    before = row.status
    row.status = status.value
    row.updated_at = now
    _record_event(session, row, kind, before, caller, now, conversation_id, note)


def cancel(session: Session, reference: str, reason: str, caller: Caller, conversation_id: str,
           now: datetime | None = None) -> Outcome:
    row = get_declaration(session, reference, caller.party_id)
    try:
        check_cancellable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        raise Rejection(exc.code, exc.message) from None
    change_status(session, row, DeclarationStatus.CANCELLED, "cancelled", caller, conversation_id,
                  note=reason, now=now)
    return Outcome(row)


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
