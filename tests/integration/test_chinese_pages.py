"""A Chinese-speaking trader and officer meet no English: every page, rendered in Traditional
Chinese with real content (findings, charges, a timeline, a case history, errors), holds no
English words but codes, identifiers and what the trader declared in English.

The test reads the page as a person does: markup, ``code`` elements and the folded
"Technical details" left out."""
from __future__ import annotations

import html
import io
import re
from collections import Counter

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.db.case_models import User
from app.routing.subscribers import add_subscriber
from tests.conftest import TRADER_KEY, auth, sample
from tests.factories import declaration_xml
from tests.integration.test_officer_app import browser, csrf_token, lodge

# Words that are names or codes in every language: units and standards, the demo data's own
# English (party names, goods descriptions as the trader typed them), usernames.
ALLOWED = {
    "CSW", "LRN", "UCR", "API", "XML", "PDF", "PNG", "JPEG", "AEO", "HKD", "USD", "TDEC", "ISO", "LOCODE", "UN",
    "HKT", "OpenAPI", "Bearer", "Authorization", "key", "FunctionCode", "IM", "EX", "TS", "AMQP", "webhook",
    "KGM", "GRM", "TNE", "LTR", "MLT", "PCE", "English", "abv",
    "Demo", "Trading", "Company", "Limited", "Harbour", "Logistics", "Smartphones", "model", "Test", "Officer",
    "Supervisor", "Admin", "Trader", "officer", "supervisor", "admin", "trader", "Officer2", "officer2",
    "Smartphone", "Whisky", "Wine", "Red", "Cigarettes", "cigarettes", "Laptop", "computers", "Brandy", "VSOP",
    "Scotch", "bottles", "Shenzhen", "Kong", "Hong", "Bay", "Lok", "Chau", "Ma", "Sheung", "Shui",
    "trader-tms", "harbour-tms", "test",  # the test's own names: API clients, the actor that opened the cases
}


def visible_words(page: str) -> Counter[str]:
    """English words a person reads on the page, leaving out what is data in any language:
    elements marked ``translate="no"`` (what traders and officers wrote), values quoted back
    in 「」 and API key prefixes. The risk analysts' reasons (``rules/risk/*.csv``) are no
    exception: they have their Chinese (``reason_zh``)."""
    page = re.sub(r'<details class="technical">.*?</details>', "", page, flags=re.DOTALL)
    page = re.sub(r'<(\w+)[^>]*translate="no"[^>]*>.*?</\1>', "", page, flags=re.DOTALL)
    page = re.sub(r"「[^」]*」", "", page)
    page = re.sub(r"csw_\w+…|\brm-[0-9a-f]+\b", "", page)  # key prefixes and risk model versions: identifiers
    page = re.sub(r"<(script|style|datalist|code|title)[^>]*>.*?</\1>", "", page, flags=re.DOTALL)
    page = re.sub(r'<option value="en"[^>]*>English</option>', "", page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return Counter(word for word in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", text)
                   if word not in ALLOWED and not re.fullmatch(r"[A-Z0-9-]{2,}", word))


def chinese(app: Flask, username: str) -> FlaskClient:
    with app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(User).where(User.username == username).values(locale="zh_Hant"))
    client, _token = browser(app, username)
    return client


def test_every_page_reads_in_traditional_chinese(clean_app: Flask, accounts: dict[str, int]) -> None:
    api = clean_app.test_client()
    liquor = api.post("/api/v1/declarations", data=sample("valid/import-liquor.xml"),
                      headers=auth(TRADER_KEY, "application/json")).get_json()["declaration_id"]
    # Risk reasons from the analysts' data: smartphones (HS 8517) of Chinese origin shipped from
    # Viet Nam (a roundabout route), on top of the model's and the rules' reasons.
    case_id, reference = lodge(clean_app, "LRN-ZH-1", lane="red", risk=90, body=declaration_xml(
        lrn="LRN-ZH-1", consignment_extra="<DepartureLocationID>VNSGN</DepartureLocationID>"))
    trader = chinese(clean_app, "trader")
    pages: dict[str, str] = {}
    for path in ("/trader/", f"/trader/declarations/{liquor}", f"/trader/declarations/{reference}",
                 "/trader/declarations/new?type=IM", "/trader/keys", "/trader/codes/hs?q=85171300", "/trader/upload"):
        response = trader.get(path)
        assert response.status_code == 200, path
        pages[f"trader {path}"] = response.text
    token = csrf_token(pages["trader /trader/keys"])
    refused = trader.post("/trader/declarations/new", data={
        "csrf_token": token, "action": "submit", "type_code": "IM", "lrn": "", "issued_at": "2026-11-20T09:30",
        "transport_mode": "3", "items-0-description": "Smartphones", "items-0-hs_code": "8517130",
        "items-0-origin_country": "cn", "items-0-quantity": "0", "items-0-quantity_unit": "PCE",
        "items-0-net_mass": "1", "items-0-gross_mass": "abc", "items-0-value": "-1", "items-0-currency": "HKD"})
    assert refused.status_code == 302  # post/redirect/get to the trader's draft, problems and all
    pages["trader form refused"] = trader.get(refused.headers["Location"]).text
    uploaded = trader.post("/trader/upload", data={
        "csrf_token": token, "document": (io.BytesIO(sample("invalid/bad-hs-code.xml")), "bad-hs-code.xml")},
        content_type="multipart/form-data", follow_redirects=True)
    pages["trader upload refused"] = uploaded.text

    officer = chinese(clean_app, "officer")
    token = csrf_token(officer.get("/officer/").text)
    officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    officer.post(f"/officer/cases/{case_id}/decision", data={"csrf_token": token, "decision": "inspect",
                                                              "reason": "封條不符"})
    officer.post(f"/officer/cases/{case_id}/inspection", data={"csrf_token": token, "result": "discrepancy",
                                                                "revenue_recovered": "100", "notes": "多出兩箱"})
    officer.post(f"/officer/cases/{case_id}/notes", data={"csrf_token": token, "note": "已致電貿易商"})
    other = chinese(clean_app, "officer2")
    refused_claim = other.post(f"/officer/cases/{case_id}/claim",
                               data={"csrf_token": csrf_token(other.get("/officer/").text)}, follow_redirects=True)
    assert refused_claim.status_code == 409
    pages["officer refused"] = refused_claim.text
    for path in ("/officer/", "/officer/?state=closed", f"/officer/cases/{case_id}", "/officer/search?q=lrn-zh",
                 f"/officer/declarations/{reference}", "/officer/search?from=31/12/2026"):
        response = officer.get(path)
        assert response.status_code in (200, 400), path
        pages[f"officer {path}"] = response.text
    risk = re.findall(r'<li data-source="risk">(.*?)</li>', pages[f"officer /officer/cases/{case_id}"], re.DOTALL)
    assert any("電話及智能電話：有低報貨值及冒牌貨風險" in reason for reason in risk), risk
    assert any("經越南轉運（可能偽報原產地）" in reason for reason in risk), risk
    supervisor = chinese(clean_app, "supervisor")
    pages["dashboard"] = supervisor.get("/officer/dashboard").text
    admin = chinese(clean_app, "admin")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        subscriber_id = add_subscriber(session, "lmc-kiosk", "control_point", "webhook", "https://kiosk.example/h",
                                       "HKLMC", actor="officer:admin", note="新的查驗亭").id
    for path in ("/officer/users", f"/officer/users/{accounts['officer']}", "/admin/routing/subscribers",
                 f"/admin/routing/subscribers/{subscriber_id}"):
        pages[f"admin {path}"] = admin.get(path).text
    anonymous = clean_app.test_client()
    anonymous.post("/officer/locale", data={"locale": "zh_Hant", "next": "/",
                                            "csrf_token": csrf_token(anonymous.get("/login").text)})
    pages["landing"] = anonymous.get("/").text
    pages["sign-in"] = anonymous.get("/login?next=/trader/").text

    english = {name: dict(visible_words(page).most_common(12)) for name, page in pages.items()}
    found = {name: words for name, words in english.items() if words}
    assert found == {}, "\n".join(f"{name}: {words}" for name, words in found.items())
    for name, page in pages.items():
        assert 'lang="zh-Hant"' in page, name

