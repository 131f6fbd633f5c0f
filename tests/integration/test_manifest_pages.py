"""Issue 21: officers see every sea and air manifest (each consignment's lane, clearance,
write-off and declarations) and release a selected consignment once checked; carriers see their
own manifests in the portal, in English and Traditional Chinese; another party's is not found."""
from __future__ import annotations

from dataclasses import replace
from dataclasses import replace as replace_tools
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.db.case_models import Case, User
from app.db.manifest_models import ManifestEvent
from app.db.routing_models import OutboxMessage
from app.domain.risk import Lane, RiskResult
from tests.integration.test_chinese_pages import visible_words
from tests.integration.test_manifests_api import headers, manifest_xml
from tests.integration.test_portal_web import signed_in, token


def _lane(lane: Lane) -> RiskResult:
    return RiskResult(score=80, probability=0.8, revenue_at_stake=Decimal(0), reasons=(), lane=lane,
                      lane_reason="test", random_sample=False, sample_draw=0.5, sample_seed="s",
                      model_version="test", policy_version="test")


@pytest.fixture()
def lodged(traders: Flask, carriers: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    """A sea manifest of the harbour party whose first consignment is selected (red), the second
    cleared (green)."""
    runtime = traders.extensions["csw"]
    lanes = iter([_lane(Lane.RED), _lane(Lane.GREEN)])
    monkeypatch.setattr(runtime, "manifests", replace(runtime.manifests, profile=lambda *_args: next(lanes)))
    answer = traders.test_client().post("/api/v1/manifests", data=manifest_xml(), headers=headers())
    assert answer.status_code == 202, answer.text
    return str(answer.get_json()["manifest_reference"])


def test_an_officer_sees_the_manifest_and_releases_the_selected_consignment(traders: Flask, lodged: str) -> None:
    officer = signed_in(traders, "officer")
    listed = officer.get("/officer/manifests?decision=inspection")
    assert listed.status_code == 200 and f'data-manifest-id="{lodged}"' in listed.text
    assert lodged not in officer.get("/officer/manifests?decision=cleared").text
    page = officer.get(f"/officer/manifests/{lodged}")
    assert page.status_code == 200
    assert page.text.count('data-status="selected"') == 1 and page.text.count('data-status="cleared"') == 1
    assert "HLCUSHA2612001" in page.text and "CSQU3054383" in page.text and "SH123456" in page.text
    assert "exempt: closed by its e-lock journey" in page.text  # the through bill of lading
    line = page.text.split('data-status="selected"')[0].rsplit('data-line="', 1)[1].split('"')[0]
    csrf = token(officer, f"/officer/manifests/{lodged}")

    empty = officer.post(f"/officer/manifests/{lodged}/lines/{line}/release", data={"csrf_token": csrf, "note": ""})
    assert empty.status_code == 303  # post/redirect/get: the page shows the refusal once
    shown = officer.get(empty.headers["Location"])
    assert shown.status_code == 422 and "Say what the check found" in shown.text
    done = officer.post(f"/officer/manifests/{lodged}/lines/{line}/release",
                        data={"csrf_token": csrf, "note": "examined, as manifested"})
    assert done.status_code == 302
    after = officer.get(done.headers["Location"]).text
    assert "Consignment released." in after and 'data-status="selected"' not in after
    assert 'data-decision="cleared"' in after and "examined, as manifested" in after
    again = officer.post(f"/officer/manifests/{lodged}/lines/{line}/release",
                         data={"csrf_token": csrf, "note": "again"})
    assert again.status_code == 303
    refused = officer.get(again.headers["Location"])
    assert refused.status_code == 409 and "nothing to release" in refused.text
    assert officer.get("/officer/manifests/HK26M0000000000X").status_code == 404
    with traders.extensions["csw"].sessions() as session:
        assert session.scalars(select(OutboxMessage.subject)).all() == []  # no subscriber: nothing to route


def test_a_carrier_sees_its_own_manifests_in_the_portal_and_no_one_elses(traders: Flask, lodged: str) -> None:
    harbour = signed_in(traders, "harbour")
    listed = harbour.get("/trader/manifests")
    assert listed.status_code == 200 and f'data-manifest-id="{lodged}"' in listed.text
    page = harbour.get(f"/trader/manifests/{lodged}")
    assert page.status_code == 200 and "HARBOUR PIONEER" in page.text and "Cotton T-shirts" in page.text
    other = signed_in(traders, "trader")
    assert lodged not in other.get("/trader/manifests").text
    assert other.get(f"/trader/manifests/{lodged}").status_code == 404
    assert signed_in(traders, "officer").get("/trader/manifests").status_code == 403


def test_manifest_pages_read_in_traditional_chinese(traders: Flask, lodged: str) -> None:
    with traders.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(User).where(User.username.in_(("harbour", "officer"))).values(locale="zh_Hant"))
    pages = {}
    harbour, officer = signed_in(traders, "harbour"), signed_in(traders, "officer")
    for client, path in ((harbour, "/trader/manifests"), (harbour, f"/trader/manifests/{lodged}"),
                         (officer, "/officer/manifests"), (officer, f"/officer/manifests/{lodged}")):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    names = {"harbour", "harbour-carrier"}  # the signed-in user and the API client: names, not English
    english = {path: {word: n for word, n in visible_words(page).most_common(12) if word not in names}
               for path, page in pages.items()}
    assert {path: words for path, words in english.items() if words} == {}
    assert "艙單" in pages["/officer/manifests"] and "已選定查驗" in pages[f"/officer/manifests/{lodged}"]


def _release_selected(app: Flask, reference: str, note: str = "examined, as manifested") -> None:
    officer = signed_in(app, "officer")
    page = officer.get(f"/officer/manifests/{reference}").text
    line = page.split('data-status="selected"')[0].rsplit('data-line="', 1)[1].split('"')[0]
    csrf = token(officer, f"/officer/manifests/{reference}")
    done = officer.post(f"/officer/manifests/{reference}/lines/{line}/release", data={"csrf_token": csrf, "note": note})
    assert done.status_code == 302


def _amend(app: Flask, monkeypatch: pytest.MonkeyPatch, reference: str, lanes: list[Lane],
           change: tuple[str, str] = ("", ""), **replace: str) -> dict:
    runtime = app.extensions["csw"]
    profiles = iter([_lane(lane) for lane in lanes])
    monkeypatch.setattr(runtime, "manifests", replace_tools(runtime.manifests, profile=lambda *_args: next(profiles)))
    answer = app.test_client().post(f"/api/v1/manifests/{reference}/amendments",
                                    data=manifest_xml(function_code="13", **replace).replace(
                                        change[0].encode(), change[1].encode()) if change[0]
                                    else manifest_xml(function_code="13", **replace), headers=headers())
    assert answer.status_code == 202, answer.text
    return dict(answer.get_json())


def test_an_amendment_keeps_the_release_of_an_unchanged_consignment(traders: Flask, lodged: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: amending a manifest reset officers' releases. The carrier changes the other bill
    of lading only: the released consignment, unchanged, stays released and the manifest cleared."""
    _release_selected(traders, lodged)
    answer = _amend(traders, monkeypatch, lodged, [Lane.RED, Lane.GREEN],
                    change=("Electric kettles, stainless steel", "Electric kettles, stainless steel, 1.7 l"))
    assert [c["status"] for c in answer["consignments"]] == ["cleared", "cleared"]
    assert answer["decision"] == "cleared"
    page = signed_in(traders, "officer").get(f"/officer/manifests/{lodged}").text
    assert 'data-status="selected"' not in page and 'data-decision="cleared"' in page


def test_an_amendment_changing_a_released_consignment_needs_a_new_decision(traders: Flask, lodged: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A released consignment whose particulars change is profiled again; selected again, it
    needs a new decision, and the answer, the findings and the manifest's history say so."""
    _release_selected(traders, lodged)
    answer = _amend(traders, monkeypatch, lodged, [Lane.RED, Lane.GREEN], TotalPackageQuantity="121")
    assert [c["status"] for c in answer["consignments"]] == ["selected", "cleared"]
    assert answer["decision"] == "inspection"
    again = [f for f in answer["findings"] if f["code"] == "M201"]
    assert again and "new decision" in again[0]["message"] and again[0]["message_zh"]
    with traders.extensions["csw"].sessions() as session:
        notes = session.scalars(select(ManifestEvent.note).where(ManifestEvent.manifest_id == lodged,
                                                                 ManifestEvent.kind == "release_lapsed")).all()
    assert notes and "HLCUSHA2612001" in notes[0]


def _cargo_cases(app: Flask, reference: str) -> list[Case]:
    with app.extensions["csw"].sessions() as session:
        cases = session.scalars(select(Case).where(Case.cargo_ref.like(f"MNL:{reference}/%")).order_by(Case.id)).all()
        for case in cases:
            _ = case.events
        return list(cases)


def test_a_selected_consignment_is_an_entry_in_the_officers_queue_and_its_case_releases_it(
        traders: Flask, lodged: str) -> None:
    """The red consignment is one case in the officers' queue with what an officer needs; deciding
    it there (inspect, then release) releases the consignment through the manifest's own path."""
    [case] = _cargo_cases(traders, lodged)
    assert case.active and case.source == "cargo" and case.lane == "red" and case.declaration_id is None
    assert case.cargo_ref == f"MNL:{lodged}/HLCUSHA2612001/1"
    officer = signed_in(traders, "officer")
    queue = officer.get("/officer/")
    assert queue.status_code == 200 and f"manifest {lodged}/HLCUSHA2612001/1" in queue.text
    page = officer.get(f"/officer/cases/{case.id}")
    assert page.status_code == 200
    assert "BL HLCUSHA2612001/1" in page.text and "HARBOUR PIONEER" in page.text and "red lane" in page.text
    assert f'href="/officer/manifests/{lodged}"' in page.text
    manifest_page = officer.get(f"/officer/manifests/{lodged}").text
    assert f'href="/officer/cases/{case.id}"' in manifest_page and f"case #{case.id}" in manifest_page
    csrf = token(officer, f"/officer/cases/{case.id}")
    assert officer.post(f"/officer/cases/{case.id}/claim", data={"csrf_token": csrf}).status_code == 302
    inspect = officer.post(f"/officer/cases/{case.id}/decision",
                           data={"csrf_token": csrf, "decision": "inspect", "reason": "open the box"})
    assert inspect.status_code in (302, 303)
    with traders.extensions["csw"].sessions() as session:
        kinds = session.scalars(select(ManifestEvent.kind).where(ManifestEvent.manifest_id == lodged)).all()
    assert "line_inspection" in kinds
    csrf = token(officer, f"/officer/cases/{case.id}")
    recorded = officer.post(f"/officer/cases/{case.id}/inspection",
                            data={"csrf_token": csrf, "result": "no_discrepancy", "revenue_recovered": "0",
                                  "notes": "as manifested"})
    assert recorded.status_code in (302, 303)
    released = officer.post(f"/officer/cases/{case.id}/decision",
                            data={"csrf_token": csrf, "decision": "release", "reason": "examined, as manifested"})
    assert released.status_code in (302, 303)
    [case] = _cargo_cases(traders, lodged)
    assert not case.active and case.decision == "released"
    manifest = officer.get(f"/officer/manifests/{lodged}").text
    assert 'data-status="selected"' not in manifest and 'data-decision="cleared"' in manifest
    assert "examined, as manifested" in manifest
    assert f"manifest {lodged}" not in officer.get("/officer/").text
    with traders.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(User).where(User.username == "officer").values(locale="zh_Hant"))
    chinese = signed_in(traders, "officer").get(f"/officer/cases/{case.id}").text
    assert f"艙單 {lodged}" in chinese and "承運人" in chinese


def test_releasing_on_the_manifest_page_closes_the_case_and_a_withdrawal_closes_the_rest(
        traders: Flask, lodged: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _release_selected(traders, lodged, "checked at the terminal")
    [case] = _cargo_cases(traders, lodged)
    assert not case.active and case.decision == "released"
    assert [e.kind for e in case.events] == ["opened", "closed"] and case.events[-1].actor == "officer:officer"
    assert case.events[-1].note == "checked at the terminal"

    # the released consignment changes: selected again, it is a new entry in the queue
    _amend(traders, monkeypatch, lodged, [Lane.RED, Lane.GREEN], TotalPackageQuantity="121")
    first, second = _cargo_cases(traders, lodged)
    assert not first.active and second.active and "M201" in [r["code"] for r in second.reasons]
    # an amendment whose profile no longer selects it takes it out of the queue
    _amend(traders, monkeypatch, lodged, [Lane.GREEN, Lane.GREEN], TotalPackageQuantity="122")
    assert [c.decision for c in _cargo_cases(traders, lodged)] == ["released", "deselected"]
    _amend(traders, monkeypatch, lodged, [Lane.YELLOW, Lane.RED], TotalPackageQuantity="123")
    assert sum(c.active for c in _cargo_cases(traders, lodged)) == 2
    cancelled = traders.test_client().post(f"/api/v1/manifests/{lodged}/cancellation",
                                           json={"reason": "voyage cancelled"},
                                           headers=headers(content="application/json"))
    assert cancelled.status_code == 200, cancelled.text
    assert [c.decision for c in _cargo_cases(traders, lodged)][-2:] == ["cargo_cancelled", "cargo_cancelled"]


def test_officers_find_a_cargo_case_by_its_bill_of_lading(traders: Flask, lodged: str) -> None:
    """A cargo case has no declaration: the officers' search finds it by the bill of lading (or
    the manifest) it names, in part and in any case, and links to it."""
    [case] = _cargo_cases(traders, lodged)
    officer = signed_in(traders, "officer")
    for text in ("hlcusha2612001", lodged):
        page = officer.get("/officer/search", query_string={"q": text})
        assert page.status_code == 200
        assert 'id="cargo-cases"' in page.text and f'href="/officer/cases/{case.id}"' in page.text, text
    elsewhere = officer.get("/officer/search", query_string={"q": "HLCUSHA2699999"})
    assert 'id="cargo-cases"' not in elsewhere.text
