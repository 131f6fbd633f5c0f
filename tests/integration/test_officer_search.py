"""Officers find any declaration in one search (reference, LRN, UCR, party id or name,
container, e-lock, case number; dates, status, case state including closed), pick control
points and alert kinds from case-insensitive lists, list closed cases and keep saved filters."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from flask import Flask

from app.cases import service as cases
from app.db.case_models import Case, SavedSearch, User, UserEvent
from tests.conftest import OTHER_KEY, auth
from tests.factories import declaration_xml
from tests.integration.test_officer_app import browser, csrf_token, lodge

CONTAINER = """<TransportEquipment><SequenceNumeric>1</SequenceNumeric><ID>CSQU3054383</ID>
  <Seal><ID>SL-77</ID></Seal><ELockID>EL-SEARCH-9</ELockID></TransportEquipment>"""


def found_ids(html: str) -> list[str]:
    return re.findall(r'data-declaration-id="([^"]+)"', html)


def lodged(app: Flask, lrn: str, key: str | None = None, **kwargs: str) -> str:
    response = app.test_client().post("/api/v1/declarations", data=declaration_xml(lrn=lrn, **kwargs),
                                      headers=auth(key or OTHER_KEY, "application/json"))
    assert response.status_code in (201, 202), response.text
    return str(response.get_json()["declaration_id"])


def test_one_search_finds_a_declaration_by_any_identifier(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, with_case = lodge(clean_app, "PO-SEARCH-0042", control_point="HKLMC")
    plain = lodged(clean_app, "HARBOUR-7", declarant="87654321", consignment_extra=CONTAINER)
    client, _token = browser(clean_app, "officer")

    def search(**query: str) -> list[str]:
        response = client.get("/officer/search", query_string=query)
        assert response.status_code == 200, response.text
        return found_ids(response.text)

    assert search(q=with_case.lower()) == [with_case]  # the reference, whatever its case
    assert search(q="po-search") == [with_case]  # the LRN by its beginning
    assert search(q="87654321") == [plain]  # the declarant's id
    assert search(q="harbour logistics") == [plain]  # part of a party's name
    assert search(q="csqu305") == [plain]  # a container number
    assert search(q="el-search-9") == [plain]  # an e-lock
    assert search(q=f"#{case_id}") == [with_case]  # a case number
    assert set(search(status="accepted")) == {with_case, plain}
    assert search(case="none") == [plain]
    assert search(case="open") == [with_case]
    assert search(control_point="hklmc", q="po-") == [with_case]
    today = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=8))).date()
    assert set(search(**{"from": today.isoformat(), "to": today.isoformat()})) == {with_case, plain}
    assert search(**{"from": (today + timedelta(days=1)).isoformat()}) == []
    refused = client.get("/officer/search", query_string={"from": "31/12/2026"})
    assert refused.status_code == 400 and "year-month-day" in refused.text
    page = client.get("/officer/search", query_string={"q": "harbour"}).text
    assert f'href="/officer/declarations/{plain}"' in page and "no case" in page
    view = client.get(f"/officer/declarations/{plain}")
    assert view.status_code == 200
    assert "CSQU3054383" in view.text and "EL-SEARCH-9" in view.text and "Harbour Logistics Limited" in view.text


def test_closed_cases_are_listed_and_found(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, reference = lodge(clean_app, "LRN-CLOSED-1")
    open_id, _ = lodge(clean_app, "LRN-STILL-OPEN")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        user = session.get(User, accounts["officer"])
        assert user is not None
        cases.claim(session, case_id, user)
        cases.decide(session, case_id, user, cases.DecisionRequest(cases.Decision.RELEASE), None)
    client, _token = browser(clean_app, "officer")
    closed = client.get("/officer/", query_string={"state": "closed"}).text
    assert f'data-case-id="{case_id}"' in closed and f'data-case-id="{open_id}"' not in closed
    assert "Closed cases" in closed
    assert found_ids(client.get("/officer/search", query_string={"case": "closed"}).text) == [reference]
    assert found_ids(client.get("/officer/search", query_string={"status": "released"}).text) == [reference]


def test_control_points_and_alert_kinds_match_whatever_their_case(clean_app: Flask,
                                                                  accounts: dict[str, int]) -> None:
    at_lok_ma_chau, _ = lodge(clean_app, "LRN-CP-1", control_point="HKLMC")
    elsewhere, _ = lodge(clean_app, "LRN-CP-2", control_point="HKMKT")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(Case, elsewhere)
        assert row is not None
        row.alert_kind = "route_deviation"
    client, _token = browser(clean_app, "officer")
    page = client.get("/officer/", query_string={"control_point": "hklmc"}).text
    assert f'data-case-id="{at_lok_ma_chau}"' in page and f'data-case-id="{elsewhere}"' not in page
    assert '<option value="HKLMC" selected>' in page  # a pick-list, with the names of the control points
    assert "Lok Ma Chau Control Point (HKLMC)" in page
    alerts = client.get("/officer/", query_string={"alert_kind": "ROUTE_DEVIATION"}).text
    assert f'data-case-id="{elsewhere}"' in alerts and f'data-case-id="{at_lok_ma_chau}"' not in alerts
    assert '<option value="route_deviation" selected>left the approved route</option>' in alerts


def test_saved_filters_belong_to_their_officer(clean_app: Flask, accounts: dict[str, int]) -> None:
    client, token = browser(clean_app, "officer")
    saved = client.post("/officer/saved-searches", data={
        "csrf_token": token, "page": "queue", "query": "lane=red&control_point=HKLMC", "name": "  Red at  LMC "})
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/officer/?lane=red&control_point=HKLMC"
    page = client.get(saved.headers["Location"]).text
    assert "Filter “Red at LMC” saved." in page
    assert '<a href="/officer/?lane=red&amp;control_point=HKLMC">Red at LMC</a>' in page
    again = client.post("/officer/saved-searches", data={
        "csrf_token": token, "page": "queue", "query": "lane=yellow", "name": "Red at LMC"})
    assert again.status_code == 302  # the same name replaces the filter
    searched = client.post("/officer/saved-searches", data={
        "csrf_token": token, "page": "search", "query": "status=released", "name": "Released"})
    assert searched.headers["Location"] == "/officer/search?status=released"
    with clean_app.extensions["csw"].sessions() as session:
        rows = session.query(SavedSearch).order_by(SavedSearch.name).all()
        assert [(r.page, r.name, r.query) for r in rows] == [("queue", "Red at LMC", "lane=yellow"),
                                                             ("search", "Released", "status=released")]
        assert session.query(UserEvent).filter(UserEvent.kind == "search_saved").count() == 3
        first = rows[0].id
    other, other_token = browser(clean_app, "officer2")
    assert "Red at LMC" not in other.get("/officer/").text
    assert other.post(f"/officer/saved-searches/{first}/delete", data={"csrf_token": other_token}).status_code == 404
    unnamed = client.post("/officer/saved-searches", data={"csrf_token": token, "page": "queue", "name": ""})
    assert unnamed.status_code == 302
    assert "give the filter a name" in client.get(unnamed.headers["Location"]).text
    deleted = client.post(f"/officer/saved-searches/{first}/delete",
                          data={"csrf_token": csrf_token(client.get("/officer/").text)})
    assert deleted.status_code == 302
    assert "Red at LMC" not in client.get("/officer/").text.split("Saved filters")[1]
