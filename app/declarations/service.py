"""Declaration use cases: submit, amend, cancel, change status, change lane (look-ups and
lists are read-only queries, in ``app.declarations.queries``).

Each takes an open session and leaves the commit to its caller (the request or CLI
boundary), so the declaration, its document and its event land in one transaction.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.db import models
from app.db.bulk import array_literal, hold_back, insert_returning, insert_rows
from app.db.revenue_models import DutyDemand
from app.db.session import Writer, connection_of
from app.domain.actors import Caller
from app.domain.assessment import Assessed, charges_record
from app.domain.cases import case_reasons
from app.domain.declaration import (
    Declaration,
    DeclarationStatus,
    DeclarationType,
    FunctionCode,
    LifecycleError,
    ReceivedDeclaration,
    TransportEquipment,
    check_amendable,
    check_cancellable,
    goods_item_particulars,
    particulars_record,
)
from app.domain.events import (
    DeclarationAmended,
    DeclarationCancelled,
    DeclarationFacts,
    DeclarationLaneChanged,
    DeclarationLodged,
    DeclarationStatusChanged,
)
from app.domain.findings import Severity
from app.domain.problems import Problem, Rejection, lrn_used
from app.declarations.queries import get_declaration
from app.domain.reference import new_declaration_reference
from app.domain.risk import RiskResult
from app.platform.clock import utcnow
from app.platform.uow import emit


@dataclass(frozen=True, slots=True)
class Receipt:
    """What an acknowledgement says about the declaration. ``awaiting_duty``: released on the
    green lane once its duty is paid or secured (a deferment account may secure it before the
    commit, so the stored status is the one to report)."""

    id: str
    lrn: str
    status: str
    version: int
    received_at: datetime
    awaiting_duty: bool = False

    @classmethod
    def of(cls, row: models.Declaration) -> Receipt:
        return cls(row.id, row.lrn, row.status, row.version, row.received_at)


@dataclass(frozen=True, slots=True)
class Outcome:
    receipt: Receipt
    replay: bool = False


def _event_values(declaration_id: str, kind: str, status_from: str | None, status_to: str, version: int,
                  actor: str, now: datetime, conversation_id: str | None,
                  note: str | None = None) -> dict[str, object]:
    return {
        "declaration_id": declaration_id, "kind": kind, "status_from": status_from,
        "status_to": status_to, "version": version, "actor": actor, "occurred_at": now,
        "conversation_id": conversation_id, "note": note,
    }


def _header_values(declaration: Declaration, assessed: Assessed) -> dict[str, object]:
    """The declaration row's columns that come from the document and its assessment."""
    return {
        "movement_at": declaration.movement_at,
        "rules_version": assessed.rules_version,
        "charges": charges_record(assessed.charges),
        "aeo": assessed.aeo,
        "lrn": declaration.lrn,
        "ucr": declaration.ucr,
        "type_code": declaration.type.value,
        "form_code": declaration.form_code,
        "issued_at": declaration.issued_at,
        "transport_mode": declaration.transport_mode,
        "conveyance_id": declaration.conveyance_id,
        "control_point": declaration.control_point,
        "departure_location": declaration.departure_location,
        "destination_location": declaration.destination_location,
        "goods_item_count": len(declaration.goods_items),
        "particulars": particulars_record(declaration),
    }


def _insert(writer: Writer, model: type[models.Base], rows: list[dict[str, object]]) -> None:
    """Core inserts on the session's connection (executemany, or COPY for large batches on
    PostgreSQL): intake's hot path, where the ORM's per-row bookkeeping (identity map, bulk
    persistence) would cost more than the I/O. Lodging passes the connection itself, fetched
    once per transaction."""
    insert_rows(connection_of(writer), models.table_of(model), rows)


def _insert_content(writer: Writer, declaration_id: str, declaration: Declaration) -> None:
    """Parties, goods items, equipment and seals: one executemany per table."""
    _insert_contents(connection_of(writer), [(declaration_id, declaration)])


def _insert_contents(connection: Connection, declarations: Sequence[tuple[str, Declaration]]) -> None:
    """The equipment, seals, parties and goods items of many declarations: one executemany per
    table whatever their number (a batch stores all its declarations' rows together). The
    equipment goes first: where its ids come back for the seals, the inserts held back before
    it (``hold_back_inserts``) would have to be sent first; where inserts are held back, the
    equipment and its seals are one held statement instead."""
    _insert_equipment(connection, declarations)
    _insert(connection, models.DeclarationParty, [
        {"declaration_id": declaration_id, "role": p.role.value, "identifier": p.identifier, "name": p.name,
         "aeo_id": p.aeo_id, "address_line": p.address_line, "city": p.city, "country": p.country}
        for declaration_id, declaration in declarations for p in declaration.parties
    ])
    _insert(connection, models.GoodsItem, [
        {"declaration_id": declaration_id, "sequence": g.sequence, "description": g.description,
         "hs_code": g.hs_code, "origin_country": g.origin_country, "quantity": g.quantity,
         "quantity_unit": g.quantity_unit, "net_mass_kg": g.net_mass, "gross_mass_kg": g.gross_mass,
         "value": g.value, "currency": g.currency, "alcohol_strength": g.alcohol_strength,
         "volume_litres": g.volume_litres, "stick_count": g.stick_count, "length_mm": g.length_mm,
         "package_type": g.package_type, "package_count": g.package_count,
         "documents": [{"type_code": d.type_code, "id": d.identifier} for d in g.documents] or None,
         "particulars": goods_item_particulars(g) if declaration.particulars is not None else None}
        for declaration_id, declaration in declarations for g in declaration.goods_items
    ])


def _insert_equipment(connection: Connection, declarations: Sequence[tuple[str, Declaration]]) -> None:
    equipment = [(declaration_id, item) for declaration_id, declaration in declarations
                 for item in declaration.equipment]
    if not equipment:
        return
    # The seals name their equipment's id. Each row is known by its declaration and sequence
    # (multi-row RETURNING, in any order); should a document repeat a sequence, the ids are
    # asked for in the rows' order instead (on SQLite, one statement per row).
    keys = [(declaration_id, item.sequence) for declaration_id, item in equipment]
    known_by_key = len(set(keys)) == len(keys)
    arrays = _equipment_and_seals(equipment) if known_by_key else None
    if arrays is not None and hold_back(connection, _SEALS_OF_EQUIPMENT, arrays, ("transport_equipment", "seals"),
                                        _EQUIPMENT_INSERTED):
        return
    rows = [{"declaration_id": declaration_id, "sequence": item.sequence, "container_id": item.container_id,
             "elock_id": item.elock_id} for declaration_id, item in equipment]
    if known_by_key:
        ids = {(declaration_id, sequence): id_ for id_, declaration_id, sequence in insert_returning(
            connection, _EQUIPMENT, rows, (_EQUIPMENT.c.id, _EQUIPMENT.c.declaration_id, _EQUIPMENT.c.sequence))}
        equipment_ids = [ids[key] for key in keys]
    else:
        equipment_ids = list(connection.execute(_INSERT_EQUIPMENT_IN_ORDER, rows).scalars().all())
    _insert(connection, models.Seal, [
        {"equipment_id": equipment_id, "seal_id": seal_id}
        for equipment_id, (_, item) in zip(equipment_ids, equipment, strict=True) for seal_id in item.seal_ids
    ])


_EQUIPMENT = models.table_of(models.TransportEquipment)
# Equipment and seals as one statement whose answer nobody reads (PostgreSQL, held back with a
# group's inserts): the seals find their equipment's ids among the rows it inserts.
_EQUIPMENT_INSERTED = (
    "equipment AS (INSERT INTO transport_equipment (declaration_id, sequence, container_id, elock_id) "
    "SELECT declaration_id, sequence, container_id, elock_id "
    "FROM unnest(%t::VARCHAR[], %t::INTEGER[], %t::VARCHAR[], %t::VARCHAR[]) "
    "WITH ORDINALITY AS given (declaration_id, sequence, container_id, elock_id, csw_given_order) "
    "ORDER BY csw_given_order RETURNING id, declaration_id, sequence)")
_SEALS_OF_EQUIPMENT = (
    "INSERT INTO seals (equipment_id, seal_id) SELECT equipment.id, sealed.seal_id "
    "FROM unnest(%t::VARCHAR[], %t::INTEGER[], %t::VARCHAR[]) "
    "WITH ORDINALITY AS sealed (declaration_id, sequence, seal_id, csw_given_order) "
    "JOIN equipment ON equipment.declaration_id = sealed.declaration_id AND equipment.sequence = sealed.sequence "
    "ORDER BY sealed.csw_given_order")
_INSERT_EQUIPMENT_IN_ORDER = _EQUIPMENT.insert().returning(_EQUIPMENT.c.id, sort_by_parameter_order=True)


def _equipment_and_seals(equipment: Sequence[tuple[str, TransportEquipment]]) -> tuple[str, ...] | None:
    """The arrays of ``_EQUIPMENT_INSERTED`` and ``_SEALS_OF_EQUIPMENT`` as array literals
    (``array_literal``): each column of the equipment, then of the seals (each seal named by its
    equipment's declaration and sequence); None should a value not be written so."""
    sealed = [(declaration_id, item.sequence, seal_id) for declaration_id, item in equipment
              for seal_id in item.seal_ids]
    columns: list[list[object]] = [
        [declaration_id for declaration_id, _ in equipment], [item.sequence for _, item in equipment],
        [item.container_id for _, item in equipment], [item.elock_id for _, item in equipment],
        [declaration_id for declaration_id, _, _ in sealed], [sequence for _, sequence, _ in sealed],
        [seal_id for _, _, seal_id in sealed]]
    literals = [array_literal(column, floats=False) for column in columns]
    return None if None in literals else tuple(literal for literal in literals if literal is not None)


def _finding_rows(declaration_id: str, version: int, assessed: Assessed) -> list[dict[str, object]]:
    return [{"declaration_id": declaration_id, "version": version, "code": f.code, "severity": f.severity.value,
             "path": f.path, "message_en": f.message_en, "message_zh": f.message_zh}
            for f in assessed.findings]


def _insert_findings(writer: Writer, declaration_id: str, version: int, assessed: Assessed) -> None:
    _insert(writer, models.DeclarationFinding, _finding_rows(declaration_id, version, assessed))


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
    raise lrn_used(existing.lrn, "declaration", "報關單", existing.id, "/Declaration/FunctionalReferenceID",
                   "lrn-unique-per-declarant", "; amend that declaration or use a new LRN")


def _risk_values(risk: RiskResult | None) -> dict[str, object]:
    """The declaration row's columns that carry the risk summary (what queues and lists read)."""
    if risk is None:  # every row of a batch has the same columns: NULL is what an absent column stores
        return {"lane": None, "risk_score": None, "revenue_at_stake": None}
    return {"lane": risk.lane.value, "risk_score": risk.score, "revenue_at_stake": risk.revenue_at_stake}


def _insert_many_if_new(connection: Connection, rows: Sequence[dict[str, object]]) -> set[object]:
    """Insert the declaration rows whose (declarant, LRN) and reference are free; the ids of
    those inserted (multi-row ``INSERT ... RETURNING`` statements, or on PostgreSQL COPY and one
    ``INSERT ... SELECT``). The rows' references must differ from each other."""
    table = models.table_of(models.Declaration)
    return {id_ for id_, in insert_returning(connection, table, rows, (table.c.id,),
                                              unless_taken=(table.c.declarant_party_id, table.c.lrn),
                                              or_any_key=True)}


@dataclass(frozen=True, slots=True)
class Submission:
    """A new declaration ready to be stored: its document, assessment, risk, when it came,
    who lodged it and in which conversation (declarations stored together may come from
    several requests and clients)."""

    received: ReceivedDeclaration
    assessed: Assessed
    risk: RiskResult | None
    at: datetime
    caller: Caller
    conversation_id: str


@dataclass(frozen=True, slots=True)
class Planned:
    """What storing a new declaration will write, decided from the assessment in hand
    (``plan``)."""

    submission: Submission
    reference: str
    status: str
    release: bool
    awaiting_duty: bool
    needs_officer: bool
    row: dict[str, object]

    def outcome(self) -> Outcome:
        return Outcome(Receipt(id=self.reference, lrn=self.submission.received.declaration.lrn, status=self.status,
                               version=1, received_at=self.submission.at, awaiting_duty=self.awaiting_duty))


def plan(submission: Submission) -> Planned:
    """Check the document may be lodged by its caller (a ``Rejection`` if not) and decide what
    follows lodging: whether an officer must look, and otherwise whether the green lane
    releases it at once. Nothing is read or written, so a refusal here is one declaration's
    alone (``submit_many`` plans whatever is not planned yet)."""
    caller, conversation_id = submission.caller, submission.conversation_id
    assert caller.party_id is not None
    received, assessed, risk, now = submission.received, submission.assessed, submission.risk, submission.at
    declaration = received.declaration
    _require_function_code(declaration, FunctionCode.ORIGINAL,
                           "FunctionCode 13 (amendment) must be sent to POST /api/v1/declarations/{id}/amendments")
    _require_declarant(received, caller)
    reference = new_declaration_reference(now)
    reasons = case_reasons(risk.lane.value if risk else None,
                           [f for f in assessed.findings if f.severity is Severity.HOLD])
    release = not reasons and releases_on_green_lane(declaration, risk)
    awaiting_duty = release and duty_owed(assessed)
    release = release and not awaiting_duty
    status = DeclarationStatus.RELEASED.value if release else DeclarationStatus.ACCEPTED.value
    return Planned(submission, reference, status, release, awaiting_duty, bool(reasons), {
        "id": reference, "declarant_party_id": caller.party_id, "status": status, "version": 1,
        "schema_namespace": received.namespace, "original_sha256": received.sha256,
        "received_at": now, "updated_at": now, "conversation_id": conversation_id,
        "release_on_settlement": awaiting_duty,
        **_header_values(declaration, assessed), **_risk_values(risk),
    })


def _drawn_again(planned: Planned) -> Planned:
    """``planned`` with a fresh reference: the one it drew was another declaration's."""
    reference = new_declaration_reference(planned.submission.at)
    return replace(planned, reference=reference, row={**planned.row, "id": reference})


def _distinct_references(pending: Sequence[tuple[int, Planned]]) -> list[tuple[int, Planned]]:
    """``pending`` with no reference drawn twice (a row refused for its reference is then
    surely not the one stored)."""
    drawn: set[str] = set()
    distinct = []
    for index, planned in pending:
        while planned.reference in drawn:
            planned = _drawn_again(planned)
        drawn.add(planned.reference)
        distinct.append((index, planned))
    return distinct


#: How many references a new declaration may draw before storage gives up (each draw after the
#: first follows one that another declaration holds: about one chance in 60 million).
REFERENCE_DRAWS = 5


def _existing_outcome(session: Session, caller: Caller, received: ReceivedDeclaration) -> Outcome | Rejection | None:
    """The answer for a document whose (declarant, LRN) is already stored: a replay, or a
    refusal; None when no declaration holds that LRN."""
    assert caller.party_id is not None
    existing = _find_by_lrn(session, caller.party_id, received.declaration.lrn)
    if existing is None:
        return None
    try:
        return _replay_or_conflict(existing, received)
    except Rejection as rejection:
        return rejection


def _not_stored() -> Rejection:
    """A declaration storage could not settle (its conflict gone when looked for, or every
    reference it drew held): a retry will tell."""
    return Rejection("DATABASE_UNAVAILABLE", "the declaration could not be stored; retry shortly")


def _store_new(session: Session, plans: Sequence[Planned]) -> None:
    """Everything but the declaration row itself (already inserted) for new declarations: the
    document, content, findings and event rows, one executemany per table for all of them, and
    their domain events in lodging order (each declaration's lodged, then its release)."""
    if not plans:
        return
    connection = session.connection()
    accepted = DeclarationStatus.ACCEPTED.value
    _insert_contents(connection, [(plan.reference, plan.submission.received.declaration) for plan in plans])
    _insert(connection, models.DeclarationDocument, [
        _document_values(plan.reference, 1, plan.submission.received, plan.submission.at,
                         plan.submission.conversation_id)
        for plan in plans])
    _insert(connection, models.DeclarationFinding, [
        row for plan in plans for row in _finding_rows(plan.reference, 1, plan.submission.assessed)])
    events: list[dict[str, object]] = []
    for plan in plans:
        now, caller, conversation_id = plan.submission.at, plan.submission.caller, plan.submission.conversation_id
        events.append(_event_values(plan.reference, "submitted", None, accepted, 1, caller.actor, now,
                                    conversation_id))
        if plan.awaiting_duty:
            events.append(_event_values(plan.reference, "release_awaiting_duty", accepted, accepted, 1,
                                        LANE_POLICY.actor, now, conversation_id,
                                        f"{GREEN_LANE_NOTE} once the duty is paid or secured"))
        if plan.release:
            # The lane reason quotes the score and thresholds, which are for officers only.
            events.append(_event_values(plan.reference, "released", accepted, DeclarationStatus.RELEASED.value, 1,
                                        LANE_POLICY.actor, now, conversation_id, GREEN_LANE_NOTE))
    _insert(connection, models.DeclarationEvent, events)
    for plan in plans:
        received, risk, now = plan.submission.received, plan.submission.risk, plan.submission.at
        caller, conversation_id = plan.submission.caller, plan.submission.conversation_id
        declaration = received.declaration
        emit(session, DeclarationLodged(plan.reference, declaration, risk, plan.needs_officer, caller, now,
                                        conversation_id=conversation_id, charges=plan.submission.assessed.charges))
        if plan.release:
            assert risk is not None and caller.party_id is not None
            released = DeclarationFacts(
                id=plan.reference, status=DeclarationStatus.RELEASED.value, declarant_party_id=caller.party_id,
                type_code=declaration.type.value, ucr=declaration.ucr, lane=risk.lane.value, version=1,
                transport_mode=declaration.transport_mode, conveyance_id=declaration.conveyance_id,
                control_point=declaration.control_point,
                named_parties=tuple((p.role.value, p.identifier) for p in declaration.parties))
            emit(session, DeclarationStatusChanged(released, accepted, "released", LANE_POLICY.actor,
                                                   GREEN_LANE_NOTE, now, on_lodging=True))


def submit(session: Session, received: ReceivedDeclaration, assessed: Assessed, caller: Caller,
           conversation_id: str, now: datetime | None = None, *, risk: RiskResult | None = None) -> Outcome:
    """Store a new declaration, or replay the original answer for an identical re-send.

    Inserts first and lets the (declarant, LRN) unique constraint find re-sends: new
    declarations, the common case, cost no look-up.

    What follows lodging is decided from the assessment in hand rather than re-read: whether
    an officer must look (``needs_officer`` on the lodged event), and otherwise whether the
    green lane releases it at once, which is an ordinary status change."""
    outcome = submit_many(session, [Submission(received, assessed, risk, now or utcnow(), caller, conversation_id)])[0]
    if isinstance(outcome, Rejection):
        raise outcome
    return outcome


def submit_many(session: Session, submissions: Sequence[Submission | Planned]) -> list[Outcome | Rejection]:
    """Store new declarations together (a batch's, or concurrent single posts'), each accepted
    or refused on its own as ``submit`` would in the given order: one ``INSERT ... ON CONFLICT DO
    NOTHING RETURNING`` for all the declaration rows, then one executemany per table. A document
    refused here (wrong function code or declarant, an LRN taken by another document) stores
    nothing; an LRN its declarant already stored, or sent twice here, is answered as a re-send
    of the stored one. A declaration whose row is refused although its LRN is free drew a
    reference another declaration holds (``app.domain.reference``): it draws a fresh one and
    is inserted again.

    Why: per declaration, ten statements cost more than everything else storage does; a batch
    of 1,000 pays about ten in all. Handlers still see one ``DeclarationLodged`` per declaration."""
    results: list[Outcome | Rejection | None] = [None] * len(submissions)
    fresh: list[tuple[int, Planned]] = []
    again: list[tuple[int, Submission]] = []
    lrns: set[tuple[int | None, str]] = set()
    for index, item in enumerate(submissions):
        if isinstance(item, Planned):
            planned = item
        else:
            try:
                planned = plan(item)
            except Rejection as rejection:
                results[index] = rejection
                continue
        submission = planned.submission
        lrn = (submission.caller.party_id, submission.received.declaration.lrn)
        if lrn in lrns:
            again.append((index, submission))
        else:
            lrns.add(lrn)
            fresh.append((index, planned))
    stored: list[tuple[int, Planned]] = []
    pending = fresh
    for _ in range(REFERENCE_DRAWS):
        pending = _distinct_references(pending)
        inserted = _insert_many_if_new(session.connection(), [planned.row for _, planned in pending])
        drawn_again: list[tuple[int, Planned]] = []
        for index, planned in pending:
            if planned.reference in inserted:
                stored.append((index, planned))
                results[index] = planned.outcome()
                continue
            existing = _existing_outcome(session, planned.submission.caller, planned.submission.received)
            if existing is not None:
                results[index] = existing
            else:  # its LRN is free: the reference it drew was taken
                drawn_again.append((index, _drawn_again(planned)))
        pending = drawn_again
        if not pending:
            break
    for index, _ in pending:
        results[index] = _not_stored()
    _store_new(session, [planned for _, planned in sorted(stored, key=lambda found: found[0])])
    for index, submission in again:
        results[index] = _existing_outcome(session, submission.caller, submission.received) or _not_stored()
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


LANE_POLICY = Caller(actor="system:lane-policy", role="system")
GREEN_LANE_NOTE = "released on the green lane"


def duty_owed(assessed: Assessed) -> bool:
    """The assessment charges duty (dutiable goods on an import): the goods wait for it."""
    return assessed.charges.duty_total > 0


def duty_unsettled(session: Session, declaration_id: str) -> bool:
    """A demand of the declaration is still due (read from the revenue capability's table)."""
    return session.scalar(select(DutyDemand.id).where(DutyDemand.declaration_id == declaration_id,
                                                      DutyDemand.state == "due").limit(1)) is not None


def release(session: Session, row: models.Declaration, actor: Caller | str, conversation_id: str | None,
            note: str | None, now: datetime | None = None) -> bool:
    """Release the declaration, unless duty is still due on it: then the release is recorded
    as waiting (``release_on_settlement``) and happens when the revenue capability says the
    duty is settled (``on_duty_settled``). True when released now."""
    now = now or utcnow()
    if duty_unsettled(session, row.id):
        row.release_on_settlement = True
        row.updated_at = now
        _insert(session, models.DeclarationEvent, [
            _event_values(row.id, "release_awaiting_duty", row.status, row.status, row.version,
                          actor.actor if isinstance(actor, Caller) else actor, now, conversation_id,
                          f"{note or 'released'}: once the duty is paid or secured")])
        return False
    row.release_on_settlement = False
    change_status(session, row, DeclarationStatus.RELEASED, "released", actor, conversation_id, note=note, now=now)
    return True


def releases_on_green_lane(declaration: Declaration, risk: RiskResult | None) -> bool:
    """A green-lane declaration that needs no officer is released on assessment (the lane
    policy's ``release``). Transhipments are released by their e-lock journey's intact arrival
    instead; without a risk assessment there is no lane, so nothing is released."""
    return risk is not None and risk.release and declaration.type is not DeclarationType.TRANSHIPMENT


def facts_of(row: models.Declaration) -> DeclarationFacts:
    """What the other capabilities are told of a stored declaration."""
    return DeclarationFacts(id=row.id, status=row.status, declarant_party_id=row.declarant_party_id,
                            type_code=row.type_code, ucr=row.ucr, lane=row.lane, version=row.version,
                            transport_mode=row.transport_mode, conveyance_id=row.conveyance_id,
                            control_point=row.control_point)


def _record_status_change(session: Session, before: DeclarationFacts, status: DeclarationStatus, kind: str,
                          actor: str, conversation_id: str | None, note: str | None, now: datetime) -> None:
    """The one path of every status change, lodgement's green-lane release included: the
    event row, and (when the status really changed) the domain event that lets notices,
    manifests and journeys follow. The row itself was updated by the caller (an ORM row, or
    the insert of a new declaration)."""
    _insert(session, models.DeclarationEvent, [
        _event_values(before.id, kind, before.status, status.value, before.version, actor, now, conversation_id,
                      note)])
    if before.status != status.value:
        emit(session, DeclarationStatusChanged(replace(before, status=status.value), before.status, kind, actor,
                                               note, now))


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
    if case_reasons(risk.lane.value if risk else row.lane,
                    [f for f in assessed.findings if f.severity is Severity.HOLD]):
        row.release_on_settlement = False  # the new version goes to an officer, who decides again
    for column, value in {**_header_values(declaration, assessed), **_risk_values(risk)}.items():
        setattr(row, column, value)
    session.flush()
    _delete_content(session, row.id)
    _insert_content(session, row.id, declaration)
    _insert_findings(session, row.id, row.version, assessed)
    _insert(session, models.DeclarationDocument, [
        _document_values(row.id, row.version, received, now, conversation_id)])
    _insert(session, models.DeclarationEvent, [
        _event_values(row.id, "amended", row.status, row.status, row.version, caller.actor, now, conversation_id)])
    emit(session, DeclarationAmended(row.id, row.version, declaration, risk, caller, now,
                                     conversation_id=conversation_id, charges=assessed.charges))
    return Outcome(Receipt.of(row))


def change_status(session: Session, row: models.Declaration, status: DeclarationStatus, kind: str,
                  caller: Caller | str, conversation_id: str | None, note: str | None = None,
                  now: datetime | None = None) -> None:
    """Move a declaration to ``status`` and record why, in the caller's transaction."""
    now = now or utcnow()
    before = facts_of(row)
    row.status = status.value
    row.updated_at = now
    actor = caller.actor if isinstance(caller, Caller) else caller
    _record_status_change(session, before, status, kind, actor, conversation_id, note, now)


def change_lane(session: Session, row: models.Declaration, lane: str, actor: str, conversation_id: str | None,
                note: str, now: datetime | None = None) -> None:
    """An officer's re-route: the new lane, its event row, and the event that lets the trip's
    manifest follow (a consignment moved to red is selected for inspection at the kiosk)."""
    now = now or utcnow()
    before = row.lane
    row.lane = lane
    row.updated_at = now
    _insert(session, models.DeclarationEvent, [
        _event_values(row.id, "lane_changed", row.status, row.status, row.version, actor, now, conversation_id,
                      note)])
    if before != lane:
        emit(session, DeclarationLaneChanged(row.id, before, lane, actor, note, now))


def cancel(session: Session, reference: str, reason: str, caller: Caller, conversation_id: str,
           now: datetime | None = None) -> Outcome:
    now = now or utcnow()
    row = get_declaration(session, reference, caller.party_id, for_update=True)
    try:
        check_cancellable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        raise Rejection(exc.code, exc.message) from None
    change_status(session, row, DeclarationStatus.CANCELLED, "cancelled", caller, conversation_id,
                  note=reason, now=now)
    emit(session, DeclarationCancelled(row.id, reason, caller, now))
    return Outcome(Receipt.of(row))
