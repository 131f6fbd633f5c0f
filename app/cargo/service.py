"""Lodging, amending and cancelling advance cargo information, officers' decisions on it and
its crossing. Services never commit: the caller's unit of work does. Every change writes a
``cargo_events`` row with who and when, and every document received is kept verbatim with its
SHA-256. Each cargo reference is a line customs write off against declarations: lodging and
amending announce it (``CargoLineLodged``, kind ``CRN``), cancelling withdraws it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db.bulk import insert_returning
from app.db.cargo_models import CargoDocument, CargoEvent, CargoRecord
from app.db.models import table_of
from app.db.routing_models import TripConsignment
from app.db.session import reading
from app.domain.actors import Caller
from app.domain.cargo import (
    CargoInformation,
    CargoParty,
    CargoStatus,
    ReceivedCargo,
    is_valid_cargo_reference,
    new_cargo_reference,
)
from app.db.models import Party
from app.domain.events import (
    CargoControlDecided,
    CargoLineCancelled,
    CargoLineLodged,
    CargoSelected,
    CargoSelectionClosed,
    SelectedCargo,
)
from app.domain.manifests import SELECTING_LANES
from app.domain.findings import Finding, Severity
from app.domain.problems import Problem, Rejection, lrn_used
from app.domain.risk import RiskResult
from app.platform.clock import utcnow
from app.platform.uow import UnitOfWork, emit

ORIGINAL, AMENDMENT = "9", "13"
MAX_REASON = 500
#: The kind of cargo line a road cargo reference is written off as.
LINE_KIND = "CRN"
#: The API role of this administration's own systems (a partner customs decides nothing here).
CUSTOMS_ADMIN = "admin"
#: Officers' decisions on cargo before it crosses, by the word the API takes.
CONTROL_DECISIONS = {"release": "released", "hold": "held"}
#: How the officers' queue names road cargo (``CRN:<cargo reference>``).
QUEUE_KIND = "CRN"

Receive = Callable[[bytes], ReceivedCargo]
Check = Callable[[CargoInformation, datetime], list[Finding]]
Profile = Callable[[Session, ReceivedCargo, tuple[Finding, ...]], "RiskResult | None"]


@dataclass(frozen=True)
class CargoTools:
    """The steps of a lodgement, bound at start-up: parse and schema-check, the cargo rules, the
    risk profile (lane before arrival; None without a risk engine)."""

    receive: Receive
    check: Check
    profile: Profile


@dataclass(frozen=True, slots=True)
class Outcome:
    record: CargoRecord
    findings: tuple[Finding, ...] = field(default=())
    replay: bool = False


def _problems(findings: list[Finding]) -> list[Problem]:
    return [Problem(message=f.message_en, message_zh=f.message_zh, path=f.path, rule=f.code,
                    severity=f.severity.value) for f in findings]


def _party(party: CargoParty) -> dict[str, object]:
    return {"name": party.name, "identifier": party.identifier, "address": {
        "line": party.address.line, "city": party.address.city, "country": party.address.country}}


def _finding(finding: Finding) -> dict[str, object]:
    return {"code": finding.code, "severity": finding.severity.value, "path": finding.path,
            "message": finding.message_en, "message_zh": finding.message_zh}


def _content(cargo: CargoInformation) -> dict[str, object]:
    return {
        "direction": cargo.direction, "control_point": cargo.control_point,
        "expected_crossing_at": cargo.expected_crossing_at, "consignor": _party(cargo.consignor),
        "consignee": _party(cargo.consignee), "package_count": cargo.package_count,
        "package_type": cargo.package_type, "marks": cargo.marks, "goods_description": cargo.goods_description,
        "gross_mass_kg": cargo.gross_mass_kg, "hs_code": cargo.hs_code, "origin_country": cargo.origin_country,
    }


def _prepare(uow: UnitOfWork, tools: CargoTools, body: bytes, caller: Caller, function_code: str
             ) -> tuple[ReceivedCargo, tuple[Finding, ...], RiskResult | None, datetime]:
    """Everything before storage, outside the write gate: intake, the lodger, rules, profile."""
    received = tools.receive(body)
    cargo = received.cargo
    if cargo.function_code != function_code:
        raise Rejection("WRONG_FUNCTION_CODE", "new cargo information carries FunctionCode 9; an amendment, 13, "
                        "sent to POST /api/v1/cargo/{reference}/amendments",
                        [Problem(message=f"expected {function_code}", path="/Cargo/FunctionCode",
                                 rule="function-code")])
    if cargo.submitter_id != caller.party_identifier:
        raise Rejection("SUBMITTER_MISMATCH", "the submitter must be the party your API key belongs to", [Problem(
            message=f"Submitter/ID is {cargo.submitter_id}; your key is for {caller.party_identifier}",
            path="/Cargo/Submitter/ID", rule="submitter-is-caller")])
    now = utcnow()
    findings = tools.check(cargo, now)
    if any(f.severity is Severity.REJECT for f in findings):
        raise Rejection("RULES_REJECTED", "the cargo information breaks rules that refuse it", _problems(findings))
    with reading():  # as the declaration pipeline: the profile's reads take no write lock outside the gate
        risk = tools.profile(uow.session, received, tuple(findings))
    uow.end_reads()
    uow.write_lock()
    return received, tuple(findings), risk, now


def _event(session: Session, record: CargoRecord, kind: str, actor: str, now: datetime,
           conversation_id: str | None, note: str | None = None) -> None:
    session.add(CargoEvent(cargo_id=record.id, kind=kind, version=record.version, status_to=record.status,
                           lane=record.lane, actor=actor, occurred_at=now, conversation_id=conversation_id, note=note))


def _document(session: Session, record: CargoRecord, received: ReceivedCargo, now: datetime,
              conversation_id: str | None) -> None:
    session.add(CargoDocument(cargo_id=record.id, version=record.version, body=received.body,
                              sha256=received.sha256, received_at=now, conversation_id=conversation_id))


_DOCUMENTS, _EVENTS = table_of(CargoDocument).insert(), table_of(CargoEvent).insert()
_RECORD_COLUMNS = tuple(column.key for column in table_of(CargoRecord).columns)


def _store_new(session: Session, record: CargoRecord, received: ReceivedCargo, actor: str,
               conversation_id: str | None) -> bool:
    """Insert a new record, its document and its ``lodged`` event with three Core statements;
    False (nothing written) when the submitter's LRN is already taken. ``ON CONFLICT DO
    NOTHING`` finds re-sends without a look-up first and without spoiling the transaction;
    Core skips the ORM's per-object flush bookkeeping, which cost more than the I/O. The
    record then joins the session as a persistent object (no second insert), as if loaded."""
    connection: Connection = session.connection()
    values = {key: getattr(record, key) for key in _RECORD_COLUMNS}
    records = table_of(CargoRecord)
    if not insert_returning(connection, records, [values], (records.c.id,),
                            unless_taken=(records.c.submitter_party_id, records.c.lrn)):
        return False
    now = record.received_at
    connection.execute(_DOCUMENTS, {"cargo_id": record.id, "version": record.version, "body": received.body,
                                    "sha256": received.sha256, "received_at": now,
                                    "conversation_id": conversation_id})
    connection.execute(_EVENTS, {"cargo_id": record.id, "kind": "lodged", "version": record.version,
                                 "status_to": record.status, "lane": record.lane, "actor": actor,
                                 "occurred_at": now, "conversation_id": conversation_id, "note": None})
    make_transient_to_detached(record)
    session.add(record)
    return True


def lodge(uow: UnitOfWork, tools: CargoTools, body: bytes, caller: Caller, conversation_id: str | None) -> Outcome:
    """New cargo information; an identical re-send of the same LRN replays the first answer, a
    different document under the same LRN is a conflict. A new one costs three inserts of its
    own (record, document, event), no look-up."""
    assert caller.party_id is not None
    received, findings, risk, now = _prepare(uow, tools, body, caller, ORIGINAL)
    session = uow.session
    record = CargoRecord(
        id=new_cargo_reference(now), submitter_party_id=caller.party_id, lrn=received.cargo.lrn,
        status=CargoStatus.LODGED.value, version=1, **_content(received.cargo),
        lane=risk.lane.value if risk else None, risk_score=risk.score if risk else None,
        findings=[_finding(f) for f in findings], control_decision=None, moved_at=None, received_at=now,
        updated_at=now)
    if not _store_new(session, record, received, caller.actor, conversation_id):
        return _existing(session, caller.party_id, received)
    _announce(session, record, caller, now)
    emit(session, selection(session, record, caller.actor, now, "deselected"))
    return Outcome(record, findings)


def _existing(session: Session, party_id: int, received: ReceivedCargo) -> Outcome:
    """The answer for a re-sent LRN: the first answer again for the same document, else a conflict."""
    existing = session.scalar(select(CargoRecord).where(CargoRecord.submitter_party_id == party_id,
                                                        CargoRecord.lrn == received.cargo.lrn))
    if existing is None:  # the conflicting row was gone by the time we looked: a retry will tell
        raise Rejection("DATABASE_UNAVAILABLE", "the cargo information could not be stored; retry shortly")
    first = session.scalar(select(CargoDocument.sha256).where(CargoDocument.cargo_id == existing.id,
                                                              CargoDocument.version == 1))
    if first == received.sha256:
        return Outcome(existing, tuple(_stored_findings(existing)), replay=True)
    raise lrn_used(received.cargo.lrn, "cargo", "貨物資料", existing.id, "/Cargo/FunctionalReferenceID",
                   "lrn-unique-per-submitter")


def _announce(session: Session, record: CargoRecord, caller: Caller, now: datetime) -> None:
    """The line to write off, with its lodger as the party responsible for declaring it."""
    emit(session, CargoLineLodged(LINE_KIND, record.id, record.package_count, record.gross_mass_kg or Decimal(0),
                                  record.submitter_party_id, False, caller, now))


def own_record(session: Session, reference: str, party_id: int | None, *, for_update: bool = False) -> CargoRecord:
    """The caller's party's cargo record; another party's is not found, exactly like a missing one."""
    if not is_valid_cargo_reference(reference):
        raise Rejection("INVALID_REFERENCE", f"{reference[:40]!r} is not a cargo reference (HKyyC + 10 characters "
                        "+ check character)", [Problem(message="format or check character wrong", path="id",
                                                       rule="reference-check-character")])
    query = select(CargoRecord).where(CargoRecord.id == reference, CargoRecord.submitter_party_id == party_id)
    record = session.scalar(query.with_for_update() if for_update else query)
    if record is None:
        raise Rejection("NOT_FOUND", f"no cargo {reference}")
    return record


def _changeable(session: Session, record: CargoRecord, what: str) -> None:
    """Lodged and not bundled to a vehicle: the driver's bundle fixes what the kiosk decides on.
    The record is locked first, and a bundle locks it too, so the two never cross."""
    if record.status != CargoStatus.LODGED.value:
        raise Rejection("CARGO_NOT_CHANGEABLE", f"cargo {record.id} is {record.status}: it can no longer be {what}")
    trip = session.scalar(select(TripConsignment.trip_id).where(TripConsignment.cargo_id == record.id))
    if trip is not None:
        raise Rejection("CARGO_NOT_CHANGEABLE", f"cargo {record.id} is bundled to trip {trip}: it can no longer "
                        f"be {what} (the carrier unlinks it first)", details={"trip_id": trip})


#: What an officer's release was given on: everything lodged but the expected crossing time.
LAPSED = "C201"


def _particulars(record: CargoRecord) -> tuple[object, ...]:
    return tuple(getattr(record, column) for column in (
        "direction", "control_point", "consignor", "consignee", "package_count", "package_type", "marks",
        "goods_description", "gross_mass_kg", "hs_code", "origin_country"))


def amend(uow: UnitOfWork, tools: CargoTools, reference: str, body: bytes, caller: Caller,
          conversation_id: str | None) -> Outcome:
    """Replace the cargo information with a full amendment (FunctionCode 13, same LRN), while it
    is still lodged; re-checked and re-profiled. An officer's release stands while the particulars
    are unchanged (a new crossing time changes none); otherwise it lapses, and cargo selected
    again needs a new decision (finding C201, event ``release_lapsed``, a case again)."""
    received, findings, risk, now = _prepare(uow, tools, body, caller, AMENDMENT)
    record = own_record(uow.session, reference, caller.party_id, for_update=True)
    _changeable(uow.session, record, "amended")
    if received.cargo.lrn != record.lrn:
        raise Rejection("LRN_MISMATCH", f"an amendment keeps the LRN {record.lrn}", [Problem(
            message=f"got {received.cargo.lrn}", path="/Cargo/FunctionalReferenceID", rule="same-lrn")])
    before = _particulars(record)
    for column, value in _content(received.cargo).items():
        setattr(record, column, value)
    record.version += 1
    record.lane = risk.lane.value if risk else None
    record.risk_score = risk.score if risk else None
    lapsed = record.control_decision == CONTROL_DECISIONS["release"] and _particulars(record) != before
    if lapsed:
        record.control_decision = None
    if lapsed and record.lane in SELECTING_LANES:
        findings = (*findings, Finding(
            LAPSED, Severity.WARN, "/Cargo",
            f"cargo {record.id} was released by an officer, but its particulars changed: profiled again and "
            "selected, it needs a new decision",
            f"貨物 {record.id} 曾獲關員放行，但其資料已更改：重新評估後再被選中，須重新作出決定"))
    record.findings = [_finding(f) for f in findings]
    record.updated_at = now
    _document(uow.session, record, received, now, conversation_id)
    _event(uow.session, record, "amended", caller.actor, now, conversation_id)
    if lapsed:
        _event(uow.session, record, "release_lapsed", caller.actor, now, conversation_id,
               "particulars changed: the officer's release no longer applies")
    _announce(uow.session, record, caller, now)
    emit(uow.session, selection(uow.session, record, caller.actor, now, "deselected"))
    return Outcome(record, findings)


def cancel(session: Session, reference: str, reason: str, caller: Caller, conversation_id: str | None,
           now: datetime | None = None) -> CargoRecord:
    """The lodger withdraws the cargo information (the goods will not cross as lodged)."""
    now = now or utcnow()
    record = own_record(session, reference, caller.party_id, for_update=True)
    _changeable(session, record, "cancelled")
    record.status, record.updated_at = CargoStatus.CANCELLED.value, now
    _event(session, record, "cancelled", caller.actor, now, conversation_id, reason[:MAX_REASON])
    emit(session, CargoLineCancelled(LINE_KIND, record.id, caller, now),
         CargoSelectionClosed((queue_reference(record.id),), "cargo_cancelled", caller.actor, reason[:MAX_REASON], now))
    return record


def customs_record(session: Session, reference: str, *, for_update: bool = False) -> CargoRecord:
    """Any party's cargo record, for customs (officers and their systems)."""
    if not is_valid_cargo_reference(reference):
        raise Rejection("INVALID_REFERENCE", f"{reference[:40]!r} is not a cargo reference", [Problem(
            message="format or check character wrong", path="id", rule="reference-check-character")])
    query = select(CargoRecord).where(CargoRecord.id == reference)
    record = session.scalar(query.with_for_update() if for_update else query)
    if record is None:
        raise Rejection("NOT_FOUND", f"no cargo {reference}")
    return record


def decide(session: Session, reference: str, decision: str, note: str | None, caller: Caller,
           conversation_id: str | None, now: datetime | None = None) -> CargoRecord:
    """An officer's decision on cargo before it crosses: ``release`` (examined, or the lane's
    selection waived) or ``hold`` (the truck stops at the kiosk whatever the lane). Bundled
    cargo may be decided; the trip's kiosk decision follows (``CargoControlDecided``)."""
    now = now or utcnow()
    if caller.role != CUSTOMS_ADMIN:
        raise Rejection("FORBIDDEN", "officers' decisions on cargo are taken by Hong Kong customs")
    if decision not in CONTROL_DECISIONS:
        raise Rejection("INVALID_PARAMETER", "decision is release or hold", [Problem(
            message=f"got {decision[:20]!r}", path="decision", rule="one-of")])
    record = customs_record(session, reference, for_update=True)
    if record.status != CargoStatus.LODGED.value:
        raise Rejection("CARGO_NOT_DECIDABLE", f"cargo {record.id} is {record.status}")
    record.control_decision, record.updated_at = CONTROL_DECISIONS[decision], now
    _event(session, record, CONTROL_DECISIONS[decision], caller.actor, now, conversation_id,
           (note or "")[:MAX_REASON] or None)
    emit(session, CargoControlDecided(record.id, record.control_decision, note, caller.actor, now))
    if record.control_decision == CONTROL_DECISIONS["release"]:
        emit(session, CargoSelectionClosed((queue_reference(record.id),), "released", caller.actor,
                                           (note or "")[:MAX_REASON] or None, now))
    else:
        emit(session, selection(session, record, caller.actor, now, "deselected"))
    return record


def queue_reference(reference: str) -> str:
    """Road cargo as the officers' queue names it."""
    return f"{QUEUE_KIND}:{reference}"


def selection(session: Session, record: CargoRecord, actor: str, now: datetime, closing: str) -> CargoSelected:
    """The cargo as an entry of the officers' queue while its lane selects it (not yet released)
    or an officer holds it; none otherwise."""
    held = record.control_decision == CONTROL_DECISIONS["hold"]
    if not held and (record.lane not in SELECTING_LANES or record.control_decision == CONTROL_DECISIONS["release"]):
        return CargoSelected((queue_reference(record.id),), (), closing, actor, now)
    party = session.get(Party, record.submitter_party_id)
    lodger = f"{party.name} ({party.identifier})" if party is not None else str(record.submitter_party_id)
    consignment = f"{record.package_count} {record.package_type}, {record.goods_description[:80]}"
    reasons = [(queue_reference(record.id),
                f"road cargo {record.id} at {record.control_point} ({record.direction}), lodged by {lodger}: "
                f"{record.lane or '-'} lane before crossing" + ("; held by an officer" if held else ""),
                f"陸路貨物 {record.id}（{record.control_point}，{record.direction}），由 {lodger} 遞交："
                f"過境前評為{record.lane or '-'}通道" + ("；關員已扣留" if held else ""))]
    reasons += [(str(f["code"]), str(f["message"]), str(f["message_zh"])) for f in record.findings]
    cargo = SelectedCargo(reference=queue_reference(record.id), lane=record.lane, risk_score=record.risk_score or 0,
                          control_point=record.control_point, conveyance="road", document=f"{LINE_KIND} {record.id}",
                          consignment=consignment, carrier=lodger, reasons=tuple(reasons),
                          deadline_at=record.expected_crossing_at)
    return CargoSelected((queue_reference(record.id),), (cargo,), closing, actor, now)


def decide_from_case(session: Session, reference: str, decision: str, note: str | None, actor: str,
                     now: datetime) -> None:
    """An officer decided the cargo's case: ``release`` is the API's release (one service
    path); ``inspect`` holds it (the truck goes to inspection). Cargo that is no longer lodged
    (cancelled, moved) or already released is left alone."""
    identifier = reference.removeprefix(f"{QUEUE_KIND}:")
    if not is_valid_cargo_reference(identifier):
        return
    record = session.scalar(select(CargoRecord).where(CargoRecord.id == identifier))
    if record is None or record.status != CargoStatus.LODGED.value or \
            record.control_decision == CONTROL_DECISIONS["release"]:
        return
    wanted = "release" if decision == "release" else "hold"
    if record.control_decision == CONTROL_DECISIONS[wanted]:
        return
    decide(session, identifier, wanted, note, Caller(actor, role=CUSTOMS_ADMIN), None, now)


def moved(session: Session, reference: str, moved_at: datetime, actor: str, now: datetime) -> None:
    """The truck carrying the cargo crossed: the cargo has moved and is no longer changeable."""
    record = session.scalar(select(CargoRecord).where(CargoRecord.id == reference).with_for_update())
    if record is None or record.moved_at is not None:
        return
    record.status, record.moved_at, record.updated_at = CargoStatus.MOVED.value, moved_at, now
    _event(session, record, "moved", actor, now, None)


def _stored_findings(record: CargoRecord) -> list[Finding]:
    return [Finding(str(f["code"]), Severity(str(f["severity"])), str(f["path"]) if f.get("path") else None,
                    str(f["message"]), str(f["message_zh"])) for f in record.findings]


def history(session: Session, record: CargoRecord) -> list[CargoEvent]:
    return list(session.scalars(select(CargoEvent).where(CargoEvent.cargo_id == record.id).order_by(CargoEvent.id)))


def listing(session: Session, party_id: int | None, page: int, per_page: int) -> tuple[int, list[CargoRecord]]:
    """The party's cargo records, most recently changed first."""
    query = select(CargoRecord).where(CargoRecord.submitter_party_id == party_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(CargoRecord.updated_at.desc(), CargoRecord.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return total, list(rows)
