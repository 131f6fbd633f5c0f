"""Portal use cases: who the trader acts for, drafts, tracking, document-request answers and
self-service API keys. Each takes an open session and leaves the commit to the request.

Everything is scoped to the trader's party: another party's draft, declaration, request or
key answers exactly as a missing one does (NOT_FOUND), so identifiers reveal nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.case_models import DocumentRequest, User
from app.db.portal_models import DeclarationDraft, DocumentRequestAnswer
from app.db.routing_models import OutboxMessage
from app.domain.declaration import DeclarationStatus, LifecycleError, check_amendable, check_cancellable
from app.domain.problems import Problem, Rejection
from app.domain.actors import Caller
from app.domain.events import DocumentsAnswered
from app.platform.clock import utcnow
from app.platform.uow import emit

MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
# Attachments officers can open safely: PDF and images, recognised by their first bytes
# (the browser's declared type and the file name are not trusted).
ATTACHMENT_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
MAX_MESSAGE = 2000
PER_PAGE = 25


def trader_caller(session: Session, user: User) -> Caller:
    """The declarant a trader user acts for, as the declaration services know callers."""
    if user.role != "trader" or user.party_id is None:
        raise Rejection("FORBIDDEN", "the traders' portal is for trader accounts bound to a party")
    party = session.get(models.Party, user.party_id)
    assert party is not None
    return Caller(actor=f"user:{user.username}", party_id=party.id, party_identifier=party.identifier,
                  role="trader")


def party_of(session: Session, caller: Caller) -> models.Party:
    party = session.get(models.Party, caller.party_id)
    assert party is not None
    return party


# --- drafts -------------------------------------------------------------------------------

def save_draft(session: Session, caller: Caller, data: dict[str, Any], draft_id: int | None = None,
               declaration_id: str | None = None, now: datetime | None = None) -> DeclarationDraft:
    """Keep the form as entered (no validation: a draft may be half-filled)."""
    now = now or utcnow()
    draft = get_draft(session, caller, draft_id) if draft_id is not None else None
    if draft is None:
        draft = DeclarationDraft(party_id=caller.party_id, declaration_id=declaration_id, created_by=caller.actor,
                                 created_at=now, type_code="IM", data={}, updated_at=now)
        session.add(draft)
    draft.type_code = str(data.get("type_code") or "IM")[:2]
    draft.lrn = (str(data.get("lrn") or "").strip() or None)
    if draft.lrn is not None:
        draft.lrn = draft.lrn[:35]
    draft.data = data
    draft.updated_at = now
    session.flush()
    return draft


def get_draft(session: Session, caller: Caller, draft_id: int) -> DeclarationDraft:
    draft = session.get(DeclarationDraft, draft_id)
    if draft is None or draft.party_id != caller.party_id:
        raise Rejection("NOT_FOUND", f"no draft {draft_id}")
    return draft


def list_drafts(session: Session, caller: Caller) -> list[DeclarationDraft]:
    return list(session.scalars(select(DeclarationDraft).where(DeclarationDraft.party_id == caller.party_id)
                                .order_by(DeclarationDraft.updated_at.desc(), DeclarationDraft.id.desc())))


def delete_draft(session: Session, caller: Caller, draft_id: int) -> None:
    session.delete(get_draft(session, caller, draft_id))
    session.flush()


# --- tracking -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Filters:
    status: str = ""
    lane: str = ""
    type_code: str = ""
    search: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[models.Declaration]
    total: int
    page: int
    pages: int


def track(session: Session, caller: Caller, filters: Filters) -> Listing:
    """The party's declarations, most recently changed first; ``search`` matches the
    reference exactly or the LRN / UCR by prefix (case-insensitive)."""
    conditions: list[Any] = [models.Declaration.declarant_party_id == caller.party_id]
    if filters.status:
        conditions.append(models.Declaration.status == filters.status)
    if filters.lane:
        conditions.append(models.Declaration.lane == filters.lane)
    if filters.type_code:
        conditions.append(models.Declaration.type_code == filters.type_code)
    search = filters.search.strip()
    if search:
        pattern = search.upper().replace("%", "").replace("_", r"\_") + "%"
        conditions.append(or_(models.Declaration.id == search.upper(),
                              func.upper(models.Declaration.lrn).like(pattern, escape="\\"),
                              func.upper(models.Declaration.ucr).like(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(models.Declaration).where(*conditions)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, filters.page), pages)
    rows = session.scalars(select(models.Declaration).where(*conditions)
                           .order_by(models.Declaration.updated_at.desc(), models.Declaration.id.desc())
                           .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return Listing(list(rows), total, page, pages)


def why_not_amendable(row: models.Declaration) -> str | None:
    """None when the trader may amend now, else the lifecycle's reason."""
    try:
        check_amendable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        return exc.message
    return None


def why_not_cancellable(row: models.Declaration) -> str | None:
    try:
        check_cancellable(DeclarationStatus(row.status))
    except LifecycleError as exc:
        return exc.message
    return None


def document_body(session: Session, row: models.Declaration, version: int) -> bytes | None:
    """The document of ``version`` exactly as lodged (the legal record)."""
    body = session.scalar(select(models.DeclarationDocument.body).where(
        models.DeclarationDocument.declaration_id == row.id, models.DeclarationDocument.version == version))
    return None if body is None else bytes(body)


def latest_document(session: Session, row: models.Declaration) -> bytes:
    body = document_body(session, row, row.version)
    assert body is not None
    return body


def document_versions(session: Session, row: models.Declaration) -> list[int]:
    return list(session.scalars(select(models.DeclarationDocument.version).where(
        models.DeclarationDocument.declaration_id == row.id).order_by(models.DeclarationDocument.version)))


def release_notice(session: Session, row: models.Declaration) -> models.DeclarationEvent | None:
    """The event that released the declaration (its time, who and why), once cleared."""
    if row.status != DeclarationStatus.RELEASED.value:
        return None
    released = [event for event in row.events if event.status_to == DeclarationStatus.RELEASED.value]
    return released[-1] if released else None


def release_message(session: Session, row: models.Declaration) -> Any:
    """The routed release notice message (``app.routing``) for the declaration, when one was
    sent: the same notice the party's and the control point's systems receive."""
    if row.status != DeclarationStatus.RELEASED.value:
        return None
    return session.scalars(select(OutboxMessage).where(
        OutboxMessage.subject == f"declaration:{row.id}", OutboxMessage.message_type == "release_notice")
        .order_by(OutboxMessage.id).limit(1)).first()


# --- document requests --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RequestThread:
    request: DocumentRequest
    answers: list[DocumentRequestAnswer]


def request_threads(session: Session, declaration_id: str) -> list[RequestThread]:
    """Officers' document requests on the declaration (already scoped by the caller's look-up
    of the declaration), each with the trader's answers."""
    requests = session.scalars(select(DocumentRequest).where(DocumentRequest.declaration_id == declaration_id)
                               .order_by(DocumentRequest.id)).all()
    answers = session.scalars(select(DocumentRequestAnswer).where(
        DocumentRequestAnswer.declaration_id == declaration_id).order_by(DocumentRequestAnswer.id)).all()
    return [RequestThread(r, [a for a in answers if a.request_id == r.id]) for r in requests]


def attachment_type(content: bytes) -> str | None:
    for signature, content_type in ATTACHMENT_SIGNATURES.items():
        if content.startswith(signature):
            return content_type
    return None


def answer_request(session: Session, caller: Caller, declaration_id: str, request_id: int, message: str,
                   filename: str | None, content: bytes | None, now: datetime | None = None
                   ) -> DocumentRequestAnswer:
    """Record the trader's answer (message, optional PDF/PNG/JPEG attachment up to 2 MB).
    The request counts as answered and a case waiting for documents goes back to its officer
    (or to the queue), in the same transaction, so the answer never sits unseen."""
    request = session.get(DocumentRequest, request_id)
    declaration = session.get(models.Declaration, declaration_id)
    if (request is None or declaration is None or request.declaration_id != declaration_id
            or declaration.declarant_party_id != caller.party_id):
        raise Rejection("NOT_FOUND", f"no document request {request_id}")
    problems = []
    message = (message or "").strip()
    if not 1 <= len(message) <= MAX_MESSAGE:
        problems.append(Problem(message=f"write a message of 1 to {MAX_MESSAGE} characters", path="message",
                                rule="message-length"))
    content_type = None
    if content:
        if len(content) > MAX_ATTACHMENT_BYTES:
            problems.append(Problem(message=f"the attachment is larger than {MAX_ATTACHMENT_BYTES // 1024} KB",
                                    path="attachment", rule="attachment-size"))
        content_type = attachment_type(content)
        if content_type is None:
            problems.append(Problem(message="attach a PDF, PNG or JPEG file", path="attachment",
                                    rule="attachment-type"))
    if problems:
        raise Rejection("INVALID_ANSWER", "the answer cannot be sent as it is", problems)
    answer = DocumentRequestAnswer(
        request_id=request.id, declaration_id=declaration_id, message=message,
        filename=(filename or "attachment")[-120:] if content else None, content_type=content_type,
        size=len(content) if content else None, content=content or None, answered_by=caller.actor,
        answered_at=now or utcnow())
    session.add(answer)
    session.flush()
    emit(session, DocumentsAnswered(request.id, declaration_id, caller.actor, answer.answered_at))
    return answer


def get_attachment(session: Session, caller: Caller, declaration_id: str, answer_id: int) -> DocumentRequestAnswer:
    answer = session.get(DocumentRequestAnswer, answer_id)
    declaration = session.get(models.Declaration, declaration_id)
    if (answer is None or answer.content is None or declaration is None or answer.declaration_id != declaration_id
            or declaration.declarant_party_id != caller.party_id):
        raise Rejection("NOT_FOUND", f"no attachment {answer_id}")
    return answer


