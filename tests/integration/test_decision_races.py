"""Races between officers' decisions and the trader's changes, with real threads on each
backend: exactly one side wins, the other gets a clear conflict, nothing is half-written."""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import models
from app.db.case_models import CaseEvent
from tests.conftest import TRADER_KEY, auth
from tests.factories import declaration_xml
from tests.integration.test_officer_app import (
    browser,
    case_row,
    csrf_token,
    lodge,
)


def _claimed(app: Flask, lrn: str) -> tuple[int, str, FlaskClient, str]:
    case_id, reference = lodge(app, lrn)
    officer, token = browser(app, "officer")
    assert officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token}).status_code == 302
    return case_id, reference, officer, token


def _at_once(*actions: Callable[[], int]) -> list[int]:
    """Run the actions in threads released together; their HTTP status codes, in order."""
    barrier = threading.Barrier(len(actions))
    results: list[int] = [0] * len(actions)

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        results[index] = actions[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _declaration(app: Flask, reference: str) -> models.Declaration:
    with app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None
        session.expunge(row)
        return row


def test_a_decision_on_a_version_the_trader_has_amended_is_refused(clean_app: Flask,
                                                                   accounts: dict[str, int]) -> None:
    case_id, reference, officer, token = _claimed(clean_app, "RACE-SEEN-1")
    page = officer.get(f"/officer/cases/{case_id}").text
    assert 'name="declaration_version" type="hidden" value="1"' in page
    amended = clean_app.test_client().post(
        f"/api/v1/declarations/{reference}/amendments",
        data=declaration_xml(lrn="RACE-SEEN-1", function_code="13", value="1500.00"),
        headers=auth(TRADER_KEY, "application/json"))
    assert amended.status_code == 202, amended.text
    refused = officer.post(f"/officer/cases/{case_id}/decision",
                           data={"csrf_token": token, "decision": "release", "declaration_version": "1"},
                           follow_redirects=True)
    assert refused.status_code == 409 and 'data-code="DECLARATION_CHANGED"' in refused.text
    assert "version 2" in refused.text
    assert _declaration(clean_app, reference).status == "accepted"
    assert 'name="declaration_version" type="hidden" value="2"' in refused.text, "the form now carries version 2"
    released = officer.post(f"/officer/cases/{case_id}/decision",
                            data={"csrf_token": token, "decision": "release", "declaration_version": "2"})
    assert released.status_code == 302
    assert _declaration(clean_app, reference).status == "released"


def test_an_amendment_racing_a_release_one_wins(clean_app: Flask, accounts: dict[str, int]) -> None:
    for round_ in range(3):
        lrn = f"RACE-AMEND-{round_}"
        case_id, reference, officer, token = _claimed(clean_app, lrn)
        trader = clean_app.test_client()
        decision, amendment = _at_once(
            lambda officer=officer, case_id=case_id, token=token: officer.post(
                f"/officer/cases/{case_id}/decision", data={
                    "csrf_token": token, "decision": "release", "declaration_version": "1"}).status_code,
            lambda trader=trader, reference=reference, lrn=lrn: trader.post(
                f"/api/v1/declarations/{reference}/amendments",
                data=declaration_xml(lrn=lrn, function_code="13", value="1500.00"),
                headers=auth(TRADER_KEY, "application/json")).status_code)
        row = _declaration(clean_app, reference)
        if decision == 302:  # the release came first: the amendment meets a released declaration
            assert amendment == 409 and row.status == "released" and row.version == 1
        else:  # the amendment came first: the decision on version 1 is refused
            # refused: post/redirect/get back to the case (303), which says why
            assert (decision, amendment) == (303, 202) and row.status == "accepted" and row.version == 2
        with clean_app.extensions["csw"].sessions() as session:
            documents = session.scalar(select(func.count()).select_from(models.DeclarationDocument)
                                       .where(models.DeclarationDocument.declaration_id == reference))
            assert documents == row.version, "every stored version has its document, and no more"


def test_two_decisions_on_one_case_record_one(clean_app: Flask, accounts: dict[str, int]) -> None:
    """The same officer in two tabs: release in one, refuse in the other, at the same moment."""
    case_id, reference, officer, token = _claimed(clean_app, "RACE-TABS-1")
    second_tab, _ = browser(clean_app, "officer")
    second_token = csrf_token(second_tab.get(f"/officer/cases/{case_id}").text)
    statuses = _at_once(
        lambda: officer.post(f"/officer/cases/{case_id}/decision", data={
            "csrf_token": token, "decision": "release", "declaration_version": "1"}).status_code,
        lambda: second_tab.post(f"/officer/cases/{case_id}/decision", data={
            "csrf_token": second_token, "decision": "refuse", "reason": "undervalued",
            "declaration_version": "1"}).status_code)
    assert sorted(statuses) == [302, 303], statuses  # one decided, one refused (back to the case, 303)
    with clean_app.extensions["csw"].sessions() as session:
        decisions = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id,
                                                                  CaseEvent.kind.like("decision:%"))).all()
        events = session.scalars(select(models.DeclarationEvent.kind)
                                 .where(models.DeclarationEvent.declaration_id == reference)
                                 .order_by(models.DeclarationEvent.id)).all()
    assert len(decisions) == 1
    winner = "released" if decisions[0] == "decision:release" else "refused"
    assert list(events) == ["submitted", winner]
    assert case_row(clean_app, case_id).state == "closed"


def test_a_traders_answer_racing_a_refusal_never_reopens_the_case(clean_app: Flask,
                                                                 accounts: dict[str, int]) -> None:
    """The officer asked for documents; the trader's answer and the officer's refusal arrive
    at once. Whichever commits first, the refused declaration's case ends closed."""
    import io
    import re

    for round_ in range(3):
        case_id, reference, officer, token = _claimed(clean_app, f"RACE-ANSWER-{round_}")
        asked = officer.post(f"/officer/cases/{case_id}/decision", data={
            "csrf_token": token, "decision": "request_documents", "documents": "invoice", "reason": "value",
            "declaration_version": "1"})
        assert asked.status_code == 302
        trader, trader_token = browser(clean_app, "trader")
        page = trader.get(f"/trader/declarations/{reference}").text
        request_id = int(re.search(r'id="request-(\d+)"', page).group(1))  # type: ignore[union-attr]
        refusal, answer = _at_once(
            lambda officer=officer, case_id=case_id, token=token: officer.post(
                f"/officer/cases/{case_id}/decision", data={
                    "csrf_token": token, "decision": "refuse", "reason": "no invoice",
                    "declaration_version": "1"}).status_code,
            lambda trader=trader, reference=reference, request_id=request_id, trader_token=trader_token: trader.post(
                f"/trader/declarations/{reference}/requests/{request_id}/answer",
                data={"csrf_token": trader_token, "message": "invoice attached",
                      "attachment": (io.BytesIO(b"%PDF-1.4 demo"), "invoice.pdf")},
                content_type="multipart/form-data").status_code)
        assert (refusal, answer) == (302, 302)
        case = case_row(clean_app, case_id)
        assert (case.state, case.active) == ("closed", False), f"round {round_}: the refused case came back"
        assert _declaration(clean_app, reference).status == "refused"
