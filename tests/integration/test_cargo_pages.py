"""Issue 21 in the web pages: a trader (or carrier) sees its own road cargo in the portal — the
lane, the trip that carries it, the crossing and its write-off, with only its own declarations
covering it — in English and Traditional Chinese; officers see a line's write-off from the
write-off case. Another party's cargo is not found."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.db.case_models import User
from app.users.clients import create_client, ensure_party
from tests.conftest import OTHER_BRN, OTHER_KEY, auth
from tests.factories import declaration_xml
from tests.integration.test_cargo_write_off import bundle, cross, declare, lodge_cargo, previous_document
from tests.integration.test_chinese_pages import visible_words
from tests.integration.test_portal_web import signed_in
from tests.integration.test_transit_journeys import ADMIN_KEY


@pytest.fixture()
def customs(client: FlaskClient, clean_app: Flask) -> FlaskClient:
    """The test client, with Hong Kong customs' own API client (which records the crossing)."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        create_client(session, "customs-admin", ensure_party(session, "HKCED0001", "Customs and Excise Department"),
                      key=ADMIN_KEY, role="admin")
    return client


def _written_off(client: FlaskClient, app: Flask) -> tuple[str, str, str, str]:
    """Cargo of the trader's party, bundled by the harbour carrier, crossed; the trader declares
    30 of its 40 packages, the harbour party (another declarant) the other 10."""
    reference = lodge_cargo(client, app, "ECI-PORTAL-1", packages=40)
    trip = bundle(client, reference)
    assert cross(client, trip["trip_id"]).status_code == 200
    own = declare(client, "DEC-PORTAL-1", previous_document(reference, packages=30))["declaration_id"]
    theirs = client.post("/api/v1/declarations", headers=auth(OTHER_KEY, "application/json"),
                         data=declaration_xml(lrn="DEC-PORTAL-2", declarant=OTHER_BRN, movement_at=None,
                                              consignment_extra=previous_document(reference, packages=10)))
    assert theirs.status_code == 202, theirs.text
    return reference, trip["trip_id"], own, theirs.get_json()["declaration_id"]


def test_a_trader_sees_its_own_road_cargo_written_off_in_the_portal(customs: FlaskClient, traders: Flask) -> None:
    reference, trip_id, own, theirs = _written_off(customs, traders)
    trader = signed_in(traders, "trader")
    listed = trader.get("/trader/cargo")
    assert listed.status_code == 200
    row = listed.text.split(f'data-cargo-id="{reference}"')[1].split("</tr>")[0]
    assert trip_id in row and 'data-write-off="written_off"' in row and "written off" in row and "crossed" in row
    page = trader.get(f"/trader/cargo/{reference}")
    assert page.status_code == 200
    assert trip_id in page.text and 'data-write-off="written_off"' in page.text
    assert "40 of 40 packages declared" in page.text
    assert f'data-declaration-id="{own}"' in page.text and theirs not in page.text  # only its own declarations
    assert 'href="/trader/cargo"' in trader.get("/trader/manifests").text  # in the portal's menu

    harbour = signed_in(traders, "harbour")  # the carrier that bundled it did not lodge it
    assert reference not in harbour.get("/trader/cargo").text
    assert harbour.get(f"/trader/cargo/{reference}").status_code == 404
    assert trader.get("/trader/cargo/HK26C0000000000").status_code == 404
    assert signed_in(traders, "officer").get("/trader/cargo").status_code == 403


def test_officers_reach_a_lines_write_off_from_its_case(customs: FlaskClient, traders: Flask) -> None:
    from app.cases import service as cases

    reference, _trip_id, own, theirs = _written_off(customs, traders)
    with traders.extensions["csw"].sessions() as session, session.begin():
        case_id = cases.open_case_for_cargo_line(
            session, kind="CRN", identifier=reference, declarations=(own, theirs), message_en="followed up",
            message_zh="跟進", actor="job:cargo-write-off", now=datetime.now(timezone.utc)).id
    officer = signed_in(traders, "officer")
    case = officer.get(f"/officer/cases/{case_id}")
    assert case.status_code == 200 and f'href="/officer/cargo-lines/CRN/{reference}"' in case.text
    page = officer.get(f"/officer/cargo-lines/CRN/{reference}")
    assert page.status_code == 200 and 'data-write-off="written_off"' in page.text
    assert f'data-declaration-id="{own}"' in page.text and f'data-declaration-id="{theirs}"' in page.text
    assert officer.get("/officer/cargo-lines/CRN/HK26C0000000000").status_code == 404
    assert officer.get("/officer/cargo-lines/XYZ/1").status_code == 404
    assert signed_in(traders, "trader").get(f"/officer/cargo-lines/CRN/{reference}").status_code in (302, 403)


def test_cargo_pages_read_in_traditional_chinese(customs: FlaskClient, traders: Flask) -> None:
    reference, _trip_id, _own, _theirs = _written_off(customs, traders)
    with traders.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(User).where(User.username.in_(("trader", "officer"))).values(locale="zh_Hant"))
    trader, officer = signed_in(traders, "trader"), signed_in(traders, "officer")
    pages = {}
    for client, path in ((trader, "/trader/cargo"), (trader, f"/trader/cargo/{reference}"),
                         (officer, f"/officer/cargo-lines/CRN/{reference}")):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    names = {"trader", "officer", "trader-tms", "harbour-tms", "customs-admin"}  # API clients: names
    english = {path: {word: n for word, n in visible_words(page).most_common(12) if word not in names}
               for path, page in pages.items()}
    assert {path: words for path, words in english.items() if words} == {}
