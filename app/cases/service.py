"""The officers' case queue: opening cases, the queue itself, claiming, decisions, inspection
outcomes, notes and escalation. Every change writes a ``CaseEvent`` in the caller's
transaction; nothing here commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from app.db import models
from app.db.cargo_models import CargoRecord
from app.db.case_models import Case, CaseEvent, DocumentRequest, SavedSearch, User, UserEvent
from app.db.manifest_models import ManifestRecord
from app.db.portal_models import DocumentRequestAnswer
from app.db.risk_models import RiskAssessment
from app.db.session import rowcount
from app.domain.cases import (
    ACTIVE_STATES,
    CASE_LANES,
    CaseRuleError,
    CaseState,
    Decision,
    InspectionResult,
    PriorityInputs,
    can_record_inspection,
    case_reasons,
    check_decision,
    escalation_due,
    priority,
)
from app.domain.declaration import FINAL_STATUSES, DeclarationStatus
from app.domain.events import (
    CargoCaseDecided,
    CargoSelected,
    CargoSelectionClosed,
    DocumentsRequested,
    InspectionOrdered,
    InspectionOutcomeRecorded,
    RefusalDecided,
    ReleaseDecided,
    RerouteDecided,
    SelectedCargo,
)
from app.platform.clock import utcnow
from app.platform.uow import emit

ALERT_DEADLINE = timedelta(minutes=30)
MAX_NOTE = 4000
_ACTIVE = [state.value for state in ACTIVE_STATES]


class CaseNotFound(LookupError):
    pass


class AlreadyClaimed(CaseRuleError):
    """Somebody else holds the case; ``holder`` says who."""

    def __init__(self, holder: str) -> None:
        super().__init__("ALREADY_CLAIMED", f"this case is already claimed by {holder}", "case")
        self.holder = holder


def _event(session: Session, case: Case, kind: str, actor: str, now: datetime,
           detail: dict[str, object] | None = None, note: str | None = None) -> None:
    session.add(CaseEvent(case_id=case.id, kind=kind, actor=actor, occurred_at=now, detail=detail, note=note))


def _reprioritise(case: Case, now: datetime) -> None:
    case.priority = priority(PriorityInputs(case.risk_score or 0, Decimal(case.revenue_at_stake or 0),
                                            case.aeo_priority or 0, case.deadline_at,
                                            case.escalation_level or 0), now)


# --- opening cases ------------------------------------------------------------------------

def declaration_reasons(session: Session, row: models.Declaration) -> list[dict[str, str | None]]:
    """Why a stored declaration needs an officer: its lane and the hold findings (AEO claim
    problems among them) of its current version."""
    holds = session.scalars(select(models.DeclarationFinding).where(
        models.DeclarationFinding.declaration_id == row.id, models.DeclarationFinding.version == row.version,
        models.DeclarationFinding.severity == "hold").order_by(models.DeclarationFinding.id)).all()
    return case_reasons(row.lane, holds)


def _aeo_priority(row: models.Declaration) -> int:
    aeo = row.aeo or {}
    value = aeo.get("queue_priority", 0)
    return int(value) if isinstance(value, int | float) else 0


def _revenue(row: models.Declaration) -> Decimal:
    if row.revenue_at_stake is not None:
        return Decimal(row.revenue_at_stake)
    charges = row.charges or {}
    try:
        return Decimal(str(charges.get("total", "0")))
    except InvalidOperation:
        return Decimal(0)


def _deadline(row: models.Declaration, now: datetime) -> datetime | None:
    """The goods' movement while it is still ahead (an arrival to meet). A trade declaration
    is lodged after its goods moved (rule R305), so a movement in the past is no deadline:
    were it one, every import and export would rank as overdue."""
    return row.movement_at if row.movement_at is not None and row.movement_at > now else None


def _selection(session: Session, row: models.Declaration, random_sample: bool | None) -> str:
    """``random`` when the risk module sent the declaration to its lane as a random sample
    (kept apart so the dashboard can compare hit rates of targeted and random inspections).
    ``random_sample``: the lodging's own assessment, when the caller has it (no read)."""
    sampled = random_sample if random_sample is not None else session.scalar(
        select(RiskAssessment.random_sample).where(RiskAssessment.declaration_id == row.id)
        .order_by(RiskAssessment.version.desc()).limit(1))
    return "random" if sampled else "targeted"


def open_cases_for_declaration(session: Session, declaration_id: str, *, now: datetime | None = None,
                               actor: str = "system", first_version: bool = False,
                               random_sample: bool | None = None) -> Case | None:
    """Open (or update) the one active case of a declaration that needs an officer.

    Called at the end of submit/amend, in the same transaction. A declaration in a yellow or
    red lane, or with a hold finding, gets a case; an existing active case gains the new
    reasons and fresh priority inputs. A declaration that needs nobody gets no case.
    ``first_version``: the declaration was lodged in this transaction, so it has no case yet."""
    now = now or utcnow()
    row = session.get(models.Declaration, declaration_id)
    if row is None or DeclarationStatus(row.status) in FINAL_STATUSES:
        return None
    reasons = declaration_reasons(session, row)
    case = None if first_version else session.scalar(
        select(Case).where(Case.declaration_id == declaration_id, Case.active.is_(True))
        .order_by(Case.id.desc()).limit(1))
    if not reasons and case is None:
        return None
    inputs = {
        "lane": row.lane if row.lane in ("green", *CASE_LANES) else None,
        "control_point": row.control_point, "type_code": row.type_code,
        "risk_score": int(row.risk_score or 0), "revenue_at_stake": _revenue(row),
        "aeo_priority": _aeo_priority(row), "deadline_at": _deadline(row, now),
        "selection": _selection(session, row, random_sample),
    }
    if case is None:
        case = Case(declaration_id=declaration_id, state=CaseState.OPEN.value, source="declaration",
                    reasons=reasons, opened_at=now, updated_at=now, escalation_level=0, **inputs)
        _reprioritise(case, now)
        session.add(case)
        session.flush()
        _event(session, case, "opened", actor, now, {"reasons": [r["code"] for r in reasons],
                                                     "version": row.version})
        return case
    known = {(r["source"], r["code"]) for r in case.reasons}
    added = [r for r in reasons if (r["source"], r["code"]) not in known]
    for column, value in inputs.items():
        setattr(case, column, value)
    case.reasons = [*case.reasons, *added]
    case.updated_at = now
    detail: dict[str, object] = {"version": row.version, "added": [r["code"] for r in added]}
    if case.state == CaseState.AWAITING_DOCUMENTS.value:
        case.state = (CaseState.CLAIMED if case.assigned_to_id else CaseState.OPEN).value
        for request in session.scalars(select(DocumentRequest).where(
                DocumentRequest.case_id == case.id, DocumentRequest.answered_at.is_(None))):
            request.answered_at = now
        detail["documents_answered"] = True
    _reprioritise(case, now)
    _event(session, case, "updated", actor, now, detail)
    return case


def close_cases_for_declaration(session: Session, declaration_id: str, *, reason: str, actor: str,
                                now: datetime | None = None) -> list[int]:
    """The trader cancelled the declaration: its active case leaves the queue, saying why."""
    now = now or utcnow()
    closed = []
    for case in session.scalars(select(Case).where(Case.declaration_id == declaration_id, Case.active.is_(True))):
        _close(session, case, "declaration_cancelled", now)
        _event(session, case, "closed", actor, now, {"declaration_status": "cancelled"}, note=reason[:MAX_NOTE] or None)
        closed.append(case.id)
    return closed


def open_case_for_alert(session: Session, *, alert_id: int, journey_id: str | int, declaration_id: str | None,
                        kind: str, occurred_at: datetime, evidence: dict[str, Any], actor: str) -> Case:
    """A transit alert (e-lock tampering, route deviation, overdue arrival) needs an officer at
    once: its deadline is 30 minutes after the alert. When the declaration already has an
    active case the alert joins it (one case per declaration); otherwise a new case opens.
    The same alert never counts twice."""
    existing = session.scalar(select(Case).where(Case.alert_id == alert_id))
    if existing is not None:
        return existing
    now = utcnow()
    deadline = occurred_at + ALERT_DEADLINE
    reason: dict[str, str | None] = {"source": "alert", "code": kind, "alert_id": str(alert_id),
              "message": f"transit alert {kind} on journey {journey_id}"}
    detail = {"alert_id": alert_id, "kind": kind, "journey_id": str(journey_id),
              "occurred_at": occurred_at.isoformat(), "evidence": _json_safe(evidence)}
    declaration = session.get(models.Declaration, declaration_id) if declaration_id else None
    if declaration is not None:
        case = session.scalar(select(Case).where(Case.declaration_id == declaration.id, Case.active.is_(True))
                              .order_by(Case.id.desc()).limit(1))
        if case is not None:
            if any(r.get("alert_id") == str(alert_id) for r in case.reasons):
                return case
            case.reasons = [*case.reasons, reason]
            case.alert_kind, case.journey_id, case.updated_at = kind[:40], str(journey_id)[:40], now
            case.deadline_at = min(filter(None, (case.deadline_at, deadline)))
            _reprioritise(case, now)
            _event(session, case, "alert", actor, now, detail)
            return case
    case = Case(
        declaration_id=declaration.id if declaration else None, journey_id=str(journey_id)[:40], alert_id=alert_id,
        state=CaseState.OPEN.value, source="alert", alert_kind=kind[:40],
        lane=declaration.lane if declaration else None,
        control_point=declaration.control_point if declaration else None,
        type_code=declaration.type_code if declaration else None,
        risk_score=int(declaration.risk_score or 0) if declaration else 0,
        revenue_at_stake=_revenue(declaration) if declaration else Decimal(0),
        aeo_priority=_aeo_priority(declaration) if declaration else 0,
        deadline_at=deadline, reasons=[reason], opened_at=now, updated_at=now, escalation_level=0,
        selection="targeted",
    )
    _reprioritise(case, now)
    session.add(case)
    session.flush()
    _event(session, case, "opened", actor, now, detail)
    return case


def open_case_for_cargo_line(session: Session, *, kind: str, identifier: str, declarations: tuple[str, ...],
                             message_en: str, message_zh: str, actor: str, now: datetime) -> Case:
    """A cargo line still not (fully) declared when the period to declare ran out: officers
    follow it up (ask the party, look for an undeclared import or export). One case per line:
    the write-off job follows each line up once; the reason names the line (its code)."""
    code = f"{kind}:{identifier}"
    reason: dict[str, str | None] = {"source": "write-off", "code": code, "message": message_en,
                                     "message_zh": message_zh}
    case = Case(declaration_id=declarations[0] if len(declarations) == 1 else None,
                state=CaseState.OPEN.value, source="write-off", deadline_at=None, reasons=[reason],
                opened_at=now, updated_at=now, escalation_level=0, selection="targeted", risk_score=0,
                revenue_at_stake=Decimal(0), aeo_priority=0)
    _reprioritise(case, now)
    session.add(case)
    session.flush()
    _event(session, case, "opened", actor, now)
    return case


def _named(event: CargoSelected) -> list[str]:
    return sorted({*event.references, *(cargo.reference for cargo in event.selected)})


def _cargo_reasons(cargo: SelectedCargo) -> list[dict[str, str | None]]:
    return [{"source": "cargo", "code": code, "message": en, "message_zh": zh} for code, en, zh in cargo.reasons]


def sync_cargo_cases(session: Session, event: CargoSelected) -> list[int]:
    """Cargo a lane selected before it moved is one entry in the officers' queue: a case per
    consignment, opened when selected (again, after an officer's release lapsed), updated when
    the lodger amends it, closed when an amendment leaves it no longer selected."""
    now, opened = event.at, []
    active = {case.cargo_ref: case for case in session.scalars(
        select(Case).where(Case.cargo_ref.in_(_named(event)), Case.active.is_(True)).with_for_update(of=Case))}
    for cargo in event.selected:
        inputs = {"lane": cargo.lane if cargo.lane in CASE_LANES else None, "control_point": cargo.control_point,
                  "risk_score": cargo.risk_score, "deadline_at": cargo.deadline_at if cargo.deadline_at and
                  cargo.deadline_at > now else None, "reasons": _cargo_reasons(cargo)}
        detail: dict[str, object] = {"cargo": cargo.reference, "document": cargo.document,
                                     "consignment": cargo.consignment, "conveyance": cargo.conveyance,
                                     "carrier": cargo.carrier, "lane": cargo.lane}
        case = active.pop(cargo.reference, None)
        if case is None:
            case = Case(cargo_ref=cargo.reference, state=CaseState.OPEN.value, source="cargo", opened_at=now,
                        updated_at=now, escalation_level=0, selection="targeted", revenue_at_stake=Decimal(0),
                        aeo_priority=0, **inputs)
            _reprioritise(case, now)
            session.add(case)
            session.flush()
            _event(session, case, "opened", event.actor, now, detail)
            opened.append(case.id)
            continue
        if [case.lane, case.risk_score, case.reasons] == [inputs["lane"], inputs["risk_score"], inputs["reasons"]]:
            continue
        for column, value in inputs.items():
            setattr(case, column, value)
        case.updated_at = now
        _reprioritise(case, now)
        _event(session, case, "updated", event.actor, now, detail)
    for case in active.values():
        _close(session, case, event.closing, now)
        _event(session, case, "closed", event.actor, now, {"cargo": case.cargo_ref, "decision": event.closing})
    return opened


def close_cargo_cases(session: Session, event: CargoSelectionClosed) -> list[int]:
    """The selected cargo was released (from its case, the manifest page or the API) or
    withdrawn: its entry leaves the queue, saying who decided and why."""
    closed = []
    named = sorted(set(event.references))
    for case in session.scalars(select(Case).where(Case.cargo_ref.in_(named), Case.active.is_(True))
                                .with_for_update(of=Case)):
        _close(session, case, event.decision, event.at)
        _event(session, case, "closed", event.actor, event.at, {"cargo": case.cargo_ref, "decision": event.decision},
               note=(event.note or "")[:MAX_NOTE] or None)
        closed.append(case.id)
    return closed


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- the queue ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueFilter:
    lane: str | None = None
    control_point: str | None = None
    type_code: str | None = None
    alert_kind: str | None = None
    assigned_to_id: int | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class QueuePage:
    cases: list[Case]
    page: int
    per_page: int
    has_next: bool
    filters: QueueFilter = field(default_factory=QueueFilter)


def _queue_query(filters: QueueFilter) -> Select[Case]:
    query = select(Case).where(Case.active.is_(True))
    if filters.assigned_to_id is not None:
        query = query.where(Case.assigned_to_id == filters.assigned_to_id)
    for column, value in ((Case.state, filters.state if filters.state in _ACTIVE else None),
                          (Case.lane, filters.lane), (Case.control_point, filters.control_point),
                          (Case.type_code, filters.type_code), (Case.alert_kind, filters.alert_kind)):
        if value:
            query = query.where(column == value)
    return query.order_by(Case.priority.desc(), Case.opened_at, Case.id)


def queue_page(session: Session, filters: QueueFilter, page: int = 1, per_page: int = 50) -> QueuePage:
    """One page of active cases, highest priority first, oldest first among equals. Fetches
    one extra row to know whether a next page exists (no COUNT over 100,000 rows)."""
    page = max(1, page)
    rows = list(session.scalars(_queue_query(filters).offset((page - 1) * per_page).limit(per_page + 1)))
    return QueuePage(rows[:per_page], page, per_page, len(rows) > per_page, filters)


COUNT_CAP = 1000


def queue_counts(session: Session, cap: int = COUNT_CAP) -> dict[str, int]:
    """Active cases per state (the queue's header), each counted up to ``cap`` (shown as
    "1000+"): exact totals of a 100,000-case backlog would cost more than the page itself."""
    counts: dict[str, int] = {}
    for state in _ACTIVE:
        capped = select(Case.id).where(Case.state == state).limit(cap).subquery()
        counts[state] = session.scalar(select(func.count()).select_from(capped)) or 0
    return counts


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


# --- claiming -----------------------------------------------------------------------------

def _actor(user: User) -> str:
    return f"officer:{user.username}"


def claim(session: Session, case_id: int, user: User, now: datetime | None = None) -> Case:
    """Take an open case. One conditional UPDATE: of two officers racing, exactly one gets
    it; the other is told who has it."""
    now = now or utcnow()
    result = session.execute(
        update(Case).where(Case.id == case_id, Case.state == CaseState.OPEN.value, Case.assigned_to_id.is_(None))
        .values(state=CaseState.CLAIMED.value, assigned_to_id=user.id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    case = get_case(session, case_id)
    if rowcount(result) != 1:
        session.refresh(case)
        if case.assigned_to_id == user.id:
            return case
        if case.assignee is not None:
            raise AlreadyClaimed(f"{case.assignee.display_name} ({case.assignee.username})")
        raise CaseRuleError("NOT_CLAIMABLE", f"the case is {case.state} and cannot be claimed", "case")
    session.refresh(case)
    _event(session, case, "claimed", _actor(user), now, {"user": user.username})
    return case


def _held_by(case: Case, user: User) -> None:
    if case.assigned_to_id != user.id:
        holder = case.assignee.username if case.assignee else "nobody"
        raise CaseRuleError("NOT_YOUR_CASE", f"claim the case first (held by {holder})", "case")


def unclaim(session: Session, case_id: int, user: User, now: datetime | None = None) -> Case:
    """Give a claimed case back to the queue."""
    now = now or utcnow()
    case = get_case(session, case_id)
    _held_by(case, user)
    if case.state != CaseState.CLAIMED.value:
        raise CaseRuleError("NOT_RELEASABLE", f"a case that is {case.state} stays with its officer", "case")
    case.state, case.assigned_to_id, case.claimed_at, case.updated_at = CaseState.OPEN.value, None, None, now
    _event(session, case, "unclaimed", _actor(user), now)
    return case


def reassign(session: Session, case_id: int, to_username: str, by: User, reason: str,
             now: datetime | None = None) -> Case:
    """A supervisor hands an active case to another officer (or back to the queue with '')."""
    now = now or utcnow()
    case = get_case(session, case_id)
    if not case.active:
        raise CaseRuleError("CASE_CLOSED", "a closed case cannot be reassigned", "case")
    if not reason.strip():
        raise CaseRuleError("REASON_REQUIRED", "reassignment needs a reason", "reason")
    before = case.assignee.username if case.assignee else None
    if to_username:
        target = session.scalar(select(User).where(User.username == to_username, User.active.is_(True)))
        if target is None or target.role not in ("officer", "supervisor"):
            raise CaseRuleError("UNKNOWN_OFFICER", f"no active officer {to_username}", "assignee")
        case.assigned_to_id, case.claimed_at = target.id, now
        if case.state == CaseState.OPEN.value:
            case.state = CaseState.CLAIMED.value
    else:
        if case.state != CaseState.CLAIMED.value and case.state != CaseState.OPEN.value:
            raise CaseRuleError("NOT_RELEASABLE", f"a case that is {case.state} needs an officer", "assignee")
        case.assigned_to_id, case.claimed_at, case.state = None, None, CaseState.OPEN.value
    case.updated_at = now
    session.flush()
    session.refresh(case)
    _event(session, case, "reassigned", _actor(by), now, {"from": before, "to": to_username or None},
           note=reason.strip()[:MAX_NOTE])
    return case


# --- decisions ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DecisionRequest:
    decision: Decision
    reason: str = ""
    lane: str | None = None
    documents: str = ""
    version: int | None = None  # the declaration version the officer looked at, when known


def _declaration_for_update(session: Session, case: Case) -> models.Declaration | None:
    if case.declaration_id is None:
        return None
    return session.scalar(select(models.Declaration).where(models.Declaration.id == case.declaration_id)
                          .with_for_update().execution_options(populate_existing=True))


def _cargo_for_update(session: Session, case: Case) -> None:
    """Lock the manifest or road cargo a cargo case is about (the row its own services lock
    first), so that a decision from the case and a release or amendment never wait on each other."""
    if case.cargo_ref is None:
        return
    kind, _, rest = case.cargo_ref.partition(":")
    column = {"MNL": ManifestRecord.id, "CRN": CargoRecord.id}.get(kind)
    if column is not None:
        session.execute(select(column).where(column == rest.split("/")[0]).with_for_update())


def _close(session: Session, case: Case, decision: str, now: datetime) -> None:
    case.state, case.decision, case.closed_at, case.updated_at = CaseState.CLOSED.value, decision, now, now


def decide(session: Session, case_id: int, user: User, request: DecisionRequest, conversation_id: str | None,
           now: datetime | None = None) -> Case:
    """Apply an officer's decision to the case and its declaration (one transaction)."""
    now = now or utcnow()
    # The declaration first, then the case, both locked and re-read: amendments lock in the
    # same order (no deadlock), and of two decisions on one case (two tabs, a double submit)
    # the second sees the first's outcome and is refused by the state check. A cargo case's
    # manifest or road cargo likewise comes first, as its release and amendment lock it.
    found = get_case(session, case_id)
    _cargo_for_update(session, found)
    row = _declaration_for_update(session, found)
    case = session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case)
                          .execution_options(populate_existing=True))
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    _held_by(case, user)
    reason = request.reason.strip()[:MAX_NOTE]
    check_decision(CaseState(case.state), request.decision, case.declaration_id is not None, reason,
                   request.lane, case.lane)
    if row is not None and DeclarationStatus(row.status) in FINAL_STATUSES:
        # The trader cancelled (or another path finished) the declaration meanwhile: nothing
        # is left to decide, so the case closes and says why.
        _close(session, case, f"declaration_{row.status}", now)
        _event(session, case, "closed", _actor(user), now, {"declaration_status": row.status}, note=reason or None)
        return case
    if row is not None and request.version is not None and row.version != request.version:
        raise CaseRuleError("DECLARATION_CHANGED", f"the trader amended the declaration to version {row.version} "
                                                   f"after you opened version {request.version}: review it and "
                                                   "decide again", "declaration")
    actor = _actor(user)
    detail: dict[str, object] = {"decision": request.decision.value}
    match request.decision:
        case Decision.RELEASE:
            if row is not None:
                emit(session, ReleaseDecided(case.id, row.id, reason or None, actor, conversation_id, now))
            if case.cargo_ref is not None:
                emit(session, CargoCaseDecided(case.id, case.cargo_ref, "release", reason or None, actor, now))
            _close(session, case, "released", now)
        case Decision.REFUSE:
            assert row is not None
            emit(session, RefusalDecided(case.id, row.id, reason, actor, conversation_id, now))
            _close(session, case, "refused", now)
        case Decision.INSPECT:
            if row is not None:
                emit(session, InspectionOrdered(case.id, row.id, reason or None, actor, conversation_id, now))
            if case.cargo_ref is not None:
                emit(session, CargoCaseDecided(case.id, case.cargo_ref, "inspect", reason or None, actor, now))
            case.state, case.decision, case.updated_at = CaseState.INSPECTION.value, "inspect", now
        case Decision.REQUEST_DOCUMENTS:
            assert row is not None
            documents = request.documents.strip()[:MAX_NOTE] or reason
            document_request = DocumentRequest(case_id=case.id, declaration_id=row.id, documents=documents,
                                               message=reason, requested_by=actor, requested_at=now)
            session.add(document_request)
            session.flush()
            emit(session, DocumentsRequested(case.id, row.id, reason, actor, conversation_id, now, documents,
                                             document_request.id))
            case.state, case.decision, case.updated_at = CaseState.AWAITING_DOCUMENTS.value, "request_documents", now
            detail["documents"] = documents
        case Decision.REROUTE:
            assert row is not None and request.lane is not None
            detail.update({"from": case.lane, "to": request.lane})
            emit(session, RerouteDecided(case.id, row.id, reason, actor, conversation_id, now, case.lane,
                                         request.lane))
            case.lane, case.updated_at = request.lane, now
            if request.lane == "green":
                _close(session, case, "rerouted_green", now)
    _event(session, case, f"decision:{request.decision.value}", _actor(user), now, detail, note=reason or None)
    return case


def record_inspection(session: Session, case_id: int, user: User, result: InspectionResult,
                      revenue_recovered: Decimal, notes: str, now: datetime | None = None) -> Case:
    """Record what the physical inspection found; the outcome also feeds the risk module's
    training data. The case returns to its officer for the final decision."""
    now = now or utcnow()
    case = get_case(session, case_id)
    _held_by(case, user)
    if not can_record_inspection(CaseState(case.state)):
        raise CaseRuleError("NO_INSPECTION", "order a physical inspection before recording its outcome", "result")
    if revenue_recovered < 0 or revenue_recovered >= Decimal("1e15"):
        raise CaseRuleError("AMOUNT_INVALID", "revenue recovered must be between 0 and 10^15", "revenue_recovered")
    if result is InspectionResult.NO_DISCREPANCY and revenue_recovered > 0:
        raise CaseRuleError("AMOUNT_INVALID", "no discrepancy means no revenue recovered", "revenue_recovered")
    notes = notes.strip()[:MAX_NOTE]
    case.state, case.inspection_result = CaseState.CLAIMED.value, result.value
    case.revenue_recovered, case.updated_at = revenue_recovered.quantize(Decimal("0.01")), now
    if case.declaration_id is not None:
        emit(session, InspectionOutcomeRecorded(case.id, case.declaration_id, result.value, case.revenue_recovered,
                                                case.selection == "random", notes or None, _actor(user), now))
    _event(session, case, "inspection_recorded", _actor(user), now,
           {"result": result.value, "revenue_recovered": str(case.revenue_recovered),
            "selection": case.selection}, note=notes or None)
    return case


def add_note(session: Session, case_id: int, user: User, text: str, now: datetime | None = None) -> Case:
    now = now or utcnow()
    case = get_case(session, case_id)
    text = text.strip()
    if not text:
        raise CaseRuleError("NOTE_EMPTY", "write a note first", "note")
    if len(text) > MAX_NOTE:
        raise CaseRuleError("NOTE_TOO_LONG", f"a note has at most {MAX_NOTE} characters", "note")
    _event(session, case, "note", _actor(user), now, note=text)
    return case


# --- escalation ---------------------------------------------------------------------------

def escalate_unclaimed(session: Session, now: datetime, after: timedelta, actor: str = "job:case-escalation",
                       limit: int = 5000) -> list[int]:
    """Raise the priority of cases left unclaimed too long (once per ``after`` waited, up to
    three times), and recompute deadline urgency of open cases. Returns the escalated ids."""
    candidates = session.scalars(
        select(Case).where(Case.state == CaseState.OPEN.value, Case.escalation_level < 3,
                           Case.opened_at <= now - after)
        .order_by(Case.opened_at).limit(limit)).all()
    escalated: list[int] = []
    for case in candidates:
        if not escalation_due(CaseState(case.state), case.opened_at, case.escalation_level, now, after):
            continue
        case.escalation_level += 1
        case.updated_at = now
        _reprioritise(case, now)
        _event(session, case, "escalated", actor, now, {"level": case.escalation_level})
        escalated.append(case.id)
    due_soon = session.scalars(select(Case).where(
        Case.active.is_(True), Case.deadline_at.is_not(None), Case.deadline_at <= now + timedelta(hours=12),
        Case.deadline_at >= now - timedelta(days=1)).limit(limit)).all()
    for case in due_soon:
        _reprioritise(case, now)
    return escalated


@dataclass(frozen=True, slots=True)
class DocumentThread:
    """An officer's document request with the trader's answers (from the traders' portal)."""

    request: DocumentRequest
    answers: list[DocumentRequestAnswer]


def document_threads(session: Session, declaration_id: str) -> list[DocumentThread]:
    """Every document request on the declaration, oldest first, each with its answers."""
    requests = session.scalars(select(DocumentRequest).where(DocumentRequest.declaration_id == declaration_id)
                               .order_by(DocumentRequest.id)).all()
    if not requests:
        return []
    answers = session.scalars(select(DocumentRequestAnswer).where(
        DocumentRequestAnswer.declaration_id == declaration_id).order_by(DocumentRequestAnswer.id)).all()
    return [DocumentThread(r, [a for a in answers if a.request_id == r.id]) for r in requests]


def answer_attachment(session: Session, case_id: int, answer_id: int) -> DocumentRequestAnswer:
    """A trader's attachment, only through the case of its declaration."""
    case = get_case(session, case_id)
    answer = session.get(DocumentRequestAnswer, answer_id)
    if answer is None or answer.content is None or answer.declaration_id != case.declaration_id:
        raise CaseNotFound(f"no attachment {answer_id} on case {case_id}")
    return answer


def documents_answered(session: Session, *, request_id: int, actor: str, now: datetime | None = None) -> Case | None:
    """The trader answered a document request (traders' portal): the request is answered and
    a case waiting for documents goes back to its officer (or to the queue)."""
    now = now or utcnow()
    request = session.get(DocumentRequest, request_id)
    if request is None:
        return None
    request.answered_at = request.answered_at or now
    # Declaration, then case, locked and re-read (the order of decisions): an officer's
    # decision committed meanwhile is seen, and a closed case is not brought back.
    session.execute(select(models.Declaration.id).where(models.Declaration.id == request.declaration_id)
                    .with_for_update())
    case = session.scalar(select(Case).where(Case.id == request.case_id).with_for_update(of=Case)
                          .execution_options(populate_existing=True))
    if case is None or not case.active:
        return case
    if case.state == CaseState.AWAITING_DOCUMENTS.value:
        case.state = (CaseState.CLAIMED if case.assigned_to_id else CaseState.OPEN).value
    case.updated_at = now
    _event(session, case, "documents_answered", actor, now, {"request_id": request_id})
    return case


def get_declaration_view(session: Session, declaration_id: str) -> models.Declaration | None:
    """The declaration with everything the case view shows, loaded in a few queries."""
    return session.scalar(select(models.Declaration).where(models.Declaration.id == declaration_id).options(
        selectinload(models.Declaration.parties), selectinload(models.Declaration.goods_items),
        selectinload(models.Declaration.equipment).selectinload(models.TransportEquipment.seals),
        selectinload(models.Declaration.events), selectinload(models.Declaration.findings),
        selectinload(models.Declaration.declarant)))


def case_for_declaration(session: Session, declaration_id: str) -> Case | None:
    return session.scalar(select(Case).where(Case.declaration_id == declaration_id)
                          .order_by(Case.id.desc()).limit(1))


# --- saved searches -----------------------------------------------------------------------

SAVED_SEARCH_PAGES = ("queue", "search")
MAX_SAVED_SEARCHES = 50
MAX_SEARCH_NAME = 60
MAX_SEARCH_QUERY = 1000


def save_search(session: Session, user: User, page: str, name: str, query: str,
                now: datetime | None = None) -> SavedSearch:
    """Keep the filter an officer is looking at under a name (the same name replaces it);
    the account's history records it."""
    now = now or utcnow()
    name = " ".join(name.split())
    if page not in SAVED_SEARCH_PAGES:
        raise CaseRuleError("FORM_INVALID", f"filters are saved for {' or '.join(SAVED_SEARCH_PAGES)}", "page")
    if not 1 <= len(name) <= MAX_SEARCH_NAME:
        raise CaseRuleError("SEARCH_NAME_INVALID", f"name the filter in 1 to {MAX_SEARCH_NAME} characters", "name")
    if len(query) > MAX_SEARCH_QUERY:
        raise CaseRuleError("SEARCH_TOO_LONG", f"a saved filter has at most {MAX_SEARCH_QUERY} characters", "name")
    saved = session.scalar(select(SavedSearch).where(SavedSearch.user_id == user.id, SavedSearch.page == page,
                                                     SavedSearch.name == name))
    if saved is None:
        count = session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id))
        if (count or 0) >= MAX_SAVED_SEARCHES:
            raise CaseRuleError("TOO_MANY_SEARCHES", f"keep at most {MAX_SAVED_SEARCHES} saved filters: delete one "
                                                     "first", "name")
        saved = SavedSearch(user_id=user.id, page=page, name=name, query=query, created_at=now)
        session.add(saved)
    else:
        saved.query, saved.created_at = query, now
    session.flush()
    session.add(UserEvent(user_id=user.id, kind="search_saved", actor=_actor(user), occurred_at=now,
                          detail={"page": page, "name": name, "query": query}))
    return saved


def delete_search(session: Session, user: User, search_id: int, now: datetime | None = None) -> SavedSearch:
    """Forget one of the officer's own saved filters (another officer's is not found)."""
    saved = session.get(SavedSearch, search_id)
    if saved is None or saved.user_id != user.id:
        raise CaseNotFound(f"no saved filter {search_id}")
    session.delete(saved)
    session.add(UserEvent(user_id=user.id, kind="search_deleted", actor=_actor(user), occurred_at=now or utcnow(),
                          detail={"page": saved.page, "name": saved.name}))
    session.flush()
    return saved


__all__ = [
    "AlreadyClaimed", "CaseNotFound", "close_cargo_cases", "sync_cargo_cases",
    "DecisionRequest", "QueueFilter", "QueuePage", "add_note", "claim",
    "decide", "documents_answered", "escalate_unclaimed", "get_case", "open_case_for_alert",
    "open_cases_for_declaration",
    "queue_page", "reassign", "record_inspection", "save_search", "delete_search", "unclaim",
]
