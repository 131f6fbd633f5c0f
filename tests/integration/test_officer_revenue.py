"""What officers see of the revenue: the unpaid dutiable declarations beside the case queue and
on their own page, an officer's release that waits for the duty, and the supervisors' report
of charges and duty per day and per commodity, as a page and as CSV."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from flask import Flask

from app.domain.time import HONG_KONG
from app.platform.clock import utcnow
from tests.conftest import TRADER_KEY, auth, sample
from tests.factories import recent_movement
from tests.integration.test_officer_app import browser, case_row, declaration_status, lodge

API = "/api/v1/declarations"


def liquor(lrn: str) -> bytes:
    body = re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(),
                  sample("valid/import-liquor.xml"))
    return re.sub(rb"<FunctionalReferenceID>[^<]*</FunctionalReferenceID>",
                  f"<FunctionalReferenceID>{lrn}</FunctionalReferenceID>".encode(), body)


def pay(app: Flask, reference: str) -> None:
    response = app.test_client().post(f"{API}/{reference}/duty/payments",
                                      data=json.dumps({"amount": "216000.00", "payment_reference": "TT-1"}),
                                      headers={**auth(TRADER_KEY, "application/json"),
                                               "Content-Type": "application/json"})
    assert response.status_code == 201, response.get_json()


def test_an_officers_release_of_a_dutiable_declaration_waits_for_payment(clean_app: Flask,
                                                                         accounts: dict[str, int]) -> None:
    case_id, reference = lodge(clean_app, "LRN-DUTY-1", body=liquor("LRN-DUTY-1"))
    client, token = browser(clean_app, "officer")
    queue = client.get("/officer/").get_data(as_text=True)
    assert 'id="unpaid-duty"' in queue and f'data-declaration-id="{reference}"' in queue
    assert "duty unpaid" in queue  # the case's row is marked too
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    decided = client.post(f"/officer/cases/{case_id}/decision",
                          data={"csrf_token": token, "decision": "release", "reason": "documents in order"})
    assert decided.status_code == 302
    assert case_row(clean_app, case_id).state == "closed"
    assert declaration_status(clean_app, reference)["status"] != "released"
    case_page = client.get(f"/officer/cases/{case_id}").get_data(as_text=True)
    assert 'data-status="due"' in case_page and "waits for the payment" in case_page
    page = client.get("/officer/duty").get_data(as_text=True)
    assert f'data-declaration-id="{reference}"' in page and "waits for payment" in page
    pay(clean_app, reference)
    assert declaration_status(clean_app, reference)["status"] == "released"
    assert f'data-declaration-id="{reference}"' not in client.get("/officer/duty").get_data(as_text=True)


def test_supervisors_see_charges_and_duty_per_day_and_commodity(clean_app: Flask, accounts: dict[str, int]) -> None:
    _case, reference = lodge(clean_app, "LRN-DUTY-2", body=liquor("LRN-DUTY-2"))
    pay(clean_app, reference)
    officer, _token = browser(clean_app, "officer")
    assert officer.get("/officer/reports/revenue").status_code == 403
    supervisor, _token = browser(clean_app, "supervisor")
    today = utcnow().astimezone(HONG_KONG).date()
    page = supervisor.get(f"/officer/reports/revenue?from={today - timedelta(days=6)}&to={today}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="per-day"' in text and "HK$216,000.00" in text and 'id="per-commodity"' in text
    download = supervisor.get(f"/officer/reports/revenue.csv?from={today}&to={today}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    header, day = rows[0], rows[1]
    assert header[:2] == ["day", "declarations"]
    values = dict(zip(header, day))
    assert values["day"] == today.isoformat() and values["declarations"] == "1"
    assert values["duty_paid"] == "216000.00" and values["duty_demanded"] == "216000.00"
    assert values["declaration_charge"] == "50.00"
    assert ["liquor", "216000.00", "216000.00", "0.00"] in rows
    bad = supervisor.get("/officer/reports/revenue?from=2026-13-01")
    assert bad.status_code == 400
    backwards = supervisor.get(f"/officer/reports/revenue?from={today}&to={today - timedelta(days=1)}")
    assert backwards.status_code == 400
    too_long = supervisor.get(f"/officer/reports/revenue.csv?from={today - timedelta(days=400)}&to={today}")
    assert too_long.status_code == 400
