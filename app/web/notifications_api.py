"""For declarants' systems: lifecycle notifications (``/api/v1/callback`` to be pushed to,
``/api/v1/lifecycle-notifications`` to pull from) and the document requests an officer sent
(``/api/v1/declarations/{ref}/document-requests``: read, answer with an attachment, download).
The portal answers through the same service. Thin: parse, call the service, commit, render.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request, url_for
from sqlalchemy import select

from app.db import models
from app.db.portal_models import DocumentRequestAnswer
from app.declarations import queries
from app.documents import iso
from app.domain.actors import Caller
from app.domain.problems import Problem, Rejection
from app.portal import service as portal
from app.routing import notifications
from app.web import params
from app.web.api import authenticated_caller
from app.web.context import db, services, unit_of_work
from app.web.envelope import attachment_disposition, respond, wants_json

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")


def _client(caller: Caller) -> models.ApiClient:
    """The API client behind the key: callbacks and cursors are a client's own."""
    client = db().get(models.ApiClient, caller.client_id) if caller.client_id is not None else None
    if client is None:
        raise Rejection("FORBIDDEN", "notifications are for API clients (use an API key)")
    return client


def _callback_payload(subscriber: Any, secret: str | None) -> dict[str, Any]:
    return {"url": subscriber.url, "format": subscriber.format, "state": subscriber.state,
            "signing_secret": secret, "registered_datetime": iso(subscriber.created_at),
            "last_delivered_datetime": iso(subscriber.last_delivered_at) if subscriber.last_delivered_at else None,
            "last_error": subscriber.last_error}


@bp.get("/callback")
def get_callback() -> Response:
    client = _client(authenticated_caller())
    subscriber = notifications.callback_of(db(), client.id)
    if subscriber is None:
        raise Rejection("NOT_FOUND", "no callback registered: PUT /api/v1/callback with {\"url\": ...}")
    return respond("Callback", _callback_payload(subscriber, None))


@bp.put("/callback")
def put_callback() -> Response:
    """Register or change the callback. The signing secret is in the answer only when it is
    new (first registration, or ``"rotate_secret": true``)."""
    client = _client(authenticated_caller())
    body = params.json_object()
    url, fmt, rotate = body.get("url"), body.get("format", "json"), body.get("rotate_secret", False)
    problems = []
    if not isinstance(url, str) or not url:
        problems.append(Problem(message="url must be a non-empty string", path="url", rule="required"))
    if not isinstance(fmt, str):
        problems.append(Problem(message="format must be \"xml\" or \"json\"", path="format", rule="enum"))
    if not isinstance(rotate, bool):
        problems.append(Problem(message="rotate_secret must be true or false", path="rotate_secret", rule="boolean"))
    if problems:
        raise Rejection("INVALID_CALLBACK", "the callback cannot be registered", problems)
    assert isinstance(url, str) and isinstance(fmt, str)
    uow = unit_of_work().write_lock()
    subscriber, secret = notifications.register_callback(uow.session, client, url, fmt, rotate_secret=rotate)
    payload = _callback_payload(subscriber, secret)
    uow.commit()
    return respond("Callback", payload)


@bp.delete("/callback")
def delete_callback() -> Response:
    client = _client(authenticated_caller())
    uow = unit_of_work().write_lock()
    if not notifications.remove_callback(uow.session, client):
        raise Rejection("NOT_FOUND", "no callback registered")
    uow.commit()
    return Response(status=204)


def _feed_xml(payload: dict[str, Any]) -> bytes:
    return notifications.NOTIFICATION_XML.to_xml("NotificationFeed", payload)


@bp.get("/lifecycle-notifications")
def lifecycle_notifications() -> Response:
    """The party's notifications after ``after`` (default: after what this client has
    acknowledged), oldest first; kept 14 days."""
    caller = authenticated_caller()
    client = _client(caller)
    after = request.args.get("after")
    start = params.whole_number(after, "after", 0, 2**62) if after is not None else None
    page = notifications.feed(db(), client.id, client.party_id, start,
                              params.query_int("limit", 100, notifications.MAX_FEED_PAGE))
    payload = {"acknowledged_through": page.acknowledged_through, "next_after": page.next_after,
               "notifications": page.notifications}
    if wants_json():
        return respond("NotificationFeed", payload)
    return Response(_feed_xml(payload), mimetype="application/xml")


@bp.post("/lifecycle-notifications/acknowledgements")
def acknowledge_notifications() -> Response:
    """``{"through": N}``: every notification up to sequence N is processed by this client."""
    client = _client(authenticated_caller())
    through = params.json_object().get("through")
    if not isinstance(through, int) or isinstance(through, bool) or not 0 <= through < 2**62:
        raise Rejection("INVALID_PARAMETER", "through must be the sequence of a notification you have processed",
                        [Problem(message="expected a whole number", path="through", rule="whole-number")])
    uow = unit_of_work().write_lock()
    cursor = notifications.acknowledge(uow.session, client.id, client.party_id, through)
    uow.commit()
    return respond("Acknowledged", {"acknowledged_through": cursor})


# --- document requests ------------------------------------------------------------------------

def _answer_payload(reference: str, answer: Any) -> dict[str, Any]:
    return {
        "answer_id": answer.id, "message": answer.message, "answered_by": answer.answered_by,
        "answered_datetime": iso(answer.answered_at), "filename": answer.filename,
        "content_type": answer.content_type, "size": answer.size,
        "download": url_for("notifications_api.download_attachment", reference=reference, answer_id=answer.id)
        if answer.content_type else None,
    }


@bp.get("/declarations/<reference>/document-requests")
def document_requests(reference: str) -> Response:
    """Every document request an officer sent on the declaration, open ones first, with the
    declarant's answers."""
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id)
    threads = sorted(portal.request_threads(db(), row.id), key=lambda t: (t.request.answered_at is not None,
                                                                         t.request.id))
    return respond("DocumentRequests", {"declaration_id": row.id, "requests": [{
        "request_id": t.request.id, "documents": t.request.documents, "message": t.request.message,
        "requested_datetime": iso(t.request.requested_at), "open": t.request.answered_at is None,
        "answers": [_answer_payload(row.id, a) for a in t.answers]} for t in threads]})


@bp.post("/declarations/<reference>/document-requests/<id:request_id>/answers")
def answer_document_request(reference: str, request_id: int) -> Response:
    """Answer with ``multipart/form-data``: ``message`` and at most one ``attachment`` (PDF, PNG
    or JPEG, checked by content, up to 2 MB); or JSON ``{"message": ...}`` without one."""
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id)
    filename, content = None, None
    if request.mimetype == "multipart/form-data":
        message = request.form.get("message", "")
        uploads = request.files.getlist("attachment")
        if len(uploads) > 1:
            raise Rejection("INVALID_ANSWER", "send one attachment per answer", [Problem(
                message="one attachment per answer: send another answer for each further file",
                path="attachment", rule="one-attachment")])
        if uploads:
            filename = uploads[0].filename
            content = uploads[0].read(portal.MAX_ATTACHMENT_BYTES + 1)
    elif request.mimetype == "application/json":
        text = params.json_object().get("message", "")
        message = text if isinstance(text, str) else ""
    else:
        raise Rejection("UNSUPPORTED_MEDIA_TYPE", "send the answer as multipart/form-data (message, attachment) "
                                                  "or application/json ({\"message\": ...})")
    uow = unit_of_work().write_lock()
    answer = portal.answer_request(uow.session, caller, row.id, request_id, message, filename, content)
    payload = _answer_payload(row.id, answer)
    uow.commit()
    return respond("DocumentAnswer", payload, 201)


@bp.get("/declarations/<reference>/attachments")
def attachments(reference: str) -> Response:
    """The attachments the declarant sent with its answers."""
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id)
    answers = db().scalars(select(DocumentRequestAnswer).where(
        DocumentRequestAnswer.declaration_id == row.id,
        DocumentRequestAnswer.content_type.is_not(None)).order_by(DocumentRequestAnswer.id)).all()
    return respond("Attachments", {"declaration_id": row.id,
                                   "attachments": [_answer_payload(row.id, a) for a in answers]})


@bp.get("/declarations/<reference>/attachments/<id:answer_id>")
def download_attachment(reference: str, answer_id: int) -> Response:
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id)
    found = portal.get_attachment(db(), caller, row.id, answer_id)
    return Response(found.content, mimetype=found.content_type or "application/octet-stream", headers={
        "Content-Disposition": attachment_disposition(found.filename), "Cache-Control": "private, no-store"})


@bp.get("/declarations/<reference>/release-notice")
def release_notice(reference: str) -> Response:
    """The release notice as it was routed (the same message the party's and the control
    point's systems received), once the declaration is released."""
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id, with_history=True)
    message = portal.release_message(db(), row)
    if message is None:
        raise Rejection("NOT_FOUND", f"no release notice for {row.id}: it is not released")
    return Response(bytes(message.body), mimetype=message.content_type)


@bp.get("/hs-codes")
def hs_codes() -> Response:
    """Tariff search by code or words (English or Chinese), as the portal's form does."""
    authenticated_caller()
    query = request.args.get("q", "")
    if not 1 <= len(query.strip()) <= 60:
        raise Rejection("INVALID_PARAMETER", "q must be 1 to 60 characters: digits of a code, or words",
                        [Problem(message="1 to 60 characters", path="q", rule="length")])
    limit = params.query_int("limit", 25, 50)
    found = services().reference.pickers.search_hs(query, limit=limit)
    return respond("HsCodes", {"codes": [{"code": c.code, "name": c.name("en"), "name_zh": c.name("zh_Hant")}
                                         for c in found]})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
