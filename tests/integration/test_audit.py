"""The tamper-evident audit log: events lodged through the API are sealed onto the chain, and
``csw audit verify`` names every edited or deleted event row and every altered chain link."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, select, text, update

from app.audit import chain, service
from app.cli import main
from app.db import models
from app.db.audit_models import AuditLink
from tests.conftest import auth
from tests.factories import declaration_xml

LATER = datetime.now(timezone.utc) + timedelta(hours=1)


def _lodge_three(app: Flask) -> list[str]:
    client = app.test_client()
    references = []
    for n in range(3):
        answer = client.post("/api/v1/declarations", data=declaration_xml(lrn=f"AUDIT-{n}"),
                             headers=auth(accept="application/json"))
        assert answer.status_code == 202
        references.append(answer.get_json()["declaration_id"])
    cancelled = client.post(f"/api/v1/declarations/{references[0]}/cancellation",
                            data=json.dumps({"reason": "duplicate shipment"}),
                            headers={**auth(accept="application/json"), "Content-Type": "application/json"})
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    return references


def seeded_events(app: Flask) -> int:
    """Event rows the clean app starts with: the demo fleet's registrations."""
    from sqlalchemy import func

    from app.db.transit_models import TransitRegistryEvent

    with app.extensions["csw"].sessions() as session:
        return session.scalar(select(func.count()).select_from(TransitRegistryEvent)) or 0


def _seal_and_verify(app: Flask) -> service.VerifyReport:
    sessions = app.extensions["csw"].sessions
    with sessions() as session, session.begin():
        service.seal(session, datetime.now(timezone.utc))
    with sessions() as session:
        return service.verify(session, LATER)


def test_sealed_events_verify_intact_and_sealing_again_adds_nothing(clean_app: Flask) -> None:
    _lodge_three(clean_app)
    report = _seal_and_verify(clean_app)
    assert report.intact, report.problems
    assert report.links == report.rows == 4 + seeded_events(clean_app)
    sessions = clean_app.extensions["csw"].sessions
    with sessions() as session, session.begin():
        assert service.seal(session, datetime.now(timezone.utc)).sealed == 0


def test_events_sealed_before_time_columns_were_timezone_aware_still_verify(clean_app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite used to hand back naive UTC times, so the rows sealed then were digested without
    an offset: they verify intact today, and an edit of one is still named."""
    references = _lodge_three(clean_app)
    monkeypatch.setattr(service, "row_digest", lambda row: chain.row_digest(row, naive_utc=True))
    sessions = clean_app.extensions["csw"].sessions
    with sessions() as session, session.begin():
        service.seal(session, datetime.now(timezone.utc))
    monkeypatch.undo()
    with sessions() as session:
        report = service.verify(session, LATER)
    assert report.intact, report.problems
    with sessions() as session, session.begin():
        session.execute(update(models.DeclarationEvent).where(models.DeclarationEvent.declaration_id == references[1])
                        .values(note="edited afterwards"))
    with sessions() as session:
        report = service.verify(session, LATER)
    assert [p.kind for p in report.problems] == ["edited"]


def test_an_edited_event_is_named(clean_app: Flask) -> None:
    _lodge_three(clean_app)
    _seal_and_verify(clean_app)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        event_id = session.scalar(select(models.DeclarationEvent.id).where(models.DeclarationEvent.kind == "cancelled"))
        session.execute(update(models.DeclarationEvent).where(models.DeclarationEvent.id == event_id)
                        .values(actor="someone-else"))
    report = _seal_and_verify(clean_app)
    assert [(p.kind, p.table, p.row_id) for p in report.problems] == [("edited", "declaration_events", event_id)]


def test_a_deleted_event_and_an_altered_link_are_named(clean_app: Flask) -> None:
    _lodge_three(clean_app)
    _seal_and_verify(clean_app)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        event_id = session.scalar(select(func_min_id()))
        session.execute(delete(models.DeclarationEvent).where(models.DeclarationEvent.id == event_id))
        session.execute(update(AuditLink).where(AuditLink.sequence == 3).values(row_digest="0" * 64))
    kinds = {(p.kind, p.row_id if p.kind == "deleted" else p.sequence) for p in _seal_and_verify(clean_app).problems}
    assert ("deleted", event_id) in kinds
    assert ("link-edited", 3) in kinds


def func_min_id():  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    return func.min(models.DeclarationEvent.id)


def test_deleting_links_is_found_by_the_gap_or_by_the_anchor(clean_app: Flask) -> None:
    _lodge_three(clean_app)
    _seal_and_verify(clean_app)
    sessions = clean_app.extensions["csw"].sessions
    with sessions() as session:
        anchor = service.head(session)
    with sessions() as session, session.begin():
        session.execute(delete(AuditLink).where(AuditLink.sequence == 2))
    with sessions() as session:
        problems = service.verify(session, LATER).problems
    assert ("link-missing", 2) in {(p.kind, p.sequence) for p in problems}
    with sessions() as session, session.begin():
        session.execute(delete(AuditLink).where(AuditLink.sequence == anchor[0]))
        session.execute(delete(models.DeclarationEvent).where(models.DeclarationEvent.kind == "cancelled"))
    with sessions() as session:
        problems = service.verify(session, LATER, anchor=anchor).problems
    assert ("link-missing", anchor[0]) in {(p.kind, p.sequence) for p in problems}


def test_an_event_slipped_in_behind_the_sealer_is_reported_once_old(clean_app: Flask) -> None:
    references = _lodge_three(clean_app)
    _seal_and_verify(clean_app)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.execute(models.DeclarationEvent.__table__.insert(), [{
            "declaration_id": references[1], "kind": "released", "status_from": "accepted",
            "status_to": "released", "version": 1, "actor": "intruder",
            "occurred_at": datetime.now(timezone.utc) - timedelta(hours=2)}])
    with clean_app.extensions["csw"].sessions() as session:
        problems = service.verify(session, datetime.now(timezone.utc)).problems
    assert [p.kind for p in problems] == ["unsealed"]


def test_csw_audit_verify_exits_1_and_names_the_row(clean_app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _lodge_three(clean_app)
    settings = clean_app.extensions["csw"].settings
    monkeypatch.setenv("CSW_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    sealed = runner.invoke(main, ["audit", "seal"])
    assert sealed.exit_code == 0 and json.loads(sealed.output)["sealed"] == 4 + seeded_events(clean_app)
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.execute(text("UPDATE declaration_events SET note = 'rewritten' WHERE kind = 'submitted'"))
    result = runner.invoke(main, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert not report["intact"] and {p["kind"] for p in report["problems"]} == {"edited"}
    assert len(report["problems"]) == 3


def test_an_edited_case_event_is_named(clean_app: Flask) -> None:
    """Officers' case history is on the chain too: rewriting who opened a case is found."""
    from decimal import Decimal

    from app.cases import service as cases
    from app.db.case_models import CaseEvent

    reference = _lodge_three(clean_app)[1]
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, reference)
        assert row is not None
        row.lane, row.risk_score, row.revenue_at_stake = "red", 80, Decimal("1000")
        case = cases.open_cases_for_declaration(session, reference, actor="risk-engine")
        assert case is not None
    assert _seal_and_verify(clean_app).intact
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        event_id = session.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()))
        session.execute(update(CaseEvent).where(CaseEvent.id == event_id).values(actor="nobody"))
    report = _seal_and_verify(clean_app)
    assert [(p.kind, p.table, p.row_id) for p in report.problems] == [("edited", "case_events", event_id)]
