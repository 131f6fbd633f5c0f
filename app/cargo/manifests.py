"""Lodging, amending and cancelling sea and air manifests, recording the conveyance's arrival or
departure, and officers' release of selected consignments. Services never commit: the caller's
unit of work does. Every change writes a ``manifest_events`` row with who and when, every
document received is kept verbatim with its SHA-256, and every transport document is announced
to write-off as a cargo line (``CargoLineLodged`` / ``CargoLineCancelled`` / ``CargoMoved``)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.models import Party
from app.db.manifest_models import ManifestDocument, ManifestEvent, ManifestLine, ManifestRecord
from app.db.session import reading
from app.domain.actors import Caller
from app.domain.cargo import CargoInformation, CargoParty
from app.domain.events import (
    CargoLineCancelled,
    CargoLineLodged,
    CargoManifestDecided,
    CargoMoved,
    CargoSelected,
    CargoSelectionClosed,
    ManifestLineDecision,
    SelectedCargo,
)
from app.domain.findings import Finding, Severity
from app.domain.manifests import (
    LineStatus,
    Manifest,
    ManifestStatus,
    ReceivedManifest,
    as_cargo,
    consignment_path,
    is_valid_manifest_reference,
    line_status,
    manifest_decision,
    new_manifest_reference,
)
from app.domain.problems import Problem, Rejection, lrn_used
from app.domain.risk import RiskResult
from app.platform.clock import utcnow
from app.platform.uow import UnitOfWork, emit

ORIGINAL, AMENDMENT = "9", "13"
MAX_REASON = 500
#: How the officers' queue names a manifest's consignment (``MNL:<manifest>/<document>/<sequence>``).
QUEUE_KIND = "MNL"

Receive = Callable[[bytes], ReceivedManifest]
Check = Callable[[Manifest, datetime], list[Finding]]
Profile = Callable[[Session, Manifest, CargoInformation, str, tuple[Finding, ...]], "RiskResult | None"]
Boundary = Callable[[Manifest], "str | None"]


@dataclass(frozen=True)
class ManifestTools:
    """The steps of a lodgement, bound at start-up: parse and schema-check, the manifest rules,
    each consignment's risk profile (None without a risk engine), and the partner customs of
    the foreign port (rules/manifest/rules.toml)."""

    receive: Receive
    check: Check
    profile: Profile
    boundary: Boundary


@dataclass(frozen=True, slots=True)
class Outcome:
    record: ManifestRecord
    findings: tuple[Finding, ...] = field(default=())
    replay: bool = False


@dataclass(frozen=True, slots=True)
class Profiled:
    """What each consignment's profile left: its lane and score, by (document, sequence)."""

    lanes: dict[tuple[str, int], RiskResult | None]


def _problems(findings: list[Finding]) -> list[Problem]:
    return [Problem(message=f.message_en, message_zh=f.message_zh, path=f.path, rule=f.code,
                    severity=f.severity.value) for f in findings]


def _finding(finding: Finding) -> dict[str, object]:
    return {"code": finding.code, "severity": finding.severity.value, "path": finding.path,
            "message": finding.message_en, "message_zh": finding.message_zh}


def _party(party: CargoParty) -> dict[str, object]:
    return {"name": party.name, "identifier": party.identifier, "address": {
        "line": party.address.line, "city": party.address.city, "country": party.address.country}}


def _header(manifest: Manifest, boundary: str | None) -> dict[str, object]:
    conveyance = manifest.conveyance
    return {
        "direction": manifest.direction, "mode": manifest.mode, "control_point": manifest.control_point,
        "imo_number": conveyance.imo_number, "vessel_name": conveyance.vessel_name, "voyage": conveyance.voyage,
        "flight_number": conveyance.flight_number, "flight_date": conveyance.flight_date,
        "conveyance": conveyance.label(), "loading_location": manifest.loading_location,
        "unloading_location": manifest.unloading_location, "scheduled_at": manifest.scheduled_at,
        "boundary": boundary,
    }


def _prepare(uow: UnitOfWork, tools: ManifestTools, body: bytes, caller: Caller, function_code: str
             ) -> tuple[ReceivedManifest, tuple[Finding, ...], Profiled, datetime]:
    """Everything before storage, outside the write gate: intake, the carrier, rules, profiles."""
    received = tools.receive(body)
    manifest = received.manifest
    if manifest.function_code != function_code:
        raise Rejection("WRONG_FUNCTION_CODE", "a new manifest carries FunctionCode 9; an amendment, 13, sent to "
                        "POST /api/v1/manifests/{reference}/amendments",
                        [Problem(message=f"expected {function_code}", path="/Manifest/FunctionCode",
                                 rule="function-code")])
    if manifest.submitter_id != caller.party_identifier:
        raise Rejection("SUBMITTER_MISMATCH", "the submitter must be the party your API key belongs to", [Problem(
            message=f"Submitter/ID is {manifest.submitter_id}; your key is for {caller.party_identifier}",
            path="/Manifest/Submitter/ID", rule="submitter-is-caller")])
    now = utcnow()
    findings = tools.check(manifest, now)
    if any(f.severity is Severity.REJECT for f in findings):
        raise Rejection("RULES_REJECTED", "the manifest breaks rules that refuse it", _problems(findings))
    lanes: dict[tuple[str, int], RiskResult | None] = {}
    with reading():  # as the declaration pipeline: the profiles' reads take no write lock outside the gate
        for d, document in enumerate(manifest.documents):
            for c, consignment in enumerate(document.consignments):
                path = consignment_path(manifest, d, c)
                own = tuple(f for f in findings if f.path and f.path.startswith(path + "/"))
                lanes[(document.number, consignment.sequence)] = tools.profile(
                    uow.session, manifest, as_cargo(manifest, document, consignment), received.sha256, own)
    uow.end_reads()
    uow.write_lock()
    return received, tuple(findings), Profiled(lanes), now


#: What an officer released: a consignment's particulars, compared when the manifest is amended.
PARTICULARS = ("document_kind", "transhipment", "consignor", "consignee", "package_count", "package_type", "marks",
               "goods_description", "gross_mass_kg", "hs_code", "origin_country", "equipment")
LAPSED = "M201"


def _particulars(line: ManifestLine) -> tuple[object, ...]:
    return tuple(getattr(line, column) for column in PARTICULARS)


def _released(line: ManifestLine) -> bool:
    """Cleared by an officer: its lane selected it, yet it is cleared."""
    return line.status == LineStatus.CLEARED.value and line_status(line.lane) is LineStatus.SELECTED


@dataclass(frozen=True, slots=True)
class Stored:
    """The lines of a version: their statuses, and the released consignments whose particulars
    changed and that their new profile selects again (they need a new decision)."""

    statuses: list[str]
    lapsed: list[tuple[str, str]]  # (label, path)


def _store_lines(session: Session, record: ManifestRecord, manifest: Manifest, profiled: Profiled) -> Stored:
    """The consignment lines of this version (the previous version's are replaced). An officer's
    release survives an amendment that leaves the consignment's particulars as they were; a
    consignment whose particulars changed is profiled again and, selected again, needs a new
    decision."""
    previous = {(line.document_number, line.sequence): line for line in lines(session, record)}
    kept = {key: (_particulars(line), _released(line)) for key, line in previous.items()}
    session.execute(delete(ManifestLine).where(ManifestLine.manifest_id == record.id))
    statuses, lapsed = [], []
    for d, document in enumerate(manifest.documents):
        for c, consignment in enumerate(document.consignments):
            risk = profiled.lanes.get((document.number, consignment.sequence))
            lane = risk.lane.value if risk else None
            status = line_status(lane).value
            line = ManifestLine(
                manifest_id=record.id, document_kind=document.kind, document_number=document.number,
                transhipment=document.transhipment, sequence=consignment.sequence,
                consignor=_party(consignment.consignor), consignee=_party(consignment.consignee),
                package_count=consignment.package_count, package_type=consignment.package_type,
                marks=consignment.marks, goods_description=consignment.goods_description,
                gross_mass_kg=consignment.gross_mass_kg, hs_code=consignment.hs_code,
                origin_country=consignment.origin_country,
                equipment=[{"id": box.number, "seals": list(box.seals)} for box in consignment.equipment],
                lane=lane, risk_score=risk.score if risk else None, status=status)
            before = kept.get((document.number, consignment.sequence))
            if before is not None and before[1] and status == LineStatus.SELECTED.value:
                if before[0] == _particulars(line):
                    line.status = status = LineStatus.CLEARED.value
                else:
                    lapsed.append((f"{document.kind} {document.number}/{consignment.sequence}",
                                   consignment_path(manifest, d, c)))
            statuses.append(status)
            session.add(line)
    session.flush()
    return Stored(statuses, lapsed)


def _lapsed_finding(label: str, path: str) -> Finding:
    return Finding(LAPSED, Severity.WARN, path,
                   f"consignment {label} was released by an officer, but its particulars changed: profiled again "
                   "and selected, it needs a new decision",
                   f"貨物 {label} 曾獲關員放行，但其資料已更改：重新評估後再被選中，須重新作出決定")


def line_reference(manifest_id: str, document_number: str, sequence: int) -> str:
    """A consignment as the officers' queue names it."""
    return f"{QUEUE_KIND}:{manifest_id}/{document_number}/{sequence}"


def _references(record: ManifestRecord, keys: set[tuple[str, int]]) -> tuple[str, ...]:
    return tuple(sorted(line_reference(record.id, number, sequence) for number, sequence in keys))


def _keys(session: Session, record: ManifestRecord) -> set[tuple[str, int]]:
    return {(line.document_number, line.sequence) for line in lines(session, record)}


def _carrier(session: Session, party_id: int) -> str:
    party = session.get(Party, party_id)
    return f"{party.name} ({party.identifier})" if party is not None else str(party_id)


def _selected(session: Session, record: ManifestRecord, caller_actor: str, now: datetime, closing: str,
              before: set[tuple[str, int]]) -> CargoSelected:
    """The consignments selected now, each for one case in the officers' queue."""
    carrier = _carrier(session, record.submitter_party_id)
    selected = []
    for line in lines(session, record):
        if line.status != LineStatus.SELECTED.value:
            continue
        document = f"{line.document_kind} {line.document_number}"
        label = f"{document}/{line.sequence}"
        consignment = f"{line.sequence}: {line.package_count} {line.package_type}, {line.goods_description[:80]}"
        mode_en, mode_zh = ("vessel", "船隻") if record.mode == "1" else ("flight", "航班")
        reasons = [(line_reference(record.id, line.document_number, line.sequence),
                    f"{label} on manifest {record.id} ({mode_en} {record.conveyance}, carrier {carrier}): "
                    f"{line.lane or '-'} lane before {'arrival' if record.direction == 'IM' else 'departure'}",
                    f"艙單 {record.id}（{mode_zh} {record.conveyance}，承運人 {carrier}）的 {label}："
                    f"{'抵港' if record.direction == 'IM' else '離港'}前評為{line.lane or '-'}通道")]
        for finding in record.findings:
            if finding.get("code") == LAPSED and str(finding.get("message")).startswith(f"consignment {label} was "):
                reasons.append((LAPSED, str(finding["message"]), str(finding["message_zh"])))
        selected.append(SelectedCargo(
            reference=line_reference(record.id, line.document_number, line.sequence), lane=line.lane,
            risk_score=line.risk_score or 0, control_point=record.control_point, conveyance=record.conveyance,
            document=document, consignment=consignment, carrier=carrier, reasons=tuple(reasons),
            deadline_at=record.scheduled_at))
    return CargoSelected(_references(record, before | _keys(session, record)), tuple(selected), closing,
                         caller_actor, now)


def _event(session: Session, record: ManifestRecord, kind: str, actor: str, now: datetime,
           conversation_id: str | None, note: str | None = None) -> None:
    session.add(ManifestEvent(manifest_id=record.id, kind=kind, version=record.version, status_to=record.status,
                              decision=record.decision, actor=actor, occurred_at=now,
                              conversation_id=conversation_id, note=note))


def _document(session: Session, record: ManifestRecord, received: ReceivedManifest, now: datetime,
              conversation_id: str | None) -> None:
    session.add(ManifestDocument(manifest_id=record.id, version=record.version, body=received.body,
                                 sha256=received.sha256, received_at=now, conversation_id=conversation_id))


def _announce_lines(session: Session, manifest: Manifest, record: ManifestRecord, caller: Caller,
                    now: datetime) -> None:
    """Each transport document is a cargo line for write-off, with the carrier responsible;
    transhipment on a through document is exempt from the trade declaration."""
    for document in manifest.documents:
        emit(session, CargoLineLodged(kind=document.kind, identifier=document.number,
                                      package_count=document.package_count, gross_mass=document.gross_mass_kg,
                                      responsible_party_id=record.submitter_party_id, exempt=document.transhipment,
                                      caller=caller, at=now))


def lines(session: Session, record: ManifestRecord) -> list[ManifestLine]:
    return list(session.scalars(select(ManifestLine).where(ManifestLine.manifest_id == record.id)
                                .order_by(ManifestLine.id)))


def decided(session: Session, record: ManifestRecord, now: datetime) -> CargoManifestDecided:
    """The manifest's decision as its receivers are told of it."""
    return CargoManifestDecided(
        manifest_id=record.id, version=record.version, mode=record.mode, direction=record.direction,
        control_point=record.control_point, conveyance=record.conveyance, loading_location=record.loading_location,
        unloading_location=record.unloading_location, scheduled_at=record.scheduled_at, decision=record.decision,
        boundary=record.boundary, carrier_party_id=record.submitter_party_id,
        lines=tuple(ManifestLineDecision(
            document_kind=line.document_kind, document_number=line.document_number, sequence=line.sequence,
            package_count=line.package_count, gross_mass=Decimal(line.gross_mass_kg), status=line.status,
            containers=tuple(str(box["id"]) for box in line.equipment)) for line in lines(session, record)),
        at=now)


def lodge(uow: UnitOfWork, tools: ManifestTools, body: bytes, caller: Caller,
          conversation_id: str | None) -> Outcome:
    """A new manifest; an identical re-send of the same LRN replays the first answer, a
    different document under the same LRN is a conflict."""
    assert caller.party_id is not None
    received, findings, profiled, now = _prepare(uow, tools, body, caller, ORIGINAL)
    session = uow.session
    manifest = received.manifest
    existing = session.scalar(select(ManifestRecord).where(ManifestRecord.submitter_party_id == caller.party_id,
                                                           ManifestRecord.lrn == manifest.lrn))
    if existing is not None:
        first = session.scalar(select(ManifestDocument.sha256).where(ManifestDocument.manifest_id == existing.id,
                                                                     ManifestDocument.version == 1))
        if first == received.sha256:
            return Outcome(existing, tuple(stored_findings(existing)), replay=True)
        raise lrn_used(manifest.lrn, "manifest", "艙單", existing.id, "/Manifest/FunctionalReferenceID",
                       "lrn-unique-per-submitter")
    record = ManifestRecord(
        id=new_manifest_reference(now), submitter_party_id=caller.party_id, lrn=manifest.lrn,
        status=ManifestStatus.LODGED.value, version=1, **_header(manifest, tools.boundary(manifest)),
        decision="pending", findings=[_finding(f) for f in findings], received_at=now, updated_at=now)
    session.add(record)
    session.flush()
    record.decision = manifest_decision(_store_lines(session, record, manifest, profiled).statuses).value
    _document(session, record, received, now, conversation_id)
    _event(session, record, "lodged", caller.actor, now, conversation_id)
    _announce_lines(session, manifest, record, caller, now)
    emit(session, decided(session, record, now), _selected(session, record, caller.actor, now, "deselected", set()))
    return Outcome(record, findings)


def own_manifest(session: Session, reference: str, party_id: int | None, *,
                 for_update: bool = False) -> ManifestRecord:
    """The caller's party's manifest; another party's is not found, exactly like a missing one."""
    return _manifest(session, reference, party_id, for_update=for_update, any_party=False)


def any_manifest(session: Session, reference: str, *, for_update: bool = False) -> ManifestRecord:
    """Any party's manifest: for officers."""
    return _manifest(session, reference, None, for_update=for_update, any_party=True)


def _manifest(session: Session, reference: str, party_id: int | None, *, for_update: bool,
              any_party: bool) -> ManifestRecord:
    if not is_valid_manifest_reference(reference):
        raise Rejection("INVALID_REFERENCE", f"{reference[:40]!r} is not a manifest reference (HKyyM + 10 "
                        "characters + check character)", [Problem(message="format or check character wrong",
                                                                   path="id", rule="reference-check-character")])
    query = select(ManifestRecord).where(ManifestRecord.id == reference)
    if not any_party:
        query = query.where(ManifestRecord.submitter_party_id == party_id)
    record = session.scalar(query.with_for_update() if for_update else query)
    if record is None:
        raise Rejection("NOT_FOUND", f"no manifest {reference}")
    return record


def _changeable(record: ManifestRecord, what: str) -> None:
    if record.status != ManifestStatus.LODGED.value:
        raise Rejection("MANIFEST_NOT_CHANGEABLE",
                        f"manifest {record.id} is {record.status}: it can no longer be {what}")


def amend(uow: UnitOfWork, tools: ManifestTools, reference: str, body: bytes, caller: Caller,
          conversation_id: str | None) -> Outcome:
    """Replace the manifest with a full amendment (FunctionCode 13, same LRN) until the
    conveyance arrives or departs; re-checked and every consignment re-profiled. Transport
    documents left out are cancelled as cargo lines."""
    received, findings, profiled, now = _prepare(uow, tools, body, caller, AMENDMENT)
    session = uow.session
    record = own_manifest(session, reference, caller.party_id, for_update=True)
    _changeable(record, "amended")
    manifest = received.manifest
    if manifest.lrn != record.lrn:
        raise Rejection("LRN_MISMATCH", f"an amendment keeps the LRN {record.lrn}", [Problem(
            message=f"got {manifest.lrn}", path="/Manifest/FunctionalReferenceID", rule="same-lrn")])
    before = {(line.document_kind, line.document_number) for line in lines(session, record)}
    consignments = _keys(session, record)
    for column, value in _header(manifest, tools.boundary(manifest)).items():
        setattr(record, column, value)
    record.version += 1
    stored = _store_lines(session, record, manifest, profiled)
    lapsed = [_lapsed_finding(label, path) for label, path in stored.lapsed]
    findings = (*findings, *lapsed)
    record.findings = [_finding(f) for f in findings]
    record.updated_at = now
    record.decision = manifest_decision(stored.statuses).value
    _document(session, record, received, now, conversation_id)
    _event(session, record, "amended", caller.actor, now, conversation_id)
    for finding in lapsed:
        _event(session, record, "release_lapsed", caller.actor, now, conversation_id, finding.message_en[:MAX_REASON])
    after = {(document.kind, document.number) for document in manifest.documents}
    for kind, number in sorted(before - after):
        emit(session, CargoLineCancelled(kind=kind, identifier=number, caller=caller, at=now))
    _announce_lines(session, manifest, record, caller, now)
    emit(session, decided(session, record, now),
         _selected(session, record, caller.actor, now, "deselected", consignments))
    return Outcome(record, findings)


def _documents(session: Session, record: ManifestRecord) -> list[tuple[str, str]]:
    return sorted({(line.document_kind, line.document_number) for line in lines(session, record)})


def cancel(session: Session, reference: str, reason: str, caller: Caller, conversation_id: str | None,
           now: datetime | None = None) -> ManifestRecord:
    """The carrier withdraws the manifest (the conveyance will not arrive or depart as lodged)."""
    now = now or utcnow()
    record = own_manifest(session, reference, caller.party_id, for_update=True)
    _changeable(record, "cancelled")
    record.status, record.updated_at = ManifestStatus.CANCELLED.value, now
    _event(session, record, "cancelled", caller.actor, now, conversation_id, reason[:MAX_REASON])
    emit(session, CargoSelectionClosed(_references(record, _keys(session, record)), "cargo_cancelled", caller.actor,
                                       reason[:MAX_REASON], now))
    for kind, number in _documents(session, record):
        emit(session, CargoLineCancelled(kind=kind, identifier=number, caller=caller, at=now))
    return record


def record_movement(session: Session, reference: str, moved_at: datetime, caller: Caller,
                    conversation_id: str | None, now: datetime | None = None) -> ManifestRecord:
    """The carrier (or terminal, through it) records the conveyance's actual arrival (IM) or
    departure (EX): the movement date of every transport document, from which the 14 days to
    declare run. The manifest can no longer be amended or cancelled."""
    now = now or utcnow()
    record = own_manifest(session, reference, caller.party_id, for_update=True)
    if record.status != ManifestStatus.LODGED.value:
        raise Rejection("MANIFEST_NOT_CHANGEABLE", f"manifest {record.id} is {record.status}: its arrival or "
                        "departure cannot be recorded")
    if moved_at > now:
        raise Rejection("VALUE_OUT_OF_RANGE", "an arrival or departure is recorded once it has happened", [Problem(
            message=f"{moved_at.isoformat()} is in the future", path="/datetime", rule="movement-not-future")])
    arriving = record.direction == "IM"
    record.status = (ManifestStatus.ARRIVED if arriving else ManifestStatus.DEPARTED).value
    record.moved_at, record.updated_at = moved_at, now
    _event(session, record, record.status, caller.actor, now, conversation_id)
    for kind, number in _documents(session, record):
        emit(session, CargoMoved(kind=kind, identifier=number, moved_at=moved_at, caller=caller, at=now))
    return record


def release_line(session: Session, reference: str, line_id: int, note: str, officer: Caller,
                 now: datetime | None = None) -> ManifestRecord:
    """An officer releases a selected consignment (checked, nothing found); once none is left
    selected the manifest is cleared and routed again."""
    now = now or utcnow()
    record = any_manifest(session, reference, for_update=True)
    line = session.scalar(select(ManifestLine).where(ManifestLine.id == line_id,
                                                     ManifestLine.manifest_id == record.id))
    if line is None:
        raise Rejection("NOT_FOUND", f"no consignment {line_id} on manifest {reference}")
    if record.status == ManifestStatus.CANCELLED.value or line.status != LineStatus.SELECTED.value:
        raise Rejection("MANIFEST_NOT_CHANGEABLE", f"consignment {line.document_number}/{line.sequence} is not "
                        "selected: there is nothing to release")
    line.status = LineStatus.CLEARED.value
    session.flush()
    previous = record.decision
    record.decision = manifest_decision([line.status for line in lines(session, record)]).value
    record.updated_at = now
    _event(session, record, "line_released", officer.actor, now, None,
           f"{line.document_kind} {line.document_number}/{line.sequence}: {note}"[:MAX_REASON])
    if record.decision != previous:
        emit(session, decided(session, record, now))
    emit(session, CargoSelectionClosed((line_reference(record.id, line.document_number, line.sequence),), "released",
                                       officer.actor, note[:MAX_REASON] or None, now))
    return record


def _queued_line(session: Session, reference: str) -> tuple[ManifestRecord, ManifestLine] | None:
    """The manifest and consignment a queue reference names (None: no longer there)."""
    manifest_id, _, rest = reference.removeprefix(f"{QUEUE_KIND}:").partition("/")
    number, _, sequence = rest.rpartition("/")
    if not sequence.isdigit() or not is_valid_manifest_reference(manifest_id):
        return None
    record = any_manifest(session, manifest_id, for_update=True)
    line = session.scalar(select(ManifestLine).where(ManifestLine.manifest_id == manifest_id,
                                                     ManifestLine.document_number == number,
                                                     ManifestLine.sequence == int(sequence)))
    return None if line is None else (record, line)


def decide_from_case(session: Session, reference: str, decision: str, note: str | None, officer: Caller,
                     now: datetime) -> None:
    """An officer decided the consignment's case: ``release`` is the manifest page's release
    (one service path); ``inspect`` is recorded on the manifest (the consignment stays selected).
    A consignment no longer selected (released meanwhile, amended, withdrawn) is left alone."""
    found = _queued_line(session, reference)
    if found is None:
        return
    record, line = found
    if record.status == ManifestStatus.CANCELLED.value or line.status != LineStatus.SELECTED.value:
        return
    label = f"{line.document_kind} {line.document_number}/{line.sequence}"
    if decision == "release":
        release_line(session, record.id, line.id, note or "released from its case", officer, now)
    elif decision == "inspect":
        record.updated_at = now
        _event(session, record, "line_inspection", officer.actor, now, None,
               f"{label}: {note or ''}".rstrip(": ")[:MAX_REASON])


def stored_findings(record: ManifestRecord) -> list[Finding]:
    return [Finding(str(f["code"]), Severity(str(f["severity"])), str(f["path"]) if f.get("path") else None,
                    str(f["message"]), str(f["message_zh"])) for f in record.findings]


def history(session: Session, record: ManifestRecord) -> list[ManifestEvent]:
    return list(session.scalars(select(ManifestEvent).where(ManifestEvent.manifest_id == record.id)
                                .order_by(ManifestEvent.id)))


def listing(session: Session, party_id: int | None, page: int, per_page: int, *,
            any_party: bool = False, decision: str | None = None) -> tuple[int, list[ManifestRecord]]:
    """The party's manifests (every party's, for officers; only those with a ``decision``, if
    given), most recently changed first."""
    query = select(ManifestRecord)
    if not any_party:
        query = query.where(ManifestRecord.submitter_party_id == party_id)
    if decision:
        query = query.where(ManifestRecord.decision == decision)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ManifestRecord.updated_at.desc(), ManifestRecord.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return total, list(rows)
