"""Post/redirect/get for every form of the pages (issue 24, finding 12): every POST outside
``/api/`` answers with a redirect (302 when done, 303 when refused), so Back and reload never
meet "Confirm Form Resubmission". A refusal's page shows what was typed and what was wrong
once, answering the refusal's status.

The routes come from Flask's URL map: a new form POST fails this test until it is listed here
with a refused (or done) request. Documented answers that are not redirects:
- a POST without a valid CSRF token (an expired or forged form), to an object that does not
  exist or is another party's, or by a role that may not use it: 400/404/403 error pages;
- ``auth.login`` past the sign-in throttle: 429 with Retry-After (the page says when to retry);
- ``officer.locale`` with a language the two buttons never send: 400;
- ``portal.new_declaration``/``portal.draft`` with ``action=download``: the XML file itself.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from app.routing.subscribers import add_subscriber
from tests.conftest import CARRIER_KEY, TRADER_BRN
from tests.integration.test_manifests_api import manifest_xml
from tests.integration.test_officer_app import browser, csrf_token, lodge


@dataclass(frozen=True)
class Refused:
    """Who posts, where (a function of the scene's ids), what; and a phrase the page that the
    redirect leads to shows (the problem, in plain words)."""
    who: str
    path: Callable[[dict[str, object]], str]
    data: dict[str, str]
    shows: str
    status: int = 303


def _scene(app: Flask, accounts: dict[str, int]) -> dict[str, object]:
    """A claimed case, a declaration of the trader with a document request, a subscriber, a
    sea manifest."""
    case_id, reference = lodge(app, "PRG-1")
    officer, token = browser(app, "officer")
    assert officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token}).status_code == 302
    asked = officer.post(f"/officer/cases/{case_id}/decision", data={
        "csrf_token": token, "decision": "request_documents", "reason": "invoice missing", "documents": "invoice"})
    assert asked.status_code == 302, asked.text
    trader, trader_token = browser(app, "trader")
    page = trader.get(f"/trader/declarations/{reference}").text
    request_id = re.search(r'/requests/(\d+)/answer', page)
    assert request_id, "the trader sees the document request"
    saved = trader.post("/trader/declarations/new", data={"csrf_token": trader_token, "action": "save_draft",
                                                          "type_code": "IM", "lrn": "PRG-DRAFT"})
    draft = re.search(r"/trader/drafts/(\d+)", saved.headers["Location"])
    assert trader.post("/trader/keys", data={"csrf_token": trader_token, "name": "prg-key"}).status_code == 302
    key = re.search(r"/trader/keys/(\d+)/revoke", trader.get("/trader/keys").text)
    assert officer.post("/officer/saved-searches", data={"csrf_token": token, "name": "mine", "page": "queue",
                                                         "query": "lane=red"}).status_code == 302
    search = re.search(r"/officer/saved-searches/(\d+)/delete", officer.get("/officer/").text)
    assert draft and key and search
    with app.extensions["csw"].sessions() as session, session.begin():
        subscriber_id = add_subscriber(session, "prg-kiosk", "control_point", "webhook", "https://kiosk.example/h",
                                       "HKLMC", actor="test").id
    lodged = app.test_client().post("/api/v1/manifests", data=manifest_xml(), headers={
        "Authorization": f"Bearer {CARRIER_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    assert lodged.status_code == 202, lodged.text
    manifest = lodged.get_json()["manifest_reference"]
    line = re.search(r'data-line="(\d+)"', officer.get(f"/officer/manifests/{manifest}").text)
    assert line, "the officer sees the manifest's lines"
    return {"manifest": manifest, "line": int(line.group(1)),
            "case": case_id, "reference": reference, "request": int(request_id.group(1)),
            "subscriber": subscriber_id, "officer": accounts["officer"], "draft": int(draft.group(1)),
            "key": int(key.group(1)), "search": int(search.group(1))}


REFUSED: dict[str, Refused] = {
    "auth.login": Refused("anonymous", lambda s: "/login", {"username": "officer", "password": "wrong-password"},
                          "unknown username or wrong password"),
    "portal.new_declaration": Refused("trader", lambda s: "/trader/declarations/new",
                                      {"action": "submit", "type_code": "IM"}, "There is a problem", 302),
    "portal.draft": Refused("trader", lambda s: f"/trader/drafts/{s['draft']}", {"action": "submit", "type_code": "IM"},
                            "There is a problem", 302),
    "portal.amend": Refused("trader", lambda s: f"/trader/declarations/{s['reference']}/amend",
                            {"action": "submit", "type_code": "IM"}, "There is a problem", 302),
    "portal.cancel": Refused("trader", lambda s: f"/trader/declarations/{s['reference']}/cancel", {"reason": ""},
                             "Not cancelled", 302),
    "portal.pay_duty": Refused("trader", lambda s: f"/trader/declarations/{s['reference']}/duty/pay",
                               {"amount": "1"}, "Not paid", 302),
    "portal.answer": Refused("trader", lambda s: f"/trader/declarations/{s['reference']}/requests/{s['request']}"
                             "/answer", {"message": ""}, "Message to the officer", 302),
    "portal.upload": Refused("trader", lambda s: "/trader/upload", {}, "Choose the declaration XML file"),
    "portal.keys": Refused("trader", lambda s: "/trader/keys", {"name": ""}, "System name"),
    "officer.claim": Refused("officer2", lambda s: f"/officer/cases/{s['case']}/claim", {},
                             "Another officer claimed this case", 303),
    "officer.unclaim": Refused("officer2", lambda s: f"/officer/cases/{s['case']}/unclaim", {}, "Claim the case"),
    "officer.reassign": Refused("supervisor", lambda s: f"/officer/cases/{s['case']}/reassign",
                                {"assignee": "officer2", "reason": ""}, "Reason"),
    "officer.decide": Refused("officer2", lambda s: f"/officer/cases/{s['case']}/decision",
                              {"decision": "release", "reason": "x"}, "Claim the case"),
    "officer.inspection": Refused("officer", lambda s: f"/officer/cases/{s['case']}/inspection",
                                  {"result": "discrepancy", "revenue_recovered": "10"}, "Order a physical inspection"),
    "officer.note": Refused("officer", lambda s: f"/officer/cases/{s['case']}/notes", {"note": " "}, "Note"),
    "officer.save_search": Refused("officer", lambda s: "/officer/saved-searches", {"name": "", "page": "queue"},
                                   "Not saved", 302),
    "officer.user_admin": Refused("admin", lambda s: "/officer/users",
                                  {"username": "newbie", "role": "officer", "password": "short"},
                                  "Initial password: Enter 10 to 200 characters."),
    "officer.user_active": Refused("admin", lambda s: f"/officer/users/{s['officer']}/active",
                                   {"active": "0", "reason": ""}, "Reason", 302),
    "officer.user_role": Refused("admin", lambda s: f"/officer/users/{s['officer']}/role",
                                 {"role": "supervisor", "reason": ""}, "Reason", 302),
    "officer.user_password": Refused("admin", lambda s: f"/officer/users/{s['officer']}/password",
                                     {"password": "short", "reason": "x"}, "Enter 10 to 200 characters", 302),
    "admin_routing.subscribers": Refused("admin", lambda s: "/admin/routing/subscribers",
                                         {"name": "", "role": "control_point", "transport": "webhook",
                                          "format": "xml"}, "Name"),
    "admin_routing.subscriber": Refused("admin", lambda s: f"/admin/routing/subscribers/{s['subscriber']}",
                                        {"role": "control_point", "transport": "webhook", "url": "ftp://x",
                                         "code": "HKLMC", "format": "xml"}, "Address: a web hook needs"),
    "officer.release_line": Refused("officer", lambda s: f"/officer/manifests/{s['manifest']}/lines/{s['line']}"
                                    "/release", {"note": ""}, "Say what the check found"),
    "admin_routing.retire": Refused("admin", lambda s: f"/admin/routing/subscribers/{s['subscriber']}/retire",
                                    {"note": ""}, "Why it is retired"),
}

# Posts that cannot be refused by what a person types (a button): done, they redirect too.
DONE: dict[str, Refused] = {
    "portal.delete_draft": Refused("trader", lambda s: f"/trader/drafts/{s['draft']}/delete", {}, "Draft deleted",
                                   302),
    "portal.revoke_key": Refused("trader", lambda s: f"/trader/keys/{s['key']}/revoke", {}, "revoked", 302),
    "officer.delete_search": Refused("officer", lambda s: f"/officer/saved-searches/{s['search']}/delete", {},
                                     "deleted", 302),
    "officer.locale": Refused("officer", lambda s: "/officer/locale", {"locale": "en", "next": "/officer/"},
                              "", 302),
    "auth.logout": Refused("officer", lambda s: "/logout", {}, "Signed out", 302),
    "admin_routing.change": Refused("admin", lambda s: f"/admin/routing/subscribers/{s['subscriber']}/pause", {},
                                    "Paused", 302),
}


def test_every_form_post_redirects_and_a_refusal_is_shown_once(carriers: Flask,
                                                                accounts: dict[str, int]) -> None:
    clean_app = carriers
    posts = {rule.endpoint for rule in clean_app.url_map.iter_rules()
             if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/")}
    assert posts == set(REFUSED) | set(DONE), "a new form POST needs its post/redirect/get case here"
    scene = _scene(clean_app, accounts)
    browsers: dict[str, tuple[FlaskClient, str]] = {}
    wrong: list[str] = []
    for endpoint, case in {**REFUSED, **DONE}.items():
        if case.who not in browsers:
            if case.who == "anonymous":
                client = clean_app.test_client()
                browsers[case.who] = (client, csrf_token(client.get("/login").text))
            else:
                browsers[case.who] = browser(clean_app, case.who)
        client, token = browsers[case.who]
        answer = client.post(case.path(scene), data={**case.data, "csrf_token": token})
        if answer.status_code != case.status:
            wrong.append(f"{endpoint}: {answer.status_code}, expected {case.status}")
            continue
        shown = client.get(answer.headers["Location"].split("#")[0])
        if case.shows and case.shows not in shown.text:
            wrong.append(f"{endpoint}: the page after the redirect does not say {case.shows!r}")
        if case.status == 303 and endpoint in REFUSED:
            again = client.get(answer.headers["Location"].split("#")[0])
            if case.shows in again.text and again.status_code == shown.status_code != 200:
                wrong.append(f"{endpoint}: the refusal is shown again on reload")
        if endpoint == "auth.logout":
            browsers.pop(case.who)
    assert wrong == []


def test_a_refused_form_keeps_what_was_typed_but_never_a_password(clean_app: Flask,
                                                                  accounts: dict[str, int]) -> None:
    admin, token = browser(clean_app, "admin")
    refused = admin.post("/officer/users", data={"csrf_token": token, "username": "clerk-1", "role": "trader",
                                                 "party": "99999999", "password": "long-enough-password"})
    assert refused.status_code == 303
    page = admin.get(refused.headers["Location"].split("#")[0])
    assert page.status_code == 422 and 'value="clerk-1"' in page.text and 'value="99999999"' in page.text
    assert "long-enough-password" not in page.text and "no company with this number is known" in page.text
    assert admin.get("/officer/users").status_code == 200, "shown once"
    anonymous = clean_app.test_client()
    signed = anonymous.post("/login", data={"csrf_token": csrf_token(anonymous.get("/login").text),
                                            "username": "officer", "password": "wrong-password-1"})
    assert signed.status_code == 303
    login = anonymous.get(signed.headers["Location"])
    assert login.status_code == 401 and 'value="officer"' in login.text and "wrong-password-1" not in login.text
    assert TRADER_BRN  # the trader's party exists for the trader's posts above
